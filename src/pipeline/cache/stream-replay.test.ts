import { describe, expect, it } from "vitest";
import { formatFor } from "../../formats/registry.js";
import { wholeAsStream } from "./stream-replay.js";

const openaiAnswer = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "gpt-4o-mini",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
        ],
      },
      finish_reason: "tool_calls",
    },
  ],
  usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 },
};

const geminiAnswer = {
  candidates: [
    { content: { role: "model", parts: [{ text: "Hello from Gemini" }] }, finishReason: "STOP", index: 0 },
  ],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4, totalTokenCount: 7 },
};

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
/** The data lines of an event stream, in order. */
const dataOf = (text: string) =>
  text
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => line.slice("data: ".length));

describe("a whole cached answer replayed as a stream", () => {
  it("gives an OpenAI client its chunks: the tool call, the finish, the usage when asked, then [DONE]", () => {
    const replayed = wholeAsStream(formatFor("openai"), bytes(openaiAnswer), "gpt-4o-mini", true);
    expect(replayed?.contentType).toMatch(/^text\/event-stream/);
    const events = dataOf(replayed?.body.toString() ?? "");
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((data) => JSON.parse(data));
    expect(chunks[0].choices[0].delta.tool_calls[0]).toMatchObject({
      index: 0,
      id: "call_1",
      function: { name: "weather", arguments: '{"city":"Oslo"}' },
    });
    expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason).filter(Boolean)).toEqual(["tool_calls"]);
    expect(chunks.at(-1).usage).toMatchObject({ total_tokens: 14 });
    const withoutUsage = wholeAsStream(formatFor("openai"), bytes(openaiAnswer), "gpt-4o-mini", false);
    expect(withoutUsage?.body.toString()).not.toContain('"usage":{');
  });

  it("gives a Gemini client its text in its own stream, SSE or a JSON array", () => {
    const sse = wholeAsStream(formatFor("gemini"), bytes(geminiAnswer), "gemini-2.5-flash", false);
    expect(sse?.body.toString()).toContain("Hello from Gemini");
    const array = wholeAsStream(formatFor("gemini-array"), bytes(geminiAnswer), "gemini-2.5-flash", false);
    expect(JSON.parse(array?.body.toString() ?? "")[0].candidates[0].content.parts[0].text).toBe(
      "Hello from Gemini",
    );
  });

  it("replays nothing it cannot read back: a Responses answer, or bytes that are not the format's", () => {
    expect(wholeAsStream(formatFor("responses"), bytes({ object: "response" }), "m", false)).toBeUndefined();
    expect(wholeAsStream(formatFor("openai"), Buffer.from("not json"), "m", false)).toBeUndefined();
    expect(wholeAsStream(formatFor("anthropic"), bytes({ type: "error" }), "m", false)).toBeUndefined();
  });
});
