import { describe, expect, it } from "vitest";
import type { ChatChunk, ChatResponse } from "../canonical.js";
import { InvalidRequest } from "../format.js";
import { SseParser } from "../sse.js";
import { estimateInputTokens } from "./count.js";
import { anthropicFormat } from "./format.js";

describe("Anthropic request → canonical", () => {
  it("converts system, multi-turn content, images, tool use and tool results", () => {
    const out = anthropicFormat.toCanonical({
      model: "openai/gpt-4o-mini",
      max_tokens: 256,
      system: [{ type: "text", text: "rules", cache_control: { type: "ephemeral" } }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is this?" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
            { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "sig" },
            { type: "text", text: "Let me check." },
            { type: "tool_use", id: "toolu_1", name: "lookup", input: { q: "a" } },
            { type: "tool_use", id: "toolu_2", name: "lookup", input: { q: "b" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "A" },
            {
              type: "tool_result",
              tool_use_id: "toolu_2",
              content: [{ type: "text", text: "B" }],
              is_error: true,
            },
            { type: "text", text: "and?" },
          ],
        },
      ],
      stop_sequences: ["END"],
      temperature: 0.5,
      top_k: 5,
      metadata: { user_id: "u1" },
      stream: true,
    });
    expect(out).toEqual({
      model: "openai/gpt-4o-mini",
      max_tokens: 256,
      stream: true,
      stream_options: { include_usage: true },
      stop: ["END"],
      temperature: 0.5,
      top_k: 5,
      user: "u1",
      messages: [
        { role: "system", content: [{ type: "text", text: "rules", cache_control: { type: "ephemeral" } }] },
        {
          role: "user",
          content: [
            { type: "text", text: "what is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
            { type: "image_url", image_url: { url: "https://example.com/a.png" } },
          ],
        },
        {
          role: "assistant",
          content: "Let me check.",
          thinking_blocks: [{ type: "thinking", thinking: "hmm", signature: "sig" }],
          tool_calls: [
            { id: "toolu_1", type: "function", function: { name: "lookup", arguments: '{"q":"a"}' } },
            { id: "toolu_2", type: "function", function: { name: "lookup", arguments: '{"q":"b"}' } },
          ],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "A" },
        { role: "tool", tool_call_id: "toolu_2", content: [{ type: "text", text: "B" }] },
        { role: "user", content: [{ type: "text", text: "and?" }] },
      ],
    });
  });

  it("converts tools, tool_choice, thinking and output_config", () => {
    const out = anthropicFormat.toCanonical({
      model: "m",
      max_tokens: 1,
      messages: [{ role: "user", content: "hi" }],
      tools: [
        {
          name: "t",
          description: "d",
          input_schema: { type: "object" },
          cache_control: { type: "ephemeral" },
        },
      ],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      thinking: { type: "enabled", budget_tokens: 2048 },
      output_config: { format: { type: "json_schema", schema: { type: "object" } } },
    });
    expect(out.tools).toEqual([
      {
        type: "function",
        function: { name: "t", description: "d", parameters: { type: "object" } },
        cache_control: { type: "ephemeral" },
      },
    ]);
    expect(out.tool_choice).toBe("required");
    expect(out.parallel_tool_calls).toBe(false);
    expect(out.thinking).toEqual({ type: "enabled", budget_tokens: 2048 });
    expect(out.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "output", schema: { type: "object" }, strict: true },
    });
    const named = anthropicFormat.toCanonical({
      model: "m",
      max_tokens: 1,
      messages: [],
      tool_choice: { type: "tool", name: "t" },
    });
    expect(named.tool_choice).toEqual({ type: "function", function: { name: "t" } });
  });

  it("rejects bodies of the wrong shape and server tools", () => {
    expect(() => anthropicFormat.toCanonical({ model: "m", messages: [] })).toThrow(/max_tokens/);
    expect(() => anthropicFormat.toCanonical({ max_tokens: 1, messages: [] })).toThrow(InvalidRequest);
    expect(() =>
      anthropicFormat.toCanonical({
        model: "m",
        max_tokens: 1,
        messages: [{ role: "system", content: "x" }],
      }),
    ).toThrow(/role/);
    expect(() =>
      anthropicFormat.toCanonical({
        model: "m",
        max_tokens: 1,
        messages: [],
        tools: [{ type: "web_search_20250305", name: "web_search" }],
      }),
    ).toThrow(/Server tool/);
  });
});

