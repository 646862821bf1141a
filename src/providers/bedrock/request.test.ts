import { describe, expect, it } from "vitest";
import type { ChatRequest } from "../../formats/canonical.js";
import { UnsupportedRequest } from "../adapter.js";
import { converseBody, JSON_TOOL } from "./request.js";

const CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0";
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

const chat = (extra: Partial<ChatRequest>): ChatRequest => ({
  model: "bedrock/x",
  messages: [{ role: "user", content: "Hi" }],
  ...extra,
});

describe("canonical → Converse request", () => {
  it("maps system prompts, turns and inference parameters", () => {
    const body = converseBody(
      chat({
        messages: [
          { role: "system", content: "Be brief." },
          {
            role: "developer",
            content: [{ type: "text", text: "Long context", cache_control: { type: "ephemeral" } }],
          },
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello!" },
          { role: "user", content: [{ type: "text", text: "How are you?" }] },
        ],
        max_tokens: 100,
        temperature: 0.5,
        top_p: 0.9,
        stop: "END",
      }),
      CLAUDE,
    );
    expect(body).toEqual({
      system: [{ text: "Be brief." }, { text: "Long context" }, { cachePoint: { type: "default" } }],
      messages: [
        { role: "user", content: [{ text: "Hi" }] },
        { role: "assistant", content: [{ text: "Hello!" }] },
        { role: "user", content: [{ text: "How are you?" }] },
      ],
      inferenceConfig: { maxTokens: 100, temperature: 0.5, topP: 0.9, stopSequences: ["END"] },
    });
  });

  it("prefers max_completion_tokens and keeps a stop list", () => {
    const body = converseBody(chat({ max_tokens: 10, max_completion_tokens: 20, stop: ["a", "b"] }), CLAUDE);
    expect(body.inferenceConfig).toEqual({ maxTokens: 20, stopSequences: ["a", "b"] });
  });

  it("turns base64 images and PDFs into bytes blocks", () => {
    const body = converseBody(
      chat({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
              {
                type: "file",
                file: { file_data: "data:application/pdf;base64,JVBERi0=", filename: "report v2.pdf" },
              },
            ],
          },
        ],
      }),
      CLAUDE,
    );
    expect(body.messages).toEqual([
      {
        role: "user",
        content: [
          { text: "What is this?" },
          { image: { format: "png", source: { bytes: PNG } } },
          { document: { format: "pdf", name: "report v2", source: { bytes: "JVBERi0=" } } },
        ],
      },
    ]);
  });

  it("refuses an image URL unless drop_params, then leaves it out", () => {
    const request = chat({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Look" },
            { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
          ],
        },
      ],
    });
    expect(() => converseBody(request, CLAUDE)).toThrow(UnsupportedRequest);
    try {
      converseBody(request, CLAUDE);
    } catch (error) {
      expect((error as UnsupportedRequest).param).toBe("messages[0]");
      expect((error as Error).message).toMatch(/base64 data URLs/);
    }
    expect(converseBody({ ...request, drop_params: true }, CLAUDE).messages).toEqual([
      { role: "user", content: [{ text: "Look" }] },
    ]);
  });

  it("refuses image types Bedrock does not read", () => {
    const request = chat({
      messages: [
        { role: "user", content: [{ type: "image_url", image_url: { url: "data:image/bmp;base64,Qk0=" } }] },
      ],
    });
    expect(() => converseBody(request, CLAUDE)).toThrow(/image\/bmp/);
  });

  it("maps tools, tool_choice, tool calls and results (parallel too), merging turns", () => {
    const body = converseBody(
      chat({
        messages: [
          { role: "user", content: "Weather in Paris and Rome?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "t1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
              { id: "t2", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: "tool", tool_call_id: "t1", content: "Sunny" },
          { role: "tool", tool_call_id: "t2", content: [{ type: "text", text: "Rain" }] },
          { role: "user", content: "Thanks" },
        ],
        tools: [
          {
            type: "function",
            function: {
              name: "weather",
              description: "Weather by city",
              parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
            },
            cache_control: { type: "ephemeral" },
          },
        ],
        tool_choice: { type: "function", function: { name: "weather" } },
      }),
      CLAUDE,
    );
    expect(body.messages).toEqual([
      { role: "user", content: [{ text: "Weather in Paris and Rome?" }] },
      {
        role: "assistant",
        content: [
          { toolUse: { toolUseId: "t1", name: "weather", input: { city: "Paris" } } },
          { toolUse: { toolUseId: "t2", name: "weather", input: { city: "Rome" } } },
        ],
      },
      {
        role: "user",
        content: [
          { toolResult: { toolUseId: "t1", content: [{ text: "Sunny" }] } },
          { toolResult: { toolUseId: "t2", content: [{ text: "Rain" }] } },
          { text: "Thanks" },
        ],
      },
    ]);
    expect(body.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: "weather",
            description: "Weather by city",
            inputSchema: {
              json: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
            },
          },
        },
        { cachePoint: { type: "default" } },
      ],
      toolChoice: { tool: { name: "weather" } },
    });
  });

  it("maps auto and required tool choices; none drops the tools", () => {
    const tools: ChatRequest["tools"] = [{ type: "function", function: { name: "f" } }];
    expect(converseBody(chat({ tools, tool_choice: "auto" }), CLAUDE).toolConfig).toMatchObject({
      toolChoice: { auto: {} },
    });
    expect(converseBody(chat({ tools, tool_choice: "required" }), CLAUDE).toolConfig).toMatchObject({
      toolChoice: { any: {} },
    });
    expect(converseBody(chat({ tools }), CLAUDE).toolConfig).toEqual({
      tools: [{ toolSpec: { name: "f", inputSchema: { json: { type: "object", properties: {} } } } }],
    });
    expect(converseBody(chat({ tools, tool_choice: "none" }), CLAUDE).toolConfig).toBeUndefined();
  });

  it("refuses tool_choice none while the history has tool calls, and parallel_tool_calls false", () => {
    const tools: ChatRequest["tools"] = [{ type: "function", function: { name: "f" } }];
    const history: ChatRequest["messages"] = [
      { role: "user", content: "go" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "a", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "a", content: "done" },
    ];
    expect(() => converseBody(chat({ messages: history, tools, tool_choice: "none" }), CLAUDE)).toThrow(
      /tool_choice/,
    );
    expect(() => converseBody(chat({ tools, parallel_tool_calls: false }), CLAUDE)).toThrow(
      UnsupportedRequest,
    );
    expect(
      converseBody(chat({ tools, parallel_tool_calls: false, drop_params: true }), CLAUDE).toolConfig,
    ).toBeDefined();
  });

  it("turns response_format into a forced JSON tool", () => {
    const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] };
    const body = converseBody(
      chat({ response_format: { type: "json_schema", json_schema: { name: "a", schema } } }),
      CLAUDE,
    );
    expect(body.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: JSON_TOOL,
            description: "Respond with JSON that follows this schema.",
            inputSchema: { json: schema },
          },
        },
      ],
      toolChoice: { tool: { name: JSON_TOOL } },
    });
    expect(converseBody(chat({ response_format: { type: "json_object" } }), CLAUDE).toolConfig).toMatchObject(
      {
        tools: [{ toolSpec: { inputSchema: { json: { type: "object" } } } }],
      },
    );
    expect(converseBody(chat({ response_format: { type: "text" } }), CLAUDE).toolConfig).toBeUndefined();
  });

  it("sends thinking and top_k to Claude as additional model request fields", () => {
    const body = converseBody(
      chat({ thinking: { type: "enabled", budget_tokens: 2048 }, top_k: 40 }),
      CLAUDE,
    );
    expect(body.additionalModelRequestFields).toEqual({
      thinking: { type: "enabled", budget_tokens: 2048 },
      top_k: 40,
    });
    expect(
      converseBody(chat({ reasoning_effort: "high" }), `us.${CLAUDE}`).additionalModelRequestFields,
    ).toEqual({ thinking: { type: "enabled", budget_tokens: 24576 } });
    expect(converseBody(chat({ top_k: 5 }), "amazon.nova-pro-v1:0").additionalModelRequestFields).toEqual({
      inferenceConfig: { topK: 5 },
    });
  });

  it("refuses thinking and top_k for models it does not know them for", () => {
    expect(() =>
      converseBody(
        chat({ thinking: { type: "enabled", budget_tokens: 1024 } }),
        "meta.llama3-8b-instruct-v1:0",
      ),
    ).toThrow(expect.objectContaining({ param: "thinking" }));
    expect(() => converseBody(chat({ top_k: 5 }), "meta.llama3-8b-instruct-v1:0")).toThrow(
      expect.objectContaining({ param: "top_k" }),
    );
    expect(
      converseBody(chat({ top_k: 5, drop_params: true }), "meta.llama3-8b-instruct-v1:0")
        .additionalModelRequestFields,
    ).toBeUndefined();
  });

  it("sends thinking blocks back first, verbatim, with redacted ones", () => {
    const body = converseBody(
      chat({
        messages: [
          { role: "user", content: "Q" },
          {
            role: "assistant",
            content: "A",
            reasoning_content: "hmm",
            thinking_blocks: [
              { type: "thinking", thinking: "hmm", signature: "sig1" },
              { type: "redacted_thinking", data: "cmVkYWN0ZWQ=" },
            ],
          },
          { role: "user", content: "Q2" },
        ],
      }),
      CLAUDE,
    );
    expect((body.messages as { content: unknown[] }[])[1]?.content).toEqual([
      { reasoningContent: { reasoningText: { text: "hmm", signature: "sig1" } } },
      { reasoningContent: { redactedContent: "cmVkYWN0ZWQ=" } },
      { text: "A" },
    ]);
  });

  it("refuses parameters Converse has no place for, and n > 1", () => {
    expect(() => converseBody(chat({ seed: 1 }), CLAUDE)).toThrow(expect.objectContaining({ param: "seed" }));
    expect(() => converseBody(chat({ presence_penalty: 0.5 }), CLAUDE)).toThrow(
      expect.objectContaining({ param: "presence_penalty" }),
    );
    expect(() => converseBody(chat({ n: 2 }), CLAUDE)).toThrow(expect.objectContaining({ param: "n" }));
    expect(converseBody(chat({ seed: 1, n: 2, drop_params: true }), CLAUDE)).toEqual({
      messages: [{ role: "user", content: [{ text: "Hi" }] }],
    });
    expect(converseBody(chat({ seed: 1 }), CLAUDE, true)).toEqual({
      messages: [{ role: "user", content: [{ text: "Hi" }] }],
    });
  });

  it("refuses a 1h cache TTL, and strict tool schemas", () => {
    expect(() =>
      converseBody(
        chat({
          messages: [
            {
              role: "system",
              content: [{ type: "text", text: "s", cache_control: { type: "ephemeral", ttl: "1h" } }],
            },
            { role: "user", content: "x" },
          ],
        }),
        CLAUDE,
      ),
    ).toThrow(/1h/);
    expect(() =>
      converseBody(chat({ tools: [{ type: "function", function: { name: "f", strict: true } }] }), CLAUDE),
    ).toThrow(expect.objectContaining({ param: "tools[0].function.strict" }));
  });

  it("tags the invocation with user and metadata", () => {
    expect(converseBody(chat({ user: "u-1", metadata: { team: "a" } }), CLAUDE).requestMetadata).toEqual({
      team: "a",
      user: "u-1",
    });
  });

  it("rejects tool call arguments that are not JSON", () => {
    expect(() =>
      converseBody(
        chat({
          messages: [
            { role: "user", content: "x" },
            {
              role: "assistant",
              content: null,
              tool_calls: [{ id: "a", type: "function", function: { name: "f", arguments: "{oops" } }],
            },
          ],
        }),
        CLAUDE,
      ),
    ).toThrow(expect.objectContaining({ param: "messages[1].tool_calls[0].function.arguments" }));
  });
});
