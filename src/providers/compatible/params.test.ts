import { describe, expect, it } from "vitest";
import { DEFAULT_CLIENT } from "../../config/defaults.js";
import type { GatewayConfig } from "../../config/types.js";
import type { ChatRequest } from "../../formats/canonical.js";
import { compileRoutingTable } from "../../routing/table.js";
import { type Target, UnsupportedRequest } from "../adapter.js";
import { adapterFor, speaksOpenAI } from "../registry.js";

function target(kind: string, model: string): Target {
  const config: GatewayConfig = {
    providers: {
      [kind]: {
        name: kind,
        kind,
        keys: [{ name: "k", value: "sk", models: [], weight: 1 }],
        network: {
          baseUrl: "http://127.0.0.1:9",
          extraHeaders: {},
          requestTimeoutMs: 1000,
          maxRetries: 0,
          retryBackoffInitialMs: 100,
          retryBackoffMaxMs: 100,
        },
        concurrency: { concurrency: 1, bufferSize: 1 },
      },
    },
    client: { ...DEFAULT_CLIENT, maxRequestBodyBytes: 1 << 20 },
    source: "test",
  };
  const provider = compileRoutingTable(config).providers.get(kind);
  if (provider === undefined) throw new Error(`${kind} missing`);
  return { provider, key: provider.keys[0] as Target["key"], keyIndex: 0, model, stream: false };
}

async function body(kind: string, request: ChatRequest): Promise<Record<string, unknown>> {
  const upstream = await adapterFor(kind).chatRequest(request, target(kind, "m"));
  return JSON.parse(upstream.body.toString()) as Record<string, unknown>;
}

const chat: ChatRequest = { model: "x/m", messages: [{ role: "user", content: "hi" }] };

describe("OpenAI-compatible parameter maps", () => {
  it("keeps the family on the byte path", () => {
    for (const kind of ["openai", "groq", "mistral", "perplexity", "ollama", "vllm", "lmstudio", "custom"]) {
      expect(speaksOpenAI(kind)).toBe(true);
    }
  });

  it("renames Mistral's limit and seed and leaves stream_options out", async () => {
    const converted = await body("mistral", {
      ...chat,
      max_completion_tokens: 50,
      seed: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(converted).toEqual({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 50,
      random_seed: 3,
      stream: true,
    });
  });

  it("refuses n > 1 on Groq unless drop_params is set", async () => {
    await expect(body("groq", { ...chat, n: 2 })).rejects.toBeInstanceOf(UnsupportedRequest);
    expect(await body("groq", { ...chat, n: 2, drop_params: true })).not.toHaveProperty("n");
    expect(await body("groq", { ...chat, n: 1 })).toMatchObject({ n: 1 });
  });

  it("sends the others OpenAI's body at their own paths", async () => {
    expect(await body("openai", { ...chat, seed: 3, max_completion_tokens: 5 })).toMatchObject({
      seed: 3,
      max_completion_tokens: 5,
    });
    const perplexity = await adapterFor("perplexity").chatRequest(chat, target("perplexity", "sonar"));
    expect(perplexity.path).toBe("/chat/completions");
    const groq = await adapterFor("groq").chatRequest(chat, target("groq", "llama"));
    expect(groq.path).toBe("/openai/v1/chat/completions");
    const lmstudio = await adapterFor("lmstudio").chatRequest(chat, target("lmstudio", "qwen"));
    expect(lmstudio.path).toBe("/v1/chat/completions");
    expect(lmstudio.headers).not.toContain("authorization");
  });
});
