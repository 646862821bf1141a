import { describe, expect, it } from "vitest";
import type { ChatRequest } from "../../formats/canonical.js";
import { toolCallId } from "../../formats/gemini/wire.js";
import { UnsupportedRequest } from "../adapter.js";
import { geminiRequest, mimeTypeForUrl } from "./request.js";
import { geminiSchema } from "./schema.js";

const base = (extra: Partial<ChatRequest>): ChatRequest => ({
  model: "gemini-2.5-flash",
  messages: [{ role: "user", content: "hi" }],
  ...extra,
});

describe("canonical request → Gemini", () => {
  it("maps system, multi-turn roles and merges the system messages into systemInstruction", () => {
    const out = geminiRequest({
      model: "m",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "developer", content: [{ type: "text", text: "Use French." }] },
        { role: "user", content: "Hello" },
        { role: "assistant", content: "Bonjour" },
        { role: "user", content: "Again" },
      ],
    });
    expect(out).toEqual({
      systemInstruction: { parts: [{ text: "Be brief." }, { text: "Use French." }] },
      contents: [
        { role: "user", parts: [{ text: "Hello" }] },
        { role: "model", parts: [{ text: "Bonjour" }] },
        { role: "user", parts: [{ text: "Again" }] },
      ],
    });
  });

  it("sends base64 images inline and URLs as fileData with a guessed MIME type", () => {
    const out = geminiRequest(
      base({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
              { type: "image_url", image_url: { url: "https://example.com/cat.webp?size=2" } },
              { type: "image_url", image_url: { url: "gs://bucket/photo" } },
              { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=" } },
            ],
          },
        ],
      }),
    );
    expect(out.contents[0]?.parts).toEqual([
      { text: "What is this?" },
      { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
      { fileData: { mimeType: "image/webp", fileUri: "https://example.com/cat.webp?size=2" } },
      { fileData: { mimeType: "image/jpeg", fileUri: "gs://bucket/photo" } },
      { inlineData: { mimeType: "application/pdf", data: "JVBERi0=" } },
    ]);
    expect(mimeTypeForUrl("https://x.test/a.b/c", "image/jpeg")).toBe("image/jpeg");
  });

  it("refuses a data URL that is not base64", () => {
    expect(() =>
      geminiRequest(
        base({
          messages: [
            { role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png,abc" } }] },
          ],
        }),
      ),
    ).toThrow(UnsupportedRequest);
  });

  it("maps parallel tool calls and their results, naming each result after its call", () => {
    const signed = toolCallId("call_1", "c2ln");
    const out = geminiRequest(
      base({
        messages: [
          { role: "user", content: "Weather in Paris and Rome?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: signed, type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
              { id: "call_2", type: "function", function: { name: "time", arguments: "" } },
            ],
          },
          { role: "tool", tool_call_id: "call_2", content: "noon" },
          { role: "tool", tool_call_id: signed, content: '{"temp":21}' },
          { role: "user", content: "Thanks" },
        ],
      }),
    );
    expect(out.contents).toEqual([
      { role: "user", parts: [{ text: "Weather in Paris and Rome?" }] },
      {
        role: "model",
        parts: [
          { functionCall: { name: "weather", args: { city: "Paris" } }, thoughtSignature: "c2ln" },
          { functionCall: { name: "time", args: {} } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "time", response: { result: "noon" } } },
          { functionResponse: { name: "weather", response: { temp: 21 } } },
          { text: "Thanks" },
        ],
      },
    ]);
  });

  it("refuses a tool result for an unknown call id", () => {
    expect(() =>
      geminiRequest(base({ messages: [{ role: "tool", tool_call_id: "nope", content: "x" }] })),
    ).toThrow(/answers no tool call/);
  });

  it("sends thinking blocks back as thought parts with their signatures", () => {
    const out = geminiRequest(
      base({
        messages: [
          { role: "user", content: "q" },
          {
            role: "assistant",
            content: "answer",
            thinking_blocks: [
              { type: "thinking", thinking: "let me see", signature: "s1" },
              { type: "thinking", thinking: "", signature: "s2" },
            ],
          },
        ],
      }),
    );
    expect(out.contents[1]).toEqual({
      role: "model",
      parts: [
        { text: "let me see", thought: true, thoughtSignature: "s1" },
        { text: "answer", thoughtSignature: "s2" },
      ],
    });
  });

  it("maps tools with cleaned schemas and every tool_choice", () => {
    const tools: ChatRequest["tools"] = [
      {
        type: "function",
        function: {
          name: "weather",
          description: "Weather for a city",
          strict: true,
          parameters: {
            $schema: "http://json-schema.org/draft-07/schema#",
            type: "object",
            additionalProperties: false,
            properties: {
              city: { type: "string", format: "uri", description: "City" },
              unit: { type: ["string", "null"], enum: ["c", "f"] },
              when: { type: "string", format: "date-time" },
              place: { $ref: "#/$defs/place" },
            },
            required: ["city", "ghost"],
            $defs: { place: { type: "object", properties: { lat: { type: "number" } } } },
          },
        },
      },
      { type: "function", function: { name: "now", parameters: { type: "object", properties: {} } } },
    ];
    const out = geminiRequest(base({ tools, tool_choice: "required" }));
    expect(out.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: "weather",
            description: "Weather for a city",
            parameters: {
              type: "OBJECT",
              properties: {
                city: { type: "STRING", description: "City" },
                unit: { type: "STRING", nullable: true, enum: ["c", "f"] },
                when: { type: "STRING", format: "date-time" },
                place: { type: "OBJECT", properties: { lat: { type: "NUMBER" } } },
              },
              required: ["city"],
            },
          },
          { name: "now" },
        ],
      },
    ]);
    expect(out.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY" } });
    expect(geminiRequest(base({ tool_choice: "none" })).toolConfig).toEqual({
      functionCallingConfig: { mode: "NONE" },
    });
    expect(geminiRequest(base({ tool_choice: "auto" })).toolConfig).toEqual({
      functionCallingConfig: { mode: "AUTO" },
    });
    expect(
      geminiRequest(base({ tool_choice: { type: "function", function: { name: "weather" } } })).toolConfig,
    ).toEqual({ functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["weather"] } });
  });

  it("cleans schemas: anyOf with null, const, oneOf, several types, recursion refused", () => {
    expect(
      geminiSchema(
        {
          anyOf: [{ type: "integer" }, { type: "null" }],
          description: "n",
        },
        "p",
      ),
    ).toEqual({ description: "n", nullable: true, type: "INTEGER" });
    expect(geminiSchema({ const: "x" }, "p")).toEqual({ enum: ["x"], type: "STRING" });
    expect(geminiSchema({ oneOf: [{ type: "string" }, { type: "number" }] }, "p")).toEqual({
      anyOf: [{ type: "STRING" }, { type: "NUMBER" }],
    });
    expect(geminiSchema({ type: ["string", "number"] }, "p")).toEqual({
      anyOf: [{ type: "STRING" }, { type: "NUMBER" }],
    });
    expect(() =>
      geminiSchema(
        {
          type: "object",
          properties: { child: { $ref: "#/$defs/node" } },
          $defs: { node: { type: "object", properties: { child: { $ref: "#/$defs/node" } } } },
        },
        "tools[0]",
      ),
    ).toThrow(/recursive/);
  });

  it("maps generation parameters, JSON modes and thinking", () => {
    const out = geminiRequest(
      base({
        max_tokens: 100,
        stop: "END",
        temperature: 0.2,
        top_p: 0.9,
        top_k: 40,
        n: 2,
        seed: 7,
        presence_penalty: 0.1,
        frequency_penalty: 0.3,
        response_format: {
          type: "json_schema",
          json_schema: { name: "r", schema: { type: "object", properties: { a: { type: "string" } } } },
        },
        thinking: { type: "enabled", budget_tokens: 2048 },
      }),
    );
    expect(out.generationConfig).toEqual({
      maxOutputTokens: 100,
      stopSequences: ["END"],
      temperature: 0.2,
      topP: 0.9,
      topK: 40,
      candidateCount: 2,
      seed: 7,
      presencePenalty: 0.1,
      frequencyPenalty: 0.3,
      responseMimeType: "application/json",
      responseSchema: { type: "OBJECT", properties: { a: { type: "STRING" } } },
      thinkingConfig: { thinkingBudget: 2048, includeThoughts: true },
    });
    expect(
      geminiRequest(base({ response_format: { type: "json_object" }, max_completion_tokens: 5 }))
        .generationConfig,
    ).toEqual({ responseMimeType: "application/json", maxOutputTokens: 5 });
    expect(geminiRequest(base({ reasoning_effort: "low" })).generationConfig).toEqual({
      thinkingConfig: { thinkingBudget: 1024, includeThoughts: true },
    });
    expect(geminiRequest(base({ thinking: { type: "disabled" } })).generationConfig).toEqual({
      thinkingConfig: { thinkingBudget: 0 },
    });
    expect(geminiRequest(base({})).generationConfig).toBeUndefined();
  });

  it("refuses a parameter Gemini cannot take unless drop_params is set", () => {
    const request = { ...base({}), logit_bias: { "42": 5 } } as ChatRequest;
    expect(() => geminiRequest(request)).toThrow(/'logit_bias'/);
    try {
      geminiRequest(base({ parallel_tool_calls: false }));
      expect.unreachable();
    } catch (error) {
      expect((error as UnsupportedRequest).param).toBe("parallel_tool_calls");
    }
    expect(geminiRequest({ ...request, drop_params: true }).contents).toHaveLength(1);
    expect(geminiRequest(base({ parallel_tool_calls: false, drop_params: true })).toolConfig).toBeUndefined();
  });
});
