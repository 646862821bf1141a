import type { GatewayConfig } from "../config/types.js";

// The shared upstream state every lane reads and writes: one SharedArrayBuffer viewed as Int32Array,
// holding a header, a table of providers and a table of deployments (provider × key × model). Every
// field is an Int32 touched only through Atomics, so no lane ever sees a torn value.
//
// Both tables are fixed-size open-addressing hash tables. A slot's TAG is a 32-bit hash of its identity
// (never 0, which marks a free slot), claimed with Atomics.compareExchange; lookups probe at most
// MAX_PROBES slots linearly. When those are all taken by other identities, the lookup answers slot 0 of
// the table, the shared overflow slot: memory never grows with the number of distinct models clients send,
// the overflow slot only mixes the statistics of the deployments that landed there, and its circuit never
// opens (see `OVERFLOW`). Two identities with the same 32-bit hash share a slot; with the table sized at
// four times the configured deployments that is rare and costs only mixed statistics. Slots are never
// freed: the control plane sizes the table from the configuration and allocates a new buffer when a reload
// needs more room.
//
// Fixed point: latencies are EWMAs in microseconds (clamped to 2^31-1 µs, about 35 minutes), error rates
// EWMAs in parts per million. Times are milliseconds since the buffer's base time, kept modulo 2^32 and
// compared by signed difference, which is exact for intervals under 24 days.

export const MAX_PROBES = 8;
/** Slot 0 of each table: where identities go when their probe sequence is full. */
export const OVERFLOW = 0;

/** Int32 fields of the header. */
const H_MAGIC = 0;
const H_PROVIDER_CAPACITY = 1;
const H_DEPLOYMENT_CAPACITY = 2;
/** The base time (Date.now()) as a Float64 at byte 16, written once before the buffer is shared. */
const H_BASE_BYTE = 16;
const HEADER_INT32S = 8;
const MAGIC = 0x53594831; // "SYH1"

/** Deployment slot fields (Int32 offsets within a slot); 16 Int32s = one 64-byte cache line. */
export const D = {
  TAG: 0,
  IN_FLIGHT: 1,
  /** EWMA of successful attempts' latency, µs; 0 = not measured yet. */
  LATENCY_US: 2,
  /** EWMA of the failure rate, parts per million. */
  ERROR_PPM: 3,
  /** Outcomes seen, saturating at SAMPLE_CAP: the minimum sample for the error-rate threshold. */
  SAMPLES: 4,
  CONSECUTIVE_FAILS: 5,
  /** CLOSED, OPEN or HALF_OPEN. */
  STATE: 6,
  /** When the circuit opened, or when the current half-open probe started (ms since base). */
  OPENED_AT: 7,
  /** Round-robin counter of candidate lists whose first candidate is this deployment. */
  ROUND_ROBIN: 8,
} as const;
const DEPLOYMENT_STRIDE = 16;

/** Provider slot fields. */
export const P = {
  TAG: 0,
  /** Upstream requests in flight for the provider, all lanes together. */
  IN_FLIGHT: 1,
  /** Requests waiting for a place, all lanes together. */
  QUEUED: 2,
  /** EWMA of successful attempts' latency, µs: the basis of Retry-After on refusals. */
  LATENCY_US: 3,
  /** Open circuits per key index, KEY_SLOTS of them; later keys share the last. */
  KEY_OPEN: 8,
} as const;
export const KEY_SLOTS = 24;
const PROVIDER_STRIDE = 32;

/**
 * Each lane's share of every provider's IN_FLIGHT and QUEUED (two Int32s per provider and lane), so that
 * the control plane can take back what a lane that died still held. Lanes past MAX_LANES share the last row.
 */
export const MAX_LANES = 64;
const SHARE_STRIDE = 2;
export const SHARE_IN_FLIGHT = 0;
export const SHARE_QUEUED = 1;

export const CLOSED = 0;
export const OPEN = 1;
export const HALF_OPEN = 2;

export const SAMPLE_CAP = 1 << 20;

