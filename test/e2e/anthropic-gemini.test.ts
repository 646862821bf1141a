import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeminiMockServer, startGeminiMock } from "../../bench/mock/gemini-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// Anthropic's SDK (as Claude Code and other Anthropic-built tools use it) through /anthropic to a Gemini
// model: the Messages request is converted to generateContent and the answer back to a Message.

let gemini: GeminiMockServer;
let gateway: RunningGateway;
let client: Anthropic;

beforeAll(async () => {
  gemini = await startGeminiMock({ requireKey: "gm-provider-key", streamChunks: 4 });
  gateway = await startGateway({
    env: { GEMINI_API_KEY: "gm-provider-key", GEMINI_BASE_URL: gemini.url },
    args: ["--lanes", "1"],
  });
  client = new Anthropic({ baseURL: `${gateway.url}/anthropic`, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.stop();
  await gemini?.close();
});

const lastBody = () => JSON.parse(gemini.stats.lastRequest?.body ?? "{}") as Record<string, unknown>;

describe("Anthropic SDK → Gemini provider", () => {
  it("answers a message with a Gemini model, system prompt as systemInstruction [gemini: chat]", async () => {
    const message = await client.messages.create({
      model: "gemini/gemini-2.5-flash",
      max_tokens: 128,
      system: "Be brief.",
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(message.type).toBe("message");
    expect(message.role).toBe("assistant");
    const text = message.content.find((block) => block.type === "text");
    expect(text?.type === "text" && text.text).toContain("Mock Gemini reply.");
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(gemini.stats.lastRequest?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(lastBody().systemInstruction).toEqual({ parts: [{ text: "Be brief." }] });
    expect(lastBody().generationConfig).toMatchObject({ maxOutputTokens: 128 });
  });

  it("streams Anthropic's event sequence from Gemini's SSE chunks [gemini: stream]", async () => {
    const stream = client.messages.stream({
      model: "gemini/gemini-2.5-flash",
      max_tokens: 64,
      messages: [{ role: "user", content: "Count" }],
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalMessage();
    expect(types[0]).toBe("message_start");
    expect(types).toContain("content_block_delta");
    expect(types.at(-1)).toBe("message_stop");
    const text = final.content.find((block) => block.type === "text");
    expect(text?.type === "text" && text.text.length).toBeGreaterThan(0);
    expect(gemini.stats.lastRequest?.path).toBe(
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
  });

  it("turns a forced tool into a functionCall and takes the tool result back [gemini: tools]", async () => {
    const tools: Anthropic.Tool[] = [
      {
        name: "get_weather",
        input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    ];
    const first = await client.messages.create({
      model: "gemini/gemini-2.5-flash",
      max_tokens: 64,
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools,
      tool_choice: { type: "any" },
    });
    const use = first.content.find((block) => block.type === "tool_use");
    expect(first.stop_reason).toBe("tool_use");
    expect(use?.type === "tool_use" && use.name).toBe("get_weather");
    expect(use?.type === "tool_use" && use.input).toEqual({ city: "mock-city" });
    expect(lastBody().toolConfig).toEqual({ functionCallingConfig: { mode: "ANY" } });

    const second = await client.messages.create({
      model: "gemini/gemini-2.5-flash",
      max_tokens: 64,
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: first.content },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: use?.type === "tool_use" ? use.id : "",
              content: '{"temp": 21}',
            },
          ],
        },
      ],
      tools,
    });
    expect(second.content.find((block) => block.type === "text")).toMatchObject({
      text: "The function said: done.",
    });
    const contents = lastBody().contents as { role: string; parts: Record<string, unknown>[] }[];
    expect(contents[2]?.parts[0]).toEqual({
      functionResponse: { name: "get_weather", response: { temp: 21 } },
    });
  });

  it("reports Gemini's errors in Anthropic's shape with the provider's status", async () => {
    const error = await client.messages
      .create({ model: "gemini/mock-error-429", max_tokens: 16, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as InstanceType<typeof Anthropic.RateLimitError>).error).toMatchObject({ type: "error" });
  });
});
