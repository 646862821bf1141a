import type { RoutingConfig, RoutingStrategy } from "../config/types.js";
import type { MetricJson } from "../observability/metric-json.js";
import type { CompiledProvider } from "../providers/route.js";
import {
  CLOSED,
  createUpstreamBuffer,
  D,
  deploymentSlot,
  deploymentTag,
  elapsed,
  ewma,
  HALF_OPEN,
  isOverflowDeployment,
  KEY_SLOTS,
  laneShare,
  OPEN,
  openUpstreamBuffer,
  P,
  providerSlot,
  providerTag,
  SAMPLE_CAP,
  SHARE_IN_FLIGHT,
  SHARE_QUEUED,
  sinceBase,
  type UpstreamLayout,
} from "../shm/upstream.js";
import type { Admission, Candidate, Outcome, UpstreamHealth } from "./health.js";
import { type CandidateStats, pick } from "./strategies.js";
import type { RoutingTable } from "./table.js";

// UpstreamHealth over the shared buffer of src/shm/upstream.ts: circuit breakers, in-flight counts and
// latency/error averages that every lane sees, and the provider concurrency limit with a lane-local wait
// queue. One instance per buffer; a lane swaps instances when the control plane publishes a bigger buffer,
// and a request keeps the instance it started with, so its counts stay paired.

/** Failure rate that opens a circuit once MIN_SAMPLES outcomes are known (LiteLLM cools a deployment down past 50%). */
export const ERROR_RATE_THRESHOLD_PPM = 500_000;
export const MIN_SAMPLES = 10;
/** A half-open probe that never reports back (the attempt was abandoned) frees its token after this long. */
export const PROBE_TIMEOUT_MIN_MS = 10_000;
/** How often a lane with waiters looks for places freed by other lanes (one timer per lane). */
export const QUEUE_POLL_MS = 5;
/** EWMA smoothing: latency moves 1/8 of the way to each sample, the error rate 1/16. */
const LATENCY_SHIFT = 3;
const ERROR_SHIFT = 4;

export interface HealthOptions {
  /** Epoch milliseconds; tests pass their own clock. */
  readonly clock?: () => number;
  readonly random?: () => number;
  /** The lane's index, for its share of the provider counts (see reclaimLane). */
  readonly lane?: number;
}

interface Waiter {
  readonly resolve: (admission: Admission) => void;
  /** performance.now() past which the waiter is refused; Infinity waits as long as it takes. */
  readonly deadline: number;
  done: boolean;
}

