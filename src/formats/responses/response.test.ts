import { describe, expect, it } from "vitest";
import type { ChatResponse } from "../canonical.js";
import { responsesFormat } from "./format.js";
import { responsesToChat } from "./request.js";

const base: Omit<ChatResponse, "choices"> = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "claude-sonnet-4-5",
};

function convert(response: ChatResponse): Record<string, unknown> {
  return JSON.parse(responsesFormat.fromCanonical(response, "anthropic/claude-sonnet-4-5"));
}

describe("canonical chat response → Responses object", () => {
  it("writes a text answer as a message item with output_text and maps usage", () => {
    const out = convert({
      ...base,
      choices: [{ index: 0, message: { role: "assistant", content: "Hi there" }, finish_reason: "stop" }],
      usage: {
        prompt_tokens: 12,
        completion_tokens: 3,
        total_tokens: 15,
        prompt_tokens_details: { cached_tokens: 8 },
        completion_tokens_details: { reasoning_tokens: 1 },
      },
    });
    expect(out).toMatchObject({
      object: "response",
      created_at: 1_700_000_000,
      model: "anthropic/claude-sonnet-4-5",
      status: "completed",
      error: null,
      incomplete_details: null,
      output: [
        {
          type: "message",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: "Hi there", annotations: [] }],
        },
      ],
      usage: {
        input_tokens: 12,
        input_tokens_details: { cached_tokens: 8 },
        output_tokens: 3,
        output_tokens_details: { reasoning_tokens: 1 },
        total_tokens: 15,
      },
    });
    expect(out.id).toMatch(/^resp_/);
    expect((out.output as { id: string }[])[0]?.id).toMatch(/^msg_/);
  });

  it("writes thinking blocks as reasoning items and tool calls as function_call items", () => {
    const out = convert({
      ...base,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: null,
            thinking_blocks: [
              { type: "thinking", thinking: "Need the weather.", signature: "sig-9" },
              { type: "redacted_thinking", data: "enc" },
            ],
            tool_calls: [
              {
                id: "toolu_1",
                type: "function",
                function: { name: "weather", arguments: '{"city":"Paris"}' },
              },
              {
                id: "toolu_2",
                type: "function",
                function: { name: "weather", arguments: '{"city":"Rome"}' },
              },
            ],
          },
          finish_reason: "tool_calls",
        },
      ],
    });
    expect(out.status).toBe("completed");
    expect(out.usage).toBeNull();
    expect(out.output).toMatchObject([
      {
        type: "reasoning",
        summary: [],
        content: [{ type: "reasoning_text", text: "Need the weather." }],
        encrypted_content: "sig-9",
      },
      { type: "reasoning", content: [], encrypted_content: "enc" },
      {
        type: "function_call",
        call_id: "toolu_1",
        name: "weather",
        arguments: '{"city":"Paris"}',
        status: "completed",
      },
      {
        type: "function_call",
        call_id: "toolu_2",
        name: "weather",
        arguments: '{"city":"Rome"}',
        status: "completed",
      },
    ]);
  });

  it("round-trips reasoning and calls through the request converter", () => {
    const out = convert({
      ...base,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Let me check.",
            thinking_blocks: [{ type: "thinking", thinking: "t", signature: "s" }],
            tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }],
          },
          finish_reason: "tool_calls",
        },
      ],
    });
    const request = responsesToChat({ model: "m", input: out.output });
    expect(request.messages).toEqual([
      {
        role: "assistant",
        content: "Let me check.",
        thinking_blocks: [{ type: "thinking", thinking: "t", signature: "s" }],
        tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }],
      },
    ]);
  });

  it("writes plain reasoning_content as a reasoning item without encrypted content", () => {
    const out = convert({
      ...base,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "42", reasoning_content: "6 times 7" },
          finish_reason: "stop",
        },
      ],
    });
    expect(out.output).toMatchObject([
      {
        type: "reasoning",
        content: [{ type: "reasoning_text", text: "6 times 7" }],
        encrypted_content: null,
      },
      { type: "message", content: [{ type: "output_text", text: "42" }] },
    ]);
  });

  it("reports a length stop as incomplete with max_output_tokens", () => {
    const out = convert({
      ...base,
      choices: [{ index: 0, message: { role: "assistant", content: "Trunc" }, finish_reason: "length" }],
    });
    expect(out.status).toBe("incomplete");
    expect(out.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(out.output).toMatchObject([{ type: "message", status: "incomplete" }]);
  });

  it("writes a refusal as a refusal content part", () => {
    const out = convert({
      ...base,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: null, refusal: "I can't." },
          finish_reason: "stop",
        },
      ],
    });
    expect(out.output).toMatchObject([
      { type: "message", content: [{ type: "refusal", refusal: "I can't." }] },
    ]);
  });

  it("answers errors in OpenAI's error shape", () => {
    expect(
      JSON.parse(
        responsesFormat.errorBody({
          status: 429,
          message: "slow down",
          type: "rate_limit_error",
          code: "rate_limit_exceeded",
          param: null,
        }),
      ),
    ).toEqual({
      error: { message: "slow down", type: "rate_limit_error", code: "rate_limit_exceeded", param: null },
    });
  });
});
