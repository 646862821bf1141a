import { describe, expect, it } from "vitest";
import { machineBusyMicros, threadCpuMicrosByNice } from "./proc.js";

/** Keeps this thread busy until it has used `micros` of CPU, by its own clock. */
function burn(micros: number): void {
  const since = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(since);
    if (used.user + used.system >= micros) return;
  }
}

const sum = (values: Map<number, number>): number => [...values.values()].reduce((a, b) => a + b, 0);

describe("CPU read from /proc", () => {
  it("counts this process's threads by nice value, and the machine's busy time, both growing with work", () => {
    const threads0 = threadCpuMicrosByNice(process.pid);
    const machine0 = machineBusyMicros();
    expect(threads0.size).toBeGreaterThan(0);
    burn(200_000);
    // /proc counts in 10 ms ticks: 200 ms of CPU shows as no less than 150.
    expect(sum(threadCpuMicrosByNice(process.pid)) - sum(threads0)).toBeGreaterThanOrEqual(150_000);
    expect(machineBusyMicros() - machine0).toBeGreaterThanOrEqual(150_000);
  });
});
