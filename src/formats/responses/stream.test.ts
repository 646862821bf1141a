import { describe, expect, it } from "vitest";
import type { ChatChunk, ChatChunkDelta, FinishReason, Usage } from "../canonical.js";
import { SseParser } from "../sse.js";
import { responsesFormat } from "./format.js";

interface Event {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}

function chunk(delta: ChatChunkDelta, finish: FinishReason | null = null, usage?: Usage): ChatChunk {
  return {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: "upstream-model",
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...(usage === undefined ? {} : { usage }),
  };
}

const usage: Usage = {
  prompt_tokens: 10,
  completion_tokens: 4,
  total_tokens: 14,
  prompt_tokens_details: { cached_tokens: 2 },
};

/** Encodes the chunks, then parses the SSE text back, checking each `event:` line names the data's type. */
function run(chunks: ChatChunk[], close: "end" | "error" = "end"): Event[] {
  const encoder = responsesFormat.streamEncoder("my-model");
  let text = "";
  for (const c of chunks) text += encoder.encode(c);
  text +=
    close === "end"
      ? encoder.end()
      : encoder.error({
          status: 502,
          message: "upstream died",
          type: "api_error",
          code: "upstream_error",
          param: null,
        });
  const parser = new SseParser();
  const events = [...parser.push(Buffer.from(text)), ...parser.end()].map((sse) => {
    const data = JSON.parse(sse.data) as Event;
    expect(sse.event).toBe(data.type);
    return data;
  });
  events.forEach((event, i) => {
    expect(event.sequence_number).toBe(i);
  });
  return events;
}

describe("canonical chunks → Responses stream events", () => {
  it("streams a text answer with the full lifecycle and usage at completion", () => {
    const events = run([
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "Hel" }),
      chunk({ content: "lo" }),
      chunk({}, "stop"),
      { ...chunk({}), choices: [], usage },
    ]);
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events[0]).toMatchObject({
      response: {
        object: "response",
        status: "in_progress",
        model: "my-model",
        output: [],
        created_at: 1_700_000_000,
      },
    });
    const itemId = (events[2]?.item as { id?: string } | undefined)?.id;
    expect(events[2]).toMatchObject({
      output_index: 0,
      item: { type: "message", role: "assistant", status: "in_progress", content: [] },
    });
    expect(events[3]).toMatchObject({
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [] },
    });
    expect(events[4]).toMatchObject({
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      delta: "Hel",
      logprobs: [],
    });
    expect(events[6]).toMatchObject({ item_id: itemId, text: "Hello" });
    expect(events[7]).toMatchObject({ part: { type: "output_text", text: "Hello" } });
    expect(events[8]).toMatchObject({
      item: { id: itemId, status: "completed", content: [{ type: "output_text", text: "Hello" }] },
    });
    expect(events[9]).toMatchObject({
      response: {
        id: (events[0]?.response as { id?: string } | undefined)?.id,
        status: "completed",
        output: [{ type: "message", content: [{ text: "Hello" }] }],
        usage: {
          input_tokens: 10,
          input_tokens_details: { cached_tokens: 2 },
          output_tokens: 4,
          total_tokens: 14,
        },
      },
    });
  });

  it("streams reasoning then parallel function calls", () => {
    const events = run([
      chunk({ role: "assistant", reasoning_content: "Two " }),
      chunk({ reasoning_content: "cities." }),
      chunk({ thinking_blocks: [{ type: "thinking", thinking: "", signature: "sig" }] }),
      chunk({
        tool_calls: [
          { index: 0, id: "call_a", type: "function", function: { name: "weather", arguments: "" } },
        ],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({
        tool_calls: [{ index: 1, id: "call_b", function: { name: "weather", arguments: '{"city":"Rome"}' } }],
      }),
      chunk({}, "tool_calls", usage),
    ]);
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.reasoning_text.delta",
      "response.reasoning_text.delta",
      "response.reasoning_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events[2]).toMatchObject({ output_index: 0, item: { type: "reasoning", status: "in_progress" } });
    expect(events[3]).toMatchObject({ part: { type: "reasoning_text", text: "" } });
    expect(events[6]).toMatchObject({ text: "Two cities.", content_index: 0 });
    expect(events[8]).toMatchObject({
      item: {
        type: "reasoning",
        content: [{ type: "reasoning_text", text: "Two cities." }],
        encrypted_content: "sig",
      },
    });
    expect(events[9]).toMatchObject({
      output_index: 1,
      item: {
        type: "function_call",
        call_id: "call_a",
        name: "weather",
        arguments: "",
        status: "in_progress",
      },
    });
    expect(events[12]).toMatchObject({ output_index: 2, item: { call_id: "call_b" } });
    expect(events[14]).toMatchObject({ output_index: 1, name: "weather", arguments: '{"city":"Paris"}' });
    expect(events[17]).toMatchObject({
      output_index: 2,
      item: { type: "function_call", arguments: '{"city":"Rome"}', status: "completed" },
    });
    expect(events[18]).toMatchObject({
      response: {
        status: "completed",
        output: [{ type: "reasoning" }, { call_id: "call_a" }, { call_id: "call_b" }],
      },
    });
  });

  it("emits a redacted thinking block as a whole reasoning item", () => {
    const events = run([
      chunk({ thinking_blocks: [{ type: "redacted_thinking", data: "opaque" }] }),
      chunk({ content: "ok" }),
    ]);
    expect(events.slice(2, 5).map((e) => e.type)).toEqual([
      "response.output_item.added",
      "response.output_item.done",
      "response.output_item.added",
    ]);
    expect(events[3]).toMatchObject({
      item: { type: "reasoning", content: [], encrypted_content: "opaque" },
    });
    expect(events[4]).toMatchObject({ output_index: 1, item: { type: "message" } });
  });

  it("streams a refusal as its own content part", () => {
    const events = run([chunk({ refusal: "I can't" }), chunk({ refusal: " help." }, "stop")]);
    expect(events.map((e) => e.type)).toContain("response.refusal.delta");
    expect(events.find((e) => e.type === "response.refusal.done")).toMatchObject({
      refusal: "I can't help.",
    });
    expect(events.find((e) => e.type === "response.content_part.added")).toMatchObject({
      part: { type: "refusal", refusal: "" },
    });
  });

  it("ends a length-stopped stream with response.incomplete", () => {
    const events = run([chunk({ content: "cut" }, "length")]);
    const last = events[events.length - 1];
    expect(last).toMatchObject({
      type: "response.incomplete",
      response: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } },
    });
    expect(events[events.length - 2]).toMatchObject({
      type: "response.output_item.done",
      item: { status: "incomplete" },
    });
  });

  it("still opens and completes a response when the provider sent no chunks", () => {
    expect(run([]).map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.completed",
    ]);
  });

  it("reports a failure after the start as an error event and response.failed", () => {
    const events = run([chunk({ content: "par" })], "error");
    expect(events.slice(-2)).toMatchObject([
      { type: "error", code: "upstream_error", message: "upstream died", param: null },
      {
        type: "response.failed",
        response: { status: "failed", error: { code: "upstream_error", message: "upstream died" } },
      },
    ]);
  });
});
