import { describe, expect, it } from "vitest";
import type { ChatChunk } from "../canonical.js";
import { InvalidRequest } from "../format.js";
import { geminiArrayFormat, geminiFormat } from "./format.js";

describe("Gemini request → canonical", () => {
  it("maps contents, system instruction, images, tools, tool config and generation config", () => {
    const request = geminiFormat.toCanonical(
      {
        systemInstruction: { parts: [{ text: "Be brief." }, { text: "Be kind." }] },
        contents: [
          {
            role: "user",
            parts: [
              { text: "Look:" },
              { inlineData: { mimeType: "image/png", data: "AAAA" } },
              { fileData: { mimeType: "application/pdf", fileUri: "https://x.test/a.pdf" } },
            ],
          },
          {
            role: "model",
            parts: [
              { text: "plan", thought: true, thoughtSignature: "s1" },
              { functionCall: { name: "weather", args: { city: "Paris" } }, thoughtSignature: "s2" },
            ],
          },
          {
            role: "user",
            parts: [{ functionResponse: { name: "weather", response: { temp: 20 } } }, { text: "so?" }],
          },
        ],
        tools: [
          {
            functionDeclarations: [
              {
                name: "weather",
                description: "d",
                parameters: {
                  type: "OBJECT",
                  properties: { city: { type: "STRING", nullable: true } },
                  required: ["city"],
                },
              },
              {
                name: "time",
                parametersJsonSchema: { type: "object", properties: { tz: { type: "string" } } },
              },
              { name: "noop" },
            ],
          },
        ],
        toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["weather", "time"] } },
        generationConfig: {
          maxOutputTokens: 50,
          temperature: 0.5,
          topP: 0.8,
          topK: 20,
          candidateCount: 1,
          stopSequences: ["x"],
          seed: 3,
          responseMimeType: "application/json",
          responseSchema: { type: "OBJECT", properties: { a: { type: "INTEGER" } } },
          thinkingConfig: { thinkingBudget: 1000, includeThoughts: true },
        },
        safetySettings: [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" }],
      },
      "models/openai/gpt-4o",
      true,
    );
    const callId =
      request.messages[2]?.role === "assistant" ? request.messages[2].tool_calls?.[0]?.id : undefined;
    expect(callId).toMatch(/__thought__s2$/);
    expect(request).toEqual({
      model: "openai/gpt-4o",
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: "system", content: "Be brief.\nBe kind." },
        {
          role: "user",
          content: [
            { type: "text", text: "Look:" },
            { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
            { type: "file", file: { file_id: "https://x.test/a.pdf" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          thinking_blocks: [{ type: "thinking", thinking: "plan", signature: "s1" }],
          tool_calls: [
            { id: callId, type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
          ],
        },
        { role: "tool", tool_call_id: callId, content: '{"temp":20}' },
        { role: "user", content: "so?" },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "weather",
            description: "d",
            parameters: {
              type: "object",
              properties: { city: { type: ["string", "null"] } },
              required: ["city"],
            },
          },
        },
        {
          type: "function",
          function: { name: "time", parameters: { type: "object", properties: { tz: { type: "string" } } } },
        },
      ],
      tool_choice: "required",
      max_tokens: 50,
      temperature: 0.5,
      top_p: 0.8,
      top_k: 20,
      n: 1,
      stop: ["x"],
      seed: 3,
      response_format: {
        type: "json_schema",
        json_schema: { name: "response", schema: { type: "object", properties: { a: { type: "integer" } } } },
      },
      thinking: { type: "enabled", budget_tokens: 1000 },
    });
  });

  it("maps tool modes and thinking switches", () => {
    const contents = [{ role: "user", parts: [{ text: "hi" }] }];
    const one = (extra: Record<string, unknown>) =>
      geminiFormat.toCanonical({ contents, ...extra }, "m", false);
    expect(one({ toolConfig: { functionCallingConfig: { mode: "NONE" } } }).tool_choice).toBe("none");
    expect(one({ toolConfig: { functionCallingConfig: { mode: "AUTO" } } }).tool_choice).toBe("auto");
    expect(
      one({ toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["f"] } } })
        .tool_choice,
    ).toEqual({
      type: "function",
      function: { name: "f" },
    });
    expect(one({ generationConfig: { thinkingConfig: { thinkingBudget: 0 } } }).thinking).toEqual({
      type: "disabled",
    });
    expect(one({ generationConfig: { responseMimeType: "application/json" } }).response_format).toEqual({
      type: "json_object",
    });
    expect(one({}).stream).toBeUndefined();
  });

  it("refuses what only Gemini can do and malformed bodies", () => {
    const contents = [{ role: "user", parts: [{ text: "hi" }] }];
    expect(() => geminiFormat.toCanonical({ contents, tools: [{ googleSearch: {} }] }, "m", false)).toThrow(
      /googleSearch/,
    );
    expect(() =>
      geminiFormat.toCanonical({ contents, generationConfig: { responseModalities: ["AUDIO"] } }, "m", false),
    ).toThrow(/responseModalities/);
    expect(() => geminiFormat.toCanonical({ contents: "x" }, "m", false)).toThrow(InvalidRequest);
    expect(() =>
      geminiFormat.toCanonical(
        { contents: [{ role: "user", parts: [{ functionResponse: { name: "f", response: {} } }] }] },
        "m",
        false,
      ),
    ).toThrow(/answers no earlier functionCall/);
  });
});

