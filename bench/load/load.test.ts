import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../mock/openai-mock.js";
import { runThroughput } from "./closed-loop.js";
import { runOpenLoop, runSequential } from "./open-loop.js";
import { cpuMicros, RssWatcher } from "./proc.js";

let mock: MockServer;
const body = (model: string, stream = false) =>
  JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }] });

beforeAll(async () => {
  mock = await startOpenAIMock({ latencyMs: 20 });
});
afterAll(async () => {
  await mock.close();
});

const base = () => ({
  origin: mock.url,
  path: "/v1/chat/completions",
  headers: { "content-type": "application/json" },
});

describe("load drivers", () => {
  it("open loop keeps the schedule and records latency from the scheduled start", async () => {
    const r = await runOpenLoop({ ...base(), body: body("gpt-4o-mini"), rate: 200, durationMs: 500 });
    expect(r.sent).toBe(100);
    expect(r.ok).toBe(100);
    expect(r.successRate).toBe(1);
    expect(r.latencyUs.count).toBe(100);
    expect(r.latencyUs.p50).toBeGreaterThanOrEqual(19_000);
  });

  it("ramps a warm-up up to the rate before the measured part", async () => {
    let begun = 0;
    const before = mock.stats.requests;
    const r = await runOpenLoop({
      ...base(),
      body: body("gpt-4o-mini"),
      rate: 200,
      durationMs: 250,
      warmupMs: 200,
      onMeasureStart: () => {
        begun = mock.stats.requests;
      },
    });
    // A linear ramp over 200 ms to 200 RPS sends 20 requests; only the 50 after it are recorded.
    expect(begun - before).toBe(20);
    expect(r.sent).toBe(50);
    expect(r.ok).toBe(50);
  });

  it("reports a stalled warm-up, and not a measured phase that ends with stragglers", async () => {
    const stalled = await runOpenLoop({
      ...base(),
      body: body("mock-hang"),
      rate: 50,
      durationMs: 100,
      warmupMs: 100,
      drainMs: 100,
      onMeasureStart: () => {},
    });
    expect(stalled.warmupStalled).toBe(true);
    expect(stalled.sent).toBe(0);
    const stragglers = await runOpenLoop({
      ...base(),
      body: body("mock-hang"),
      rate: 50,
      durationMs: 100,
      warmupMs: 0,
      drainMs: 100,
      onMeasureStart: () => {},
    });
    expect(stragglers.warmupStalled).toBeUndefined();
    expect(stragglers.timeouts).toBe(stragglers.sent);
  });

  it("counts failures and timeouts apart", async () => {
    const errors = await runSequential({ ...base(), body: body("mock-error-500"), requests: 3 });
    expect(errors.failed).toBe(3);
    expect(errors.statuses["500"]).toBe(3);
    const hung = await runOpenLoop({
      ...base(),
      body: body("mock-hang"),
      rate: 20,
      durationMs: 100,
      timeoutMs: 200,
    });
    expect(hung.timeouts).toBe(hung.sent);
    expect(hung.ok).toBe(0);
  });

  it("measures streams to the first byte and to [DONE]", async () => {
    const r = await runSequential({ ...base(), body: body("gpt-4o-mini", true), stream: true, requests: 5 });
    expect(r.ok).toBe(5);
    expect(r.ttfbUs?.count).toBe(5);
    const reset = await runSequential({
      ...base(),
      body: body("mock-reset-midstream", true),
      stream: true,
      requests: 2,
    });
    expect(reset.ok).toBe(0);
  });

  it("closed loop reports the best clean step", async () => {
    const r = await runThroughput({
      url: `${mock.url}/v1/chat/completions`,
      headers: { "content-type": "application/json" },
      body: body("gpt-4o-mini"),
      connectionSteps: [2, 4],
      stepSeconds: 1,
    });
    expect(r.maxRps).toBeGreaterThan(0);
    expect(r.steps.length).toBeGreaterThanOrEqual(1);
    const failing = await runThroughput({
      url: `${mock.url}/v1/chat/completions`,
      headers: { "content-type": "application/json" },
      body: body("mock-error-429"),
      connectionSteps: [2, 4],
      stepSeconds: 1,
    });
    expect(failing.maxRps).toBe(0);
    expect(failing.steps).toHaveLength(1);
  });

  it("reads CPU time and peak RSS of a process", () => {
    const rss = new RssWatcher(process.pid);
    rss.start();
    const cpu0 = cpuMicros(process.pid);
    // Burn at least 50 ms of CPU: /proc counts in 10 ms ticks.
    const own = process.cpuUsage();
    while (process.cpuUsage(own).user < 50_000) Math.sqrt(Math.random());
    expect(cpuMicros(process.pid)).toBeGreaterThan(cpu0);
    expect(rss.stop()).toBeGreaterThan(10_000);
  });
});
