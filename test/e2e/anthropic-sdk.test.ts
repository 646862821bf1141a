import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AnthropicMockServer,
  MOCK_SIGNATURE,
  MOCK_TEXT,
  MOCK_THINKING,
  startAnthropicMock,
} from "../../bench/mock/anthropic-mock.js";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// The official Anthropic SDK pointed at the gateway's /anthropic routes: transcoded to an OpenAI provider,
// and passed through as bytes to an Anthropic provider.

let openai: MockServer;
let anthropic: AnthropicMockServer;
let gateway: RunningGateway;
let client: Anthropic;

beforeAll(async () => {
  openai = await startOpenAIMock({ requireKey: "sk-openai-provider", streamChunks: 4 });
  anthropic = await startAnthropicMock({ requireKey: "sk-ant-provider" });
  gateway = await startGateway({
    env: {
      OPENAI_API_KEY: "sk-openai-provider",
      OPENAI_BASE_URL: `${openai.url}/v1`,
      ANTHROPIC_API_KEY: "sk-ant-provider",
      ANTHROPIC_BASE_URL: anthropic.url,
    },
  });
  client = new Anthropic({ baseURL: `${gateway.url}/anthropic`, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.stop();
  await openai?.close();
  await anthropic?.close();
});

describe("Anthropic SDK → OpenAI provider (transcoded)", () => {
  it("answers a message with text, stop reason and usage [openai: chat]", async () => {
    const message = await client.messages.create({
      model: "openai/gpt-4o-mini",
      max_tokens: 100,
      system: "Be brief.",
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(message.type).toBe("message");
    expect(message.role).toBe("assistant");
    expect(message.model).toBe("openai/gpt-4o-mini");
    expect(message.stop_reason).toBe("end_turn");
    const block = message.content[0];
    expect(block?.type).toBe("text");
    expect(block?.type === "text" && block.text.length).toBeGreaterThan(0);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    const upstream = JSON.parse(openai.stats.lastRequest?.body ?? "{}");
    expect(upstream.model).toBe("gpt-4o-mini");
    expect(upstream.max_tokens).toBe(100);
    expect(upstream.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Say hello" },
    ]);
  });

  it("streams Anthropic's event sequence [openai: stream]", async () => {
    const stream = client.messages.stream({
      model: "openai/gpt-4o-mini",
      max_tokens: 100,
      messages: [{ role: "user", content: "Count" }],
    });
    const events: string[] = [];
    let text = "";
    for await (const event of stream) {
      events.push(event.type);
      if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
    }
    const final = await stream.finalMessage();
    expect(events[0]).toBe("message_start");
    expect(events.slice(-2)).toEqual(["message_delta", "message_stop"]);
    expect(events).toContain("content_block_start");
    expect(events).toContain("content_block_stop");
    expect(text.length).toBeGreaterThan(0);
    expect(final.content[0]?.type === "text" && final.content[0].text).toBe(text);
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    expect(final.usage.input_tokens).toBeGreaterThan(0);
  });

  it("maps tools and tool_use both ways, plain and streamed [openai: tools, stream]", async () => {
    const tools: Anthropic.Tool[] = [
      {
        name: "get_weather",
        description: "Weather for a city",
        input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    ];
    const message = await client.messages.create({
      model: "openai/gpt-4o-mini",
      max_tokens: 100,
      tools,
      tool_choice: { type: "any" },
      messages: [{ role: "user", content: "Weather in Paris?" }],
    });
    expect(message.stop_reason).toBe("tool_use");
    const use = message.content.find((b) => b.type === "tool_use");
    expect(use?.type === "tool_use" && use.name).toBe("get_weather");
    expect(use?.type === "tool_use" && use.input).toEqual({ city: "mock" });
    const upstream = JSON.parse(openai.stats.lastRequest?.body ?? "{}");
    expect(upstream.tool_choice).toBe("required");
    expect(upstream.tools[0].function.parameters.required).toEqual(["city"]);

    const stream = client.messages.stream({
      model: "openai/gpt-4o-mini",
      max_tokens: 100,
      tools,
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "sunny" }] },
      ],
    });
    const final = await stream.finalMessage();
    const streamed = final.content.find((b) => b.type === "tool_use");
    expect(streamed?.type === "tool_use" && streamed.input).toEqual({ city: "mock" });
    expect(final.stop_reason).toBe("tool_use");
    const sent = JSON.parse(openai.stats.lastRequest?.body ?? "{}").messages;
    expect(sent[1].tool_calls[0]).toEqual({
      id: "toolu_1",
      type: "function",
      function: { name: "get_weather", arguments: '{"city":"Paris"}' },
    });
    expect(sent[2]).toEqual({ role: "tool", tool_call_id: "toolu_1", content: "sunny" });
  });

  it("answers provider errors in Anthropic's shape with the provider's status", async () => {
    for (const [status, type] of [
      [429, "rate_limit_error"],
      [401, "authentication_error"],
      [500, "api_error"],
    ] as const) {
      const error = await client.messages
        .create({
          model: `openai/mock-error-${status}`,
          max_tokens: 10,
          messages: [{ role: "user", content: "x" }],
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Anthropic.APIError);
      expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(status);
      expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
        type: "error",
        error: { type },
      });
    }
  });

  it("answers gateway errors in Anthropic's shape", async () => {
    const error = (await client.messages
      .create({ model: "nope/unknown-model", max_tokens: 10, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(error.status).toBe(404);
    expect(error.error).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    const invalid = (await client.messages
      // @ts-expect-error max_tokens is required
      .create({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(invalid.status).toBe(400);
    expect(invalid.error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });
  it("ends a stream the provider broke off with an Anthropic error event", async () => {
    // The mock resets after its fifth chunk: make the stream longer than that.
    openai.configure({ streamChunks: 20 });
    const stream = client.messages.stream({
      model: "openai/mock-reset-midstream",
      max_tokens: 100,
      messages: [{ role: "user", content: "x" }],
    });
    const error = await stream.finalMessage().catch((e: unknown) => e);
    openai.configure({ streamChunks: 4 });
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as Error).message).toContain("broke off");
  });
});

describe("Anthropic SDK → Anthropic provider (passthrough)", () => {
  it("passes the body through untouched apart from the model, with the provider's key and the client's beta header [anthropic: chat]", async () => {
    const message = await client.messages.create(
      {
        model: "anthropic/claude-sonnet-4-5",
        max_tokens: 50,
        messages: [{ role: "user", content: "hi" }],
        // @ts-expect-error a field the SDK does not know
        future_feature: { nested: [1, { deep: true }] },
      },
      { headers: { "anthropic-beta": "future-feature-2099-01-01" } },
    );
    expect(message.content).toEqual([{ type: "text", text: MOCK_TEXT }]);
    expect(message.model).toBe("claude-sonnet-4-5");
    const last = anthropic.stats.lastRequest;
    expect(last?.path).toBe("/v1/messages");
    expect(last?.headers["x-api-key"]).toBe("sk-ant-provider");
    expect(last?.headers["anthropic-version"]).toBe("2023-06-01");
    expect(last?.headers["anthropic-beta"]).toBe("future-feature-2099-01-01");
    expect(last?.headers.authorization).toBeUndefined();
    const body = JSON.parse(last?.body ?? "{}");
    expect(body.model).toBe("claude-sonnet-4-5");
    expect(body.future_feature).toEqual({ nested: [1, { deep: true }] });
  });

  it("streams the provider's events as they are, thinking and signature included [anthropic: stream, reasoning]", async () => {
    const stream = client.messages.stream({
      model: "anthropic/claude-sonnet-4-5",
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 2000 },
      messages: [{ role: "user", content: "think" }],
    });
    const final = await stream.finalMessage();
    expect(final.content).toEqual([
      { type: "thinking", thinking: MOCK_THINKING, signature: MOCK_SIGNATURE },
      { type: "text", text: MOCK_TEXT },
    ]);
  });

  it("counts the tokens of passed-through replies", async () => {
    const message = await client.messages.create({
      model: "anthropic/claude-haiku-4-5",
      max_tokens: 50,
      messages: [{ role: "user", content: "count me" }],
    });
    const line = (text: string, name: string) =>
      text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes('model="claude-haiku-4-5"'));
    let metrics = "";
    for (let i = 0; i < 50 && line(metrics, "switchyard_tokens_output_total") === undefined; i++) {
      metrics = await (await fetch(`${gateway.url}/metrics`)).text();
      if (line(metrics, "switchyard_tokens_output_total") === undefined)
        await new Promise((r) => setTimeout(r, 50));
    }
    expect(Number(line(metrics, "switchyard_tokens_input_total")?.split(" ").pop())).toBe(
      message.usage.input_tokens,
    );
    expect(Number(line(metrics, "switchyard_tokens_output_total")?.split(" ").pop())).toBe(
      message.usage.output_tokens,
    );
  });

  it("relays an error event inside the provider's stream", async () => {
    const stream = client.messages.stream({
      model: "anthropic/mock-error-midstream",
      max_tokens: 100,
      messages: [{ role: "user", content: "x" }],
    });
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as Error).message).toContain("Overloaded");
  });

  it("keeps Anthropic's own errors, 529 overloaded included", async () => {
    const error = (await client.messages
      .create({
        model: "anthropic/mock-error-529",
        max_tokens: 10,
        messages: [{ role: "user", content: "x" }],
      })
      .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(error.status).toBe(529);
    expect(error.error).toMatchObject({
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    });
  });
});

describe("count_tokens", () => {
  it("asks Anthropic for Anthropic models", async () => {
    const before = anthropic.stats.requests;
    const count = await client.messages.countTokens({
      model: "anthropic/claude-sonnet-4-5",
      messages: [{ role: "user", content: "How many tokens is this?" }],
    });
    expect(anthropic.stats.requests).toBe(before + 1);
    expect(anthropic.stats.lastRequest?.path).toBe("/v1/messages/count_tokens");
    expect(JSON.parse(anthropic.stats.lastRequest?.body ?? "{}").model).toBe("claude-sonnet-4-5");
    // The mock counts a quarter token per character of messages and system ('""' when absent).
    const sent = JSON.stringify([{ role: "user", content: "How many tokens is this?" }]);
    expect(count.input_tokens).toBe(Math.ceil((sent.length + 2) / 4));
  });

  it("estimates locally for other models", async () => {
    const before = openai.stats.requests;
    const short = await client.messages.countTokens({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hello" }],
    });
    const long = await client.messages.countTokens({
      model: "openai/gpt-4o-mini",
      system: "You are a careful assistant who answers in full sentences.",
      messages: [{ role: "user", content: "hello there, how are you doing today?" }],
    });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens + 5);
    expect(openai.stats.requests).toBe(before);
  });
});