describe("canonical → Gemini response", () => {
  it("writes candidates, function calls with their signatures, finish reasons and usage", () => {
    const text = geminiFormat.fromCanonical(
      {
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model: "gpt-4o",
        choices: [
          {
            index: 0,
            finish_reason: "tool_calls",
            message: {
              role: "assistant",
              content: "Checking.",
              reasoning_content: "hm",
              tool_calls: [
                {
                  id: "call_1__thought__sig",
                  type: "function",
                  function: { name: "f", arguments: '{"a":1}' },
                },
              ],
            },
          },
          { index: 1, finish_reason: "length", message: { role: "assistant", content: "cut" } },
        ],
        usage: {
          prompt_tokens: 10,
          completion_tokens: 6,
          total_tokens: 16,
          prompt_tokens_details: { cached_tokens: 2 },
          completion_tokens_details: { reasoning_tokens: 1 },
        },
      },
      "openai/gpt-4o",
    );
    expect(JSON.parse(text)).toEqual({
      candidates: [
        {
          content: {
            role: "model",
            parts: [
              { text: "hm", thought: true },
              { text: "Checking." },
              { functionCall: { name: "f", args: { a: 1 }, id: "call_1" }, thoughtSignature: "sig" },
            ],
          },
          index: 0,
          finishReason: "STOP",
        },
        { content: { role: "model", parts: [{ text: "cut" }] }, index: 1, finishReason: "MAX_TOKENS" },
      ],
      modelVersion: "openai/gpt-4o",
      responseId: "chatcmpl-1",
      usageMetadata: {
        promptTokenCount: 10,
        candidatesTokenCount: 5,
        thoughtsTokenCount: 1,
        totalTokenCount: 16,
        cachedContentTokenCount: 2,
      },
    });
  });

  it("writes errors in Google's envelope", () => {
    const error = {
      status: 429,
      message: "slow down",
      type: "rate_limit_error",
      code: "rate_limit_exceeded",
      param: null,
    };
    expect(JSON.parse(geminiFormat.errorBody(error))).toEqual({
      error: { code: 429, message: "slow down", status: "RESOURCE_EXHAUSTED" },
    });
    expect(
      JSON.parse(geminiFormat.errorBody({ ...error, status: 400, code: "FAILED_PRECONDITION" })).error.status,
    ).toBe("FAILED_PRECONDITION");
  });
});

const chunk = (
  delta: ChatChunk["choices"][number]["delta"],
  finish: ChatChunk["choices"][number]["finish_reason"] = null,
): ChatChunk => ({
  id: "c1",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

const openAIStream: ChatChunk[] = [
  chunk({ role: "assistant", content: "" }),
  chunk({ content: "Hel" }),
  chunk({ content: "lo" }),
  chunk({
    tool_calls: [{ index: 0, id: "call_9", type: "function", function: { name: "f", arguments: '{"a"' } }],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: ":2}" } }] }),
  chunk({}, "tool_calls"),
  {
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt",
    choices: [],
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
  },
];

describe("canonical chunks → Gemini stream", () => {
  it("writes SSE events for text as it comes, and the whole call, finish reason and usage last", () => {
    const encoder = geminiFormat.streamEncoder("openai/gpt");
    expect(encoder.headers).toContainEqual(["content-type", "text/event-stream"]);
    const text = openAIStream.map((c) => encoder.encode(c)).join("") + encoder.end();
    const events = text
      .split("\r\n\r\n")
      .filter((e) => e !== "")
      .map((e) => JSON.parse(e.replace(/^data: /, "")));
    expect(events.map((e) => e.candidates[0].content.parts)).toEqual([
      [{ text: "Hel" }],
      [{ text: "lo" }],
      [{ functionCall: { name: "f", args: { a: 2 }, id: "call_9" } }],
    ]);
    expect(events[2]).toMatchObject({
      candidates: [{ finishReason: "STOP", index: 0 }],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4, totalTokenCount: 7 },
      modelVersion: "openai/gpt",
      responseId: "c1",
    });
  });

  it("writes one JSON array without alt=sse, errors included", () => {
    const encoder = geminiArrayFormat.streamEncoder("m");
    const text = openAIStream.map((c) => encoder.encode(c)).join("") + encoder.end();
    const parsed = JSON.parse(text) as unknown[];
    expect(parsed).toHaveLength(3);
    const failing = geminiArrayFormat.streamEncoder("m");
    const broken =
      failing.encode(chunk({ content: "a" })) +
      failing.error({ status: 502, message: "gone", type: "api_error", code: null, param: null });
    expect(JSON.parse(broken)[1]).toEqual({ error: { code: 502, message: "gone", status: "UNAVAILABLE" } });
    expect(
      geminiFormat
        .streamEncoder("m")
        .error({ status: 500, message: "x", type: "api_error", code: null, param: null }),
    ).toBe('data: {"error":{"code":500,"message":"x","status":"INTERNAL"}}\r\n\r\n');
  });
});
