import { describe, expect, it } from "vitest";
import type { ChatChunk } from "../../formats/canonical.js";
import { chatResponseOf, finishReasonOf, geminiError, geminiStreamDecoder, usageOf } from "./response.js";

describe("Gemini response → canonical", () => {
  it("maps text, thoughts, function calls (with signatures) and usage", () => {
    const response = chatResponseOf(
      {
        candidates: [
          {
            content: {
              role: "model",
              parts: [
                { text: "Thinking...", thought: true, thoughtSignature: "t1" },
                { text: "Let me check. " },
                { functionCall: { name: "weather", args: { city: "Paris" } }, thoughtSignature: "c2" },
              ],
            },
            finishReason: "STOP",
            index: 0,
          },
        ],
        usageMetadata: {
          promptTokenCount: 10,
          candidatesTokenCount: 5,
          thoughtsTokenCount: 3,
          cachedContentTokenCount: 4,
          totalTokenCount: 18,
        },
        modelVersion: "gemini-2.5-flash",
        responseId: "resp-1",
        createTime: "2025-01-01T00:00:00Z",
      },
      "fallback",
    );
    const call = response.choices[0]?.message.tool_calls?.[0];
    expect(call?.id).toMatch(/^call_[\w-]+__thought__c2$/);
    expect(response).toEqual({
      id: "resp-1",
      object: "chat.completion",
      created: 1735689600,
      model: "gemini-2.5-flash",
      choices: [
        {
          index: 0,
          finish_reason: "tool_calls",
          message: {
            role: "assistant",
            content: "Let me check. ",
            reasoning_content: "Thinking...",
            thinking_blocks: [{ type: "thinking", thinking: "Thinking...", signature: "t1" }],
            tool_calls: [
              {
                id: call?.id,
                type: "function",
                function: { name: "weather", arguments: '{"city":"Paris"}' },
              },
            ],
          },
        },
      ],
      usage: {
        prompt_tokens: 10,
        completion_tokens: 8,
        total_tokens: 18,
        prompt_tokens_details: { cached_tokens: 4 },
        completion_tokens_details: { reasoning_tokens: 3 },
      },
    });
  });

  it("keeps Gemini's own function call id and answers a blocked prompt with content_filter", () => {
    const withId = chatResponseOf(
      {
        candidates: [
          { content: { parts: [{ functionCall: { id: "fc-9", name: "f" } }] }, finishReason: "STOP" },
        ],
      },
      "m",
    );
    expect(withId.choices[0]?.message.tool_calls?.[0]?.id).toBe("fc-9");
    expect(withId.choices[0]?.message.tool_calls?.[0]?.function.arguments).toBe("{}");
    const blocked = chatResponseOf({ promptFeedback: { blockReason: "SAFETY" } }, "m");
    expect(blocked.choices).toEqual([
      { index: 0, message: { role: "assistant", content: null }, finish_reason: "content_filter" },
    ]);
    expect(blocked.model).toBe("m");
  });

  it("maps every finish reason as documented", () => {
    expect(finishReasonOf("STOP", false)).toBe("stop");
    expect(finishReasonOf("STOP", true)).toBe("tool_calls");
    expect(finishReasonOf("MAX_TOKENS", true)).toBe("length");
    for (const reason of [
      "SAFETY",
      "RECITATION",
      "LANGUAGE",
      "BLOCKLIST",
      "PROHIBITED_CONTENT",
      "SPII",
      "IMAGE_SAFETY",
    ]) {
      expect(finishReasonOf(reason, false)).toBe("content_filter");
    }
    for (const reason of ["MALFORMED_FUNCTION_CALL", "OTHER", "FINISH_REASON_UNSPECIFIED", "SOMETHING_NEW"]) {
      expect(finishReasonOf(reason, false)).toBe("stop");
    }
  });

  it("adds tool-use prompt tokens to the prompt and totals when Gemini leaves the total out", () => {
    expect(usageOf({ promptTokenCount: 3, toolUsePromptTokenCount: 2, candidatesTokenCount: 4 })).toEqual({
      prompt_tokens: 5,
      completion_tokens: 4,
      total_tokens: 9,
    });
  });
});

function event(data: unknown): string {
  return `data: ${JSON.stringify(data)}\r\n\r\n`;
}

