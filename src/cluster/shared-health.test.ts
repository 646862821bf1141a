import { createClient } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../../test/helpers/redis.js";
import { DEFAULT_CLIENT } from "../config/defaults.js";
import type { GatewayConfig, ProviderConfig, RoutingConfig } from "../config/types.js";
import type { CompiledProvider } from "../providers/route.js";
import type { Candidate } from "../routing/health.js";
import { compileRoutingTable } from "../routing/table.js";
import { SharedUpstreamHealth } from "../routing/upstream-health.js";
import {
  createUpstreamBuffer,
  D,
  deploymentSlot,
  deploymentTag,
  openUpstreamBuffer,
  P,
  providerSlot,
  providerTag,
} from "../shm/upstream.js";
import { SharedHealth, type SharedHealthOptions } from "./shared-health.js";

// Two gateway instances in one process: each has its own upstream buffer (different sizes and base times,
// so slots and times differ), its own SharedUpstreamHealth standing for its lanes, and its own SharedHealth
// on one real Redis.

const PERIOD_MS = 100;
const COOLDOWN_MS = 5_000;
/** The stated bound is one poll period plus one round trip; the slack is for a loaded test machine. */
const PROPAGATION_LIMIT_MS = PERIOD_MS + 400;

const routing: RoutingConfig = {
  strategy: "weighted",
  numRetries: 0,
  retryBackoffInitialMs: 0,
  retryBackoffMaxMs: 0,
  timeoutMs: 0,
  allowedFails: 2,
  cooldownMs: COOLDOWN_MS,
  fallbacks: {},
  contextWindowFallbacks: {},
  contentPolicyFallbacks: {},
  retryPolicy: {},
};

function provider(name: string, models: string[]): ProviderConfig {
  return {
    name,
    kind: "openai",
    keys: ["k0", "k1"].map((key) => ({ name: key, value: `sk-${key}`, models, weight: 1 })),
    network: {
      baseUrl: "https://api.example.com",
      extraHeaders: {},
      requestTimeoutMs: 30_000,
      maxRetries: 0,
      retryBackoffInitialMs: 100,
      retryBackoffMaxMs: 1000,
    },
    concurrency: { concurrency: 10, bufferSize: 10 },
  };
}

// "p" names its model on the keys; "q" serves any model and is named only through the group.
const config: GatewayConfig = {
  providers: { p: provider("p", ["m"]), q: provider("q", []) },
  client: { ...DEFAULT_CLIENT, maxRequestBodyBytes: 1 << 20 },
  modelGroups: { g: [{ provider: "q", model: "x", weight: 1, order: 0 }] },
  routing,
  source: "test",
};
const table = compileRoutingTable(config);
const candidate = (name: string, keyIndex: number, model: string): Candidate => ({
  provider: table.providers.get(name) as CompiledProvider,
  keyIndex,
  model,
  weight: 1,
  order: 0,
});
const c0 = candidate("p", 0, "m");
const c1 = candidate("p", 1, "m");
const grouped = candidate("q", 0, "x");
const none: ReadonlySet<number> = new Set();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, limitMs: number, what: string): Promise<number> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > limitMs) throw new Error(`not within ${limitMs} ms: ${what}`);
    await sleep(5);
  }
  return performance.now() - start;
}

let redis: TestRedis;
let prefixes = 0;
const running: SharedHealth[] = [];

beforeAll(async () => {
  redis = await startTestRedis({ throwaway: true });
});

afterEach(() => {
  for (const health of running.splice(0)) health.stop();
});

afterAll(async () => {
  await redis.stop();
});

interface Instance {
  readonly buffer: SharedArrayBuffer;
  /** The lanes' view of the buffer. */
  readonly lanes: SharedUpstreamHealth;
  readonly shared: SharedHealth;
  readonly logs: string[];
}

