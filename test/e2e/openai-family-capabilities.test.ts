import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// Images, reasoning, tools and streams through the OpenAI byte path: OpenAI itself, DeepSeek, the local
// servers (Ollama, LM Studio, vLLM, a configured custom provider) on the OpenAI mock, and Groq on a second
// OpenAI mock laid out as Groq's API is, under /openai/v1.

let mock: MockServer;
let groqMock: MockServer;
let gateway: RunningGateway;
let client: OpenAI;
let dir: string;

const weather: OpenAI.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

// OpenAI's SDK types know neither DeepSeek's reasoning_content nor the gateway's extensions.
type WithReasoning = { reasoning_content?: string | null };

beforeAll(async () => {
  mock = await startOpenAIMock({ streamChunks: 3 });
  groqMock = await startOpenAIMock({ streamChunks: 3, requireKey: "gsk-test", pathPrefix: "/openai/v1" });
  dir = mkdtempSync(join(tmpdir(), "switchyard-openai-family-"));
  const config = {
    providers: {
      openai: {
        network_config: { base_url: mock.url },
        keys: [{ name: "o", value: "sk-openai", models: ["*"] }],
      },
      deepseek: {
        network_config: { base_url: mock.url },
        keys: [{ name: "d", value: "sk-deepseek", models: ["*"] }],
      },
      groq: {
        network_config: { base_url: groqMock.url },
        keys: [{ name: "g", value: "gsk-test", models: ["*"] }],
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
  await groqMock?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function sentTo(server: MockServer): Record<string, unknown> {
  return JSON.parse(server.stats.lastRequest?.body ?? "{}") as Record<string, unknown>;
}

interface Streamed {
  text: string;
  reasoning: string;
  finish: string | null | undefined;
  usage: OpenAI.CompletionUsage | null | undefined;
  calls: { id?: string; name?: string; arguments: string }[];
}

async function drain(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<Streamed> {
  const out: Streamed = { text: "", reasoning: "", finish: undefined, usage: undefined, calls: [] };
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (chunk.usage) out.usage = chunk.usage;
    if (choice === undefined) continue;
    out.text += choice.delta.content ?? "";
    out.reasoning += (choice.delta as WithReasoning).reasoning_content ?? "";
    out.finish = choice.finish_reason ?? out.finish;
    for (const call of choice.delta.tool_calls ?? []) {
      let slot = out.calls[call.index];
      if (slot === undefined) {
        slot = { arguments: "" };
        out.calls[call.index] = slot;
      }
      if (call.id !== undefined) slot.id = call.id;
      if (call.function?.name !== undefined) slot.name = call.function.name;
      slot.arguments += call.function?.arguments ?? "";
    }
  }
  return out;
}

async function toolRoundTrip(server: MockServer, model: string, upstreamModel: string): Promise<void> {
  const first = await client.chat.completions.create({
    model,
    messages: [{ role: "user", content: "Weather in Paris?" }],
    tools: [weather],
    tool_choice: "auto",
  });
  const call = first.choices[0]?.message.tool_calls?.[0];
  expect(first.choices[0]?.finish_reason).toBe("tool_calls");
  expect(call?.type === "function" && call.function.name).toBe("get_weather");
  expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "mock" });
  expect(sentTo(server)).toMatchObject({ model: upstreamModel, tools: [weather], tool_choice: "auto" });

  const second = await client.chat.completions.create({
    model,
    messages: [
      { role: "user", content: "Weather in Paris?" },
      first.choices[0]?.message as OpenAI.ChatCompletionMessageParam,
      { role: "tool", tool_call_id: call?.id ?? "", content: '{"temp":21}' },
    ],
    tools: [weather],
  });
  expect(second.choices[0]?.finish_reason).toBe("tool_calls");
  const messages = sentTo(server).messages as { role: string; tool_call_id?: string }[];
  expect(messages[2]).toEqual({ role: "tool", tool_call_id: call?.id, content: '{"temp":21}' });

  const streamed = await drain(
    await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weather],
      stream: true,
    }),
  );
  expect(streamed.finish).toBe("tool_calls");
  expect(streamed.calls).toHaveLength(1);
  expect(streamed.calls[0]?.name).toBe("get_weather");
  expect(streamed.calls[0]?.id).toMatch(/^call-/);
  expect(JSON.parse(streamed.calls[0]?.arguments ?? "")).toEqual({ city: "mock" });
}