function decodeAll(text: string, splitAt: number[]): ChatChunk[] {
  const decoder = geminiStreamDecoder("gemini-x");
  const bytes = Buffer.from(text);
  const chunks: ChatChunk[] = [];
  let at = 0;
  for (const cut of [...splitAt, bytes.length]) {
    chunks.push(...decoder.push(bytes.subarray(at, cut)));
    at = cut;
  }
  chunks.push(...decoder.end());
  return chunks;
}

describe("Gemini stream → canonical chunks", () => {
  const stream =
    event({
      candidates: [{ content: { role: "model", parts: [{ text: "hmm", thought: true }] }, index: 0 }],
      usageMetadata: { promptTokenCount: 7, totalTokenCount: 7 },
      responseId: "r1",
      modelVersion: "gemini-x-001",
    }) +
    event({
      candidates: [{ content: { role: "model", parts: [{ text: "Héllo " }] }, index: 0 }],
      responseId: "r1",
    }) +
    event({
      candidates: [
        {
          content: { role: "model", parts: [{ functionCall: { name: "f", args: { a: 1 } } }] },
          finishReason: "STOP",
          index: 0,
        },
      ],
      usageMetadata: {
        promptTokenCount: 7,
        candidatesTokenCount: 4,
        thoughtsTokenCount: 2,
        totalTokenCount: 13,
      },
      responseId: "r1",
    });

  it("decodes text, thoughts, function calls, the finish reason and a last usage chunk, split anywhere", () => {
    for (const split of [[], [1, 30, 31, 100, 101, 102], [...Array(stream.length).keys()].slice(1)]) {
      const chunks = decodeAll(stream, split);
      const deltas = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta));
      expect(deltas[0]).toEqual({ role: "assistant", reasoning_content: "hmm" });
      expect(deltas.map((d) => d.content ?? "").join("")).toBe("Héllo ");
      const call = deltas.find((d) => d.tool_calls !== undefined)?.tool_calls?.[0];
      expect(call).toMatchObject({
        index: 0,
        type: "function",
        function: { name: "f", arguments: '{"a":1}' },
      });
      const finishes = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason));
      expect(finishes).toEqual([null, null, "tool_calls"]);
      const last = chunks[chunks.length - 1];
      expect(last?.choices).toEqual([]);
      expect(last?.usage).toEqual({
        prompt_tokens: 7,
        completion_tokens: 6,
        total_tokens: 13,
        completion_tokens_details: { reasoning_tokens: 2 },
      });
      expect(chunks.every((chunk) => chunk.id === "r1" && chunk.object === "chat.completion.chunk")).toBe(
        true,
      );
    }
  });

  it("reports a blocked prompt and fails on an error event", () => {
    const blocked = decodeAll(event({ promptFeedback: { blockReason: "PROHIBITED_CONTENT" } }), []);
    expect(blocked[0]?.choices[0]?.finish_reason).toBe("content_filter");
    expect(() => decodeAll(event({ error: { code: 500, message: "boom", status: "INTERNAL" } }), [])).toThrow(
      /stream error/,
    );
  });
});

describe("Gemini errors → canonical", () => {
  it("reads Google's envelope, also inside an array", () => {
    const body = {
      error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" },
    };
    const expected = {
      status: 429,
      message: "Resource has been exhausted",
      type: "rate_limit_error",
      code: "RESOURCE_EXHAUSTED",
      param: null,
    };
    expect(geminiError(429, Buffer.from(JSON.stringify(body)), "gemini")).toEqual(expected);
    expect(geminiError(429, Buffer.from(JSON.stringify([body])), "gemini")).toEqual(expected);
    expect(
      geminiError(
        400,
        Buffer.from('{"error":{"code":400,"message":"API key not valid","status":"INVALID_ARGUMENT"}}'),
        "g",
      ).type,
    ).toBe("invalid_request_error");
  });

  it("wraps a body that is not Google's envelope", () => {
    expect(geminiError(502, Buffer.from("<html>Bad gateway</html>"), "gemini")).toEqual({
      status: 502,
      message: "gemini: <html>Bad gateway</html>",
      type: "api_error",
      code: null,
      param: null,
    });
  });
});