export interface UpstreamLayout {
  readonly buffer: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly providerCapacity: number;
  readonly deploymentCapacity: number;
  /** Int32 offset of provider slot 0, of deployment slot 0 and of the lanes' shares. */
  readonly providerBase: number;
  readonly deploymentBase: number;
  readonly shareBase: number;
  /** Date.now() at the buffer's creation; `now()` counts from it. */
  readonly baseTime: number;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Capacities for a configuration: four times what it names, so probing stays short. */
export function capacityFor(config: GatewayConfig): { providers: number; deployments: number } {
  const providers = Object.keys(config.providers).length;
  let deployments = 0;
  for (const provider of Object.values(config.providers)) {
    const keys = Math.max(1, provider.keys.length);
    let models = 0;
    for (const key of provider.keys) models += Math.max(1, key.models.length);
    deployments += Math.max(keys, models);
  }
  for (const group of Object.values(config.modelGroups ?? {})) deployments += group.length * 4;
  return {
    providers: nextPowerOfTwo(Math.max(16, providers * 4)),
    // Room for client-chosen `provider/model` names beyond the configured ones.
    deployments: nextPowerOfTwo(Math.max(4096, deployments * 4)),
  };
}

/** True when a layout still has room for `config` without crowding its tables. */
export function fits(layout: UpstreamLayout, config: GatewayConfig): boolean {
  const needed = capacityFor(config);
  return needed.providers <= layout.providerCapacity && needed.deployments <= layout.deploymentCapacity;
}

export function createUpstreamBuffer(
  { providers, deployments }: { providers: number; deployments: number },
  baseTime = Date.now(),
): SharedArrayBuffer {
  providers = nextPowerOfTwo(Math.max(2, providers));
  deployments = nextPowerOfTwo(Math.max(2, deployments));
  const ints =
    HEADER_INT32S +
    providers * PROVIDER_STRIDE +
    deployments * DEPLOYMENT_STRIDE +
    providers * MAX_LANES * SHARE_STRIDE;
  const buffer = new SharedArrayBuffer(ints * 4);
  const i32 = new Int32Array(buffer);
  i32[H_MAGIC] = MAGIC;
  i32[H_PROVIDER_CAPACITY] = providers;
  i32[H_DEPLOYMENT_CAPACITY] = deployments;
  new Float64Array(buffer, H_BASE_BYTE, 1)[0] = baseTime;
  return buffer;
}

export function openUpstreamBuffer(buffer: SharedArrayBuffer): UpstreamLayout {
  const i32 = new Int32Array(buffer);
  if (i32[H_MAGIC] !== MAGIC) throw new Error("not an upstream state buffer");
  const providerCapacity = i32[H_PROVIDER_CAPACITY] as number;
  const deploymentCapacity = i32[H_DEPLOYMENT_CAPACITY] as number;
  return {
    buffer,
    i32,
    providerCapacity,
    deploymentCapacity,
    providerBase: HEADER_INT32S,
    deploymentBase: HEADER_INT32S + providerCapacity * PROVIDER_STRIDE,
    shareBase: HEADER_INT32S + providerCapacity * PROVIDER_STRIDE + deploymentCapacity * DEPLOYMENT_STRIDE,
    baseTime: new Float64Array(buffer, H_BASE_BYTE, 1)[0] as number,
  };
}

/** Milliseconds since the layout's base time, modulo 2^32 (compare with `elapsed`). */
export function sinceBase(layout: UpstreamLayout, epochMs: number): number {
  return (epochMs - layout.baseTime) | 0;
}

/**
 * Milliseconds from `then` to `current`, both from `now`; 0 when `then` is later, which happens when another
 * lane stored a time taken after ours (an unsigned gap would wrap to ~49 days and look long expired).
 */
export function elapsed(current: number, then: number): number {
  return Math.max(0, (current - then) | 0);
}

// FNV-1a over the identity's parts, without building a string.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function hashString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  // A separator so that ("ab", "c") and ("a", "bc") differ.
  return Math.imul(h ^ 0xff, FNV_PRIME);
}

function finish(h: number): number {
  // Murmur3's finaliser spreads the low bits that index the table.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h === 0 ? 1 : h;
}

export function providerTag(provider: string): number {
  return finish(hashString(FNV_OFFSET, provider));
}

export function deploymentTag(provider: string, keyIndex: number, model: string): number {
  let h = hashString(FNV_OFFSET, provider);
  h = Math.imul(h ^ (keyIndex & 0xffff), FNV_PRIME);
  return finish(hashString(h, model));
}

