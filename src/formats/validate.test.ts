import { describe, expect, it } from "vitest";
import type { ChatRequest } from "./canonical.js";
import { InvalidRequest } from "./format.js";
import { checkChatRequest, MAX_SCHEMA_DEPTH } from "./validate.js";

const request = (fields: Record<string, unknown>): ChatRequest =>
  ({ model: "m", messages: [{ role: "user", content: "hi" }], ...fields }) as unknown as ChatRequest;

function paramOf(body: ChatRequest): string | null {
  try {
    checkChatRequest(body);
  } catch (error) {
    if (error instanceof InvalidRequest) return error.param;
    throw error;
  }
  return null;
}

/** A schema whose objects nest `depth` deep (or one less: each level of properties is two). */
function nested(depth: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: "string" };
  for (let level = 1; level + 2 <= depth; level += 2) schema = { type: "object", properties: { a: schema } };
  return schema;
}

describe("checkChatRequest", () => {
  it("accepts a well-formed request", () => {
    expect(
      paramOf(
        request({
          messages: [
            { role: "system", content: [{ type: "text", text: "s" }] },
            { role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] },
            {
              role: "assistant",
              content: null,
              tool_calls: [{ id: "c", function: { name: "f", arguments: "{}" } }],
            },
            { role: "tool", tool_call_id: "c", content: "r" },
          ],
          tools: [{ type: "function", function: { name: "f", parameters: nested(MAX_SCHEMA_DEPTH) } }],
          tool_choice: "auto",
          stop: "x",
        }),
      ),
    ).toBeNull();
  });

  it.each([
    [{ messages: [null] }, "messages[0]"],
    [{ messages: [{ role: "user", content: 42 }] }, "messages[0].content"],
    [{ messages: [{ role: "user" }] }, "messages[0].content"],
    [{ messages: [{ role: "user", content: [null] }] }, "messages[0].content[0]"],
    [{ messages: [{ role: "user", content: [{ type: "text", text: 1 }] }] }, "messages[0].content[0].text"],
    [
      { messages: [{ role: "user", content: [{ type: "image_url" }] }] },
      "messages[0].content[0].image_url.url",
    ],
    [{ messages: [{ role: "assistant", content: null, tool_calls: {} }] }, "messages[0].tool_calls"],
    [
      { messages: [{ role: "assistant", content: "", tool_calls: [{ id: "c", function: null }] }] },
      "messages[0].tool_calls[0].function",
    ],
    [
      { messages: [{ role: "assistant", content: "", tool_calls: [{ id: null, function: {} }] }] },
      "messages[0].tool_calls[0].id",
    ],
    [
      { messages: [{ role: "assistant", content: "", tool_calls: [{ id: "c", function: { name: "f" } }] }] },
      "messages[0].tool_calls[0].function.arguments",
    ],
    [{ messages: [{ role: "tool", content: "r" }] }, "messages[0].tool_call_id"],
    [{ tools: [{ type: "function", function: { parameters: {} } }] }, "tools[0].function.name"],
    [
      { tools: [{ type: "function", function: { name: "f", parameters: [] } }] },
      "tools[0].function.parameters",
    ],
    [{ tool_choice: 3 }, "tool_choice"],
    [{ response_format: { type: "json_schema", json_schema: "x" } }, "response_format.json_schema"],
    [{ stop: [1] }, "stop"],
    [{ temperature: "hot" }, "temperature"],
  ])("names the field of the wrong type: %j", (fields, param) => {
    expect(paramOf(request(fields))).toBe(param);
  });

  it("refuses a tool schema nested deeper than the bound, without recursing", () => {
    const deep = request({
      tools: [{ type: "function", function: { name: "f", parameters: nested(MAX_SCHEMA_DEPTH + 2) } }],
    });
    expect(paramOf(deep)).toBe("tools[0].function.parameters");
    let schema: Record<string, unknown> = {};
    for (let level = 0; level < 100_000; level++) schema = { properties: { a: schema } };
    const deeper = request({ response_format: { type: "json_schema", json_schema: { name: "n", schema } } });
    expect(paramOf(deeper)).toBe("response_format.json_schema.schema");
  });

  it("reads null optional fields as absent", () => {
    const body = request({
      tools: null,
      stop: null,
      messages: [{ role: "assistant", content: null, tool_calls: null, name: null }],
    });
    expect(paramOf(body)).toBeNull();
    expect(body).toEqual({ model: "m", messages: [{ role: "assistant", content: null }] });
  });
});
