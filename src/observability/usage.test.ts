import { describe, expect, it } from "vitest";
import { readUsage } from "./usage.js";

describe("readUsage", () => {
  it("reads usage at the end of a chat completion", () => {
    const body = Buffer.from(
      JSON.stringify({
        id: "x",
        choices: [{ message: { content: 'the "usage" of words' } }],
        usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 },
      }),
    );
    const usage = { prompt: 0, completion: 0 };
    expect(readUsage(body, usage)).toBe(true);
    expect(usage).toEqual({ prompt: 12, completion: 34 });
  });

  it("reads the usage chunk of a stream and ignores chunks whose usage is null", () => {
    const usage = { prompt: 0, completion: 0 };
    expect(
      readUsage(Buffer.from('data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n'), usage),
    ).toBe(false);
    const last =
      'data: {"choices":[],"usage": {"prompt_tokens": 7, "completion_tokens": 3}}\n\ndata: [DONE]\n\n';
    expect(readUsage(Buffer.from(last), usage)).toBe(true);
    expect(usage).toEqual({ prompt: 7, completion: 3 });
  });

  it("reads embeddings usage, which has no completion tokens", () => {
    const usage = { prompt: 0, completion: 9 };
    expect(readUsage(Buffer.from('{"data":[],"usage":{"prompt_tokens":5,"total_tokens":5}}'), usage)).toBe(
      true,
    );
    expect(usage).toEqual({ prompt: 5, completion: 0 });
  });

  it("reads Anthropic's input and output tokens, spread over a stream's events", () => {
    const usage = { prompt: 0, completion: 0 };
    const start =
      'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":25,"output_tokens":1}}}\n\n';
    expect(readUsage(Buffer.from(start), usage)).toBe(true);
    expect(usage).toEqual({ prompt: 25, completion: 1 });
    const end =
      'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":15}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
    expect(readUsage(Buffer.from(end), usage)).toBe(true);
    expect(usage).toEqual({ prompt: 25, completion: 15 });
    const whole = Buffer.from(start + end);
    const fresh = { prompt: 0, completion: 0 };
    expect(readUsage(whole, fresh)).toBe(true);
    expect(fresh).toEqual({ prompt: 25, completion: 15 });
  });
});
