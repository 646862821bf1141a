import { describe, expect, it } from "vitest";
import { InvalidRequest } from "../format.js";
import { responsesToChat } from "./request.js";

describe("Responses request → canonical chat request", () => {
  it("maps a string input, instructions and the sampling parameters", () => {
    expect(
      responsesToChat({
        model: "claude-sonnet-4-5",
        instructions: "Be brief.",
        input: "Hello",
        max_output_tokens: 256,
        temperature: 0.2,
        top_p: 0.9,
        metadata: { team: "a" },
        user: "u-1",
        parallel_tool_calls: false,
        store: false,
      }),
    ).toEqual({
      model: "claude-sonnet-4-5",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello" },
      ],
      max_tokens: 256,
      temperature: 0.2,
      top_p: 0.9,
      metadata: { team: "a" },
      user: "u-1",
      parallel_tool_calls: false,
    });
  });

  it("asks for usage when streaming", () => {
    const request = responsesToChat({ model: "m", input: "hi", stream: true });
    expect(request.stream).toBe(true);
    expect(request.stream_options).toEqual({ include_usage: true });
  });

  it("maps message items with text, image (URL and base64) and file parts", () => {
    const request = responsesToChat({
      model: "m",
      input: [
        { role: "developer", content: [{ type: "input_text", text: "rules" }] },
        {
          type: "message",
          role: "user",
          content: [
            { type: "input_text", text: "What is this?" },
            { type: "input_image", image_url: "https://example.com/a.png", detail: "low" },
            { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=" },
            { type: "input_file", filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERi0=" },
          ],
        },
      ],
    });
    expect(request.messages).toEqual([
      { role: "developer", content: [{ type: "text", text: "rules" }] },
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: "https://example.com/a.png", detail: "low" } },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=", filename: "a.pdf" } },
        ],
      },
    ]);
  });

  it("joins one turn's reasoning, message and parallel function calls into one assistant message", () => {
    const request = responsesToChat({
      model: "m",
      input: [
        { role: "user", content: "Weather in Paris and Rome?" },
        {
          type: "reasoning",
          id: "rs_1",
          summary: [],
          content: [{ type: "reasoning_text", text: "Two cities." }],
          encrypted_content: "sig-1",
        },
        {
          type: "message",
          role: "assistant",
          id: "msg_1",
          status: "completed",
          content: [{ type: "output_text", text: "Checking.", annotations: [] }],
        },
        { type: "function_call", call_id: "call_a", name: "weather", arguments: '{"city":"Paris"}' },
        { type: "function_call", call_id: "call_b", name: "weather", arguments: '{"city":"Rome"}' },
        { type: "function_call_output", call_id: "call_a", output: "18C" },
        { type: "function_call_output", call_id: "call_b", output: [{ type: "input_text", text: "21C" }] },
        { type: "reasoning", id: "rs_2", summary: [], encrypted_content: "opaque" },
        { role: "assistant", content: "Paris 18C, Rome 21C." },
      ],
    });
    expect(request.messages).toEqual([
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: "Checking.",
        thinking_blocks: [{ type: "thinking", thinking: "Two cities.", signature: "sig-1" }],
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
          { id: "call_b", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_a", content: "18C" },
      { role: "tool", tool_call_id: "call_b", content: [{ type: "text", text: "21C" }] },
      {
        role: "assistant",
        content: "Paris 18C, Rome 21C.",
        thinking_blocks: [{ type: "redacted_thinking", data: "opaque" }],
      },
    ]);
  });

  it("starts a new assistant message when a second assistant message follows one with text", () => {
    const request = responsesToChat({
      model: "m",
      input: [
        { role: "assistant", content: "one" },
        { role: "assistant", content: [{ type: "refusal", refusal: "no" }] },
      ],
    });
    expect(request.messages).toEqual([
      { role: "assistant", content: "one" },
      { role: "assistant", content: null, refusal: "no" },
    ]);
  });

  it("flattens function tools and maps tool_choice", () => {
    const request = responsesToChat({
      model: "m",
      input: "hi",
      tools: [
        {
          type: "function",
          name: "weather",
          description: "Current weather",
          parameters: { type: "object", properties: { city: { type: "string" } } },
          strict: true,
        },
      ],
      tool_choice: { type: "function", name: "weather" },
    });
    expect(request.tools).toEqual([
      {
        type: "function",
        function: {
          name: "weather",
          description: "Current weather",
          parameters: { type: "object", properties: { city: { type: "string" } } },
          strict: true,
        },
      },
    ]);
    expect(request.tool_choice).toEqual({ type: "function", function: { name: "weather" } });
    expect(responsesToChat({ model: "m", input: "hi", tool_choice: "required" }).tool_choice).toBe(
      "required",
    );
  });

  it("maps text.format json_schema and json_object to response_format", () => {
    const schema = { type: "object", properties: { a: { type: "number" } }, required: ["a"] };
    expect(
      responsesToChat({
        model: "m",
        input: "hi",
        text: { format: { type: "json_schema", name: "answer", schema, strict: true } },
      }).response_format,
    ).toEqual({ type: "json_schema", json_schema: { name: "answer", schema, strict: true } });
    expect(
      responsesToChat({ model: "m", input: "hi", text: { format: { type: "json_object" } } }).response_format,
    ).toEqual({ type: "json_object" });
  });

  it("maps reasoning.effort, and 'none' to disabled thinking", () => {
    expect(
      responsesToChat({ model: "m", input: "hi", reasoning: { effort: "high", summary: "auto" } })
        .reasoning_effort,
    ).toBe("high");
    expect(responsesToChat({ model: "m", input: "hi", reasoning: { effort: "none" } }).thinking).toEqual({
      type: "disabled",
    });
  });

  it.each([
    [{ previous_response_id: "resp_1" }, "previous_response_id"],
    [{ store: true }, "store"],
    [{ tools: [{ type: "web_search" }] }, "tools[0]"],
    [{ include: ["file_search_call.results"] }, "include"],
    [{ conversation: "conv_1" }, "conversation"],
    [{ background: true }, "background"],
    [{ truncation: "auto" }, "truncation"],
    [{ text: { verbosity: "low" } }, "text.verbosity"],
    [{ reasoning: { effort: "xhigh" } }, "reasoning.effort"],
    [{ tool_choice: { type: "web_search_preview" } }, "tool_choice"],
    [{ input: [{ type: "item_reference", id: "msg_1" }] }, "input[0]"],
    [{ input: [{ type: "web_search_call", id: "ws_1" }] }, "input[0]"],
  ])("refuses %j naming the parameter", (extra, param) => {
    let thrown: unknown;
    try {
      responsesToChat({ model: "claude-x", input: "hi", ...extra });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidRequest);
    expect((thrown as InvalidRequest).param).toBe(param);
    expect((thrown as InvalidRequest).message).toContain(param.replace(/\[0\]$/, ""));
    expect((thrown as InvalidRequest).message).toContain("drop_params");
  });

  it("drops unsupported parameters and built-in tools under drop_params", () => {
    const request = responsesToChat({
      model: "m",
      input: "hi",
      previous_response_id: "resp_1",
      store: true,
      tools: [{ type: "web_search" }, { type: "function", name: "f" }],
      drop_params: true,
    });
    expect(request).toEqual({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
      tools: [{ type: "function", function: { name: "f" } }],
      drop_params: true,
    });
  });

  it("rejects bodies of the wrong shape", () => {
    expect(() => responsesToChat([])).toThrow(InvalidRequest);
    expect(() => responsesToChat({ input: "hi" })).toThrow(/model/);
    expect(() => responsesToChat({ model: "m" })).toThrow(/'input'/);
    expect(() => responsesToChat({ model: "m", input: [{ type: "function_call", name: "f" }] })).toThrow(
      /call_id/,
    );
    expect(() => responsesToChat({ model: "m", input: [{ role: "tool", content: "x" }] })).toThrow(/role/);
  });
});
