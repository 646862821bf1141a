import { describe, expect, it } from "vitest";
import { LaneMetrics, MAX_MODEL_LABELS } from "./lane-metrics.js";

function requestSeries(metrics: LaneMetrics) {
  const requests = metrics.snapshot().find((m) => m.name === "switchyard_requests_total");
  return requests?.values ?? [];
}

describe("LaneMetrics model labels", () => {
  it("counts models first seen past the label bound as 'other'", () => {
    const metrics = new LaneMetrics();
    for (let i = 0; i < 10_000; i++) metrics.record("openai", `random-${i}`, 200, "", 0.01, 0.00001, 1, 1);
    const series = requestSeries(metrics);
    expect(series).toHaveLength(MAX_MODEL_LABELS + 1);
    const other = series.find((s) => s.labels.model === "other");
    expect(other?.value).toBe(10_000 - MAX_MODEL_LABELS);
    // A model kept before the bound keeps its own series.
    metrics.record("openai", "random-0", 200, "", 0.01, 0.00001, 1, 1);
    expect(requestSeries(metrics).find((s) => s.labels.model === "random-0")?.value).toBe(2);
  });

  it("bounds the labels' summed length too", () => {
    const metrics = new LaneMetrics();
    for (let i = 0; i < 1000; i++) metrics.record("openai", `${i}-${"m".repeat(250)}`, 200, "", -1, -1, 0, 0);
    const chars = requestSeries(metrics).reduce((n, s) => n + String(s.labels.model).length, 0);
    expect(chars).toBeLessThanOrEqual(32 * 1024 + "other".length);
  });

  it("keeps the request counts whatever the label", () => {
    const metrics = new LaneMetrics();
    for (let i = 0; i < 1000; i++)
      metrics.record("openai", `m${i}`, i % 2 === 0 ? 200 : 429, "", -1, -1, 0, 0);
    expect(requestSeries(metrics).reduce((n, s) => n + s.value, 0)).toBe(1000);
  });
});