function claim(i32: Int32Array, base: number, stride: number, capacity: number, tag: number): number {
  const mask = capacity - 1;
  // Slot 0 is the overflow slot, never probed.
  let index = tag & mask || 1;
  for (let probe = 0; probe < MAX_PROBES; probe++) {
    const at = base + index * stride;
    const current = Atomics.load(i32, at);
    if (current === tag) return at;
    if (current === 0) {
      const previous = Atomics.compareExchange(i32, at, 0, tag);
      if (previous === 0 || previous === tag) return at;
    }
    index = (index + 1) & mask || 1;
  }
  return base + OVERFLOW * stride;
}

/** Int32 offset of the provider's slot, claiming a free one on first use. */
export function providerSlot(layout: UpstreamLayout, tag: number): number {
  return claim(layout.i32, layout.providerBase, PROVIDER_STRIDE, layout.providerCapacity, tag);
}

/** Int32 offset of the deployment's slot, claiming a free one on first use. */
export function deploymentSlot(layout: UpstreamLayout, tag: number): number {
  return claim(layout.i32, layout.deploymentBase, DEPLOYMENT_STRIDE, layout.deploymentCapacity, tag);
}

/**
 * Int32 offset of the slot already holding `tag` in a table, without claiming one: for readers that only
 * look (the management API). -1 when no lane has used that identity, or it went to the overflow slot.
 */
function find(i32: Int32Array, base: number, stride: number, capacity: number, tag: number): number {
  const mask = capacity - 1;
  let index = tag & mask || 1;
  for (let probe = 0; probe < MAX_PROBES; probe++) {
    const current = Atomics.load(i32, base + index * stride);
    if (current === tag) return base + index * stride;
    if (current === 0) return -1;
    index = (index + 1) & mask || 1;
  }
  return -1;
}

/** The provider's slot if a lane has used it, else -1; never claims one. */
export function findProviderSlot(layout: UpstreamLayout, tag: number): number {
  return find(layout.i32, layout.providerBase, PROVIDER_STRIDE, layout.providerCapacity, tag);
}

/** The deployment's slot if a lane has used it, else -1; never claims one. */
export function findDeploymentSlot(layout: UpstreamLayout, tag: number): number {
  return find(layout.i32, layout.deploymentBase, DEPLOYMENT_STRIDE, layout.deploymentCapacity, tag);
}

/** Int32 offset of `lane`'s share of the provider at `providerSlotOffset` (add SHARE_IN_FLIGHT or SHARE_QUEUED). */
export function laneShare(layout: UpstreamLayout, providerSlotOffset: number, lane: number): number {
  const provider = (providerSlotOffset - layout.providerBase) / PROVIDER_STRIDE;
  const row = Math.min(Math.max(0, lane), MAX_LANES - 1);
  return layout.shareBase + (provider * MAX_LANES + row) * SHARE_STRIDE;
}

/**
 * Takes back the places and queue entries a lane held when it ended (the control plane calls this when a
 * lane exits, before its replacement starts). Returns how many in-flight places were reclaimed.
 */
export function reclaimLane(layout: UpstreamLayout, lane: number): number {
  const i32 = layout.i32;
  let reclaimed = 0;
  for (let p = 0; p < layout.providerCapacity; p++) {
    const slot = layout.providerBase + p * PROVIDER_STRIDE;
    const share = laneShare(layout, slot, lane);
    const held = Atomics.exchange(i32, share + SHARE_IN_FLIGHT, 0);
    const queued = Atomics.exchange(i32, share + SHARE_QUEUED, 0);
    if (held !== 0) Atomics.sub(i32, slot + P.IN_FLIGHT, held);
    if (queued !== 0) Atomics.sub(i32, slot + P.QUEUED, queued);
    reclaimed += held;
  }
  return reclaimed;
}

export function isOverflowDeployment(layout: UpstreamLayout, slot: number): boolean {
  return slot === layout.deploymentBase;
}

/**
 * Moves an EWMA field towards `sample` by 1/2^shift with a compare-exchange loop, so concurrent updates
 * from several lanes are each applied once. A field still at 0 takes the first sample as it is.
 */
export function ewma(i32: Int32Array, at: number, sample: number, shift: number, zeroIsEmpty: boolean): void {
  const value = sample > 0x7fffffff ? 0x7fffffff : sample | 0;
  for (;;) {
    const old = Atomics.load(i32, at);
    const next = zeroIsEmpty && old === 0 ? value || 1 : old + ((value - old) >> shift);
    if (Atomics.compareExchange(i32, at, old, next) === old) return;
  }
}
