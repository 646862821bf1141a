import { describe, expect, it } from "vitest";
import { countTokens } from "../../native/index.js";
import { boundedTokenCount, COUNTED_CHARS, estimateInputTokens } from "./count.js";

describe("estimateInputTokens", () => {
  it("counts system, message text, tool calls and tool definitions", () => {
    const body = {
      system: "Be brief.",
      messages: [
        { role: "user", content: "What is the weather in Paris?" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "t", name: "weather", input: { city: "Paris" } }],
        },
      ],
      tools: [{ name: "weather", description: "Current weather", input_schema: { type: "object" } }],
    };
    const text = [
      "Be brief.",
      "What is the weather in Paris?",
      "weather",
      '{"city":"Paris"}',
      "weather",
      "Current weather",
      '{"type":"object"}',
    ].join("\n");
    expect(estimateInputTokens(body)).toBe(countTokens(text, "o200k_base"));
  });
});

describe("boundedTokenCount", () => {
  it("is exact for ordinary text within the bound", () => {
    const sentence = "The quick brown fox jumps over the lazy dog. ";
    const text = sentence.repeat(Math.floor(COUNTED_CHARS / sentence.length));
    expect(text.length).toBeLessThan(COUNTED_CHARS);
    expect(boundedTokenCount(text)).toBe(countTokens(text, "o200k_base"));
  });

  it("estimates text past the bound at the rate of its counted part", () => {
    const sentence = "The quick brown fox jumps over the lazy dog. ";
    const text = sentence.repeat(Math.ceil((20 * COUNTED_CHARS) / sentence.length));
    const exact = countTokens(text, "o200k_base");
    const estimate = boundedTokenCount(text);
    expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.01);
  });

  it("breaks a megabyte without whitespace into short runs instead of counting it as one", () => {
    // As one run this overflows the addon's stack and takes minutes in the fallback.
    const estimate = boundedTokenCount("x".repeat(1 << 20));
    expect(estimate).toBeGreaterThan((1 << 20) / 64);
    expect(estimate).toBeLessThan(1 << 20);
  });

  it("breaks a megabyte of whitespace the same way", () => {
    for (const text of [" ".repeat(1 << 20), "\n".repeat(1 << 20), " \n\t".repeat(1 << 18)]) {
      const estimate = boundedTokenCount(text);
      expect(estimate).toBeGreaterThan((1 << 20) / 64);
      expect(estimate).toBeLessThan(1 << 20);
    }
  });
});