describe("OpenAI", () => {
  it("passes image content by URL and base64 to the provider byte for byte [openai: vision]", async () => {
    const params = {
      model: "openai/gpt-4o",
      messages: [
        {
          role: "user" as const,
          content: [
            { type: "text" as const, text: "What is in these?" },
            {
              type: "image_url" as const,
              image_url: { url: "https://example.com/cat.jpg", detail: "low" as const },
            },
            {
              type: "image_url" as const,
              image_url: { url: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==" },
            },
          ],
        },
      ],
      max_tokens: 20,
    };
    const completion = await client.chat.completions.create(params);
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(mock.stats.lastRequest?.path).toBe("/v1/chat/completions");
    // The SDK sends JSON.stringify of the params; only the model name may differ upstream.
    expect(mock.stats.lastRequest?.body).toBe(JSON.stringify({ ...params, model: "gpt-4o" }));
  });

  it("passes reasoning_effort through and returns reasoning token usage, plain and streamed [openai: reasoning, stream]", async () => {
    const completion = await client.chat.completions.create({
      model: "openai/o4-mini",
      messages: [{ role: "user", content: "Think, then answer." }],
      reasoning_effort: "high",
    });
    expect(sentTo(mock)).toMatchObject({ model: "o4-mini", reasoning_effort: "high" });
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(16);
    expect(completion.usage?.completion_tokens).toBeGreaterThan(16);

    const streamed = await drain(
      await client.chat.completions.create({
        model: "openai/o4-mini",
        messages: [{ role: "user", content: "Think, then answer." }],
        reasoning_effort: "low",
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(sentTo(mock)).toMatchObject({ reasoning_effort: "low", stream: true });
    expect(streamed.text.length).toBeGreaterThan(0);
    expect(streamed.usage?.completion_tokens_details?.reasoning_tokens).toBe(16);

    const plain = await client.chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "No effort asked." }],
    });
    expect(plain.usage?.completion_tokens_details?.reasoning_tokens).toBe(0);
  });
});