/** A lane's waiters for one provider, oldest first. */
class WaitQueue {
  items: Waiter[] = [];
  head = 0;
  constructor(
    readonly slot: number,
    readonly route: CompiledProvider,
  ) {}
  get size(): number {
    return this.items.length - this.head;
  }
  compact(): void {
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** Refusals by provider and status, kept for the life of the lane (across buffer swaps). */
const rejections = new Map<string, number>();

function countRejection(provider: string, status: number, reason: string): void {
  const key = `${provider}\u0000${status}\u0000${reason}`;
  rejections.set(key, (rejections.get(key) ?? 0) + 1);
}

class Ticket {
  readonly admitted = true as const;
  private released = false;
  constructor(
    private readonly health: SharedUpstreamHealth,
    private readonly slot: number,
  ) {}
  /** A second call does nothing. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.health.releaseSlot(this.slot);
  }
}

export class SharedUpstreamHealth implements UpstreamHealth, CandidateStats {
  readonly layout: UpstreamLayout;
  private readonly i32: Int32Array;
  private readonly clock: () => number;
  readonly random: () => number;
  private readonly lane: number;
  /** 0 disables the circuit breakers (no routing configuration). */
  private allowedFails = 0;
  private cooldownMs = 0;
  private probeTimeoutMs = PROBE_TIMEOUT_MIN_MS;
  private readonly providerSlots = new Map<string, number>();
  private readonly queues = new Map<number, WaitQueue>();
  private waiting = 0;
  private poller: ReturnType<typeof setInterval> | undefined;
  // Scratch for `choose`, reused: a lane runs one `choose` at a time.
  private eligible = new Uint8Array(8);
  private slots = new Int32Array(8);
  private current: readonly Candidate[] = [];

  constructor(buffer: SharedArrayBuffer, routing?: RoutingConfig, options: HealthOptions = {}) {
    this.layout = openUpstreamBuffer(buffer);
    this.i32 = this.layout.i32;
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.lane = options.lane ?? 0;
    this.configure(routing);
  }

  /** Breaker settings from the routing configuration; absent, the breakers stay closed. */
  configure(routing: RoutingConfig | undefined): void {
    this.allowedFails = routing === undefined ? 0 : Math.max(0, routing.allowedFails);
    this.cooldownMs = routing === undefined ? 0 : Math.max(0, routing.cooldownMs);
    this.probeTimeoutMs = Math.max(PROBE_TIMEOUT_MIN_MS, this.cooldownMs);
  }

  private now(): number {
    return sinceBase(this.layout, this.clock());
  }

  slotOf(candidate: Candidate): number {
    return deploymentSlot(
      this.layout,
      deploymentTag(candidate.provider.name, candidate.keyIndex, candidate.model),
    );
  }

  providerSlotOf(name: string): number {
    let slot = this.providerSlots.get(name);
    if (slot === undefined) {
      slot = providerSlot(this.layout, providerTag(name));
      this.providerSlots.set(name, slot);
    }
    return slot;
  }

  choose(strategy: RoutingStrategy, candidates: readonly Candidate[], tried: ReadonlySet<number>): number {
    const n = candidates.length;
    // The common case: a lone untried candidate with the breakers off is always the choice.
    if (n === 1 && tried.size === 0 && this.allowedFails === 0) return 0;
    if (this.eligible.length < n) {
      this.eligible = new Uint8Array(n * 2);
      this.slots = new Int32Array(n * 2);
    }
    const eligible = this.eligible;
    const slots = this.slots;
    const i32 = this.i32;
    const checkTried = tried.size > 0;
    let t = -1;
    let any = false;
    for (let i = 0; i < n; i++) {
      if (checkTried && tried.has(i)) {
        eligible[i] = 0;
        continue;
      }
      const slot = this.slotOf(candidates[i] as Candidate);
      slots[i] = slot;
      const state = Atomics.load(i32, slot + D.STATE);
      if (state === CLOSED || this.allowedFails === 0) {
        eligible[i] = 1;
        any = true;
        continue;
      }
      if (t < 0) t = this.now();
      const wait = state === OPEN ? this.cooldownMs : this.probeTimeoutMs;
      // 2: may be chosen, but only as the probe of a half-open circuit.
      eligible[i] = elapsed(t, Atomics.load(i32, slot + D.OPENED_AT)) >= wait ? 2 : 0;
      if (eligible[i] !== 0) any = true;
    }
    if (!any) return -1;
    this.current = candidates;
    for (;;) {
      const i = pick(strategy, candidates, eligible, this);
      if (i < 0 || eligible[i] === 1) return i;
      if (this.takeProbe(slots[i] as number, t)) return i;
      eligible[i] = 0;
    }
  }

  /** The compare-exchange on OPENED_AT is the probe token: of the lanes that saw the same value, one wins. */
  private takeProbe(slot: number, t: number): boolean {
    const i32 = this.i32;
    // Opened-at first: the compare-exchange below then fails if another lane took the token after this read.
    const opened = Atomics.load(i32, slot + D.OPENED_AT);
    const state = Atomics.load(i32, slot + D.STATE);
    if (state === CLOSED) return true;
    const wait = state === OPEN ? this.cooldownMs : this.probeTimeoutMs;
    if (elapsed(t, opened) < wait) return false;
    if (Atomics.compareExchange(i32, slot + D.OPENED_AT, opened, t) !== opened) return false;
    if (state === OPEN) Atomics.compareExchange(i32, slot + D.STATE, OPEN, HALF_OPEN);
    return true;
  }

  started(candidate: Candidate): void {
    Atomics.add(this.i32, this.slotOf(candidate) + D.IN_FLIGHT, 1);
  }

  finished(candidate: Candidate, outcome: Outcome, latencyMs: number): void {
    const i32 = this.i32;
    const slot = this.slotOf(candidate);
    Atomics.sub(i32, slot + D.IN_FLIGHT, 1);
    if (outcome === "client-error") {
      // Says nothing about the upstream: a probe that ended so hands its token back at once.
      this.handBackProbe(slot);
      return;
    }
    if (Atomics.load(i32, slot + D.SAMPLES) < SAMPLE_CAP) Atomics.add(i32, slot + D.SAMPLES, 1);
    if (outcome === "ok") {
      const us = Math.round(latencyMs * 1000);
      ewma(i32, slot + D.LATENCY_US, us, LATENCY_SHIFT, true);
      ewma(i32, this.providerSlotOf(candidate.provider.name) + P.LATENCY_US, us, LATENCY_SHIFT, true);
      ewma(i32, slot + D.ERROR_PPM, 0, ERROR_SHIFT, false);
      Atomics.store(i32, slot + D.CONSECUTIVE_FAILS, 0);
      if (Atomics.compareExchange(i32, slot + D.STATE, HALF_OPEN, CLOSED) === HALF_OPEN) {
        // A fresh start, so the old failure rate does not reopen the circuit at once.
        Atomics.store(i32, slot + D.ERROR_PPM, 0);
        Atomics.store(i32, slot + D.SAMPLES, 0);
        this.countOpen(candidate, -1);
      }
      return;
    }
    ewma(i32, slot + D.ERROR_PPM, 1_000_000, ERROR_SHIFT, false);
    const consecutive = Atomics.add(i32, slot + D.CONSECUTIVE_FAILS, 1) + 1;
    if (this.allowedFails === 0 || isOverflowDeployment(this.layout, slot)) return;
    const state = Atomics.load(i32, slot + D.STATE);
    if (state === HALF_OPEN) {
      Atomics.store(i32, slot + D.OPENED_AT, this.now());
      Atomics.compareExchange(i32, slot + D.STATE, HALF_OPEN, OPEN);
      return;
    }
    if (state !== CLOSED) return;
    const tripped =
      consecutive >= this.allowedFails ||
      (Atomics.load(i32, slot + D.SAMPLES) >= MIN_SAMPLES &&
        Atomics.load(i32, slot + D.ERROR_PPM) >= ERROR_RATE_THRESHOLD_PPM);
    if (!tripped) return;
    Atomics.store(i32, slot + D.OPENED_AT, this.now());
    if (Atomics.compareExchange(i32, slot + D.STATE, CLOSED, OPEN) === CLOSED) this.countOpen(candidate, 1);
  }

  reopensInMs(candidates: readonly Candidate[]): number {
    if (this.allowedFails === 0) return 0;
    const i32 = this.i32;
    const t = this.now();
    let soonest = Number.POSITIVE_INFINITY;
    for (const candidate of candidates) {
      const slot = this.slotOf(candidate);
      const state = Atomics.load(i32, slot + D.STATE);
      if (state === CLOSED) continue;
      const wait = state === OPEN ? this.cooldownMs : this.probeTimeoutMs;
      // At least 1: a circuit whose cooldown just ran out lost its probe to another request.
      const left = Math.max(1, wait - elapsed(t, Atomics.load(i32, slot + D.OPENED_AT)));
      if (left < soonest) soonest = left;
    }
    return Number.isFinite(soonest) ? soonest : 0;
  }

  withdrawn(candidate: Candidate): void {
    this.handBackProbe(this.slotOf(candidate));
  }

  /** The next request may probe a half-open circuit at once, as if its cooldown had just run out. */
  private handBackProbe(slot: number): void {
    const i32 = this.i32;
    if (Atomics.load(i32, slot + D.STATE) !== HALF_OPEN) return;
    Atomics.store(i32, slot + D.OPENED_AT, this.now() - this.cooldownMs);
    Atomics.compareExchange(i32, slot + D.STATE, HALF_OPEN, OPEN);
  }

  private countOpen(candidate: Candidate, delta: number): void {
    const key = Math.min(Math.max(0, candidate.keyIndex), KEY_SLOTS - 1);
    Atomics.add(this.i32, this.providerSlotOf(candidate.provider.name) + P.KEY_OPEN + key, delta);
  }

  /** Circuit state of a candidate's deployment: "closed", "open" or "half-open". */
  circuit(candidate: Candidate): "closed" | "open" | "half-open" {
    const state = Atomics.load(this.i32, this.slotOf(candidate) + D.STATE);
    return state === OPEN ? "open" : state === HALF_OPEN ? "half-open" : "closed";
  }

  // CandidateStats over the list `choose` is working on.
  inFlight(i: number): number {
    return Atomics.load(this.i32, (this.slots[i] as number) + D.IN_FLIGHT);
  }
  latencyUs(i: number): number {
    return Atomics.load(this.i32, (this.slots[i] as number) + D.LATENCY_US);
  }
  errorPpm(i: number): number {
    return Atomics.load(this.i32, (this.slots[i] as number) + D.ERROR_PPM);
  }
  nextRoundRobin(): number {
    const first = this.current[0];
    return first === undefined ? 0 : Atomics.add(this.i32, this.slotOf(first) + D.ROUND_ROBIN, 1);
  }

  /**
   * `deadlineMs` is how long the request may wait for a place: Infinity waits as long as it takes, 0 or
   * less refuses at once when the provider is at its limit.
   */
  admit(provider: CompiledProvider, deadlineMs: number, dropExcess: boolean): Admission | Promise<Admission> {
    const slot = this.providerSlotOf(provider.name);
    const { concurrency, bufferSize } = provider.config.concurrency;
    // Nobody waits anywhere: take a place if there is one. Otherwise queue behind the waiters.
    if (Atomics.load(this.i32, slot + P.QUEUED) === 0 && this.tryAcquire(slot, concurrency)) {
      return new Ticket(this, slot);
    }
    if (dropExcess) return this.refuse(provider.name, slot, 429, "drop_excess");
    if (deadlineMs <= 0 || bufferSize <= 0) return this.refuse(provider.name, slot, 503, "queue_full");
    if (Atomics.add(this.i32, slot + P.QUEUED, 1) >= bufferSize) {
      Atomics.sub(this.i32, slot + P.QUEUED, 1);
      return this.refuse(provider.name, slot, 503, "queue_full");
    }
    Atomics.add(this.i32, laneShare(this.layout, slot, this.lane) + SHARE_QUEUED, 1);
    let queue = this.queues.get(slot);
    if (queue === undefined) {
      queue = new WaitQueue(slot, provider);
      this.queues.set(slot, queue);
    }
    const deadline = performance.now() + deadlineMs;
    const target = queue;
    return new Promise<Admission>((resolve) => {
      target.items.push({ resolve, deadline, done: false });
      this.waiting++;
      // A place may have freed between the check above and now.
      this.drain(target);
      this.ensurePoller();
    });
  }

  private tryAcquire(slot: number, limit: number): boolean {
    const i32 = this.i32;
    if (limit > 0) {
      for (;;) {
        const n = Atomics.load(i32, slot + P.IN_FLIGHT);
        if (n >= limit) return false;
        if (Atomics.compareExchange(i32, slot + P.IN_FLIGHT, n, n + 1) === n) break;
      }
    } else Atomics.add(i32, slot + P.IN_FLIGHT, 1);
    Atomics.add(i32, laneShare(this.layout, slot, this.lane) + SHARE_IN_FLIGHT, 1);
    return true;
  }

  private refuse(
    provider: string,
    slot: number,
    status: 429 | 503,
    reason: string,
  ): { admitted: false; status: 429 | 503; retryAfterSeconds: number } {
    countRejection(provider, status, reason);
    const latencyUs = Atomics.load(this.i32, slot + P.LATENCY_US);
    return { admitted: false, status, retryAfterSeconds: Math.max(1, Math.ceil(latencyUs / 1e6)) };
  }

  /** Called by a ticket of this instance. */
  releaseSlot(slot: number): void {
    Atomics.sub(this.i32, slot + P.IN_FLIGHT, 1);
    Atomics.sub(this.i32, laneShare(this.layout, slot, this.lane) + SHARE_IN_FLIGHT, 1);
    const queue = this.queues.get(slot);
    if (queue !== undefined && queue.size > 0) this.drain(queue);
  }

  /** Admits this lane's waiters for one provider while places are free; refuses those past their deadline. */
  private drain(queue: WaitQueue): void {
    const limit = queue.route.config.concurrency.concurrency;
    const items = queue.items;
    let at = performance.now();
    while (queue.head < items.length) {
      const waiter = items[queue.head] as Waiter;
      if (waiter.done) {
        queue.head++;
        continue;
      }
      if (waiter.deadline <= at) {
        this.settle(queue, waiter, this.refuse(queue.route.name, queue.slot, 503, "deadline"));
        queue.head++;
        continue;
      }
      if (!this.tryAcquire(queue.slot, limit)) break;
      this.settle(queue, waiter, new Ticket(this, queue.slot));
      queue.head++;
      at = performance.now();
    }
    // Waiters behind a blocked head still leave on time.
    for (let i = queue.head + 1; i < items.length; i++) {
      const waiter = items[i] as Waiter;
      if (!waiter.done && waiter.deadline <= at) {
        this.settle(queue, waiter, this.refuse(queue.route.name, queue.slot, 503, "deadline"));
      }
    }
    if (queue.head === items.length) {
      queue.items = [];
      queue.head = 0;
    } else queue.compact();
  }

  private settle(queue: WaitQueue, waiter: Waiter, admission: Admission): void {
    waiter.done = true;
    this.waiting--;
    Atomics.sub(this.i32, queue.slot + P.QUEUED, 1);
    Atomics.sub(this.i32, laneShare(this.layout, queue.slot, this.lane) + SHARE_QUEUED, 1);
    waiter.resolve(admission);
  }

  private ensurePoller(): void {
    if (this.poller !== undefined || this.waiting === 0) return;
    this.poller = setInterval(() => {
      for (const queue of this.queues.values()) if (queue.size > 0) this.drain(queue);
      if (this.waiting === 0) {
        clearInterval(this.poller);
        this.poller = undefined;
      }
    }, QUEUE_POLL_MS);
  }

  /** Waiters in this lane, all providers. */
  get queued(): number {
    return this.waiting;
  }
}

let laneHealth: SharedUpstreamHealth | undefined;

/**
 * The lane's UpstreamHealth. Take it once per request and use that instance for all of the request's
 * attempts: a reload that needs a bigger buffer installs a new one, and counts must stay paired.
 */
export function upstreamHealth(): SharedUpstreamHealth {
  // Outside a lane (unit tests, tools): a private buffer of default size.
  laneHealth ??= new SharedUpstreamHealth(createUpstreamBuffer({ providers: 16, deployments: 4096 }));
  return laneHealth;
}

/** Installs the lane's instance over the control plane's buffer (start-up, and when it publishes a new one). */
export function installUpstreamHealth(
  buffer: SharedArrayBuffer,
  routing: RoutingConfig | undefined,
  lane: number,
): SharedUpstreamHealth {
  if (laneHealth?.layout.buffer === buffer) laneHealth.configure(routing);
  else laneHealth = new SharedUpstreamHealth(buffer, routing, { lane });
  return laneHealth;
}

/** Gauges and counters of the shared state; `shared` (one lane only) adds the gauges read from shared memory. */
export function upstreamMetrics(table: RoutingTable, shared: boolean): MetricJson[] {
  const refused: MetricJson = {
    name: "switchyard_queue_rejections_total",
    help: "Requests refused by a provider's concurrency limit, by status and reason",
    type: "counter",
    aggregator: "sum",
    values: [],
  };
  for (const [key, value] of rejections) {
    const [provider = "", status = "", reason = ""] = key.split("\u0000");
    refused.values.push({ value, labels: { provider, status, reason } });
  }
  if (!shared) return [refused];
  const health = upstreamHealth();
  const i32 = health.layout.i32;
  const open: MetricJson = {
    name: "switchyard_circuit_open",
    help: "Deployments (key × model) whose circuit is open or half-open, by provider and key",
    type: "gauge",
    aggregator: "sum",
    values: [],
  };
  const inFlight: MetricJson = {
    name: "switchyard_provider_in_flight",
    help: "Upstream requests in flight per provider, all lanes",
    type: "gauge",
    aggregator: "sum",
    values: [],
  };
  const queued: MetricJson = {
    name: "switchyard_provider_queued",
    help: "Requests waiting for a provider's concurrency limit, all lanes",
    type: "gauge",
    aggregator: "sum",
    values: [],
  };
  for (const route of table.providers.values()) {
    const slot = health.providerSlotOf(route.name);
    inFlight.values.push({ value: Atomics.load(i32, slot + P.IN_FLIGHT), labels: { provider: route.name } });
    queued.values.push({ value: Atomics.load(i32, slot + P.QUEUED), labels: { provider: route.name } });
    for (let k = 0; k < route.keys.length && k < KEY_SLOTS; k++) {
      const key = route.keys[k]?.name ?? String(k);
      const label = k === KEY_SLOTS - 1 && route.keys.length > KEY_SLOTS ? "other" : key;
      open.values.push({
        value: Atomics.load(i32, slot + P.KEY_OPEN + k),
        labels: { provider: route.name, key: label },
      });
    }
  }
  return [refused, open, inFlight, queued];
}
