import { afterEach, describe, expect, it, vi } from "vitest";
import type { RoutingConfig } from "../config/types.js";
import type { CompiledProvider } from "../providers/route.js";
import { createUpstreamBuffer, D, P } from "../shm/upstream.js";
import type { Admission, Candidate } from "./health.js";
import type { RoutingTable } from "./table.js";
import {
  ERROR_RATE_THRESHOLD_PPM,
  MIN_SAMPLES,
  PROBE_TIMEOUT_MIN_MS,
  SharedUpstreamHealth,
  upstreamMetrics,
} from "./upstream-health.js";

const routing = (allowedFails: number, cooldownMs: number): RoutingConfig => ({
  strategy: "weighted",
  numRetries: 0,
  retryBackoffInitialMs: 0,
  retryBackoffMaxMs: 0,
  timeoutMs: 0,
  allowedFails,
  cooldownMs,
  fallbacks: {},
  contextWindowFallbacks: {},
  contentPolicyFallbacks: {},
  retryPolicy: {},
});

const provider = (name: string, concurrency = 2, bufferSize = 2): CompiledProvider =>
  ({
    name,
    config: { concurrency: { concurrency, bufferSize } },
    keys: [{ name: "k0" }, { name: "k1" }],
  }) as never;

const p = provider("p");
const c = (keyIndex: number, model = "m"): Candidate => ({
  provider: p,
  keyIndex,
  model,
  weight: 1,
  order: 0,
});

function setup(allowedFails = 3, cooldownMs = 1000) {
  const clock = { now: 1_000_000 };
  const buffer = createUpstreamBuffer({ providers: 16, deployments: 64 }, 0);
  const health = new SharedUpstreamHealth(buffer, routing(allowedFails, cooldownMs), {
    clock: () => clock.now,
    random: () => 0,
  });
  return { clock, buffer, health };
}

const none: ReadonlySet<number> = new Set();

