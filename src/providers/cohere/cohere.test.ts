import { describe, expect, it } from "vitest";
import { DEFAULT_CLIENT } from "../../config/defaults.js";
import type { GatewayConfig } from "../../config/types.js";
import type { ChatChunk, ChatRequest } from "../../formats/canonical.js";
import { compileRoutingTable } from "../../routing/table.js";
import { type Target, UnsupportedRequest } from "../adapter.js";
import { cohereAdapter } from "./adapter.js";
import { cohereChatBody, cohereEmbedBody, DEFAULT_INPUT_TYPE } from "./request.js";
import { cohereChatResponse, cohereEmbedResponse, cohereStreamDecoder } from "./response.js";

const config: GatewayConfig = {
  providers: {
    cohere: {
      name: "cohere",
      kind: "cohere",
      keys: [{ name: "k", value: "co-key", models: [], weight: 1 }],
      network: {
        baseUrl: "https://api.cohere.com/v2",
        extraHeaders: {},
        requestTimeoutMs: 30_000,
        maxRetries: 0,
        retryBackoffInitialMs: 500,
        retryBackoffMaxMs: 5_000,
      },
      concurrency: { concurrency: 10, bufferSize: 10 },
    },
  },
  client: { ...DEFAULT_CLIENT, maxRequestBodyBytes: 1 << 20 },
  source: "test",
};
const route = compileRoutingTable(config).providers.get("cohere");
if (route === undefined) throw new Error("cohere route missing");
const target = (stream = false): Target => ({
  provider: route,
  key: route.keys[0] as Target["key"],
  keyIndex: 0,
  model: "command-a-03-2025",
  stream,
});

const weather = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