describe("DeepSeek", () => {
  it("calls tools and takes the results back, plain and streamed [deepseek: tools, stream]", async () => {
    await toolRoundTrip(mock, "deepseek/deepseek-chat", "deepseek-chat");
    expect(mock.stats.lastRequest?.headers.authorization).toBe("Bearer sk-deepseek");
  });

  it("returns reasoning_content untouched, plain and streamed [deepseek: reasoning, stream]", async () => {
    const completion = await client.chat.completions.create({
      model: "deepseek/deepseek-reasoner",
      messages: [{ role: "user", content: "Why?" }],
    });
    const message = completion.choices[0]?.message as OpenAI.ChatCompletionMessage & WithReasoning;
    expect(message.reasoning_content).toBe("The user wants a reply. I will give one.");
    expect(message.content?.length).toBeGreaterThan(0);
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(16);
    expect(sentTo(mock).model).toBe("deepseek-reasoner");

    const streamed = await drain(
      await client.chat.completions.create({
        model: "deepseek/deepseek-reasoner",
        messages: [{ role: "user", content: "Why?" }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(streamed.reasoning).toBe("The user wants a reply. I will give one.");
    expect(streamed.text.length).toBeGreaterThan(0);
    expect(streamed.finish).toBe("stop");
    expect(streamed.usage?.completion_tokens_details?.reasoning_tokens).toBe(16);
  });

  it("gives an Anthropic client DeepSeek's reasoning as a thinking block, plain and streamed [deepseek: reasoning, stream]", async () => {
    const anthropic = new Anthropic({
      baseURL: `${gateway.url}/anthropic`,
      apiKey: "client-key",
      maxRetries: 0,
    });
    const message = await anthropic.messages.create({
      model: "deepseek/deepseek-reasoner",
      max_tokens: 200,
      messages: [{ role: "user", content: "Why?" }],
    });
    expect(message.content[0]).toMatchObject({
      type: "thinking",
      thinking: "The user wants a reply. I will give one.",
    });
    expect(message.content[1]?.type === "text" && message.content[1].text.length).toBeGreaterThan(0);

    const final = await anthropic.messages
      .stream({
        model: "deepseek/deepseek-reasoner",
        max_tokens: 200,
        messages: [{ role: "user", content: "Why?" }],
      })
      .finalMessage();
    expect(final.content[0]).toMatchObject({
      type: "thinking",
      thinking: "The user wants a reply. I will give one.",
    });
    expect(final.content[1]?.type === "text" && final.content[1].text).toBe("Switchyard mock reply. ");
    expect(final.stop_reason).toBe("end_turn");
  });
});

describe("local and custom OpenAI-compatible servers", () => {
  it.each([
    // The last column only names the table row the case proves (a configured name like my-vllm is "custom").
    ["ollama/llama3.2", "llama3.2", undefined, "ollama"],
    ["lmstudio/qwen2.5-7b-instruct", "qwen2.5-7b-instruct", undefined, "lmstudio"],
    ["vllm/Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-7B", "Bearer vllm-token", "vllm"],
    ["my-vllm/meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", undefined, "custom"],
  ])(
    "%s streams text with usage and calls tools as %s with auth %s [%s: stream, tools]",
    async (model, upstreamModel, auth, _row) => {
      const streamed = await drain(
        await client.chat.completions.create({
          model,
          messages: [{ role: "user", content: "Count" }],
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
      expect(streamed.text).toBe("Switchyard mock reply. ");
      expect(streamed.finish).toBe("stop");
      expect(streamed.usage?.completion_tokens).toBe(3);
      expect(mock.stats.lastRequest?.path).toBe("/v1/chat/completions");
      expect(mock.stats.lastRequest?.headers.authorization).toBe(auth);
      expect(sentTo(mock)).toMatchObject({ model: upstreamModel, stream: true });

      await toolRoundTrip(mock, model, upstreamModel);
    },
  );
});

describe("Groq", () => {
  it("answers a chat completion from /openai/v1 with the provider's key [groq: chat]", async () => {
    const completion = await client.chat.completions.create({
      model: "groq/llama-3.1-8b-instant",
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(groqMock.stats.lastRequest?.path).toBe("/openai/v1/chat/completions");
    expect(groqMock.stats.lastRequest?.headers.authorization).toBe("Bearer gsk-test");
    expect(sentTo(groqMock)).toEqual({
      model: "llama-3.1-8b-instant",
      messages: [{ role: "user", content: "Say hello" }],
    });
  });

  it("streams with the usage chunk [groq: stream]", async () => {
    const streamed = await drain(
      await client.chat.completions.create({
        model: "groq/llama-3.1-8b-instant",
        messages: [{ role: "user", content: "Count" }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(streamed.text).toBe("Switchyard mock reply. ");
    expect(streamed.finish).toBe("stop");
    expect(streamed.usage?.total_tokens).toBeGreaterThan(0);
    expect(groqMock.stats.lastRequest?.path).toBe("/openai/v1/chat/completions");
  });

  it("calls tools and takes the results back, plain and streamed [groq: tools, stream]", async () => {
    await toolRoundTrip(groqMock, "groq/llama-3.3-70b-versatile", "llama-3.3-70b-versatile");
  });

  it("passes Groq's errors through with their status", async () => {
    const error = await client.chat.completions
      .create({ model: "groq/mock-error-429", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
  });
});
