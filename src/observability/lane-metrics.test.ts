import { describe, expect, it } from "vitest";
import { spendRecord } from "../../test/helpers/governance-fixtures.js";
import {
  LaneMetrics,
  MAX_KEY_SERIES,
  MAX_MODEL_LABELS,
  MAX_REFUSAL_REASONS,
  MAX_SERIES,
} from "./lane-metrics.js";

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

const valuesOf = (metrics: LaneMetrics, name: string) =>
  metrics.snapshot().find((m) => m.name === name)?.values ?? [];

const spend = (keyId: string, teamId: string, costMicros: number) =>
  spendRecord({ keyId, teamId, costMicros });

describe("LaneMetrics cost, streams, retries and refusals", () => {
  it("sums cost per provider and model in dollars", () => {
    const metrics = new LaneMetrics();
    metrics.record("openai", "gpt-4o", 200, "", 0.1, 0.00001, 3, 4, 1_500_000);
    metrics.record("openai", "gpt-4o", 200, "", 0.1, 0.00001, 3, 4, 250_000);
    metrics.record("groq", "llama", 200, "", 0.1, 0.00001, 3, 4, 0);
    expect(valuesOf(metrics, "switchyard_cost_dollars_total")).toEqual([
      { value: 1.75, labels: { provider: "openai", model: "gpt-4o" } },
    ]);
  });

  it("keeps time to first token and inter-token latency per provider", () => {
    const metrics = new LaneMetrics();
    metrics.recordStream("openai", 0.2, 0.02);
    metrics.recordStream("openai", 0.3, -1);
    const count = (name: string) => valuesOf(metrics, name).find((v) => v.metricName === `${name}_count`);
    expect(count("switchyard_time_to_first_token_seconds")).toMatchObject({
      value: 2,
      labels: { provider: "openai" },
    });
    expect(count("switchyard_inter_token_latency_seconds")?.value).toBe(1);
  });

  it("counts retries, fallbacks and refusals by reason, bounding the reasons", () => {
    const metrics = new LaneMetrics();
    metrics.retries += 2;
    metrics.fallbacks++;
    metrics.refused("budget_exceeded");
    metrics.refused("budget_exceeded");
    metrics.refused(429);
    for (let i = 0; i < MAX_REFUSAL_REASONS + 10; i++) metrics.refused(`plugin_${i}`);
    expect(valuesOf(metrics, "switchyard_retries_total")[0]?.value).toBe(2);
    expect(valuesOf(metrics, "switchyard_fallbacks_total")[0]?.value).toBe(1);
    const refusals = valuesOf(metrics, "switchyard_refusals_total");
    expect(refusals).toHaveLength(MAX_REFUSAL_REASONS + 1);
    expect(refusals.find((r) => r.labels.reason === "budget_exceeded")?.value).toBe(2);
    expect(refusals.reduce((n, r) => n + r.value, 0)).toBe(3 + MAX_REFUSAL_REASONS + 10);
  });
});

describe("LaneMetrics virtual key series", () => {
  it("keeps requests, tokens and cost per key and team", () => {
    const metrics = new LaneMetrics();
    metrics.recordSpend(spend("vk-1", "team-a", 2_000_000));
    metrics.recordSpend(spend("vk-1", "team-a", 500_000));
    metrics.recordSpend(spend("vk-2", "", 0));
    expect(valuesOf(metrics, "switchyard_key_requests_total")).toEqual([
      { value: 2, labels: { virtual_key: "vk-1", team: "team-a" } },
      { value: 1, labels: { virtual_key: "vk-2", team: "" } },
    ]);
    expect(valuesOf(metrics, "switchyard_key_tokens_input_total")[0]?.value).toBe(20);
    expect(valuesOf(metrics, "switchyard_key_tokens_output_total")[0]?.value).toBe(10);
    expect(valuesOf(metrics, "switchyard_key_cost_dollars_total")[0]?.value).toBe(2.5);
  });

  it("folds keys past the bound, and over-long ids, into 'other', keeping every count", () => {
    const metrics = new LaneMetrics();
    for (let i = 0; i < MAX_KEY_SERIES + 500; i++) metrics.recordSpend(spend(`vk-${i}`, "t", 1));
    metrics.recordSpend(spend("k".repeat(500), "t", 1));
    metrics.recordSpend(spend("vk-0", "t", 1));
    const requests = valuesOf(metrics, "switchyard_key_requests_total");
    expect(requests).toHaveLength(MAX_KEY_SERIES + 1);
    expect(requests.find((r) => r.labels.virtual_key === "other")).toEqual({
      value: 501,
      labels: { virtual_key: "other", team: "other" },
    });
    expect(requests.find((r) => r.labels.virtual_key === "vk-0")?.value).toBe(2);
    expect(requests.reduce((n, r) => n + r.value, 0)).toBe(MAX_KEY_SERIES + 502);
  });
});
