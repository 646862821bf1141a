import { describe, expect, it } from "vitest";
import type { Pricing } from "../pipeline/governance/pricing.js";
import { ExchangeAccount } from "./account.js";
import { LaneMetrics } from "./lane-metrics.js";

const valuesOf = (metrics: LaneMetrics, name: string) =>
  metrics.snapshot().find((m) => m.name === name)?.values ?? [];

/** A dollar per million prompt tokens, two per million completion tokens, for gpt-4o only. */
const pricing: Pricing = {
  cost: (_provider, model, usage) => (model === "gpt-4o" ? usage.prompt + 2 * usage.completion : 0),
  estimate: () => 0,
  maxOutputTokens: () => undefined,
};

describe("ExchangeAccount", () => {
  it("prices the exchange's usage with the lane's pricing", () => {
    const metrics = new LaneMetrics();
    metrics.pricing = pricing;
    const account = new ExchangeAccount(metrics, "openai", "gpt-4o", performance.now());
    account.usage.prompt = 1000;
    account.usage.completion = 500;
    account.finish(200, "");
    expect(valuesOf(metrics, "switchyard_cost_dollars_total")).toEqual([
      { value: 0.002, labels: { provider: "openai", model: "gpt-4o" } },
    ]);
    expect(metrics.inFlight).toBe(0);
  });

  it("observes a stream's first chunk and its pace, once, and nothing for a whole reply", () => {
    const metrics = new LaneMetrics();
    const whole = new ExchangeAccount(metrics, "openai", "gpt-4o", performance.now());
    whole.finish(200, "");
    const stream = new ExchangeAccount(metrics, "openai", "gpt-4o", performance.now());
    stream.dispatched();
    stream.chunk();
    stream.chunk();
    stream.chunk();
    stream.finish(200, "");
    stream.finish(200, "");
    const count = (name: string) => valuesOf(metrics, name).find((v) => v.metricName === `${name}_count`);
    expect(count("switchyard_time_to_first_token_seconds")).toMatchObject({
      value: 1,
      labels: { provider: "openai" },
    });
    expect(count("switchyard_inter_token_latency_seconds")?.value).toBe(1);
    expect(valuesOf(metrics, "switchyard_cost_dollars_total")).toEqual([]);
  });
});