describe("Cohere chat request", () => {
  it("maps messages, tools, tool results and sampling knobs", () => {
    const request: ChatRequest = {
      model: "cohere/command-a-03-2025",
      messages: [
        {
          role: "developer",
          content: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
        },
        {
          role: "user",
          content: [
            { type: "text", text: "Weather here?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } },
          ],
        },
        {
          role: "assistant",
          content: "Let me look.",
          tool_calls: [
            { id: "c1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
            { id: "c2", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: "tool", tool_call_id: "c1", content: "18C" },
        { role: "tool", tool_call_id: "c2", content: [{ type: "text", text: "4C" }] },
        { role: "assistant", content: null },
      ],
      tools: [{ ...weather, function: { ...weather.function, strict: true } }],
      tool_choice: "required",
      response_format: { type: "json_schema", json_schema: { name: "w", schema: { type: "object" } } },
      max_completion_tokens: 100,
      stop: "END",
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      seed: 7,
      presence_penalty: 0.1,
      frequency_penalty: 0.3,
      thinking: { type: "enabled", budget_tokens: 2048 },
      stream: true,
      stream_options: { include_usage: true },
      user: "u-1",
    };
    expect(cohereChatBody(request, "command-a-03-2025")).toEqual({
      model: "command-a-03-2025",
      stream: true,
      messages: [
        { role: "system", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "Weather here?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } },
          ],
        },
        {
          role: "assistant",
          tool_plan: "Let me look.",
          tool_calls: [
            { id: "c1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
            { id: "c2", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: "tool", tool_call_id: "c1", content: "18C" },
        { role: "tool", tool_call_id: "c2", content: "4C" },
        { role: "assistant", content: "" },
      ],
      tools: [weather],
      strict_tools: true,
      tool_choice: "REQUIRED",
      response_format: { type: "json_object", json_schema: { type: "object" } },
      max_tokens: 100,
      stop_sequences: ["END"],
      temperature: 0.2,
      p: 0.9,
      k: 40,
      seed: 7,
      presence_penalty: 0.1,
      frequency_penalty: 0.3,
      thinking: { type: "enabled", token_budget: 2048 },
    });
  });

  it("forces a named tool by offering only that tool and requiring a call", () => {
    const other = { type: "function" as const, function: { name: "other" } };
    const body = cohereChatBody(
      {
        model: "m",
        messages: [{ role: "user", content: "x" }],
        tools: [other, weather],
        tool_choice: { type: "function", function: { name: "get_weather" } },
      },
      "m",
    );
    expect(body.tools).toEqual([weather]);
    expect(body.tool_choice).toBe("REQUIRED");
    expect(
      cohereChatBody({ model: "m", messages: [], tools: [weather], tool_choice: "none" }, "m").tool_choice,
    ).toBe("NONE");
    expect(
      cohereChatBody({ model: "m", messages: [], response_format: { type: "json_object" } }, "m"),
    ).toMatchObject({
      response_format: { type: "json_object" },
    });
  });

  it("refuses what Cohere cannot do unless drop_params is set", () => {
    const base: ChatRequest = { model: "m", messages: [{ role: "user", content: "x" }] };
    const cases: [Partial<ChatRequest> & Record<string, unknown>, string][] = [
      [{ n: 2 }, "n"],
      [{ parallel_tool_calls: false }, "parallel_tool_calls"],
      [{ logit_bias: { "1": 2 } }, "logit_bias"],
      [{ reasoning_effort: "high" }, "reasoning_effort"],
      [
        {
          messages: [
            {
              role: "user",
              content: [{ type: "file", file: { file_data: "data:application/pdf;base64,AA" } }],
            },
          ],
        },
        "messages[0].content[0]",
      ],
    ];
    for (const [extra, param] of cases) {
      const request = { ...base, ...extra } as ChatRequest;
      let thrown: unknown;
      try {
        cohereChatBody(request, "m");
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UnsupportedRequest);
      expect((thrown as UnsupportedRequest).param).toBe(param);
      const dropped = cohereChatBody({ ...request, drop_params: true }, "m");
      expect(dropped).not.toHaveProperty(param);
    }
    expect(() =>
      cohereChatBody(
        { ...base, tools: [weather], tool_choice: { type: "function", function: { name: "nope" } } },
        "m",
      ),
    ).toThrow(UnsupportedRequest);
  });

  it("posts to /v2/chat with Bearer auth, whatever version the base URL carries", async () => {
    const upstream = await cohereAdapter.chatRequest(
      { model: "m", messages: [{ role: "user", content: "x" }] },
      target(),
    );
    expect(upstream.origin).toBe("https://api.cohere.com");
    expect(upstream.path).toBe("/v2/chat");
    expect(upstream.headers).toEqual(["content-type", "application/json", "authorization", "Bearer co-key"]);
  });
});

describe("Cohere chat response", () => {
  it("converts text, thinking, usage and the finish reason", () => {
    const body = {
      id: "r1",
      finish_reason: "MAX_TOKENS",
      message: {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Hmm." },
          { type: "text", text: "Hello" },
          { type: "text", text: " there" },
        ],
      },
      usage: {
        billed_units: { input_tokens: 5, output_tokens: 2 },
        tokens: { input_tokens: 50, output_tokens: 3 },
        cached_tokens: 20,
      },
    };
    const response = cohereChatResponse(Buffer.from(JSON.stringify(body)), "command-a");
    expect(response).toMatchObject({
      id: "r1",
      object: "chat.completion",
      model: "command-a",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Hello there", reasoning_content: "Hmm." },
          finish_reason: "length",
        },
      ],
      usage: {
        prompt_tokens: 50,
        completion_tokens: 3,
        total_tokens: 53,
        prompt_tokens_details: { cached_tokens: 20 },
      },
    });
  });

  it("converts tool calls, with the tool plan as the text", () => {
    const body = {
      id: "r2",
      finish_reason: "TOOL_CALL",
      message: {
        role: "assistant",
        tool_plan: "I will check.",
        tool_calls: [
          { id: "t1", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
        ],
      },
      usage: { billed_units: { input_tokens: 7, output_tokens: 4 } },
    };
    const response = cohereChatResponse(Buffer.from(JSON.stringify(body)), "m");
    expect(response.choices[0]).toEqual({
      index: 0,
      message: {
        role: "assistant",
        content: "I will check.",
        tool_calls: [
          { id: "t1", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
        ],
      },
      finish_reason: "tool_calls",
    });
    expect(response.usage).toEqual({ prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 });
  });

  it("maps every finish reason", () => {
    const finish = (reason: string) =>
      cohereChatResponse(Buffer.from(JSON.stringify({ finish_reason: reason, message: {} })), "m").choices[0]
        ?.finish_reason;
    expect(finish("COMPLETE")).toBe("stop");
    expect(finish("STOP_SEQUENCE")).toBe("stop");
    expect(finish("MAX_TOKENS")).toBe("length");
    expect(finish("TOOL_CALL")).toBe("tool_calls");
    expect(finish("ERROR_TOXIC")).toBe("content_filter");
  });
});

describe("Cohere stream", () => {
  const sse = (data: Record<string, unknown>) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;

  function decode(events: string, split = 7): ChatChunk[] {
    const decoder = cohereStreamDecoder("command-a");
    const bytes = Buffer.from(events);
    const out: ChatChunk[] = [];
    // Split at arbitrary points, inside events and inside multi-byte characters.
    for (let i = 0; i < bytes.length; i += split) out.push(...decoder.push(bytes.subarray(i, i + split)));
    out.push(...decoder.end());
    return out;
  }

  it("decodes text, thinking, the end and usage", () => {
    const chunks = decode(
      sse({ type: "message-start", id: "s1", delta: { message: { role: "assistant", content: [] } } }) +
        sse({
          type: "content-start",
          index: 0,
          delta: { message: { content: { type: "thinking", thinking: "" } } },
        }) +
        sse({ type: "content-delta", index: 0, delta: { message: { content: { thinking: "Hmm" } } } }) +
        sse({ type: "content-end", index: 0 }) +
        sse({
          type: "content-start",
          index: 1,
          delta: { message: { content: { type: "text", text: "" } } },
        }) +
        sse({ type: "content-delta", index: 1, delta: { message: { content: { text: "Grüß " } } } }) +
        sse({ type: "content-delta", index: 1, delta: { message: { content: { text: "dich" } } } }) +
        sse({ type: "citation-start", index: 0, delta: { message: { citations: {} } } }) +
        sse({ type: "citation-end", index: 0 }) +
        sse({ type: "content-end", index: 1 }) +
        sse({
          type: "message-end",
          delta: { finish_reason: "COMPLETE", usage: { tokens: { input_tokens: 9, output_tokens: 2 } } },
        }),
    );
    expect(chunks.map((c) => [c.choices[0]?.delta ?? null, c.choices[0]?.finish_reason ?? null])).toEqual([
      [{ role: "assistant", content: "" }, null],
      [{ reasoning_content: "Hmm" }, null],
      [{ content: "Grüß " }, null],
      [{ content: "dich" }, null],
      [{}, "stop"],
      [null, null],
    ]);
    expect(chunks.every((c) => c.id === "s1" && c.model === "command-a")).toBe(true);
    expect(chunks[5]?.usage).toEqual({ prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 });
  });

  it("decodes the tool plan and parallel tool calls", () => {
    const start = (index: number, id: string) =>
      sse({
        type: "tool-call-start",
        index,
        delta: {
          message: { tool_calls: { id, type: "function", function: { name: "get_weather", arguments: "" } } },
        },
      });
    const delta = (index: number, args: string) =>
      sse({
        type: "tool-call-delta",
        index,
        delta: { message: { tool_calls: { function: { arguments: args } } } },
      });
    const chunks = decode(
      sse({ type: "message-start", id: "s2" }) +
        sse({ type: "tool-plan-delta", delta: { message: { tool_plan: "Checking" } } }) +
        start(0, "a") +
        delta(0, '{"city":') +
        delta(0, '"Madrid"}') +
        sse({ type: "tool-call-end", index: 0 }) +
        start(1, "b") +
        delta(1, '{"city":"Lima"}') +
        sse({ type: "tool-call-end", index: 1 }) +
        sse({ type: "message-end", delta: { finish_reason: "TOOL_CALL" } }),
      13,
    );
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([
      { role: "assistant", content: "" },
      { content: "Checking" },
      {
        tool_calls: [
          { index: 0, id: "a", type: "function", function: { name: "get_weather", arguments: "" } },
        ],
      },
      { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"Madrid"}' } }] },
      {
        tool_calls: [
          { index: 1, id: "b", type: "function", function: { name: "get_weather", arguments: "" } },
        ],
      },
      { tool_calls: [{ index: 1, function: { arguments: '{"city":"Lima"}' } }] },
      {},
    ]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("tool_calls");
  });
});

describe("Cohere embeddings", () => {
  it("builds the embed request with the default input type", async () => {
    expect(cohereEmbedBody({ model: "embed-v4.0", input: "one", dimensions: 256 }, "embed-v4.0")).toEqual({
      model: "embed-v4.0",
      texts: ["one"],
      input_type: DEFAULT_INPUT_TYPE,
      embedding_types: ["float"],
      output_dimension: 256,
    });
    const custom = { model: "e", input: ["a", "b"], input_type: "search_query" };
    expect(cohereEmbedBody(custom, "e")).toMatchObject({ texts: ["a", "b"], input_type: "search_query" });
    expect(() => cohereEmbedBody({ model: "e", input: [1, 2, 3] }, "e")).toThrow(UnsupportedRequest);
    const upstream = await (
      cohereAdapter.embeddingsRequest as NonNullable<typeof cohereAdapter.embeddingsRequest>
    )({ model: "e", input: "x" }, target(), () => {
      throw new Error("Cohere embeddings need no request of their own");
    });
    expect(upstream.path).toBe("/v2/embed");
  });

  it("converts float embeddings, and base64 as OpenAI encodes it", () => {
    const reply = Buffer.from(
      JSON.stringify({
        id: "e1",
        texts: ["a", "b"],
        embeddings: {
          float: [
            [0.5, -1],
            [0.25, 2],
          ],
        },
        meta: { api_version: { version: "2" }, billed_units: { input_tokens: 4 } },
        response_type: "embeddings_by_type",
      }),
    );
    expect(cohereEmbedResponse(reply, "embed-v4.0", false)).toEqual({
      object: "list",
      model: "embed-v4.0",
      data: [
        { object: "embedding", index: 0, embedding: [0.5, -1] },
        { object: "embedding", index: 1, embedding: [0.25, 2] },
      ],
      usage: { prompt_tokens: 4, total_tokens: 4 },
    });
    const encoded = cohereEmbedResponse(reply, "e", true).data[1]?.embedding as string;
    const bytes = Buffer.from(encoded, "base64");
    expect([bytes.readFloatLE(0), bytes.readFloatLE(4)]).toEqual([0.25, 2]);
  });
});

describe("Cohere errors", () => {
  it("keeps the provider's status and message", () => {
    const error = cohereAdapter.error(
      429,
      Buffer.from(JSON.stringify({ id: "x", message: "You are using a Trial key" })),
      target(),
    );
    expect(error).toEqual({
      status: 429,
      message: "cohere: You are using a Trial key",
      type: "rate_limit_error",
      code: null,
      param: null,
    });
    expect(cohereAdapter.error(401, Buffer.from('{"message":"invalid api token"}'), target()).type).toBe(
      "authentication_error",
    );
  });
});
