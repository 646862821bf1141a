import { describe, expect, it } from "vitest";
import { EventLoopLag } from "./event-loop-lag.js";

describe("EventLoopLag", () => {
  it("reports how late the loop ran, per lane, and starts afresh after each report", async () => {
    const lag = new EventLoopLag(3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const busyUntil = performance.now() + 120;
    while (performance.now() < busyUntil) {
      // The loop is held, as a lane running a long piece of work would be.
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    const [metric] = lag.metrics();
    expect(metric?.name).toBe("switchyard_lane_event_loop_lag_seconds");
    const max = metric?.values.find((v) => v.labels.quantile === 1);
    expect(max?.labels.lane).toBe("3");
    expect(max?.value).toBeGreaterThan(0.1);
    const [after] = lag.metrics();
    expect(after?.values.find((v) => v.labels.quantile === 1)?.value).toBeLessThan(0.1);
  });
});
