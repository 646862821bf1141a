import type { RoutingStrategy } from "../config/types.js";
import type { Candidate } from "./health.js";

// How each routing strategy picks among the candidates still eligible (not tried, circuit not open).
// Pure over what `CandidateStats` reports, so each can be checked on crafted state; the shared-memory
// reads behind it live in upstream-health.ts.

/** What the strategies may know about candidate `i` of the list being chosen from. */
export interface CandidateStats {
  inFlight(i: number): number;
  /** EWMA of successful attempts' latency in µs; 0 when not measured yet. */
  latencyUs(i: number): number;
  /** EWMA of the failure rate in parts per million. */
  errorPpm(i: number): number;
  /** The next value of the list's shared round-robin counter (one per list, shared by every lane). */
  nextRoundRobin(): number;
  /** Uniform in [0, 1). */
  random(): number;
}

/** Adaptive weights never fall below this share of the base weight, so a recovering deployment still gets measured. */
export const ADAPTIVE_FLOOR = 0.01;

let weightScratch = new Float64Array(16);

/**
 * Index of the chosen candidate, or -1 when `eligible` has no candidate left. `eligible[i]` is non-zero
 * for candidates that may be chosen.
 */
export function pick(
  strategy: RoutingStrategy,
  candidates: readonly Candidate[],
  eligible: Uint8Array,
  stats: CandidateStats,
): number {
  const n = candidates.length;
  switch (strategy) {
    case "round-robin":
      return roundRobin(n, eligible, stats);
    case "least-busy":
      return lowest(n, eligible, stats, BY_IN_FLIGHT);
    case "lowest-latency":
      // Unmeasured deployments (0) come first, so each gets measured.
      return lowest(n, eligible, stats, BY_LATENCY);
    case "adaptive":
      return adaptive(candidates, eligible, stats);
    case "priority":
      return priority(candidates, eligible, stats);
    default:
      return weighted(candidates, eligible, stats, ANY_ORDER);
  }
}

const BY_IN_FLIGHT = 0;
const BY_LATENCY = 1;
const ANY_ORDER = Number.NaN;

/** Weighted random among the eligible; an `order` other than NaN restricts it to candidates of that order. */
function weighted(
  candidates: readonly Candidate[],
  eligible: Uint8Array,
  stats: CandidateStats,
  order: number,
): number {
  const n = candidates.length;
  const byOrder = !Number.isNaN(order);
  let total = 0;
  let last = -1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (eligible[i] === 0) continue;
    const c = candidates[i] as Candidate;
    if (byOrder && c.order !== order) continue;
    last = i;
    count++;
    total += Math.max(c.weight, 0);
  }
  if (count <= 1) return last;
  // All weights zero: a uniform choice rather than none.
  if (total <= 0) return uniform(n, eligible, stats, count, candidates, order);
  let point = stats.random() * total;
  for (let i = 0; i < n; i++) {
    if (eligible[i] === 0) continue;
    const c = candidates[i] as Candidate;
    if (byOrder && c.order !== order) continue;
    if (c.weight <= 0) continue;
    point -= c.weight;
    if (point < 0) return i;
  }
  return last;
}

function uniform(
  n: number,
  eligible: Uint8Array,
  stats: CandidateStats,
  count: number,
  candidates: readonly Candidate[],
  order: number,
): number {
  const byOrder = !Number.isNaN(order);
  let k = Math.floor(stats.random() * count);
  for (let i = 0; i < n; i++) {
    if (eligible[i] === 0) continue;
    if (byOrder && (candidates[i] as Candidate).order !== order) continue;
    if (k-- === 0) return i;
  }
  return -1;
}

function roundRobin(n: number, eligible: Uint8Array, stats: CandidateStats): number {
  if (n === 0) return -1;
  const start = (stats.nextRoundRobin() >>> 0) % n;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    if (eligible[i] !== 0) return i;
  }
  return -1;
}

/** The eligible candidate with the lowest in-flight count or latency; ties broken uniformly at random. */
function lowest(
  n: number,
  eligible: Uint8Array,
  stats: CandidateStats,
  by: typeof BY_IN_FLIGHT | typeof BY_LATENCY,
): number {
  let best = -1;
  let bestValue = Number.POSITIVE_INFINITY;
  let ties = 0;
  for (let i = 0; i < n; i++) {
    if (eligible[i] === 0) continue;
    const value = by === BY_IN_FLIGHT ? stats.inFlight(i) : stats.latencyUs(i);
    if (value < bestValue) {
      best = i;
      bestValue = value;
      ties = 1;
    } else if (value === bestValue) {
      // Reservoir sampling over the ties: each ends up chosen with probability 1/ties.
      ties++;
      if (stats.random() * ties < 1) best = i;
    }
  }
  return best;
}

/**
 * Adaptive: weight = base weight × (1 − error rate)² × min(1, fastest latency / own latency), at least
 * ADAPTIVE_FLOOR × base weight. The fastest latency is the lowest measured among the eligible; an
 * unmeasured candidate counts as fastest. Squaring the success rate makes a deployment failing half its
 * requests get a quarter of its share; the latency factor gives a deployment twice as slow half its share.
 */
export function adaptiveWeight(base: number, errorPpm: number, latencyUs: number, fastestUs: number): number {
  if (base <= 0) return 0;
  const success = 1 - Math.min(1, Math.max(0, errorPpm / 1e6));
  const speed = latencyUs <= 0 || fastestUs <= 0 ? 1 : Math.min(1, fastestUs / latencyUs);
  return Math.max(base * success * success * speed, base * ADAPTIVE_FLOOR);
}

function adaptive(candidates: readonly Candidate[], eligible: Uint8Array, stats: CandidateStats): number {
  const n = candidates.length;
  let fastest = 0;
  let count = 0;
  let last = -1;
  for (let i = 0; i < n; i++) {
    if (eligible[i] === 0) continue;
    count++;
    last = i;
    const latency = stats.latencyUs(i);
    if (latency > 0 && (fastest === 0 || latency < fastest)) fastest = latency;
  }
  if (count <= 1) return last;
  if (weightScratch.length < n) weightScratch = new Float64Array(n * 2);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (eligible[i] === 0) continue;
    const c = candidates[i] as Candidate;
    const w = adaptiveWeight(c.weight, stats.errorPpm(i), stats.latencyUs(i), fastest);
    weightScratch[i] = w;
    total += w;
  }
  if (total <= 0) return uniform(n, eligible, stats, count, candidates, -1);
  let point = stats.random() * total;
  for (let i = 0; i < n; i++) {
    if (eligible[i] === 0) continue;
    point -= weightScratch[i] as number;
    if (point < 0) return i;
  }
  return last;
}

/** Lowest `order` first; among candidates of that order, weighted random. */
function priority(candidates: readonly Candidate[], eligible: Uint8Array, stats: CandidateStats): number {
  let order = Number.POSITIVE_INFINITY;
  for (let i = 0; i < candidates.length; i++) {
    if (eligible[i] === 0) continue;
    const o = (candidates[i] as Candidate).order;
    if (o < order) order = o;
  }
  if (order === Number.POSITIVE_INFINITY) return -1;
  return weighted(candidates, eligible, stats, order);
}