describe("canonical response → Anthropic", () => {
  const response: ChatResponse = {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "gpt-4o-mini",
    choices: [
      {
        index: 0,
        finish_reason: "tool_calls",
        message: {
          role: "assistant",
          content: "Sure.",
          reasoning_content: "thought",
          tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: '{"x":1}' } }],
        },
      },
    ],
    usage: {
      prompt_tokens: 100,
      completion_tokens: 7,
      total_tokens: 107,
      prompt_tokens_details: { cached_tokens: 40 },
    },
  };

  it("writes a Messages response with blocks, stop reason and usage", () => {
    expect(JSON.parse(anthropicFormat.fromCanonical(response, "openai/gpt-4o-mini"))).toEqual({
      id: "msg_chatcmpl-1",
      type: "message",
      role: "assistant",
      model: "openai/gpt-4o-mini",
      content: [
        { type: "thinking", thinking: "thought", signature: "" },
        { type: "text", text: "Sure." },
        { type: "tool_use", id: "call_1", name: "f", input: { x: 1 } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: {
        input_tokens: 60,
        output_tokens: 7,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 40,
      },
    });
  });

  it.each([
    ["stop", "end_turn"],
    ["length", "max_tokens"],
    ["content_filter", "refusal"],
  ] as const)("maps finish_reason %s to %s", (finish, stop) => {
    const r: ChatResponse = {
      ...response,
      choices: [{ index: 0, finish_reason: finish, message: { role: "assistant", content: "x" } }],
    };
    expect(JSON.parse(anthropicFormat.fromCanonical(r, "m")).stop_reason).toBe(stop);
  });

  it("writes errors in Anthropic's shape with its types", () => {
    const error = (status: number, type = "x") =>
      JSON.parse(anthropicFormat.errorBody({ status, message: "m", type, code: null, param: null }));
    expect(error(400)).toEqual({ type: "error", error: { type: "invalid_request_error", message: "m" } });
    expect(error(401).error.type).toBe("authentication_error");
    expect(error(403).error.type).toBe("permission_error");
    expect(error(404).error.type).toBe("not_found_error");
    expect(error(413).error.type).toBe("request_too_large");
    expect(error(429).error.type).toBe("rate_limit_error");
    expect(error(500).error.type).toBe("api_error");
    expect(error(529).error.type).toBe("overloaded_error");
    expect(error(503, "overloaded_error").error.type).toBe("overloaded_error");
    // OpenAI names auth failures invalid_request_error; the status tells Anthropic clients more.
    expect(error(401, "invalid_request_error").error.type).toBe("authentication_error");
    expect(error(400, "billing_error").error.type).toBe("billing_error");
  });
});

function events(text: string): { event: string; data: Record<string, unknown> }[] {
  const parser = new SseParser();
  return [...parser.push(Buffer.from(text)), ...parser.end()].map((e) => ({
    event: e.event,
    data: JSON.parse(e.data) as Record<string, unknown>,
  }));
}

const chunk = (
  delta: ChatChunk["choices"][number]["delta"],
  finish: ChatChunk["choices"][number]["finish_reason"] = null,
): ChatChunk => ({
  id: "chatcmpl-9",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

describe("canonical chunks → Anthropic event stream", () => {
  it("emits the real event sequence for thinking, text and parallel tool calls", () => {
    const encoder = anthropicFormat.streamEncoder("openai/gpt-4o-mini");
    let text = "";
    for (const c of [
      chunk({ role: "assistant", content: "" }),
      chunk({ reasoning_content: "hm" }),
      chunk({ thinking_blocks: [{ type: "thinking", thinking: "", signature: "sig" }] }),
      chunk({ content: "Hi" }),
      chunk({ content: "!" }),
      chunk({
        tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "f", arguments: "" } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] }),
      chunk({
        tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "g", arguments: "{}" } }],
      }),
      chunk({}, "tool_calls"),
      { ...chunk({}), choices: [], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } },
    ]) {
      text += encoder.encode(c);
    }
    text += encoder.end();
    const list = events(text);
    expect(list.map((e) => e.event)).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const e of list) expect(e.data.type).toBe(e.event);
    const start = list[0]?.data.message as Record<string, unknown>;
    expect(start).toMatchObject({
      id: "msg_chatcmpl-9",
      model: "openai/gpt-4o-mini",
      role: "assistant",
      content: [],
    });
    expect(list[2]?.data).toEqual({
      type: "content_block_start",
      index: 0,
      content_block: { type: "thinking", thinking: "", signature: "" },
    });
    expect(list[3]?.data.delta).toEqual({ type: "thinking_delta", thinking: "hm" });
    expect(list[4]?.data.delta).toEqual({ type: "signature_delta", signature: "sig" });
    expect(list[7]?.data).toEqual({
      type: "content_block_delta",
      index: 1,
      delta: { type: "text_delta", text: "Hi" },
    });
    expect(list[10]?.data).toEqual({
      type: "content_block_start",
      index: 2,
      content_block: { type: "tool_use", id: "call_a", name: "f", input: {} },
    });
    expect(list[12]?.data).toEqual({
      type: "content_block_delta",
      index: 2,
      delta: { type: "input_json_delta", partial_json: "1}" },
    });
    expect(list[14]?.data.index).toBe(3);
    expect(list[17]?.data).toEqual({
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: {
        input_tokens: 10,
        output_tokens: 5,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  it("still opens and closes the message when the provider sent nothing", () => {
    const encoder = anthropicFormat.streamEncoder("m");
    const list = events(encoder.end());
    expect(list.map((e) => e.event)).toEqual(["message_start", "ping", "message_delta", "message_stop"]);
    expect(list[2]?.data.delta).toEqual({ stop_reason: "end_turn", stop_sequence: null });
  });

  it("writes a mid-stream error as an error event", () => {
    const encoder = anthropicFormat.streamEncoder("m");
    const list = events(
      encoder.error({
        status: 529,
        message: "Overloaded",
        type: "overloaded_error",
        code: null,
        param: null,
      }),
    );
    expect(list).toEqual([
      { event: "error", data: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } } },
    ]);
  });
});

describe("count_tokens estimate", () => {
  it("counts system, message text, tool traffic and tool definitions", () => {
    const small = estimateInputTokens({ messages: [{ role: "user", content: "hello" }] });
    expect(small).toBeGreaterThan(0);
    const more = estimateInputTokens({
      system: "You are a helpful assistant.",
      messages: [
        { role: "user", content: [{ type: "text", text: "hello" }] },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "t", name: "lookup", input: { q: "weather" } }],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "sunny and warm" }] },
      ],
      tools: [{ name: "lookup", description: "Looks things up", input_schema: { type: "object" } }],
    });
    expect(more).toBeGreaterThan(small + 10);
    expect(estimateInputTokens({ messages: [] })).toBe(0);
  });
});
