import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BedrockMock,
  MOCK_ACCESS_KEY,
  MOCK_SECRET_KEY,
  startBedrockMock,
} from "../../bench/mock/bedrock-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// The official Anthropic SDK on the gateway's /anthropic routes, to Claude on Bedrock: Messages → canonical
// → Converse (SigV4-signed, verified by the mock) and back, plain and streamed.

const CLAUDE = "anthropic.claude-3-7-sonnet-20250219-v1:0";
const MODEL = `bedrock/${CLAUDE}`;
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

let mock: BedrockMock;
let gateway: RunningGateway;
let client: Anthropic;

const lastBody = () => JSON.parse(mock.stats.lastRequest?.body ?? "{}");

beforeAll(async () => {
  mock = await startBedrockMock({ region: "eu-central-1" });
  gateway = await startGateway({
    env: {
      AWS_ACCESS_KEY_ID: MOCK_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: MOCK_SECRET_KEY,
      AWS_DEFAULT_REGION: "eu-central-1",
      BEDROCK_BASE_URL: mock.url,
    },
  });
  client = new Anthropic({ baseURL: `${gateway.url}/anthropic`, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
});

describe("Anthropic SDK → Claude on Bedrock", () => {
  it("a message: system with cache_control, text, stop reason and usage with cache counts [bedrock: chat]", async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 200,
      system: [{ type: "text", text: "Long shared context", cache_control: { type: "ephemeral" } }],
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(message.type).toBe("message");
    expect(message.content).toEqual([
      expect.objectContaining({ type: "text", text: `Hello from Bedrock (${CLAUDE}).` }),
    ]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.cache_read_input_tokens).toBe(20);
    expect(message.usage.cache_creation_input_tokens).toBe(10);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(lastBody()).toMatchObject({
      system: [{ text: "Long shared context" }, { cachePoint: { type: "default" } }],
      messages: [{ role: "user", content: [{ text: "Say hello" }] }],
      inferenceConfig: { maxTokens: 200 },
    });
    expect(mock.stats.lastRequest?.headers.authorization).toMatch(/\/eu-central-1\/bedrock\/aws4_request/);
  });

  it("thinking: the budget goes to Claude, the signed block comes back and is sent back verbatim [bedrock: reasoning]", async () => {
    const first = await client.messages.create({
      model: MODEL,
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 2000 },
      messages: [{ role: "user", content: "Think first" }],
    });
    expect(lastBody().additionalModelRequestFields).toEqual({
      thinking: { type: "enabled", budget_tokens: 2000 },
    });
    const thinking = first.content.find((block) => block.type === "thinking");
    expect(thinking).toMatchObject({
      thinking: "Let me think about this step by step.",
      signature: `sig-${CLAUDE}-mock`,
    });

    await client.messages.create({
      model: MODEL,
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 2000 },
      messages: [
        { role: "user", content: "Think first" },
        { role: "assistant", content: first.content as Anthropic.ContentBlockParam[] },
        { role: "user", content: "And again" },
      ],
    });
    expect(lastBody().messages[1].content[0]).toEqual({
      reasoningContent: {
        reasoningText: { text: "Let me think about this step by step.", signature: `sig-${CLAUDE}-mock` },
      },
    });
  });

  it("tools: tool_use comes back, tool_result goes back as toolResult [bedrock: tools]", async () => {
    const tools: Anthropic.Tool[] = [
      {
        name: "get_weather",
        description: "Weather by city",
        input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
    ];
    const first = await client.messages.create({
      model: MODEL,
      max_tokens: 200,
      tools,
      tool_choice: { type: "tool", name: "get_weather" },
      messages: [{ role: "user", content: "Weather in Oslo?" }],
    });
    expect(lastBody().toolConfig.toolChoice).toEqual({ tool: { name: "get_weather" } });
    expect(first.stop_reason).toBe("tool_use");
    const use = first.content.find((block) => block.type === "tool_use") as Anthropic.ToolUseBlock;
    expect(use).toMatchObject({ name: "get_weather", input: { city: "mock" } });

    const second = await client.messages.create({
      model: MODEL,
      max_tokens: 200,
      tools,
      messages: [
        { role: "user", content: "Weather in Oslo?" },
        { role: "assistant", content: first.content as Anthropic.ContentBlockParam[] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "4 C, snow" }] },
      ],
    });
    expect(second.content[0]).toMatchObject({ type: "text", text: "The tool answered." });
    expect(lastBody().messages[2].content[0]).toEqual({
      toolResult: { toolUseId: use.id, content: [{ text: "4 C, snow" }] },
    });
  });

  it("images: a base64 image block goes as bytes [bedrock: vision]", async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
            { type: "text", text: "What is this?" },
          ],
        },
      ],
    });
    expect(message.content[0]).toMatchObject({ type: "text", text: "I see 1 image." });
    expect(lastBody().messages[0].content[0]).toEqual({ image: { format: "png", source: { bytes: PNG } } });
  });

  it("streams: thinking, text, then tool use, through Anthropic's event sequence [bedrock: stream, reasoning]", async () => {
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: "Stream it" }],
    });
    const events: string[] = [];
    stream.on("streamEvent", (event) => events.push(event.type));
    const final = await stream.finalMessage();
    expect(mock.stats.lastRequest?.path).toMatch(/\/converse-stream$/);
    expect(events[0]).toBe("message_start");
    expect(events.at(-1)).toBe("message_stop");
    expect(final.content.map((block) => block.type)).toEqual(["thinking", "text"]);
    expect(final.content[0]).toMatchObject({ signature: `sig-${CLAUDE}-mock` });
    expect(final.content[1]).toMatchObject({ text: `Hello from Bedrock (${CLAUDE}).` });
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it("errors keep Bedrock's status in Anthropic's error shape", async () => {
    for (const [status, kind] of [
      [400, Anthropic.BadRequestError],
      [429, Anthropic.RateLimitError],
      [503, Anthropic.InternalServerError],
    ] as const) {
      const error = await client.messages
        .create({
          model: `bedrock/mock-error-${status}`,
          max_tokens: 10,
          messages: [{ role: "user", content: "x" }],
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(kind);
      expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(status);
    }
  });
});
