import { describe, expect, it } from "vitest";
import { COUNTED_BODY_LIMIT, countedPromptTokens, outputCapOf } from "./estimate.js";

const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe("outputCapOf", () => {
  it("reads each wire format's cap on output", () => {
    expect(outputCapOf(body({ max_tokens: 100 }))).toBe(100);
    expect(outputCapOf(body({ max_completion_tokens: 200 }))).toBe(200);
    expect(outputCapOf(body({ max_output_tokens: 300 }))).toBe(300);
    expect(outputCapOf(body({ generationConfig: { maxOutputTokens: 400 } }))).toBe(400);
  });

  it("is fooled by no cap's name in a message, a cap of the wrong type, or broken JSON", () => {
    expect(outputCapOf(body({ messages: [{ content: '"max_tokens": 1' }] }))).toBe(-1);
    expect(outputCapOf(body({ max_tokens: "1" }))).toBe(-1);
    expect(outputCapOf(body({ max_tokens: -5 }))).toBe(-1);
    expect(outputCapOf(Buffer.from('{"max_tokens": 1'))).toBe(-1);
    expect(outputCapOf(body({ messages: [] }))).toBe(-1);
  });

  it("does not read a body past the counted limit", () => {
    const large = Buffer.from(`{"max_tokens":5,"pad":"${"x".repeat(COUNTED_BODY_LIMIT)}"}`);
    expect(outputCapOf(large)).toBe(-1);
  });
});

describe("countedPromptTokens", () => {
  it("counts with the tokenizer, never under a quarter of the bytes, and bounds large bodies by their bytes", () => {
    const words = body({ messages: [{ role: "user", content: "hello world ".repeat(100) }] });
    const counted = countedPromptTokens(words);
    expect(counted).toBeGreaterThanOrEqual(Math.ceil(words.length / 4));
    expect(counted).toBeLessThan(words.length);
    const large = Buffer.alloc(COUNTED_BODY_LIMIT + 1, 0x61);
    expect(countedPromptTokens(large)).toBe(large.length);
  });
});
