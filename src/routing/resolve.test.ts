import { describe, expect, it } from "vitest";
import { DEFAULT_CLIENT } from "../config/defaults.js";
import type { GatewayConfig, ProviderConfig, ProviderKey } from "../config/types.js";
import { pickKey, resolveModel } from "./resolve.js";
import { compileRoutingTable } from "./table.js";

function provider(
  name: string,
  kind: string,
  keys: ProviderKey[],
  baseUrl = "https://api.example.com",
): ProviderConfig {
  return {
    name,
    kind,
    keys,
    network: {
      baseUrl,
      extraHeaders: { "x-team": "core" },
      requestTimeoutMs: 30_000,
      maxRetries: 0,
      retryBackoffInitialMs: 500,
      retryBackoffMaxMs: 5_000,
    },
    concurrency: { concurrency: 1000, bufferSize: 5000 },
  };
}

const key = (name: string, models: string[] = [], weight = 1): ProviderKey => ({
  name,
  value: `sk-${name}`,
  models,
  weight,
});

function table(...providers: ProviderConfig[]) {
  const config: GatewayConfig = {
    providers: Object.fromEntries(providers.map((p) => [p.name, p])),
    client: { ...DEFAULT_CLIENT, maxRequestBodyBytes: 1 << 20 },
    source: "test",
  };
  return compileRoutingTable(config);
}

describe("resolveModel", () => {
  const routes = table(
    provider("openai", "openai", [key("a")], "http://127.0.0.1:9000/v1"),
    provider("anthropic", "anthropic", [key("b")]),
    provider("my-vllm", "custom", [key("c", ["meta-llama/Llama-3.1-8B"])], "http://10.1.2.3:8000"),
  );

  it("sends provider/model to that provider without the prefix", () => {
    expect(resolveModel(routes, "anthropic/claude-sonnet-4")).toMatchObject({
      provider: { name: "anthropic" },
      model: "claude-sonnet-4",
    });
  });

  it("keeps an unknown prefix as part of the model name", () => {
    expect(resolveModel(routes, "meta-llama/Llama-3.1-8B")).toMatchObject({
      provider: { name: "my-vllm" },
      model: "meta-llama/Llama-3.1-8B",
    });
  });

  it("resolves bare names through the catalog's model families", () => {
    expect(resolveModel(routes, "gpt-4o-mini")).toMatchObject({
      provider: { name: "openai" },
      model: "gpt-4o-mini",
    });
    expect(resolveModel(routes, "claude-3-5-haiku-latest")).toMatchObject({
      provider: { name: "anthropic" },
    });
  });

  it("refuses an unresolvable name with a 404 that lists providers and configured models", () => {
    const result = resolveModel(routes, "mystery-model");
    expect(result).toMatchObject({ status: 404, code: "model_not_found", param: "model" });
    expect("message" in result && result.message).toContain("openai, anthropic, my-vllm");
    expect("message" in result && result.message).toContain("meta-llama/Llama-3.1-8B");
  });

  it("compiles the OpenAI-compatible base once: origin, API path and headers per key", () => {
    const openai = routes.providers.get("openai");
    expect(openai).toMatchObject({ origin: "http://127.0.0.1:9000", apiPath: "/v1" });
    expect(openai?.keyHeaders[0]).toEqual([
      "content-type",
      "application/json",
      "authorization",
      "Bearer sk-a",
      "x-team",
      "core",
    ]);
    expect(routes.providers.get("my-vllm")).toMatchObject({ origin: "http://10.1.2.3:8000", apiPath: "/v1" });
  });
});

describe("pickKey", () => {
  it("only picks keys that serve the model", () => {
    const routes = table(
      provider("openai", "openai", [key("mini", ["gpt-4o-mini"]), key("big", ["gpt-4o"])]),
    );
    const openai = routes.providers.get("openai");
    if (openai === undefined) throw new Error("openai missing");
    for (let i = 0; i < 50; i++) expect(pickKey(openai, "gpt-4o")).toBe(1);
    expect(pickKey(openai, "o3")).toBe(-1);
  });

  it("spreads requests by weight", () => {
    const routes = table(provider("openai", "openai", [key("light", [], 1), key("heavy", [], 3)]));
    const openai = routes.providers.get("openai");
    if (openai === undefined) throw new Error("openai missing");
    const counts: [number, number] = [0, 0];
    for (let i = 0; i < 8000; i++) counts[pickKey(openai, "gpt-4o") as 0 | 1] += 1;
    // Expected 2000 / 6000; a 10% band is many standard deviations wide.
    expect(counts[0]).toBeGreaterThan(1800);
    expect(counts[0]).toBeLessThan(2200);
  });
});
