import { describe, expect, it } from "vitest";
import { anthropicFormat } from "./anthropic/format.js";
import { InvalidRequest } from "./format.js";
import { geminiFormat } from "./gemini/format.js";
import { openAIFormat } from "./openai/format.js";
import { responsesFormat } from "./responses/format.js";
import { checkChatRequest } from "./validate.js";

// Bodies of the wrong shape in each inbound format: each field of a valid body is replaced in turn by each
// wrong value, and every result converts or is an InvalidRequest (a 400 naming the field), never a
// TypeError from inside a converter.

const WRONG: readonly unknown[] = [null, 42, "x", true, [], {}, [null], { type: null }];

function convert(format: typeof openAIFormat, body: unknown, pathModel?: string): void {
  checkChatRequest(format.toCanonical(structuredClone(body), pathModel, false));
}

/** Every path into `value`. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== "object" || value === null) return [];
  const out: (string | number)[][] = [];
  for (const [key, item] of Object.entries(value)) {
    const at = [...prefix, Array.isArray(value) ? Number(key) : key];
    out.push(at, ...paths(item, at));
  }
  return out;
}

function replaced(body: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1] as string | number] = structuredClone(value);
  return copy;
}

function expectOnlyInvalid(format: typeof openAIFormat, body: unknown, pathModel?: string): void {
  const crashes: string[] = [];
  for (const path of paths(body)) {
    for (const value of WRONG) {
      const mutated = replaced(body, path, value);
      try {
        convert(format, mutated, pathModel);
      } catch (error) {
        if (!(error instanceof InvalidRequest))
          crashes.push(`${path.join(".")} = ${JSON.stringify(value)}: ${(error as Error).message}`);
      }
    }
  }
  expect(crashes).toEqual([]);
}

const SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

describe("malformed bodies are invalid requests", () => {
  it("OpenAI chat", () => {
    expectOnlyInvalid(openAIFormat, {
      model: "m",
      messages: [
        { role: "system", content: "s" },
        {
          role: "user",
          content: [
            { type: "text", text: "t" },
            { type: "image_url", image_url: { url: "u" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "c", content: "r" },
      ],
      tools: [{ type: "function", function: { name: "f", parameters: SCHEMA } }],
      tool_choice: { type: "function", function: { name: "f" } },
      response_format: { type: "json_schema", json_schema: { name: "n", schema: SCHEMA } },
      stop: ["x"],
    });
  });

  it("Anthropic messages", () => {
    expectOnlyInvalid(anthropicFormat, {
      model: "m",
      max_tokens: 5,
      system: [{ type: "text", text: "s" }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "t" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "AA==" } },
          ],
        },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "f", input: { a: 1 } }] },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: "r" }] }],
        },
      ],
      tools: [{ name: "f", description: "d", input_schema: SCHEMA }],
      tool_choice: { type: "tool", name: "f" },
      stop_sequences: ["x"],
      thinking: { type: "enabled", budget_tokens: 1024 },
    });
  });

  it("Gemini generateContent", () => {
    expectOnlyInvalid(
      geminiFormat,
      {
        systemInstruction: { parts: [{ text: "s" }] },
        contents: [
          { role: "user", parts: [{ text: "t" }, { inlineData: { mimeType: "image/png", data: "AA==" } }] },
          { role: "model", parts: [{ functionCall: { name: "f", args: { a: 1 } } }] },
          { role: "user", parts: [{ functionResponse: { name: "f", response: { r: 1 } } }] },
        ],
        tools: [{ functionDeclarations: [{ name: "f", parameters: SCHEMA }] }],
        toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["f"] } },
        generationConfig: { maxOutputTokens: 5, stopSequences: ["x"], responseSchema: SCHEMA },
      },
      "gemini-2.5-flash",
    );
  });

  it("Responses API", () => {
    expectOnlyInvalid(responsesFormat, {
      model: "m",
      instructions: "s",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "t" },
            { type: "input_image", image_url: "u" },
          ],
        },
        { type: "function_call", call_id: "c", name: "f", arguments: "{}" },
        { type: "function_call_output", call_id: "c", output: "r" },
      ],
      tools: [{ type: "function", name: "f", parameters: SCHEMA }],
      tool_choice: { type: "function", name: "f" },
      text: { format: { type: "json_schema", name: "n", schema: SCHEMA } },
      reasoning: { effort: "low" },
    });
  });
});
