import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
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

// The OpenAI SDK's `client.responses` through the gateway: to OpenAI the body passes through as bytes; to
// Anthropic (its own wire format) and to an OpenAI-compatible provider without a Responses API (DeepSeek's
// slot, served by the OpenAI mock's chat completions) the request is mapped onto chat and back.

let openai: MockServer;
let anthropic: AnthropicMockServer;
let gateway: RunningGateway;
let client: OpenAI;

beforeAll(async () => {
  openai = await startOpenAIMock({ requireKey: "sk-openai", streamChunks: 5 });
  anthropic = await startAnthropicMock({ requireKey: "sk-ant", streamChunks: 3 });
  gateway = await startGateway({
    env: {
      OPENAI_API_KEY: "sk-openai",
      OPENAI_BASE_URL: `${openai.url}/v1`,
      ANTHROPIC_API_KEY: "sk-ant",
      ANTHROPIC_BASE_URL: anthropic.url,
      DEEPSEEK_API_KEY: "sk-openai",
      DEEPSEEK_BASE_URL: openai.url,
    },
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.stop();
  await openai?.close();
  await anthropic?.close();
});

function lastBody(mock: { stats: { lastRequest?: { body: string } } }): Record<string, unknown> {
  return JSON.parse(mock.stats.lastRequest?.body ?? "{}");
}

async function collect(stream: AsyncIterable<ResponseStreamEvent>): Promise<ResponseStreamEvent[]> {
  const events: ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function checkSequence(events: ResponseStreamEvent[]): void {
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  expect(events[0]?.type).toBe("response.created");
  expect(events[1]?.type).toBe("response.in_progress");
  expect(events[events.length - 1]?.type).toBe("response.completed");
}

describe("OpenAI provider: bytes pass through to /v1/responses", () => {
  it("creates a response with the model rewritten and the body otherwise untouched [openai: chat]", async () => {
    const response = await client.responses.create({
      model: "openai/gpt-4o-mini",
      instructions: "Be brief.",
      input: "Say hello",
      // @ts-expect-error a field the SDK does not know reaches OpenAI as sent
      vendor_extension: { keep: true },
    });
    expect(response.object).toBe("response");
    expect(response.status).toBe("completed");
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(response.usage?.input_tokens).toBeGreaterThan(0);
    expect(openai.stats.lastRequest?.path).toBe("/v1/responses");
    expect(openai.stats.lastRequest?.headers.authorization).toBe("Bearer sk-openai");
    expect(lastBody(openai)).toEqual({
      model: "gpt-4o-mini",
      instructions: "Be brief.",
      input: "Say hello",
      vendor_extension: { keep: true },
    });
  });

  it("streams OpenAI's events as they come [openai: stream]", async () => {
    const events = await collect(
      await client.responses.create({ model: "openai/gpt-4o-mini", input: "Count", stream: true }),
    );
    checkSequence(events);
    const text = events.map((e) => (e.type === "response.output_text.delta" ? e.delta : "")).join("");
    const done = events.find((e) => e.type === "response.output_text.done");
    expect(text.length).toBeGreaterThan(0);
    expect(done?.type === "response.output_text.done" && done.text).toBe(text);
    expect(lastBody(openai).stream).toBe(true);
  });

  it("relays OpenAI's errors with their status", async () => {
    const error = await client.responses
      .create({ model: "openai/mock-error-429", input: "hi" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("rate_limit_exceeded");
  });

  it("is served under /openai/v1 and /openai too", async () => {
    for (const base of ["/openai/v1", "/openai"]) {
      const other = new OpenAI({ baseURL: gateway.url + base, apiKey: "k", maxRetries: 0 });
      const response = await other.responses.create({ model: "openai/gpt-4o-mini", input: "hi" });
      expect(response.object).toBe("response");
      expect(openai.stats.lastRequest?.path).toBe("/v1/responses");
    }
  });
});

describe("Anthropic provider: Responses mapped onto chat", () => {
  it("answers with a message item and usage; instructions and max_output_tokens reach Anthropic [anthropic: chat]", async () => {
    const response = await client.responses.create({
      model: "anthropic/claude-sonnet-4-5",
      instructions: "Be brief.",
      input: [{ role: "user", content: [{ type: "input_text", text: "Say hello" }] }],
      max_output_tokens: 300,
      temperature: 0.5,
    });
    expect(response.object).toBe("response");
    expect(response.model).toBe("anthropic/claude-sonnet-4-5");
    expect(response.status).toBe("completed");
    expect(response.output_text).toBe(MOCK_TEXT);
    expect(response.output[0]).toMatchObject({ type: "message", role: "assistant", status: "completed" });
    expect(response.usage?.input_tokens).toBeGreaterThan(0);
    expect(response.usage?.output_tokens).toBeGreaterThan(0);
    expect(anthropic.stats.lastRequest?.path).toBe("/v1/messages");
    const sent = lastBody(anthropic);
    expect(sent.model).toBe("claude-sonnet-4-5");
    expect(sent.max_tokens).toBe(300);
    expect(sent.temperature).toBe(0.5);
    expect(JSON.stringify(sent.system)).toContain("Be brief.");
    expect(sent.messages).toEqual([{ role: "user", content: [{ type: "text", text: "Say hello" }] }]);
  });

  it("streams the Responses event sequence with usage at completion [anthropic: stream]", async () => {
    const events = await collect(
      await client.responses.create({
        model: "anthropic/claude-sonnet-4-5",
        input: "Say hello",
        stream: true,
      }),
    );
    checkSequence(events);
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      ...events
        .filter((e) => e.type === "response.output_text.delta")
        .map(() => "response.output_text.delta"),
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const text = events.map((e) => (e.type === "response.output_text.delta" ? e.delta : "")).join("");
    expect(text).toBe(MOCK_TEXT);
    const completed = events[events.length - 1];
    expect(
      completed?.type === "response.completed" && completed.response.usage?.output_tokens,
    ).toBeGreaterThan(0);
    expect(completed?.type === "response.completed" && completed.response.output).toMatchObject([
      { type: "message", content: [{ type: "output_text", text: MOCK_TEXT }] },
    ]);
  });

  it("gives the SDK's stream helper a final response [anthropic: stream]", async () => {
    const stream = client.responses.stream({ model: "anthropic/claude-sonnet-4-5", input: "Say hello" });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(MOCK_TEXT);
    expect(final.status).toBe("completed");
  });

  it("returns reasoning with its signature and sends it back on the next turn [anthropic: reasoning]", async () => {
    const first = await client.responses.create({
      model: "anthropic/claude-sonnet-4-5",
      input: "Think, then answer",
      reasoning: { effort: "medium" },
    });
    const reasoning = first.output.find((item) => item.type === "reasoning");
    expect(reasoning).toMatchObject({
      type: "reasoning",
      content: [{ type: "reasoning_text", text: MOCK_THINKING }],
      encrypted_content: MOCK_SIGNATURE,
    });
    const thinking = (lastBody(anthropic).thinking ?? {}) as { type?: string; budget_tokens?: number };
    expect(thinking.type).toBe("enabled");
    expect(thinking.budget_tokens).toBeGreaterThan(0);

    await client.responses.create({
      model: "anthropic/claude-sonnet-4-5",
      input: [
        { role: "user", content: "Think, then answer" },
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { role: "user", content: "And again" },
      ],
      reasoning: { effort: "medium" },
    });
    const messages = lastBody(anthropic).messages as { role: string; content: { type: string }[] }[];
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(messages[1]?.content[0]).toEqual({
      type: "thinking",
      thinking: MOCK_THINKING,
      signature: MOCK_SIGNATURE,
    });
  });

  it("calls a function and takes its output back [anthropic: tools]", async () => {
    const tools: OpenAI.Responses.Tool[] = [
      {
        type: "function",
        name: "get_weather",
        description: "Weather for a city",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        strict: false,
      },
    ];
    const first = await client.responses.create({
      model: "anthropic/claude-sonnet-4-5",
      input: "Weather in Paris?",
      tools,
    });
    const call = first.output.find((item) => item.type === "function_call");
    expect(call?.type).toBe("function_call");
    if (call?.type !== "function_call") return;
    expect(call.name).toBe("get_weather");
    expect(JSON.parse(call.arguments)).toHaveProperty("city");
    const sentTools = lastBody(anthropic).tools as { name: string; input_schema: unknown }[];
    expect(sentTools[0]?.name).toBe("get_weather");

    const second = await client.responses.create({
      model: "anthropic/claude-sonnet-4-5",
      input: [
        { role: "user", content: "Weather in Paris?" },
        call,
        { type: "function_call_output", call_id: call.call_id, output: "18C and sunny" },
      ],
      tools,
    });
    expect(second.object).toBe("response");
    const messages = lastBody(anthropic).messages as { role: string; content: Record<string, unknown>[] }[];
    expect(messages[1]?.content.find((b) => b.type === "tool_use")).toMatchObject({
      id: call.call_id,
      name: "get_weather",
    });
    expect(messages[2]?.content[0]).toMatchObject({ type: "tool_result", tool_use_id: call.call_id });
  });

  it("streams a function call as output_item and function_call_arguments events [anthropic: tools, stream]", async () => {
    const events = await collect(
      await client.responses.create({
        model: "anthropic/claude-sonnet-4-5",
        input: "Weather in Paris?",
        tools: [
          {
            type: "function",
            name: "get_weather",
            parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
            strict: false,
          },
        ],
        tool_choice: { type: "function", name: "get_weather" },
        stream: true,
      }),
    );
    checkSequence(events);
    const added = events.find(
      (e) => e.type === "response.output_item.added" && e.item.type === "function_call",
    );
    const done = events.find((e) => e.type === "response.function_call_arguments.done");
    expect(added?.type === "response.output_item.added" && added.item).toMatchObject({ name: "get_weather" });
    const deltas = events
      .map((e) => (e.type === "response.function_call_arguments.delta" ? e.delta : ""))
      .join("");
    expect(done?.type === "response.function_call_arguments.done" && done.arguments).toBe(deltas);
    expect(JSON.parse(deltas)).toHaveProperty("city");
    expect(lastBody(anthropic).tool_choice).toMatchObject({ type: "tool", name: "get_weather" });
  });

  it("refuses what needs OpenAI's stored state, naming the parameter, unless drop_params", async () => {
    const error = await client.responses
      .create({ model: "anthropic/claude-sonnet-4-5", input: "hi", previous_response_id: "resp_123" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("previous_response_id");
    expect((error as Error).message).toContain("previous_response_id");

    const web = await client.responses
      .create({ model: "anthropic/claude-sonnet-4-5", input: "hi", tools: [{ type: "web_search" }] })
      .catch((e: unknown) => e);
    expect((web as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("tools[0]");

    const dropped = await client.responses.create({
      model: "anthropic/claude-sonnet-4-5",
      input: "hi",
      previous_response_id: "resp_123",
      store: true,
      // @ts-expect-error LiteLLM's per-request policy, not an OpenAI parameter
      drop_params: true,
    });
    expect(dropped.output_text).toBe(MOCK_TEXT);
  });

  it("converts Anthropic's errors to OpenAI's shape with the provider's status", async () => {
    const error = await client.responses
      .create({ model: "anthropic/mock-error-429", input: "hi" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
  });
});

describe("OpenAI-compatible provider without a Responses API: mapped onto chat completions", () => {
  it("creates a response from the provider's chat completion [deepseek: chat]", async () => {
    const response = await client.responses.create({
      model: "deepseek/deepseek-chat",
      input: "Say hello",
      text: { format: { type: "json_object" } },
    });
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(openai.stats.lastRequest?.path).toBe("/v1/chat/completions");
    expect(lastBody(openai)).toMatchObject({
      model: "deepseek-chat",
      messages: [{ role: "user", content: "Say hello" }],
      response_format: { type: "json_object" },
    });
  });

  it("streams [deepseek: stream]", async () => {
    const events = await collect(
      await client.responses.create({ model: "deepseek/deepseek-chat", input: "Count", stream: true }),
    );
    checkSequence(events);
    const completed = events[events.length - 1];
    const text = events.map((e) => (e.type === "response.output_text.delta" ? e.delta : "")).join("");
    expect(text.length).toBeGreaterThan(0);
    expect(completed?.type === "response.completed" && completed.response.output).toMatchObject([
      { type: "message", content: [{ type: "output_text", text }] },
    ]);
    expect(
      completed?.type === "response.completed" && completed.response.usage?.output_tokens,
    ).toBeGreaterThan(0);
  });
});
