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
});
