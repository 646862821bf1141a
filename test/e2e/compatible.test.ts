import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// Members of the OpenAI-compatible family, each pointed at the OpenAI mock: what path and auth each one
// sends upstream, keyless local servers included, and a custom provider given only a base URL.

let mock: MockServer;
let gateway: RunningGateway;
let client: OpenAI;
let dir: string;

beforeAll(async () => {
  mock = await startOpenAIMock({ streamChunks: 3 });
  dir = mkdtempSync(join(tmpdir(), "switchyard-compatible-"));
  const config = {
    providers: {
      groq: {
        network_config: { base_url: mock.url },
        keys: [{ name: "g", value: "gsk-test", models: ["*"] }],
      },
      mistral: {
        network_config: { base_url: `${mock.url}/v1` },
        keys: [{ name: "m", value: "mistral-test", models: ["*"] }],
      },
      ollama: { network_config: { base_url: mock.url } },
      lmstudio: { network_config: { base_url: mock.url } },
      vllm: {
        network_config: { base_url: mock.url },
        keys: [{ name: "v", value: "vllm-token", models: ["*"] }],
      },
      "my-vllm": { network_config: { base_url: `${mock.url}/v1` } },
    },
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  gateway = await startGateway({ args: ["--config", join(dir, "config.json"), "--lanes", "1"] });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

async function chat(model: string): Promise<OpenAI.ChatCompletion> {
  return client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });
}

describe("the OpenAI-compatible family through the OpenAI SDK", () => {
  it.each([
    // The last column only names the table row the case proves (a configured name like my-vllm is "custom").
    ["mistral/mistral-small-latest", "mistral-small-latest", "Bearer mistral-test", "mistral"],
    ["ollama/llama3.2", "llama3.2", undefined, "ollama"],
    ["lmstudio/qwen2.5-7b-instruct", "qwen2.5-7b-instruct", undefined, "lmstudio"],
    ["vllm/Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-7B", "Bearer vllm-token", "vllm"],
    ["my-vllm/meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", undefined, "custom"],
  ])(
    "%s reaches /v1/chat/completions as %s with auth %s [%s: chat]",
    async (model, upstreamModel, auth, _row) => {
      const completion = await chat(model);
      expect(completion.object).toBe("chat.completion");
      const upstream = mock.stats.lastRequest;
      expect(upstream?.path).toBe("/v1/chat/completions");
      expect(upstream?.headers.authorization).toBe(auth);
      expect(JSON.parse(upstream?.body ?? "{}").model).toBe(upstreamModel);
    },
  );

  it("sends Groq requests under /openai/v1 with its key", async () => {
    // The mock serves OpenAI's paths only, so its 404 names the path Groq's API would have been asked for.
    const error = await chat("groq/llama-3.1-8b-instant").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(mock.stats.lastRequest?.path).toBe("/openai/v1/chat/completions");
    expect(mock.stats.lastRequest?.headers.authorization).toBe("Bearer gsk-test");
  });

  it("keeps an OpenAI client's body as bytes, stream_options included", async () => {
    const stream = await client.chat.completions.create({
      model: "mistral/mistral-small-latest",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
      seed: 4,
    });
    for await (const _ of stream) {
      // drain
    }
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}")).toMatchObject({
      stream_options: { include_usage: true },
      seed: 4,
    });
  });
});

describe("parameter maps on converted requests", () => {
  it("sends Mistral max_tokens and random_seed and no stream_options [mistral: stream]", async () => {
    const anthropic = new Anthropic({
      baseURL: `${gateway.url}/anthropic`,
      apiKey: "client-key",
      maxRetries: 0,
    });
    const stream = anthropic.messages.stream({
      model: "mistral/mistral-small-latest",
      max_tokens: 32,
      messages: [{ role: "user", content: "Count" }],
    });
    const final = await stream.finalMessage();
    expect(final.content[0]?.type).toBe("text");
    const sent = JSON.parse(mock.stats.lastRequest?.body ?? "{}");
    expect(sent).toMatchObject({ model: "mistral-small-latest", max_tokens: 32, stream: true });
    expect(sent).not.toHaveProperty("stream_options");
    expect(sent).not.toHaveProperty("max_completion_tokens");
  });
});
