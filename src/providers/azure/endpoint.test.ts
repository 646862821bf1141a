import { describe, expect, it } from "vitest";
import { HOSTILE_NAMES, resolvedUrl } from "../../../test/helpers/hostile-names.js";
import { DEFAULT_CLIENT } from "../../config/defaults.js";
import type { GatewayConfig, ProviderConfig, ProviderKey } from "../../config/types.js";
import type { ChatChunk } from "../../formats/canonical.js";
import { compileRoutingTable } from "../../routing/table.js";
import { type Target, UnsupportedRequest } from "../adapter.js";
import { adapterFor, speaksOpenAI } from "../registry.js";
import type { KeyEndpoint } from "../route.js";
import { DEFAULT_AZURE_API_VERSION } from "./endpoint.js";

function azureProvider(keys: ProviderKey[], baseUrl = ""): ProviderConfig {
  return {
    name: "azure",
    kind: "azure",
    keys,
    network: {
      baseUrl,
      extraHeaders: {},
      requestTimeoutMs: 30_000,
      maxRetries: 0,
      retryBackoffInitialMs: 500,
      retryBackoffMaxMs: 5_000,
    },
    concurrency: { concurrency: 1000, bufferSize: 5000 },
  };
}

function compile(provider: ProviderConfig) {
  const config: GatewayConfig = {
    providers: { [provider.name]: provider },
    client: { ...DEFAULT_CLIENT, maxRequestBodyBytes: 1 << 20 },
    source: "test",
  };
  return compileRoutingTable(config).providers.get(provider.name);
}

const east: ProviderKey = {
  name: "east",
  value: "key-east",
  models: [],
  weight: 1,
  azure: {
    endpoint: "https://east-res.openai.azure.com/",
    apiVersion: "2025-01-01-preview",
    deployments: { "gpt-4o": "prod-gpt4o", "text-embedding-3-small": "emb small" },
  },
};
const west: ProviderKey = {
  name: "west",
  value: "key-west",
  models: [],
  weight: 1,
  azure: { endpoint: "https://apim.example.com/team-a/openai", apiVersion: "", deployments: {} },
};

describe("Azure endpoints", () => {
  const route = compile(azureProvider([east, west], "https://fallback.openai.azure.com"));
  const [e, w] = (route?.endpoints ?? []) as KeyEndpoint[];

  it("serves OpenAI-format requests as bytes", () => {
    expect(speaksOpenAI("azure")).toBe(true);
    expect(speaksOpenAI("cohere")).toBe(false);
  });

  it("puts each key on its own resource with its own api-key header", () => {
    expect(e?.origin).toBe("https://east-res.openai.azure.com");
    expect(w?.origin).toBe("https://apim.example.com");
    expect(e?.headers).toEqual(["content-type", "application/json", "api-key", "key-east"]);
    expect(e?.headers).not.toContain("authorization");
  });

  it("maps models to deployments, the model name standing in for a missing entry", () => {
    expect(e?.path("/chat/completions", "gpt-4o")).toBe(
      "/openai/deployments/prod-gpt4o/chat/completions?api-version=2025-01-01-preview",
    );
    expect(e?.path("/chat/completions", "gpt-4.1")).toBe(
      "/openai/deployments/gpt-4.1/chat/completions?api-version=2025-01-01-preview",
    );
    expect(e?.path("/embeddings", "text-embedding-3-small")).toBe(
      "/openai/deployments/emb%20small/embeddings?api-version=2025-01-01-preview",
    );
    expect(e?.path("/completions", "constructor")).toBe(
      "/openai/deployments/constructor/completions?api-version=2025-01-01-preview",
    );
    expect(e?.path("/models", "")).toBe("/openai/models?api-version=2025-01-01-preview");
  });

  it("keeps an endpoint's path prefix and uses the default API version when none is set", () => {
    expect(w?.path("/chat/completions", "gpt-4o")).toBe(
      `/team-a/openai/deployments/gpt-4o/chat/completions?api-version=${DEFAULT_AZURE_API_VERSION}`,
    );
  });

  it("falls back to the provider's base URL for a key without an endpoint", () => {
    const bare = compile(
      azureProvider([{ name: "k", value: "v", models: [], weight: 1 }], "http://127.0.0.1:9/"),
    );
    const endpoint = bare?.endpoints[0];
    expect(endpoint?.origin).toBe("http://127.0.0.1:9");
    expect(endpoint?.path("/chat/completions", "m")).toBe(
      `/openai/deployments/m/chat/completions?api-version=${DEFAULT_AZURE_API_VERSION}`,
    );
  });

  it("leaves out a provider whose key has no endpoint at all", () => {
    expect(compile(azureProvider([{ name: "k", value: "v", models: [], weight: 1 }]))).toBeUndefined();
  });

  it("builds converted requests for the key's deployment", async () => {
    if (route === undefined) throw new Error("azure route missing");
    const target: Target = { provider: route, key: east, keyIndex: 0, model: "gpt-4o", stream: false };
    const upstream = await adapterFor("azure").chatRequest(
      { model: "azure/gpt-4o", messages: [{ role: "user", content: "hi" }] },
      target,
    );
    expect(upstream.origin).toBe("https://east-res.openai.azure.com");
    expect(upstream.path).toBe(
      "/openai/deployments/prod-gpt4o/chat/completions?api-version=2025-01-01-preview",
    );
    expect(upstream.headers).toContain("api-key");
    expect(JSON.parse(upstream.body.toString())).toMatchObject({ model: "gpt-4o" });
  });

  it("drops Azure's prompt-filter chunk from decoded streams", () => {
    if (route === undefined) throw new Error("azure route missing");
    const target: Target = { provider: route, key: east, keyIndex: 0, model: "gpt-4o", stream: true };
    const decoder = adapterFor("azure").chatStream(target);
    const chunk: ChatChunk = {
      id: "c",
      object: "chat.completion.chunk",
      created: 1,
      model: "gpt-4o",
      choices: [{ index: 0, delta: { content: "hi" }, finish_reason: null }],
    };
    const usage = {
      ...chunk,
      choices: [],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    };
    const wire =
      `data: ${JSON.stringify({ choices: [], id: "", prompt_filter_results: [{ prompt_index: 0 }] })}\n\n` +
      `data: ${JSON.stringify(chunk)}\n\ndata: ${JSON.stringify(usage)}\n\ndata: [DONE]\n\n`;
    const chunks = [...decoder.push(Buffer.from(wire)), ...decoder.end()];
    expect(chunks).toHaveLength(2);
    expect(chunks[0]?.choices[0]?.delta.content).toBe("hi");
    expect(chunks[1]?.usage?.total_tokens).toBe(2);
  });
});

describe("Azure deployment paths", () => {
  const route = compile(azureProvider([west]));
  const endpoint = route?.endpoints[0] as KeyEndpoint;

  it.each(HOSTILE_NAMES)("keep %s inside the deployment segment", (model) => {
    const url = resolvedUrl(endpoint.path("/chat/completions", model));
    expect(url.pathname).toMatch(/^\/team-a\/openai\/deployments\/[^/]+\/chat\/completions$/);
    expect(url.search).toBe(`?api-version=${DEFAULT_AZURE_API_VERSION}`);
    expect(url.hash).toBe("");
  });

  it.each([".", ".."])("refuse the deployment %j", (model) => {
    expect(() => endpoint.path("/chat/completions", model)).toThrow(UnsupportedRequest);
  });
});
