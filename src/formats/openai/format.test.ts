import { describe, expect, it } from "vitest";
import type { ChatChunk } from "../canonical.js";
import { SseParser } from "../sse.js";
import { openAIFormat } from "./format.js";

const finishing: ChatChunk = {
  id: "c1",
  object: "chat.completion.chunk",
  created: 1,
  model: "claude-x",
  choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
};

function events(text: string): Record<string, unknown>[] {
  return new SseParser().push(Buffer.from(text)).map((event) => JSON.parse(event.data));
}

describe("OpenAI stream encoder", () => {
  it("moves usage from a finishing chunk into a chunk of its own when the client asked for it", () => {
    const encoder = openAIFormat.streamEncoder("anthropic/claude-x", { includeUsage: true });
    const [finish, usage] = events(encoder.encode(finishing));
    expect(finish).toMatchObject({
      model: "anthropic/claude-x",
      usage: null,
      choices: [{ finish_reason: "stop" }],
    });
    expect(usage).toMatchObject({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 7 } });
  });

  it("leaves usage out when the client did not ask for it", () => {
    const encoder = openAIFormat.streamEncoder("m", { includeUsage: false });
    const out = events(encoder.encode(finishing));
    expect(out).toHaveLength(1);
    expect(out[0]).not.toHaveProperty("usage");
    expect(events(encoder.encode({ ...finishing, choices: [] }))).toEqual([]);
  });

  it("ends with [DONE] and reports errors as an error event", () => {
    const encoder = openAIFormat.streamEncoder("m");
    expect(encoder.end()).toBe("data: [DONE]\n\n");
    const [error] = events(
      encoder.error({
        status: 502,
        message: "broke",
        type: "api_error",
        code: "upstream_unreachable",
        param: null,
      }),
    );
    expect(error).toEqual({
      error: { message: "broke", type: "api_error", param: null, code: "upstream_unreachable" },
    });
  });
});
