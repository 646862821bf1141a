import { describe, expect, it } from "vitest";
import { LaneMetrics, MAX_MODEL_LABELS, MAX_SERIES } from "./lane-metrics.js";

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

describe("LaneMetrics request series", () => {
  it("keeps one series per provider, model, status and error class, found again on the next request", () => {
    const metrics = new LaneMetrics();
    metrics.record("openai", "gpt-4o", 200, "", 0.1, 0.00001, 3, 4);
    metrics.record("openai", "gpt-4o", 429, "provider", 0.1, 0.00001, 0, 0);
    metrics.record("openai", "gpt-4o", 429, "policy", -1, -1, 0, 0);
    metrics.record("groq", "gpt-4o", 200, "", 0.1, 0.00001, 1, 1);
    metrics.record("openai", "gpt-4o", 200, "", 0.1, 0.00001, 3, 4);
    const counts = requestSeries(metrics).map((s) => [
      s.labels.provider,
      s.labels.status,
      s.labels.error_class,
      s.value,
    ]);
    expect(counts).toEqual([
      ["openai", "200", "", 2],
      ["openai", "429", "provider", 1],
      ["openai", "429", "policy", 1],
      ["groq", "200", "", 1],
    ]);
    const tokens = metrics.snapshot().find((m) => m.name === "switchyard_tokens_input_total")?.values;
    expect(tokens).toEqual([
      { value: 6, labels: { provider: "openai", model: "gpt-4o" } },
      { value: 1, labels: { provider: "groq", model: "gpt-4o" } },
    ]);
  });

  it("folds new series past the bound into 'other', keeping every count", () => {
    const metrics = new LaneMetrics();
    const statuses = Math.ceil((MAX_SERIES + 100) / MAX_MODEL_LABELS);
    for (let status = 200; status < 200 + statuses; status++)
      for (let i = 0; i < MAX_MODEL_LABELS; i++) metrics.record("openai", `m${i}`, status, "", -1, -1, 0, 0);
    const series = requestSeries(metrics);
    expect(series.filter((s) => s.labels.model !== "other")).toHaveLength(MAX_SERIES);
    expect(series.some((s) => s.labels.model === "other")).toBe(true);
    expect(series.reduce((n, s) => n + s.value, 0)).toBe(statuses * MAX_MODEL_LABELS);
  });
});
