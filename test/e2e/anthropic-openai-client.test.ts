import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AnthropicMockServer,
  MOCK_SIGNATURE,
  MOCK_TEXT,
  MOCK_THINKING,
  startAnthropicMock,
} from "../../bench/mock/anthropic-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// The official OpenAI SDK on /v1/chat/completions, routed to an Anthropic provider: the gateway converts
// the request to the Messages API and the reply (plain and streamed) back to Chat Completions.

let anthropic: AnthropicMockServer;
let gateway: RunningGateway;
let client: OpenAI;

beforeAll(async () => {
  anthropic = await startAnthropicMock({ requireKey: "sk-ant-provider", streamChunks: 5 });
  gateway = await startGateway({
    env: { ANTHROPIC_API_KEY: "sk-ant-provider", ANTHROPIC_BASE_URL: anthropic.url },
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.stop();
  await anthropic?.close();
});

const upstream = () => JSON.parse(anthropic.stats.lastRequest?.body ?? "{}");

describe("OpenAI SDK → Anthropic provider", () => {
  it("converts a chat completion both ways [anthropic: chat]", async () => {
    const completion = await client.chat.completions.create({
      model: "claude-sonnet-4-5",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
      stop: ["END"],
      temperature: 0.3,
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("claude-sonnet-4-5");
    expect(completion.choices[0]?.message).toMatchObject({ role: "assistant", content: MOCK_TEXT });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
    const last = anthropic.stats.lastRequest;
    expect(last?.path).toBe("/v1/messages");
    expect(last?.headers["x-api-key"]).toBe("sk-ant-provider");
    expect(last?.headers["anthropic-version"]).toBe("2023-06-01");
    expect(upstream()).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: 4096,
      system: "Be brief.",
      messages: [{ role: "user", content: "Say hello" }],
      stop_sequences: ["END"],
      temperature: 0.3,
    });
  });

  it("streams chunks and usage when include_usage is set [anthropic: stream]", async () => {
    const stream = await client.chat.completions.create({
      model: "anthropic/claude-sonnet-4-5",
      messages: [{ role: "user", content: "Count" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe("chat.completion.chunk");
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(MOCK_TEXT);
    expect(chunks).toBeGreaterThan(5);
    expect(finish).toBe("stop");
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(upstream().stream).toBe(true);
  });

  it("converts tools, tool calls and tool results, plain and streamed [anthropic: tools, stream]", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather for a city",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      },
    ];
    const completion = await client.chat.completions.create({
      model: "anthropic/claude-sonnet-4-5",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools,
      tool_choice: "required",
      parallel_tool_calls: false,
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "mock" });
    expect(upstream().tools).toEqual([
      {
        name: "get_weather",
        description: "Weather for a city",
        input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    ]);
    expect(upstream().tool_choice).toEqual({ type: "any", disable_parallel_tool_use: true });

    const stream = await client.chat.completions.create({
      model: "anthropic/claude-sonnet-4-5",
      stream: true,
      tools,
      messages: [
        { role: "user", content: "Weather in Paris and Rome?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "toolu_a",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Paris"}' },
            },
            {
              id: "toolu_b",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Rome"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "toolu_a", content: "sunny" },
        { role: "tool", tool_call_id: "toolu_b", content: "rainy" },
      ],
    });
    const calls: { id?: string; name?: string; args: string }[] = [];
    let text = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      text += choice?.delta.content ?? "";
      finish = choice?.finish_reason ?? finish;
      for (const delta of choice?.delta.tool_calls ?? []) {
        calls[delta.index] ??= { args: "" };
        const entry = calls[delta.index] as { id?: string; name?: string; args: string };
        if (delta.id) entry.id = delta.id;
        if (delta.function?.name) entry.name = delta.function.name;
        entry.args += delta.function?.arguments ?? "";
      }
    }
    expect(text).toBe("Let me call a tool.");
    expect(finish).toBe("tool_calls");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.name).toBe("get_weather");
    expect(calls[0]?.id).toMatch(/^toolu_/);
    expect(JSON.parse(calls[0]?.args ?? "")).toEqual({ city: "mock" });
    const sent = upstream().messages;
    expect(sent[1].content).toEqual([
      { type: "tool_use", id: "toolu_a", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "toolu_b", name: "get_weather", input: { city: "Rome" } },
    ]);
    expect(sent[2]).toEqual({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_a", content: "sunny" },
        { type: "tool_result", tool_use_id: "toolu_b", content: "rainy" },
      ],
    });
  });

  it("sends images by URL and base64, and reports cached prompt tokens [anthropic: vision]", async () => {
    // Anthropic's cache marker is a canonical extension the SDK does not type.
    const cached = {
      type: "text",
      text: "Long shared context.",
      cache_control: { type: "ephemeral" },
    } as OpenAI.ChatCompletionContentPartText;
    const completion = await client.chat.completions.create({
      model: "anthropic/claude-sonnet-4-5",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare these." },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            cached,
          ],
        },
      ],
    });
    expect(upstream().messages[0].content).toEqual([
      { type: "text", text: "Compare these." },
      { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      { type: "text", text: "Long shared context.", cache_control: { type: "ephemeral" } },
    ]);
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(12);
  });

  it("maps reasoning effort to a thinking budget and returns thinking blocks to send back [anthropic: reasoning]", async () => {
    const completion = await client.chat.completions.create({
      model: "anthropic/claude-sonnet-4-5",
      reasoning_effort: "low",
      messages: [{ role: "user", content: "Think first." }],
    });
    expect(upstream().thinking).toEqual({ type: "enabled", budget_tokens: 2048 });
    expect(upstream().max_tokens).toBe(2048 + 4096);
    const message = completion.choices[0]?.message as OpenAI.ChatCompletionMessage & {
      reasoning_content?: string;
      thinking_blocks?: { type: string; thinking: string; signature: string }[];
    };
    expect(message.content).toBe(MOCK_TEXT);
    expect(message.reasoning_content).toBe(MOCK_THINKING);
    expect(message.thinking_blocks).toEqual([
      { type: "thinking", thinking: MOCK_THINKING, signature: MOCK_SIGNATURE },
    ]);

    await client.chat.completions.create({
      model: "anthropic/claude-sonnet-4-5",
      reasoning_effort: "low",
      messages: [
        { role: "user", content: "Think first." },
        // @ts-expect-error thinking_blocks is a canonical extension the SDK does not type
        { role: "assistant", content: MOCK_TEXT, thinking_blocks: message.thinking_blocks },
        { role: "user", content: "And now?" },
      ],
    });
    expect(upstream().messages[1].content[0]).toEqual({
      type: "thinking",
      thinking: MOCK_THINKING,
      signature: MOCK_SIGNATURE,
    });
  });

  it("streams thinking as reasoning_content with the signature at the block's end [anthropic: reasoning, stream]", async () => {
    // An Anthropic-style budget is a canonical extension the SDK does not type.
    const params = {
      model: "anthropic/claude-sonnet-4-5",
      stream: true,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: "Think." }],
    } as OpenAI.ChatCompletionCreateParamsStreaming;
    const stream = await client.chat.completions.create(params);
    let reasoning = "";
    let signature = "";
    let text = "";
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as
        | (OpenAI.ChatCompletionChunk.Choice.Delta & {
            reasoning_content?: string;
            thinking_blocks?: { signature?: string }[];
          })
        | undefined;
      reasoning += delta?.reasoning_content ?? "";
      signature += delta?.thinking_blocks?.[0]?.signature ?? "";
      text += delta?.content ?? "";
    }
    expect(reasoning).toBe(MOCK_THINKING);
    expect(signature).toBe(MOCK_SIGNATURE);
    expect(text).toBe(MOCK_TEXT);
  });

  it("maps response_format json_schema to Anthropic's structured output", async () => {
    const completion = await client.chat.completions.create({
      model: "anthropic/claude-sonnet-4-5",
      messages: [{ role: "user", content: "A person." }],
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "person",
          schema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
        },
      },
    });
    expect(upstream().output_config.format.type).toBe("json_schema");
    expect(JSON.parse(completion.choices[0]?.message.content ?? "")).toEqual({ name: "mock" });
  });

  it("answers Anthropic errors in OpenAI's shape with the provider's status", async () => {
    const overloaded = (await client.chat.completions
      .create({ model: "anthropic/mock-error-529", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(overloaded).toBeInstanceOf(OpenAI.APIError);
    expect(overloaded.status).toBe(529);
    expect(overloaded.type).toBe("overloaded_error");
    expect(overloaded.message).toContain("Overloaded");
    const limited = await client.chat.completions
      .create({ model: "anthropic/mock-error-429", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it("refuses a parameter Anthropic cannot take, unless drop_params is set", async () => {
    const refused = (await client.chat.completions
      .create({ model: "anthropic/claude-sonnet-4-5", seed: 7, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(refused.status).toBe(400);
    expect(refused.param).toBe("seed");
    const dropped = await client.chat.completions.create({
      model: "anthropic/claude-sonnet-4-5",
      seed: 7,
      // @ts-expect-error LiteLLM's per-request policy
      drop_params: true,
      messages: [{ role: "user", content: "x" }],
    });
    expect(dropped.choices[0]?.message.content).toBe(MOCK_TEXT);
    expect(upstream().seed).toBeUndefined();
  });

  it("reports an error event inside a stream as a stream error", async () => {
    const stream = await client.chat.completions.create({
      model: "anthropic/mock-error-midstream",
      stream: true,
      messages: [{ role: "user", content: "x" }],
    });
    let text = "";
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().catch((e: unknown) => e);
    expect(text).toBe(MOCK_TEXT);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain("Overloaded");
  });
});