async function instance(
  name: string,
  prefix: string,
  options: {
    deployments?: number;
    url?: string;
    lanesClock?: () => number;
    upstream?: () => SharedArrayBuffer;
  } = {},
  extra: Partial<SharedHealthOptions> = {},
): Promise<Instance> {
  const buffer = createUpstreamBuffer(
    { providers: 16, deployments: options.deployments ?? 64 },
    Date.now() - Math.floor(Math.random() * 100_000),
  );
  const lanes = new SharedUpstreamHealth(buffer, routing, { clock: options.lanesClock ?? Date.now });
  const logs: string[] = [];
  const shared = new SharedHealth({
    redis: { kind: "standalone", url: options.url ?? redis.url },
    prefix,
    instance: name,
    upstream: options.upstream ?? (() => buffer),
    config: () => config,
    log: (message) => logs.push(message),
    periodMs: PERIOD_MS,
    ...extra,
  });
  running.push(shared);
  await shared.start();
  return { buffer, lanes, shared, logs };
}

const freshPrefix = (): string => `sh${++prefixes}:`;

/** Opens a deployment's circuit the way the lanes do: allowedFails failures in a row. */
function trip(health: SharedUpstreamHealth, target: Candidate): void {
  for (let i = 0; i < routing.allowedFails; i++) health.finished(target, "failure", 5);
  expect(health.circuit(target)).toBe("open");
}

function openedAt(buffer: SharedArrayBuffer, target: Candidate): number {
  const layout = openUpstreamBuffer(buffer);
  const slot = deploymentSlot(layout, deploymentTag(target.provider.name, target.keyIndex, target.model));
  return Atomics.load(layout.i32, slot + D.OPENED_AT);
}

function keyOpen(buffer: SharedArrayBuffer, providerName: string, key: number): number {
  const layout = openUpstreamBuffer(buffer);
  return Atomics.load(layout.i32, providerSlot(layout, providerTag(providerName)) + P.KEY_OPEN + key);
}

/** A remote open is held to the local cooldown: one cooldown from now, the lanes may probe. */
function probesAfterCooldown(buffer: SharedArrayBuffer, target: Candidate): boolean {
  const later = new SharedUpstreamHealth(buffer, routing, { clock: () => Date.now() + COOLDOWN_MS + 1 });
  return later.choose("weighted", [target], none) === 0;
}

const circuitKey = (prefix: string, target: Candidate): string =>
  `${prefix}health:circuit:${JSON.stringify([target.provider.name, `k${target.keyIndex}`, target.model])}`;

async function rawClient(url = redis.url) {
  const client = createClient({ url });
  await client.connect();
  return client;
}

