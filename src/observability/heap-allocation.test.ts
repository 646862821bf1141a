import { describe, expect, it } from "vitest";
import { HeapAllocation } from "./heap-allocation.js";

const retained: { last: unknown } = { last: undefined };

describe("HeapAllocation", () => {
  it("counts what was allocated across collections, not what is left", () => {
    const meter = new HeapAllocation();
    const start = meter.allocatedBytes();
    // 2e6 small objects kept one at a time, so none can be optimised away: well past a few scavenges.
    for (let i = 0; i < 2_000_000; i++) retained.last = { i };
    const allocated = meter.allocatedBytes() - start;
    expect(retained.last).toEqual({ i: 1_999_999 });
    expect(allocated).toBeGreaterThan(16 * 1_000_000);
    expect(allocated).toBeLessThan(200 * 2_000_000);
  });

  it("never goes down", () => {
    const meter = new HeapAllocation();
    let last = meter.allocatedBytes();
    for (let round = 0; round < 5; round++) {
      const garbage = Array.from({ length: 10_000 }, (_, i) => ({ i }));
      expect(garbage.length).toBe(10_000);
      const now = meter.allocatedBytes();
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
    }
  });
});
