import { describe, expect, it } from "vitest";
import { indexOf, lastIndexOf, NEAR, readUsage } from "./usage.js";

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

  it("reads Gemini's usageMetadata, counting thoughts as output, in a reply and a stream's last chunk", () => {
    const usage = { prompt: 0, completion: 0 };
    const reply = {
      candidates: [{ content: { parts: [{ text: "hi" }], role: "model" } }],
      usageMetadata: {
        promptTokenCount: 11,
        candidatesTokenCount: 7,
        totalTokenCount: 21,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: 11 }],
        thoughtsTokenCount: 3,
      },
      modelVersion: "gemini-2.5-flash",
    };
    expect(readUsage(Buffer.from(JSON.stringify(reply)), usage)).toBe(true);
    expect(usage).toEqual({ prompt: 11, completion: 10 });
    const chunk = `data: ${JSON.stringify({ ...reply, usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 9 } })}\r\n\r\n`;
    expect(readUsage(Buffer.from(chunk), usage)).toBe(true);
    expect(usage).toEqual({ prompt: 4, completion: 9 });
  });

  it("passes over other keys and text that start like usage", () => {
    const usage = { prompt: 0, completion: 0 };
    const body = JSON.stringify({
      usage: { prompt_tokens: 2, completion_tokens: 5 },
      choices: [{ message: { content: 'see "usage_notes"' } }],
      usage_details: { note: "x" },
    });
    expect(readUsage(Buffer.from(body), usage)).toBe(true);
    expect(usage).toEqual({ prompt: 2, completion: 5 });
    expect(readUsage(Buffer.from('{"usage_details":{"prompt_tokens":1}}'), usage)).toBe(false);
  });

  it("finds usage far from the end of a long reply, and none where there is none", () => {
    const usage = { prompt: 0, completion: 0 };
    const early = `{"usage":{"prompt_tokens":3,"completion_tokens":4},"pad":"${"x".repeat(10_000)}"}`;
    expect(readUsage(Buffer.from(early), usage)).toBe(true);
    expect(usage).toEqual({ prompt: 3, completion: 4 });
    expect(readUsage(Buffer.from(`{"pad":"${"x".repeat(10_000)}"}`), usage)).toBe(false);
  });
});

describe("the byte searches behind readUsage", () => {
  it("agree with Buffer's own on random text, near and far from the ends", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const needle = Buffer.from("aba");
    for (let n = 0; n < 300; n++) {
      const length = Math.floor(random() * 6000);
      // Near misses everywhere ("ab", "bab") and zero to two whole matches anywhere.
      const text = Buffer.alloc(length, "ab_b");
      for (let copies = Math.floor(random() * 3); copies > 0; copies--)
        needle.copy(text, Math.floor(random() * Math.max(0, length - 2)));
      expect(lastIndexOf(text, needle)).toBe(text.lastIndexOf(needle));
      const from = Math.floor(random() * (length + 1));
      expect(indexOf(text, needle, from)).toBe(text.indexOf(needle, from));
    }
  });

  it("agree with Buffer's own where the search hands over to it", () => {
    const needle = Buffer.from("aba");
    const length = 5000;
    const from = 100;
    for (let d = -6; d <= 6; d++) {
      const text = Buffer.alloc(length, "ab_b");
      needle.copy(text, length - NEAR + d);
      expect(lastIndexOf(text, needle)).toBe(text.lastIndexOf(needle));
      const later = Buffer.alloc(length, "ab_b");
      needle.copy(later, from + NEAR + d);
      expect(indexOf(later, needle, from)).toBe(later.indexOf(needle, from));
    }
  });
});
