import { describe, expect, it } from "vitest";
import type { ChatRequest } from "../../formats/canonical.js";
import { UnsupportedRequest } from "../adapter.js";
import { anthropicRequest, DEFAULT_MAX_TOKENS, EFFORT_BUDGETS, JSON_TOOL } from "./request.js";

const base = (extra: Partial<ChatRequest>): ChatRequest => ({
  model: "anthropic/claude-sonnet-4-5",
  messages: [{ role: "user", content: "hi" }],
  ...extra,
});

describe("canonical → Anthropic request", () => {
  it("hoists system and developer messages, keeps cache_control, defaults max_tokens", () => {
    const out = anthropicRequest(
      base({
        messages: [
          {
            role: "system",
            content: [{ type: "text", text: "rules", cache_control: { type: "ephemeral" } }],
          },
          { role: "developer", content: "more rules" },
          { role: "user", content: "hi" },
        ],
      }),
      "claude-sonnet-4-5",
    );
    expect(out).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: DEFAULT_MAX_TOKENS,
      system: [
        { type: "text", text: "rules", cache_control: { type: "ephemeral" } },
        { type: "text", text: "more rules" },
      ],
      messages: [{ role: "user", content: "hi" }],
    });
  });

  it("sends a single plain system prompt as a string", () => {
    const out = anthropicRequest(
      base({
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: "hi" },
        ],
      }),
      "m",
    );
    expect(out.system).toBe("be brief");
  });

  it("merges consecutive same-role turns and converts images by URL and base64", () => {
    const out = anthropicRequest(
      base({
        messages: [
          { role: "user", content: "first" },
          {
            role: "user",
            content: [
              { type: "text", text: "look" },
              { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
              {
                type: "image_url",
                image_url: { url: "data:image/png;base64,iVBORw0KGgo=" },
                cache_control: { type: "ephemeral" },
              },
            ],
          },
        ],
      }),
      "m",
    );
    expect(out.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "first" },
          { type: "text", text: "look" },
          { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
          {
            type: "image",
            source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" },
            cache_control: { type: "ephemeral" },
          },
        ],
      },
    ]);
  });

  it("turns tool calls into tool_use and parallel tool results into one user turn", () => {
    const out = anthropicRequest(
      base({
        messages: [
          { role: "user", content: "weather in Paris and Rome?" },
          {
            role: "assistant",
            content: "Checking.",
            thinking_blocks: [{ type: "thinking", thinking: "two cities", signature: "sig1" }],
            tool_calls: [
              {
                id: "call_1",
                type: "function",
                function: { name: "weather", arguments: '{"city":"Paris"}' },
              },
              { id: "call_2", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: "tool", tool_call_id: "call_1", content: "sunny" },
          { role: "tool", tool_call_id: "call_2", content: [{ type: "text", text: "rainy" }] },
          { role: "user", content: "thanks" },
        ],
      }),
      "m",
    );
    expect(out.messages).toEqual([
      { role: "user", content: "weather in Paris and Rome?" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "two cities", signature: "sig1" },
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "call_1", name: "weather", input: { city: "Paris" } },
          { type: "tool_use", id: "call_2", name: "weather", input: { city: "Rome" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_1", content: "sunny" },
          { type: "tool_result", tool_use_id: "call_2", content: [{ type: "text", text: "rainy" }] },
          { type: "text", text: "thanks" },
        ],
      },
    ]);
  });

  it("maps tools, tool_choice and parallel_tool_calls", () => {
    const tools: ChatRequest["tools"] = [
      {
        type: "function",
        function: { name: "weather", description: "Weather", parameters: { type: "object", properties: {} } },
        cache_control: { type: "ephemeral" },
      },
    ];
    const out = anthropicRequest(base({ tools, tool_choice: "required", parallel_tool_calls: false }), "m");
    expect(out.tools).toEqual([
      {
        name: "weather",
        description: "Weather",
        input_schema: { type: "object", properties: {} },
        cache_control: { type: "ephemeral" },
      },
    ]);
    expect(out.tool_choice).toEqual({ type: "any", disable_parallel_tool_use: true });
    expect(anthropicRequest(base({ tools, tool_choice: "auto" }), "m").tool_choice).toEqual({ type: "auto" });
    expect(anthropicRequest(base({ tools, tool_choice: "none" }), "m").tool_choice).toEqual({ type: "none" });
    expect(
      anthropicRequest(base({ tools, tool_choice: { type: "function", function: { name: "weather" } } }), "m")
        .tool_choice,
    ).toEqual({ type: "tool", name: "weather" });
    expect(anthropicRequest(base({ tools, parallel_tool_calls: false }), "m").tool_choice).toEqual({
      type: "auto",
      disable_parallel_tool_use: true,
    });
  });

  it("maps sampling parameters, stop and user", () => {
    const out = anthropicRequest(
      base({
        max_completion_tokens: 100,
        temperature: 0.2,
        top_p: 0.9,
        top_k: 40,
        stop: "END",
        stream: true,
        user: "u-1",
      }),
      "m",
    );
    expect(out).toMatchObject({
      max_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ["END"],
      stream: true,
      metadata: { user_id: "u-1" },
    });
  });

  it("maps thinking budgets and reasoning_effort, raising the default max_tokens above the budget", () => {
    const thinking = anthropicRequest(base({ thinking: { type: "enabled", budget_tokens: 10000 } }), "m");
    expect(thinking.thinking).toEqual({ type: "enabled", budget_tokens: 10000 });
    expect(thinking.max_tokens).toBe(10000 + DEFAULT_MAX_TOKENS);
    const effort = anthropicRequest(base({ reasoning_effort: "medium", max_tokens: 20000 }), "m");
    expect(effort.thinking).toEqual({ type: "enabled", budget_tokens: EFFORT_BUDGETS.medium });
    expect(effort.max_tokens).toBe(20000);
  });

  it("maps response_format json_schema to output_config and json_object to a forced tool", () => {
    const schema = { type: "object", properties: { a: { type: "string" } }, required: ["a"] };
    const out = anthropicRequest(
      base({ response_format: { type: "json_schema", json_schema: { name: "x", schema } } }),
      "m",
    );
    expect(out.output_config).toEqual({ format: { type: "json_schema", schema } });
    const json = anthropicRequest(base({ response_format: { type: "json_object" } }), "m");
    expect(json.tools?.[0]?.name).toBe(JSON_TOOL);
    expect(json.tool_choice).toEqual({ type: "tool", name: JSON_TOOL });
  });

  it("refuses parameters without an equivalent unless drop_params is set", () => {
    expect(() => anthropicRequest(base({ seed: 1 }), "m")).toThrow(UnsupportedRequest);
    expect(() => anthropicRequest(base({ n: 2 }), "m")).toThrow(/'n'/);
    expect(() => anthropicRequest(base({ frequency_penalty: 0.5 }), "m")).toThrow(/frequency_penalty/);
    const dropped = anthropicRequest(base({ seed: 1, n: 2, presence_penalty: 1, drop_params: true }), "m");
    expect(dropped).not.toHaveProperty("seed");
    expect(dropped).not.toHaveProperty("n");
  });

  it("refuses documents given by file id", () => {
    expect(() =>
      anthropicRequest(
        base({ messages: [{ role: "user", content: [{ type: "file", file: { file_id: "file-1" } }] }] }),
        "m",
      ),
    ).toThrow(UnsupportedRequest);
  });

  it("sends inline PDFs as document blocks", () => {
    const out = anthropicRequest(
      base({
        messages: [
          {
            role: "user",
            content: [
              {
                type: "file",
                file: { file_data: "data:application/pdf;base64,JVBERi0=", filename: "a.pdf" },
              },
            ],
          },
        ],
      }),
      "m",
    );
    expect(out.messages[0]?.content).toEqual([
      {
        type: "document",
        source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" },
        title: "a.pdf",
      },
    ]);
  });
});