describe("circuit breaker", () => {
  it("opens after allowedFails consecutive failures and skips the deployment", () => {
    const { health } = setup(3);
    const list = [c(0), c(1)];
    for (let i = 0; i < 2; i++) health.finished(list[0] as Candidate, "failure", 5);
    expect(health.circuit(list[0] as Candidate)).toBe("closed");
    health.finished(list[0] as Candidate, "ok", 5);
    for (let i = 0; i < 2; i++) health.finished(list[0] as Candidate, "failure", 5);
    // A success in between reset the count.
    expect(health.circuit(list[0] as Candidate)).toBe("closed");
    health.finished(list[0] as Candidate, "failure", 5);
    expect(health.circuit(list[0] as Candidate)).toBe("open");
    for (let i = 0; i < 20; i++) expect(health.choose("weighted", list, none)).toBe(1);
    expect(health.choose("weighted", [list[0] as Candidate], none)).toBe(-1);
  });

  it("ignores client errors", () => {
    const { health } = setup(2);
    for (let i = 0; i < 10; i++) health.finished(c(0), "client-error", 1);
    expect(health.circuit(c(0))).toBe("closed");
  });

  it("opens on the error rate over the minimum sample", () => {
    const { health } = setup(1000);
    // Alternating outcomes never reach the consecutive threshold; the rate climbs past it.
    let opened = -1;
    for (let i = 0; i < 200 && opened < 0; i++) {
      health.finished(c(0), i % 4 === 0 ? "ok" : "failure", 1);
      if (health.circuit(c(0)) === "open") opened = i;
    }
    expect(opened).toBeGreaterThanOrEqual(MIN_SAMPLES - 1);
    expect(ERROR_RATE_THRESHOLD_PPM).toBe(500_000);
  });

  it("half-opens after the cooldown for one probe; success closes", () => {
    const { health, clock } = setup(1, 1000);
    const one = [c(0)];
    health.finished(c(0), "failure", 1);
    expect(health.choose("weighted", one, none)).toBe(-1);
    clock.now += 999;
    expect(health.choose("weighted", one, none)).toBe(-1);
    clock.now += 1;
    expect(health.choose("weighted", one, none)).toBe(0);
    expect(health.circuit(c(0))).toBe("half-open");
    // The probe is under way: nobody else gets through.
    expect(health.choose("weighted", one, none)).toBe(-1);
    health.finished(c(0), "ok", 1);
    expect(health.circuit(c(0))).toBe("closed");
    expect(health.choose("weighted", one, none)).toBe(0);
  });

  it("a failed probe reopens for another cooldown", () => {
    const { health, clock } = setup(1, 1000);
    health.finished(c(0), "failure", 1);
    clock.now += 1000;
    expect(health.choose("weighted", [c(0)], none)).toBe(0);
    health.finished(c(0), "failure", 1);
    expect(health.circuit(c(0))).toBe("open");
    clock.now += 999;
    expect(health.choose("weighted", [c(0)], none)).toBe(-1);
    clock.now += 1;
    expect(health.choose("weighted", [c(0)], none)).toBe(0);
  });

  it("a probe that never reports frees its token after the probe timeout", () => {
    const { health, clock } = setup(1, 1000);
    health.finished(c(0), "failure", 1);
    clock.now += 1000;
    expect(health.choose("weighted", [c(0)], none)).toBe(0);
    clock.now += PROBE_TIMEOUT_MIN_MS - 1;
    expect(health.choose("weighted", [c(0)], none)).toBe(-1);
    clock.now += 1;
    expect(health.choose("weighted", [c(0)], none)).toBe(0);
  });

  it("stays closed without a routing configuration", () => {
    const buffer = createUpstreamBuffer({ providers: 16, deployments: 64 });
    const health = new SharedUpstreamHealth(buffer, undefined);
    for (let i = 0; i < 50; i++) health.finished(c(0), "failure", 1);
    expect(health.circuit(c(0))).toBe("closed");
    expect(health.choose("weighted", [c(0)], none)).toBe(0);
  });

  it("skips tried candidates", () => {
    const { health } = setup();
    expect(health.choose("weighted", [c(0), c(1)], new Set([0]))).toBe(1);
    expect(health.choose("weighted", [c(0), c(1)], new Set([0, 1]))).toBe(-1);
  });

  it("reports open circuits per provider key", () => {
    const { health } = setup(1, 1000);
    health.finished(c(1, "a"), "failure", 1);
    health.finished(c(1, "b"), "failure", 1);
    const i32 = health.layout.i32;
    const slot = health.providerSlotOf("p");
    expect(Atomics.load(i32, slot + P.KEY_OPEN + 1)).toBe(2);
    expect(Atomics.load(i32, slot + P.KEY_OPEN)).toBe(0);
  });
});

describe("probe hand-back", () => {
  it("a probe ending in a client error lets the next request probe at once", () => {
    const { health, clock } = setup(1, 1000);
    health.finished(c(0), "failure", 1);
    clock.now += 1000;
    expect(health.choose("weighted", [c(0)], none)).toBe(0);
    health.finished(c(0), "client-error", 1);
    expect(health.circuit(c(0))).toBe("open");
    expect(health.choose("weighted", [c(0)], none)).toBe(0);
    // The second probe answers: the circuit closes as if the first had never been.
    health.finished(c(0), "ok", 1);
    expect(health.circuit(c(0))).toBe("closed");
  });

  it("a probe chosen but never sent (refused admission, the client gone) is handed back", () => {
    const { health, clock } = setup(1, 1000);
    health.finished(c(0), "failure", 1);
    clock.now += 1000;
    expect(health.choose("weighted", [c(0)], none)).toBe(0);
    expect(health.choose("weighted", [c(0)], none)).toBe(-1);
    health.withdrawn(c(0));
    expect(health.choose("weighted", [c(0)], none)).toBe(0);
    health.finished(c(0), "ok", 1);
    expect(health.circuit(c(0))).toBe("closed");
  });

  it("an outcome that says nothing about the upstream leaves its averages and counts alone", () => {
    const { health } = setup(3);
    const slot = health.slotOf(c(0));
    const i32 = health.layout.i32;
    health.started(c(0));
    health.finished(c(0), "client-error", 1);
    expect(Atomics.load(i32, slot + D.IN_FLIGHT)).toBe(0);
    expect(Atomics.load(i32, slot + D.SAMPLES)).toBe(0);
    expect(Atomics.load(i32, slot + D.ERROR_PPM)).toBe(0);
    expect(Atomics.load(i32, slot + D.LATENCY_US)).toBe(0);
    expect(Atomics.load(i32, slot + D.CONSECUTIVE_FAILS)).toBe(0);
  });
});

