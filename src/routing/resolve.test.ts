import { describe, expect, it } from "vitest";
import { DEFAULT_CLIENT } from "../config/defaults.js";
import type { GatewayConfig, ProviderConfig, ProviderKey } from "../config/types.js";
import { candidatesFor } from "./candidates.js";
import { resolveModel } from "./resolve.js";
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

describe("candidatesFor a provider whose keys are all disabled", () => {
  const routes = table(
    { ...provider("paused", "openai", [], "http://127.0.0.1:9000/v1"), keysDisabled: true },
    provider("local", "custom", [], "http://127.0.0.1:8000/v1"),
  );

  it("refuses its models with a 503 naming the provider, rather than sending them without a key", () => {
    expect(routes.providers.get("paused")).toMatchObject({ keys: [], origin: "http://127.0.0.1:9000" });
    expect(candidatesFor(routes, "paused/gpt-4o-mini")).toEqual({
      status: 503,
      type: "api_error",
      code: "provider_keys_disabled",
      message: "Every key of provider 'paused' is disabled; enable one to send it requests.",
      param: "model",
    });
  });

  it("still sends a provider configured without keys keyless", () => {
    expect(candidatesFor(routes, "local/llama")).toMatchObject({
      candidates: [{ provider: { name: "local" }, keyIndex: 0 }],
    });
  });
});
