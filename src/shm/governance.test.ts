import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { createGovernanceBuffer, GovernanceCounters } from "./governance.js";

describe("GovernanceCounters", () => {
  it("admits within the maximum, counting what is reserved, and frees a reservation when it settles", () => {
    const counters = new GovernanceCounters(createGovernanceBuffer(4, 1));
    expect(counters.reserve(1, 0, 100, 60)).toBe(true);
    expect(counters.reserve(1, 0, 100, 50)).toBe(false);
    counters.settle(1, 0, 60, 20);
    expect(counters.read(1)).toMatchObject({ windowStart: 0, used: 20, reserved: 0 });
    expect(counters.reserve(1, 0, 100, 80)).toBe(true);
    expect(counters.reserve(1, 0, 100, 1)).toBe(false);
    expect(counters.read(0)).toMatchObject({ windowStart: 0, used: 0, reserved: 0 });
  });

  it("starts a later window empty and keeps reservations under way across the boundary", () => {
    const counters = new GovernanceCounters(createGovernanceBuffer(1, 1));
    counters.reserve(0, 1000, 10, 4);
    counters.settle(0, 1000, 0, 6);
    expect(counters.reserve(0, 1000, 10, 1)).toBe(false);
    expect(counters.reserve(0, 2000, 10, 5)).toBe(true);
    expect(counters.read(0)).toEqual({
      windowStart: 2000,
      used: 0,
      reserved: 9,
      previousStart: 1000,
      previousUsed: 6,
    });
    counters.settle(0, 2000, 4, 3);
    expect(counters.read(0)).toMatchObject({ windowStart: 2000, used: 3, reserved: 5 });
  });

  it("seeds a slot from the store and clears it for reuse", () => {
    const counters = new GovernanceCounters(createGovernanceBuffer(2, 4));
    counters.seed(1, 5000, 42);
    expect(counters.read(1)).toMatchObject({ windowStart: 5000, used: 42, reserved: 0 });
    counters.clear(1);
    expect(counters.read(1)).toMatchObject({ windowStart: 0, used: 0, reserved: 0 });
  });

  it("gives back what a lane that ended had reserved, and nothing of the other lanes'", () => {
    const buffer = createGovernanceBuffer(2, 2);
    const lane0 = new GovernanceCounters(buffer, 0);
    const lane1 = new GovernanceCounters(buffer, 1);
    expect(lane0.reserve(1, 0, 100, 30)).toBe(true);
    expect(lane1.reserve(1, 0, 100, 50)).toBe(true);
    lane1.settle(1, 0, 20, 20);
    expect(lane1.reserve(1, 0, 100, 21)).toBe(false);
    new GovernanceCounters(buffer).reclaimLane(1);
    expect(lane0.read(1)).toMatchObject({ windowStart: 0, used: 20, reserved: 30 });
    lane0.settle(1, 0, 30, 10);
    expect(lane0.read(1)).toMatchObject({ windowStart: 0, used: 30, reserved: 0 });
    expect(() => new GovernanceCounters(buffer, 2)).toThrow(RangeError);
  });

  it("bounds a shared slot by its allowance for the window, refusing past it as short of lease", () => {
    const counters = new GovernanceCounters(createGovernanceBuffer(2, 1), 0);
    const control = new GovernanceCounters(counters.buffer);
    control.share(1);
    // No allowance yet: short, not over the limit.
    expect(counters.reserve(1, 1000, 100, 10)).toBe(false);
    expect(counters.short).toBe(true);
    control.allow(1, 1000, 30);
    expect(counters.reserve(1, 1000, 100, 10)).toBe(true);
    expect(counters.reserve(1, 1000, 100, 25)).toBe(false);
    expect(counters.short).toBe(true);
    // Over the limit itself is a plain refusal, whatever the allowance.
    control.allow(1, 1000, 1000);
    expect(counters.reserve(1, 1000, 100, 95)).toBe(false);
    expect(counters.short).toBe(false);
    // An allowance belongs to its window: the next one starts with none.
    expect(counters.reserve(1, 2000, 100, 1)).toBe(false);
    expect(counters.short).toBe(true);
    // An unshared slot knows no allowance.
    expect(counters.reserve(0, 2000, 100, 100)).toBe(true);
  });

  it("says how much room a shared slot's allowance leaves in a window", () => {
    const counters = new GovernanceCounters(createGovernanceBuffer(2, 1), 0);
    const control = new GovernanceCounters(counters.buffer);
    expect(counters.room(1, 1000)).toBe(Number.POSITIVE_INFINITY);
    control.share(1);
    expect(counters.room(1, 1000)).toBe(0);
    control.allow(1, 1000, 50);
    expect(counters.reserve(1, 1000, 100, 20)).toBe(true);
    counters.settle(1, 1000, 20, 5);
    expect(counters.reserve(1, 1000, 100, 10)).toBe(true);
    expect(counters.room(1, 1000)).toBe(35);
    // The next window has no allowance yet; what is reserved still counts against it.
    expect(counters.room(1, 2000)).toBe(-10);
  });

  it("freezes a shared slot's allowance at what is used and reserved, atomically with the read", () => {
    const counters = new GovernanceCounters(createGovernanceBuffer(1, 1), 0);
    const control = new GovernanceCounters(counters.buffer);
    control.share(0);
    control.allow(0, 1000, 50);
    expect(counters.reserve(0, 1000, 100, 20)).toBe(true);
    counters.settle(0, 1000, 20, 15);
    expect(counters.reserve(0, 1000, 100, 5)).toBe(true);
    // Another window's report leaves this one's allowance alone.
    expect(control.account(0, 2000)).toMatchObject({ used: 15, reserved: 5 });
    expect(counters.reserve(0, 1000, 100, 1)).toBe(true);
    expect(control.account(0, 1000)).toMatchObject({ windowStart: 1000, used: 15, reserved: 6 });
    expect(counters.reserve(0, 1000, 100, 1)).toBe(false);
    expect(counters.short).toBe(true);
  });

  it("refuses a buffer that is not its own", () => {
    expect(() => new GovernanceCounters(new SharedArrayBuffer(64))).toThrow(/not a governance/);
  });

  it("never admits past the maximum when four threads race for the last of it", async () => {
    const buffer = createGovernanceBuffer(2, 4);
    const moduleUrl = new URL("../../dist/src/shm/governance.js", import.meta.url).href;
    // Each thread reserves 3 and settles 2 at a time, as requests whose real cost came under the estimate.
    const source = `
      const { workerData, parentPort } = require("node:worker_threads");
      import(workerData.moduleUrl).then(({ GovernanceCounters }) => {
        const counters = new GovernanceCounters(workerData.buffer, workerData.lane);
        let admitted = 0;
        for (let i = 0; i < 20000; i++) {
          if (counters.reserve(1, 0, 3000, 3)) { admitted++; counters.settle(1, 0, 3, 2); }
        }
        parentPort.postMessage(admitted);
      });`;
    const admitted = await Promise.all(
      Array.from(
        { length: 4 },
        (_, lane) =>
          new Promise<number>((resolve, reject) => {
            const worker = new Worker(source, { eval: true, workerData: { buffer, moduleUrl, lane } });
            worker.once("message", resolve);
            worker.once("error", reject);
          }),
      ),
    );
    const total = admitted.reduce((a, b) => a + b, 0);
    const state = new GovernanceCounters(buffer).read(1);
    expect(state.reserved).toBe(0);
    expect(state.used).toBe(total * 2);
    // Admission stops once used + 3 would pass 3000: used ends within one request's estimate of the maximum.
    expect(state.used).toBeLessThanOrEqual(3000);
    expect(state.used).toBeGreaterThan(3000 - 3);
  });
});