describe("reopensInMs", () => {
  it("is the time left of the soonest cooldown among open circuits, 0 when none is open", () => {
    const { health, clock } = setup(1, 30_000);
    expect(health.reopensInMs([c(0), c(1)])).toBe(0);
    health.finished(c(0), "failure", 1);
    expect(health.reopensInMs([c(0), c(1)])).toBe(30_000);
    clock.now += 10_000;
    health.finished(c(1), "failure", 1);
    expect(health.reopensInMs([c(0), c(1)])).toBe(20_000);
    expect(health.reopensInMs([c(1)])).toBe(30_000);
    clock.now += 25_000;
    // c(0)'s cooldown is over but its probe went to another request: try again soon.
    expect(health.reopensInMs([c(0)])).toBe(1);
  });

  it("is 0 with the breakers off", () => {
    const buffer = createUpstreamBuffer({ providers: 16, deployments: 64 });
    const health = new SharedUpstreamHealth(buffer, undefined);
    health.finished(c(0), "failure", 1);
    expect(health.reopensInMs([c(0)])).toBe(0);
  });
});

describe("in-flight and averages", () => {
  it("counts started and finished attempts and feeds least-busy and lowest-latency", () => {
    const { health } = setup();
    const list = [c(0), c(1)];
    health.started(c(0));
    health.started(c(0));
    health.started(c(1));
    expect(health.choose("least-busy", list, none)).toBe(1);
    health.finished(c(0), "ok", 10);
    health.finished(c(0), "ok", 10);
    expect(health.choose("least-busy", list, none)).toBe(0);
    health.finished(c(1), "ok", 50);
    expect(health.choose("lowest-latency", list, none)).toBe(0);
    const slot = health.slotOf(c(0));
    expect(Atomics.load(health.layout.i32, slot + D.IN_FLIGHT)).toBe(0);
    expect(Atomics.load(health.layout.i32, slot + D.LATENCY_US)).toBe(10_000);
  });
});

