import { describe, expect, it } from "vitest";
import type { ChatChunk } from "../../formats/canonical.js";
import { ProviderStreamError } from "../adapter.js";
import { JSON_TOOL } from "./request.js";
import { anthropicError, chatResponse, chatStream } from "./response.js";

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

describe("Anthropic response → canonical", () => {
  it("converts text, thinking and tool_use blocks, stop reason and usage", () => {
    const body = {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content: [
        { type: "thinking", thinking: "hmm", signature: "sig" },
        { type: "redacted_thinking", data: "opaque" },
        { type: "text", text: "Calling." },
        { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: {
        input_tokens: 10,
        output_tokens: 5,
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 20,
      },
    };
    const out = chatResponse(Buffer.from(JSON.stringify(body)));
    expect(out.id).toBe("msg_1");
    expect(out.model).toBe("claude-sonnet-4-5");
    expect(out.choices[0]).toEqual({
      index: 0,
      finish_reason: "tool_calls",
      message: {
        role: "assistant",
        content: "Calling.",
        reasoning_content: "hmm",
        thinking_blocks: [
          { type: "thinking", thinking: "hmm", signature: "sig" },
          { type: "redacted_thinking", data: "opaque" },
        ],
        tool_calls: [
          { id: "toolu_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
        ],
      },
    });
    expect(out.usage).toEqual({
      prompt_tokens: 130,
      completion_tokens: 5,
      total_tokens: 135,
      prompt_tokens_details: { cached_tokens: 100 },
      cache_creation_input_tokens: 20,
    });
  });

  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
  ])("maps stop_reason %s to %s", (reason, finish) => {
    const body = {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "m",
      content: [{ type: "text", text: "x" }],
      stop_reason: reason,
      stop_sequence: null,
      usage: { input_tokens: 1, output_tokens: 1 },
    };
    expect(chatResponse(Buffer.from(JSON.stringify(body))).choices[0]?.finish_reason).toBe(finish);
  });

  it("turns the forced JSON tool back into text", () => {
    const body = {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "m",
      content: [{ type: "tool_use", id: "t", name: JSON_TOOL, input: { a: 1 } }],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 1, output_tokens: 1 },
    };
    const out = chatResponse(Buffer.from(JSON.stringify(body)));
    expect(out.choices[0]?.message).toEqual({ role: "assistant", content: '{"a":1}' });
    expect(out.choices[0]?.finish_reason).toBe("stop");
  });

  it("rejects a body that is not a message", () => {
    expect(() => chatResponse(Buffer.from('{"foo":1}'))).toThrow(/not an Anthropic message/);
  });
});

describe("Anthropic errors → canonical", () => {
  it("keeps the error type and message with the provider's status", () => {
    const body =
      '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"r"}';
    expect(anthropicError(529, Buffer.from(body), "anthropic")).toEqual({
      status: 529,
      message: "Overloaded",
      type: "overloaded_error",
      code: null,
      param: null,
    });
  });

  it("wraps a body of another shape", () => {
    const error = anthropicError(502, Buffer.from("<html>bad gateway</html>"), "anthropic");
    expect(error).toMatchObject({
      status: 502,
      type: "api_error",
      message: "anthropic: <html>bad gateway</html>",
    });
  });
});

function decodeAll(text: string, splitEvery = 7): ChatChunk[] {
  const decoder = chatStream();
  const chunks: ChatChunk[] = [];
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += splitEvery)
    chunks.push(...decoder.push(bytes.subarray(i, i + splitEvery)));
  chunks.push(...decoder.end());
  return chunks;
}

