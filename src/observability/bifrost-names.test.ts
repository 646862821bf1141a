import { describe, expect, it } from "vitest";
import { LaneMetrics } from "./lane-metrics.js";

const names = (metrics: LaneMetrics) => metrics.snapshot().map((m) => m.name);
const valuesOf = (metrics: LaneMetrics, name: string) =>
  metrics.snapshot().find((m) => m.name === name)?.values ?? [];

function busyLane(): LaneMetrics {
  const metrics = new LaneMetrics();
  metrics.record("openai", "gpt-4o", 200, "", 0.1, 0.00001, 3, 4, 2_000_000);
  metrics.record("openai", "gpt-4o", 200, "", 0.1, 0.00001, 3, 4, 0);
  metrics.record("openai", "gpt-4o", 502, "provider", 0.1, 0.00001, 0, 0);
  metrics.recordAnswered(401, "policy");
  metrics.recordStream("openai", 0.2, 0.01);
  return metrics;
}

describe("Bifrost's metric names", () => {
  it("are absent unless switched on", () => {
    expect(names(busyLane()).some((n) => n.startsWith("bifrost_"))).toBe(false);
  });

  it("carry the same counts by provider and model, requests that reached no provider left out", () => {
    const metrics = busyLane();
    metrics.bifrostNames = true;
    const labels = { provider: "openai", model: "gpt-4o" };
    expect(valuesOf(metrics, "bifrost_upstream_requests_total")).toEqual([{ value: 3, labels }]);
    expect(valuesOf(metrics, "bifrost_success_requests_total")).toEqual([{ value: 2, labels }]);
    expect(valuesOf(metrics, "bifrost_error_requests_total")).toEqual([{ value: 1, labels }]);
    expect(valuesOf(metrics, "bifrost_input_tokens_total")).toEqual([{ value: 6, labels }]);
    expect(valuesOf(metrics, "bifrost_output_tokens_total")).toEqual([{ value: 8, labels }]);
    expect(valuesOf(metrics, "bifrost_cost_total")).toEqual([{ value: 2, labels }]);
  });

  it("rename the histograms' series, buckets and labels kept", () => {
    const metrics = busyLane();
    metrics.bifrostNames = true;
    for (const [ours, theirs] of [
      ["switchyard_upstream_latency_seconds", "bifrost_upstream_latency_seconds"],
      ["switchyard_time_to_first_token_seconds", "bifrost_stream_first_token_latency_seconds"],
      ["switchyard_inter_token_latency_seconds", "bifrost_stream_inter_token_latency_seconds"],
    ] as const) {
      const original = valuesOf(metrics, ours);
      const renamed = valuesOf(metrics, theirs);
      expect(renamed).toEqual(
        original.map((v) => ({ ...v, metricName: v.metricName?.replace(ours, theirs) })),
      );
      expect(renamed.some((v) => v.metricName === `${theirs}_bucket`)).toBe(true);
    }
  });
});