describe("admission", () => {
  afterEach(() => vi.useRealTimers());

  const settle = (a: Admission | Promise<Admission>) => Promise.resolve(a);

  it("admits up to the limit at once, then queues; a release admits the next in line", async () => {
    const { health } = setup();
    const q = provider("q", 2, 2);
    const a = health.admit(q, 10_000, false);
    const b = health.admit(q, 10_000, false);
    expect(a).not.toBeInstanceOf(Promise);
    expect(b).not.toBeInstanceOf(Promise);
    const third = health.admit(q, 10_000, false);
    const fourth = health.admit(q, 10_000, false);
    expect(third).toBeInstanceOf(Promise);
    expect(fourth).toBeInstanceOf(Promise);
    const fifth = await settle(health.admit(q, 10_000, false));
    expect(fifth).toMatchObject({ admitted: false, status: 503 });
    expect(fifth.admitted === false && fifth.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    const order: string[] = [];
    void settle(third).then(() => order.push("third"));
    void settle(fourth).then(() => order.push("fourth"));
    (a as { release(): void }).release();
    const admitted3 = await settle(third);
    expect(admitted3.admitted).toBe(true);
    expect(order).toEqual(["third"]);
    // A second release of the same ticket frees nothing.
    (a as { release(): void }).release();
    await Promise.resolve();
    expect(order).toEqual(["third"]);
    (b as { release(): void }).release();
    expect((await settle(fourth)).admitted).toBe(true);
    expect(order).toEqual(["third", "fourth"]);
    const slot = health.providerSlotOf("q");
    expect(Atomics.load(health.layout.i32, slot + P.IN_FLIGHT)).toBe(2);
    expect(Atomics.load(health.layout.i32, slot + P.QUEUED)).toBe(0);
  });

  it("refuses with 429 at once under drop_excess_requests", async () => {
    const { health } = setup();
    const q = provider("q", 1, 5);
    expect((await settle(health.admit(q, 10_000, true))).admitted).toBe(true);
    expect(health.admit(q, 10_000, true)).toMatchObject({ admitted: false, status: 429 });
  });

  it("refuses a waiter at its deadline", async () => {
    vi.useFakeTimers();
    const { health } = setup();
    const q = provider("q", 1, 5);
    expect((await settle(health.admit(q, 10_000, false))).admitted).toBe(true);
    const waiting = settle(health.admit(q, 100, false));
    let result: Admission | undefined;
    void waiting.then((r) => {
      result = r;
    });
    await vi.advanceTimersByTimeAsync(50);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(100);
    expect(result).toMatchObject({ admitted: false, status: 503 });
    expect(health.queued).toBe(0);
  });

  it("sees places freed by other lanes through its poll", async () => {
    vi.useFakeTimers();
    const { buffer } = setup();
    const laneA = new SharedUpstreamHealth(buffer, undefined, { lane: 0 });
    const laneB = new SharedUpstreamHealth(buffer, undefined, { lane: 1 });
    const q = provider("q", 1, 5);
    const held = (await settle(laneA.admit(q, 10_000, false))) as { release(): void };
    let result: Admission | undefined;
    void settle(laneB.admit(q, 10_000, false)).then((r) => {
      result = r;
    });
    await vi.advanceTimersByTimeAsync(20);
    expect(result).toBeUndefined();
    held.release();
    await vi.advanceTimersByTimeAsync(20);
    expect(result?.admitted).toBe(true);
  });

  it("keeps the queue to its hard cap across lanes", async () => {
    const { buffer } = setup();
    const lanes = [0, 1, 2].map((lane) => new SharedUpstreamHealth(buffer, undefined, { lane }));
    const q = provider("q", 1, 3);
    expect((await settle((lanes[0] as SharedUpstreamHealth).admit(q, 10_000, false))).admitted).toBe(true);
    const outcomes = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        Promise.race([
          settle((lanes[i % 3] as SharedUpstreamHealth).admit(q, 150, false)),
          new Promise<"waiting">((resolve) => setTimeout(() => resolve("waiting"), 30)),
        ]),
      ),
    );
    expect(outcomes.filter((o) => o === "waiting")).toHaveLength(3);
    expect(outcomes.filter((o) => o !== "waiting" && o.admitted === false)).toHaveLength(6);
    const slot = (lanes[0] as SharedUpstreamHealth).providerSlotOf("q");
    expect(Atomics.load((lanes[0] as SharedUpstreamHealth).layout.i32, slot + P.QUEUED)).toBe(3);
  });
});

describe("metrics", () => {
  it("counts refusals and reads the open circuits of each key", () => {
    const { health } = setup(1, 1000);
    const q = provider("metrics-q", 1, 1);
    health.admit(q, 0, true);
    health.admit(q, 0, true);
    const table = { providers: new Map([["p", p]]) } as unknown as RoutingTable;
    health.finished(c(0), "failure", 1);
    const metrics = upstreamMetrics(table, false);
    const refused = metrics.find((m) => m.name === "switchyard_queue_rejections_total");
    expect(refused?.values).toContainEqual({
      value: 1,
      labels: { provider: "metrics-q", status: "429", reason: "drop_excess" },
    });
    expect(metrics.find((m) => m.name === "switchyard_circuit_open")).toBeUndefined();
  });
});
