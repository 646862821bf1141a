import { describe, expect, it } from "vitest";
import type { ChatChunk } from "../../formats/canonical.js";
import { ProviderStreamError } from "../adapter.js";
import { encodeMessage } from "./eventstream.js";
import { JSON_TOOL } from "./request.js";
import { bedrockError, converseResponse, converseStream, finishReason, usageOf } from "./response.js";

const MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0";

const event = (type: string, payload: Record<string, unknown>) =>
  encodeMessage(
    { ":event-type": type, ":content-type": "application/json", ":message-type": "event" },
    JSON.stringify({ ...payload, p: "abcdefghijklmnop" }),
  );

const decode = (...frames: Buffer[]) => {
  const decoder = converseStream(MODEL);
  const chunks = decoder.push(Buffer.concat(frames));
  return [...chunks, ...decoder.end()];
};

describe("Converse response → canonical", () => {
  it("maps text, reasoning, tool use, stop reason and usage", () => {
    const body = Buffer.from(
      JSON.stringify({
        output: {
          message: {
            role: "assistant",
            content: [
              { reasoningContent: { reasoningText: { text: "Thinking.", signature: "sig" } } },
              { reasoningContent: { redactedContent: "b3BhcXVl" } },
              { text: "Let me check. " },
              { text: "One moment." },
              { toolUse: { toolUseId: "tooluse_1", name: "weather", input: { city: "Paris" } } },
            ],
          },
        },
        stopReason: "tool_use",
        usage: {
          inputTokens: 10,
          outputTokens: 20,
          totalTokens: 45,
          cacheReadInputTokens: 12,
          cacheWriteInputTokens: 3,
        },
        metrics: { latencyMs: 100 },
      }),
    );
    const response = converseResponse(body, MODEL);
    expect(response).toMatchObject({ object: "chat.completion", model: MODEL });
    expect(response.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(response.choices).toEqual([
      {
        index: 0,
        finish_reason: "tool_calls",
        message: {
          role: "assistant",
          content: "Let me check. One moment.",
          reasoning_content: "Thinking.",
          thinking_blocks: [
            { type: "thinking", thinking: "Thinking.", signature: "sig" },
            { type: "redacted_thinking", data: "b3BhcXVl" },
          ],
          tool_calls: [
            {
              id: "tooluse_1",
              type: "function",
              function: { name: "weather", arguments: '{"city":"Paris"}' },
            },
          ],
        },
      },
    ]);
    expect(response.usage).toEqual({
      prompt_tokens: 25,
      completion_tokens: 20,
      total_tokens: 45,
      prompt_tokens_details: { cached_tokens: 12 },
      cache_creation_input_tokens: 3,
    });
  });

  it("maps every stop reason", () => {
    expect(finishReason("end_turn")).toBe("stop");
    expect(finishReason("stop_sequence")).toBe("stop");
    expect(finishReason("max_tokens")).toBe("length");
    expect(finishReason("tool_use")).toBe("tool_calls");
    expect(finishReason("guardrail_intervened")).toBe("content_filter");
    expect(finishReason("content_filtered")).toBe("content_filter");
    expect(finishReason("model_context_window_exceeded")).toBe("length");
  });

  it("counts usage without cache fields", () => {
    expect(usageOf({ inputTokens: 3, outputTokens: 4, totalTokens: 7 })).toEqual({
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it("gives the JSON tool's input back as the content", () => {
    const body = Buffer.from(
      JSON.stringify({
        output: {
          message: {
            role: "assistant",
            content: [{ toolUse: { toolUseId: "t", name: JSON_TOOL, input: { answer: "42" } } }],
          },
        },
        stopReason: "tool_use",
        usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
      }),
    );
    const response = converseResponse(body, MODEL);
    expect(response.choices[0]?.message).toEqual({ role: "assistant", content: '{"answer":"42"}' });
    expect(response.choices[0]?.finish_reason).toBe("stop");
  });
});

describe("ConverseStream events → canonical chunks", () => {
  const deltas = (chunks: ChatChunk[]) => chunks.map((c) => c.choices[0]?.delta);

  it("messageStart opens the assistant turn", () => {
    expect(
      deltas(
        decode(
          event("messageStart", { role: "assistant" }),
          event("messageStop", { stopReason: "end_turn" }),
        ),
      ),
    ).toEqual([{ role: "assistant", content: "" }, {}]);
  });

  it("text deltas become content, messageStop the finish reason, metadata the usage", () => {
    const chunks = decode(
      event("messageStart", { role: "assistant" }),
      event("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "Hel" } }),
      event("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "lo" } }),
      event("contentBlockStop", { contentBlockIndex: 0 }),
      event("messageStop", { stopReason: "max_tokens" }),
      event("metadata", {
        usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 },
        metrics: { latencyMs: 9 },
      }),
    );
    expect(deltas(chunks).slice(1, 3)).toEqual([{ content: "Hel" }, { content: "lo" }]);
    expect(chunks[3]?.choices[0]?.finish_reason).toBe("length");
    expect(chunks[4]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    });
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === MODEL)).toBe(true);
  });

  it("contentBlockStart with toolUse opens a tool call; its input deltas are the arguments", () => {
    const chunks = decode(
      event("messageStart", { role: "assistant" }),
      event("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "Checking." } }),
      event("contentBlockStop", { contentBlockIndex: 0 }),
      event("contentBlockStart", {
        contentBlockIndex: 1,
        start: { toolUse: { toolUseId: "tu_1", name: "weather" } },
      }),
      event("contentBlockDelta", { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":' } } }),
      event("contentBlockDelta", { contentBlockIndex: 1, delta: { toolUse: { input: '"Paris"}' } } }),
      event("contentBlockStop", { contentBlockIndex: 1 }),
      event("contentBlockStart", {
        contentBlockIndex: 2,
        start: { toolUse: { toolUseId: "tu_2", name: "time" } },
      }),
      event("contentBlockDelta", { contentBlockIndex: 2, delta: { toolUse: { input: "{}" } } }),
      event("contentBlockStop", { contentBlockIndex: 2 }),
      event("messageStop", { stopReason: "tool_use" }),
    );
    expect(deltas(chunks).slice(2)).toEqual([
      {
        tool_calls: [
          { index: 0, id: "tu_1", type: "function", function: { name: "weather", arguments: "" } },
        ],
      },
      { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
      { tool_calls: [{ index: 1, id: "tu_2", type: "function", function: { name: "time", arguments: "" } }] },
      { tool_calls: [{ index: 1, function: { arguments: "{}" } }] },
      {},
    ]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("reasoningContent deltas become reasoning text, the signature and redacted blocks", () => {
    const chunks = decode(
      event("contentBlockDelta", { contentBlockIndex: 0, delta: { reasoningContent: { text: "Hmm" } } }),
      event("contentBlockDelta", { contentBlockIndex: 0, delta: { reasoningContent: { signature: "sig" } } }),
      event("contentBlockDelta", {
        contentBlockIndex: 1,
        delta: { reasoningContent: { redactedContent: "cmVk" } },
      }),
      event("messageStop", { stopReason: "end_turn" }),
    );
    expect(deltas(chunks).slice(0, 3)).toEqual([
      { reasoning_content: "Hmm" },
      { thinking_blocks: [{ type: "thinking", thinking: "", signature: "sig" }] },
      { thinking_blocks: [{ type: "redacted_thinking", data: "cmVk" }] },
    ]);
  });

  it("the JSON tool streams as content and finishes with stop", () => {
    const chunks = decode(
      event("contentBlockStart", {
        contentBlockIndex: 0,
        start: { toolUse: { toolUseId: "t", name: JSON_TOOL } },
      }),
      event("contentBlockDelta", { contentBlockIndex: 0, delta: { toolUse: { input: '{"a":' } } }),
      event("contentBlockDelta", { contentBlockIndex: 0, delta: { toolUse: { input: "1}" } } }),
      event("messageStop", { stopReason: "tool_use" }),
    );
    expect(deltas(chunks)).toEqual([{ content: '{"a":' }, { content: "1}" }, {}]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
  });

  it("decodes the same chunks when the bytes arrive one at a time", () => {
    const bytes = Buffer.concat([
      event("messageStart", { role: "assistant" }),
      event("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "h\u00e9" } }),
      event("messageStop", { stopReason: "end_turn" }),
    ]);
    const decoder = converseStream(MODEL);
    const got: ChatChunk[] = [];
    for (let i = 0; i < bytes.length; i++) got.push(...decoder.push(bytes.subarray(i, i + 1)));
    got.push(...decoder.end());
    expect(deltas(got)).toEqual([{ role: "assistant", content: "" }, { content: "h\u00e9" }, {}]);
  });

  it("an exception event becomes the canonical error with the exception's status", () => {
    const decoder = converseStream(MODEL);
    decoder.push(event("messageStart", { role: "assistant" }));
    const exception = encodeMessage(
      {
        ":exception-type": "throttlingException",
        ":content-type": "application/json",
        ":message-type": "exception",
      },
      '{"message":"Too many tokens"}',
    );
    let caught: unknown;
    try {
      decoder.push(exception);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProviderStreamError);
    expect((caught as ProviderStreamError).error).toEqual({
      status: 429,
      message: "bedrock: Too many tokens",
      type: "rate_limit_error",
      code: "ThrottlingException",
      param: null,
    });
    const modelError = encodeMessage(
      { ":exception-type": "modelStreamErrorException", ":message-type": "exception" },
      '{"message":"bad","originalStatusCode":500}',
    );
    expect(() => converseStream(MODEL).push(modelError)).toThrow(
      expect.objectContaining({
        error: expect.objectContaining({ status: 424, code: "ModelStreamErrorException" }),
      }),
    );
  });

  it("an event stream error message becomes a canonical error", () => {
    const error = encodeMessage(
      { ":message-type": "error", ":error-code": "InternalFailure", ":error-message": "broken" },
      "",
    );
    expect(() => converseStream(MODEL).push(error)).toThrow(
      expect.objectContaining({
        error: expect.objectContaining({ status: 500, message: "bedrock: broken" }),
      }),
    );
  });

  it("a corrupted frame and a stream cut short are errors", () => {
    const frame = event("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "x" } });
    const bad = Buffer.from(frame);
    bad.writeUInt8((bad[20] as number) ^ 1, 20);
    expect(() => converseStream(MODEL).push(bad)).toThrow(/CRC/);
    const cut = converseStream(MODEL);
    cut.push(frame.subarray(0, 20));
    expect(() => cut.end()).toThrow(/ended inside a message/);
    const noStop = converseStream(MODEL);
    noStop.push(frame);
    expect(() => noStop.end()).toThrow(ProviderStreamError);
  });
});

describe("Bedrock errors → canonical", () => {
  const body = (message: string) => Buffer.from(JSON.stringify({ message }));
  const cases: [number, string, string][] = [
    [400, "ValidationException", "invalid_request_error"],
    [403, "AccessDeniedException", "permission_error"],
    [404, "ResourceNotFoundException", "not_found_error"],
    [429, "ThrottlingException", "rate_limit_error"],
    [500, "InternalServerException", "api_error"],
    [503, "ServiceUnavailableException", "api_error"],
  ];
  for (const [status, name, type] of cases) {
    it(`${status} ${name}`, () => {
      expect(
        bedrockError(
          status,
          body("Something"),
          `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
        ),
      ).toEqual({
        status,
        message: "bedrock: Something",
        type,
        code: name,
        param: null,
      });
    });
  }

  it("reads the type from __type when there is no header, and survives a non-JSON body", () => {
    expect(
      bedrockError(400, Buffer.from('{"__type":"com.amazon.bedrock#ValidationException","Message":"bad"}')),
    ).toMatchObject({ code: "ValidationException", message: "bedrock: bad" });
    expect(bedrockError(502, Buffer.from("<html>Bad Gateway</html>"))).toMatchObject({
      status: 502,
      code: null,
      message: "bedrock: <html>Bad Gateway</html>",
    });
  });
});