describe("Anthropic stream → canonical chunks", () => {
  const stream =
    sse("message_start", {
      type: "message_start",
      message: {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: 10,
          output_tokens: 1,
          cache_read_input_tokens: 4,
          cache_creation_input_tokens: 0,
        },
      },
    }) +
    sse("content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "thinking", thinking: "", signature: "" },
    }) +
    sse("ping", { type: "ping" }) +
    sse("content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "thinking_delta", thinking: "hmm" },
    }) +
    sse("content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "signature_delta", signature: "sig" },
    }) +
    sse("content_block_stop", { type: "content_block_stop", index: 0 }) +
    sse("content_block_start", {
      type: "content_block_start",
      index: 1,
      content_block: { type: "text", text: "" },
    }) +
    sse("content_block_delta", {
      type: "content_block_delta",
      index: 1,
      delta: { type: "text_delta", text: "Hé" },
    }) +
    sse("content_block_delta", {
      type: "content_block_delta",
      index: 1,
      delta: { type: "text_delta", text: "llo" },
    }) +
    sse("content_block_stop", { type: "content_block_stop", index: 1 }) +
    sse("content_block_start", {
      type: "content_block_start",
      index: 2,
      content_block: { type: "tool_use", id: "toolu_1", name: "weather", input: {} },
    }) +
    sse("content_block_delta", {
      type: "content_block_delta",
      index: 2,
      delta: { type: "input_json_delta", partial_json: "" },
    }) +
    sse("content_block_delta", {
      type: "content_block_delta",
      index: 2,
      delta: { type: "input_json_delta", partial_json: '{"city":' },
    }) +
    sse("content_block_delta", {
      type: "content_block_delta",
      index: 2,
      delta: { type: "input_json_delta", partial_json: '"Paris"}' },
    }) +
    sse("content_block_stop", { type: "content_block_stop", index: 2 }) +
    sse("content_block_start", {
      type: "content_block_start",
      index: 3,
      content_block: { type: "tool_use", id: "toolu_2", name: "time", input: {} },
    }) +
    sse("content_block_delta", {
      type: "content_block_delta",
      index: 3,
      delta: { type: "input_json_delta", partial_json: "{}" },
    }) +
    sse("content_block_stop", { type: "content_block_stop", index: 3 }) +
    sse("message_delta", {
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: { output_tokens: 42 },
    }) +
    sse("message_stop", { type: "message_stop" });

  it("decodes every event type, whatever the byte split", () => {
    for (const split of [1, 7, 64, 100000]) {
      const chunks = decodeAll(stream, split);
      const deltas = chunks.map((c) => c.choices[0]?.delta);
      expect(deltas).toEqual([
        { role: "assistant", content: "" },
        { reasoning_content: "hmm" },
        { thinking_blocks: [{ type: "thinking", thinking: "", signature: "sig" }] },
        { content: "Hé" },
        { content: "llo" },
        {
          tool_calls: [
            { index: 0, id: "toolu_1", type: "function", function: { name: "weather", arguments: "" } },
          ],
        },
        { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
        { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] },
        {
          tool_calls: [
            { index: 1, id: "toolu_2", type: "function", function: { name: "time", arguments: "" } },
          ],
        },
        { tool_calls: [{ index: 1, function: { arguments: "{}" } }] },
        {},
      ]);
      const last = chunks[chunks.length - 1] as ChatChunk;
      expect(last.choices[0]?.finish_reason).toBe("tool_calls");
      expect(last.usage).toEqual({
        prompt_tokens: 14,
        completion_tokens: 42,
        total_tokens: 56,
        prompt_tokens_details: { cached_tokens: 4 },
      });
      expect(chunks.every((c) => c.id === "msg_1" && c.model === "claude-sonnet-4-5")).toBe(true);
    }
  });

  it("turns an error event into a ProviderStreamError after the chunks before it", () => {
    const text =
      sse("message_start", {
        type: "message_start",
        message: {
          id: "m",
          type: "message",
          role: "assistant",
          model: "x",
          content: [],
          usage: { input_tokens: 1, output_tokens: 0 },
        },
      }) +
      sse("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: "par" },
      }) +
      sse("error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
    const decoder = chatStream();
    const chunks = decoder.push(Buffer.from(text));
    expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual(["", "par"]);
    let caught: unknown;
    try {
      decoder.end();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProviderStreamError);
    expect((caught as ProviderStreamError).error).toMatchObject({
      status: 529,
      type: "overloaded_error",
      message: "Overloaded",
    });
  });

  it("refuses a line that never ends once it passes 16 Mi characters", () => {
    const decoder = chatStream();
    const piece = Buffer.from("x".repeat(1 << 20));
    decoder.push(Buffer.from("event: content_block_delta\ndata: "));
    for (let i = 0; i < 15; i++) decoder.push(piece);
    expect(() => decoder.push(Buffer.concat([piece, piece]))).toThrow(/longer than 16777216 characters/);
  });

  it("streams the forced JSON tool's input as text", () => {
    const text =
      sse("message_start", {
        type: "message_start",
        message: {
          id: "m",
          type: "message",
          role: "assistant",
          model: "x",
          content: [],
          usage: { input_tokens: 1, output_tokens: 0 },
        },
      }) +
      sse("content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "tool_use", id: "t", name: JSON_TOOL, input: {} },
      }) +
      sse("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "input_json_delta", partial_json: '{"a":1}' },
      }) +
      sse("message_delta", {
        type: "message_delta",
        delta: { stop_reason: "tool_use" },
        usage: { output_tokens: 3 },
      });
    const chunks = decodeAll(text);
    expect(chunks.map((c) => c.choices[0]?.delta.content).join("")).toBe('{"a":1}');
    expect(chunks[chunks.length - 1]?.choices[0]?.finish_reason).toBe("stop");
  });
});