describe("shared health between two instances on a real Redis", () => {
  it("a circuit opened in A is open in B within one poll period plus a round trip", async () => {
    const prefix = freshPrefix();
    const a = await instance("a", prefix);
    const b = await instance("b", prefix, { deployments: 128 });
    trip(a.lanes, c0);
    trip(a.lanes, grouped);
    const took = await waitFor(() => b.lanes.circuit(c0) === "open", PROPAGATION_LIMIT_MS, "B sees A's open");
    expect(took).toBeLessThan(PROPAGATION_LIMIT_MS);
    await waitFor(() => b.lanes.circuit(grouped) === "open", PROPAGATION_LIMIT_MS, "the group's deployment");
    // B's lanes skip it until A's open ends, and count it in the open-circuit gauge.
    for (let i = 0; i < 20; i++) expect(b.lanes.choose("weighted", [c0, c1], none)).toBe(1);
    const left = b.lanes.reopensInMs([c0]);
    expect(left).toBeGreaterThan(COOLDOWN_MS - 1_000);
    expect(left).toBeLessThanOrEqual(COOLDOWN_MS);
    expect(keyOpen(b.buffer, "p", 0)).toBe(1);
    // A counts a change once Redis has answered all of its commands, which may be after B heard it.
    await waitFor(() => a.shared.counts.published === 2, PROPAGATION_LIMIT_MS, "A counts both");
    expect(b.shared.counts.applied).toBe(2);
    // A heard its own messages and left them alone; B did not echo what it applied.
    await sleep(3 * PERIOD_MS);
    expect(a.shared.counts.applied).toBe(0);
    expect(b.shared.counts.published).toBe(0);
  });

  it("a remote close undoes only what remote opens did", async () => {
    const prefix = freshPrefix();
    let skew = 0;
    const a = await instance("a", prefix, { lanesClock: () => Date.now() + skew });
    const b = await instance("b", prefix);
    trip(b.lanes, c1);
    const ownOpenedAt = openedAt(b.buffer, c1);
    await sleep(50);
    trip(a.lanes, c0);
    trip(a.lanes, c1);
    await waitFor(() => b.shared.counts.applied === 2, PROPAGATION_LIMIT_MS, "both opens applied in B");
    // c1 was open in B already; A's later open extended it.
    expect(openedAt(b.buffer, c1)).not.toBe(ownOpenedAt);
    // A's cooldowns end; its lanes probe both deployments and both succeed.
    skew = COOLDOWN_MS + 1;
    for (const target of [c0, c1]) {
      expect(a.lanes.choose("weighted", [target], none)).toBe(0);
      a.lanes.finished(target, "ok", 5);
      expect(a.lanes.circuit(target)).toBe("closed");
    }
    await waitFor(() => b.lanes.circuit(c0) === "closed", 2 * PROPAGATION_LIMIT_MS, "B closes c0");
    await waitFor(() => openedAt(b.buffer, c1) === ownOpenedAt, PROPAGATION_LIMIT_MS, "c1's own cooldown");
    // c1 failed in B itself: it stays open until B's own probe says otherwise.
    expect(b.lanes.circuit(c1)).toBe("open");
    expect(keyOpen(b.buffer, "p", 0)).toBe(0);
    expect(keyOpen(b.buffer, "p", 1)).toBe(1);
  });

  it("a restarted instance learns open circuits from the records, bounded by its own cooldown", async () => {
    const prefix = freshPrefix();
    const a = await instance("a", prefix);
    trip(a.lanes, c0);
    await waitFor(() => a.shared.counts.published === 1, PROPAGATION_LIMIT_MS, "A publishes");
    const writer = await rawClient();
    try {
      // Records nobody honest wrote: an open far in the future, and garbage.
      await writer.hSet(circuitKey(prefix, c1), {
        state: "open",
        until: String(Date.now() + 10 * 86_400_000),
        from: "mallory",
        at: "0",
      });
      await writer.hSet(circuitKey(prefix, grouped), { state: "exploded", until: "soon", from: "mallory" });
    } finally {
      writer.destroy();
    }
    const b = await instance("b", prefix);
    await waitFor(() => b.lanes.circuit(c0) === "open", 1_000, "B learns A's open from the record");
    await waitFor(() => b.lanes.circuit(c1) === "open", 1_000, "B applies the far open");
    expect(probesAfterCooldown(b.buffer, c1)).toBe(true);
    expect(b.lanes.circuit(grouped)).toBe("closed");
    expect(b.shared.counts.rejected).toBe(1);
  });

  it("ignores its own messages and bounds or drops hostile ones", async () => {
    const prefix = freshPrefix();
    const a = await instance("a", prefix);
    const b = await instance("b", prefix);
    const now = Date.now();
    const message = (fields: Record<string, unknown>): string =>
      JSON.stringify({
        from: "a",
        provider: "p",
        key: "k0",
        model: "m",
        state: "open",
        until: now + 1_000,
        ...fields,
      });
    const malformed = [
      "x".repeat(100_000),
      message({ model: "m".repeat(100_000) }),
      "not json",
      "[1,2,3]",
      "null",
      message({ until: "soon" }),
      message({ until: null }),
      message({ provider: 5 }),
      message({ state: "exploded" }),
    ];
    const publisher = await rawClient();
    try {
      for (const raw of malformed) await publisher.publish(a.shared.channel, raw);
      // Well-formed but nothing to apply: an upstream nobody configured, an open already over.
      await publisher.publish(a.shared.channel, message({ from: "mallory", model: "nobody" }));
      await publisher.publish(a.shared.channel, message({ from: "mallory", until: now - 1 }));
      // Claims to come from A: A must not apply it, B does.
      await publisher.publish(a.shared.channel, message({}));
      // An open ten days long: held to B's cooldown.
      await publisher.publish(
        a.shared.channel,
        message({ from: "mallory", key: "k1", until: now + 864_000_000 }),
      );
    } finally {
      publisher.destroy();
    }
    await waitFor(() => b.shared.counts.applied === 2, PROPAGATION_LIMIT_MS, "B applies the two valid opens");
    expect(b.lanes.circuit(c0)).toBe("open");
    expect(probesAfterCooldown(b.buffer, c1)).toBe(true);
    expect(b.shared.counts.rejected).toBe(malformed.length);
    expect(b.shared.counts.ignored).toBe(2);
    await waitFor(() => a.shared.counts.applied === 1, PROPAGATION_LIMIT_MS, "A applies mallory's k1 open");
    expect(a.lanes.circuit(c0)).toBe("closed");
    expect(a.shared.counts.failures).toBe(0);
  });

  it("a new buffer from a reload learns the open circuits, and the swap publishes nothing", async () => {
    const prefix = freshPrefix();
    let current = createUpstreamBuffer({ providers: 16, deployments: 64 });
    const a = await instance("a", prefix);
    const b = await instance("b", prefix, { upstream: () => current });
    const bLanes = () => new SharedUpstreamHealth(current, routing);
    trip(a.lanes, c0);
    await waitFor(() => bLanes().circuit(c0) === "open", PROPAGATION_LIMIT_MS, "B's first buffer");
    current = createUpstreamBuffer({ providers: 16, deployments: 256 });
    await waitFor(() => bLanes().circuit(c0) === "open", 1_000, "B's new buffer, from the record");
    await sleep(3 * PERIOD_MS);
    expect(b.shared.counts.published).toBe(0);
    expect(a.lanes.circuit(c0)).toBe("open");
  });

  it("writes changed scores to an expiring hash per upstream", async () => {
    const prefix = freshPrefix();
    const a = await instance("a", prefix, {}, { slowPeriodMs: 300 });
    a.lanes.finished(c0, "ok", 42);
    a.lanes.finished(c0, "failure", 5);
    const reader = await rawClient();
    try {
      const key = `${prefix}health:scores:${JSON.stringify(["p", "k0", "m"])}`;
      await waitFor(() => a.shared.counts.scoresPublished === 1, 1_000, "scores written");
      const record = await reader.hGetAll(key);
      expect(record).toMatchObject({ latencyUs: "42000", samples: "2", from: "a" });
      expect(Number(record.errorPpm)).toBeGreaterThan(0);
      const ttl = await reader.pTTL(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(900);
      // Unchanged scores are not written again.
      await sleep(700);
      expect(a.shared.counts.scoresPublished).toBe(1);
    } finally {
      reader.destroy();
    }
  });

  it("Redis down then back: nothing throws, failures are counted, sharing resumes", async () => {
    const own = await startTestRedis({ throwaway: true });
    try {
      const prefix = freshPrefix();
      const a = await instance("a", prefix, { url: own.url });
      const b = await instance("b", prefix, { url: own.url });
      await own.takeDown();
      trip(a.lanes, c0);
      await waitFor(() => a.shared.counts.failures > 0, 3_000, "A counts Redis errors");
      await sleep(1_000);
      // Logged, but rate-limited.
      expect(a.logs.length).toBeGreaterThan(0);
      expect(a.logs.length).toBeLessThanOrEqual(2);
      expect(b.lanes.circuit(c0)).toBe("closed");
      await own.bringUp();
      // A sends what waited once it reconnects; B hears it or reads it from the record.
      await waitFor(
        () => b.lanes.circuit(c0) === "open",
        6_000,
        "B learns the open made while Redis was down",
      );
      // Pub/sub itself is back.
      await waitFor(() => a.shared.counts.published === 1, 1_000, "A published");
      await sleep(2_500);
      trip(a.lanes, c1);
      await waitFor(() => b.lanes.circuit(c1) === "open", PROPAGATION_LIMIT_MS, "a later open, by pub/sub");
    } finally {
      for (const health of running.splice(0)) health.stop();
      await own.stop();
    }
  });
});
