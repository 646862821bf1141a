import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AzureMockServer, startAzureMock } from "../../bench/mock/azure-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// OpenAI and Anthropic SDKs through the gateway to a mock Azure OpenAI resource: OpenAI clients' bodies
// pass through as bytes to the deployment URL; Anthropic clients' requests are converted.

const API_VERSION = "2024-10-21";
let mock: AzureMockServer;
let gateway: RunningGateway;
let client: OpenAI;
let dir: string;

beforeAll(async () => {
  mock = await startAzureMock({ apiKey: "azure-secret" });
  dir = mkdtempSync(join(tmpdir(), "switchyard-azure-"));
  const config = {
    providers: {
      azure: {
        keys: [
          {
            name: "east",
            value: "azure-secret",
            models: ["*"],
            azure_key_config: {
              endpoint: mock.url,
              api_version: API_VERSION,
              deployments: { "gpt-4o-mini": "prod-mini" },
            },
          },
        ],
      },
    },
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  gateway = await startGateway({ args: ["--config", join(dir, "config.json"), "--lanes", "1"] });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("OpenAI SDK to Azure", () => {
  it("sends chat to the model's deployment with the api-key header [azure: chat]", async () => {
    const completion = await client.chat.completions.create({
      model: "azure/gpt-4o-mini",
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    const upstream = mock.stats.lastRequest;
    expect(upstream?.path).toBe(`/openai/deployments/prod-mini/chat/completions?api-version=${API_VERSION}`);
    expect(upstream?.headers["api-key"]).toBe("azure-secret");
    expect(upstream?.headers.authorization).toBeUndefined();
    expect(JSON.parse(upstream?.body ?? "{}")).toMatchObject({ model: "gpt-4o-mini" });
  });

  it("uses the model name as the deployment when no entry maps it", async () => {
    await client.chat.completions.create({
      model: "azure/gpt-4.1",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(mock.stats.lastRequest?.path).toBe(
      `/openai/deployments/gpt-4.1/chat/completions?api-version=${API_VERSION}`,
    );
  });

  it("streams, with Azure's prompt-filter chunk and the usage chunk [azure: stream]", async () => {
    const stream = await client.chat.completions.create({
      model: "azure/gpt-4o-mini",
      messages: [{ role: "user", content: "Count" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe("stop");
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("creates embeddings at the deployment's /embeddings [azure: embeddings]", async () => {
    const result = await client.embeddings.create({
      model: "azure/text-embedding-3-small",
      input: ["a", "b"],
    });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(mock.stats.lastRequest?.path).toBe(
      `/openai/deployments/text-embedding-3-small/embeddings?api-version=${API_VERSION}`,
    );
  });

  it("passes Azure's 429 through as a rate-limit error", async () => {
    const error = await client.chat.completions
      .create({ model: "azure/mock-error-429", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as Error).message).toContain("exceeded token rate limit");
  });
});

describe("Anthropic SDK to Azure", () => {
  it("converts a message and its streamed form [azure: chat, stream]", async () => {
    const anthropic = new Anthropic({
      baseURL: `${gateway.url}/anthropic`,
      apiKey: "client-key",
      maxRetries: 0,
    });
    const message = await anthropic.messages.create({
      model: "azure/gpt-4o-mini",
      max_tokens: 64,
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(message.role).toBe("assistant");
    expect(message.content[0]?.type).toBe("text");
    expect(mock.stats.lastRequest?.path).toBe(
      `/openai/deployments/prod-mini/chat/completions?api-version=${API_VERSION}`,
    );

    const stream = anthropic.messages.stream({
      model: "azure/gpt-4o-mini",
      max_tokens: 64,
      messages: [{ role: "user", content: "Count" }],
    });
    const final = await stream.finalMessage();
    expect(final.content[0]?.type === "text" && final.content[0].text.length).toBeGreaterThan(0);
    expect(final.stop_reason).toBe("end_turn");
  });
});

describe("tools and images on Azure", () => {
  const weather: OpenAI.ChatCompletionTool = {
    type: "function",
    function: {
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  };

  it("returns tool calls and takes tool results back, plain and streamed [azure: tools, stream]", async () => {
    const first = await client.chat.completions.create({
      model: "azure/gpt-4o-mini",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weather],
      tool_choice: "required",
    });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "mock" });
    expect(mock.stats.lastRequest?.path).toBe(
      `/openai/deployments/prod-mini/chat/completions?api-version=${API_VERSION}`,
    );
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}")).toMatchObject({
      tools: [weather],
      tool_choice: "required",
    });

    await client.chat.completions.create({
      model: "azure/gpt-4o-mini",
      messages: [
        { role: "user", content: "Weather in Paris?" },
        first.choices[0]?.message as OpenAI.ChatCompletionMessageParam,
        { role: "tool", tool_call_id: call?.id ?? "", content: "sunny" },
      ],
      tools: [weather],
    });
    const sent = JSON.parse(mock.stats.lastRequest?.body ?? "{}") as { messages: unknown[] };
    expect(sent.messages[2]).toEqual({ role: "tool", tool_call_id: call?.id, content: "sunny" });

    const stream = await client.chat.completions.create({
      model: "azure/gpt-4o-mini",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weather],
      stream: true,
    });
    let name = "";
    let args = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      name += delta?.tool_calls?.[0]?.function?.name ?? "";
      args += delta?.tool_calls?.[0]?.function?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe("get_weather");
    expect(JSON.parse(args)).toEqual({ city: "mock" });
    expect(finish).toBe("tool_calls");
  });

  it("sends image content to the deployment untouched [azure: vision]", async () => {
    const content: OpenAI.ChatCompletionContentPart[] = [
      { type: "text", text: "Describe" },
      { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "high" } },
      { type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQSkZJRg==" } },
    ];
    const completion = await client.chat.completions.create({
      model: "azure/gpt-4o-mini",
      messages: [{ role: "user", content }],
    });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}").messages).toEqual([{ role: "user", content }]);
  });

  it("converts an Anthropic client's tools and images to Azure's OpenAI shape [azure: tools, vision]", async () => {
    const anthropic = new Anthropic({
      baseURL: `${gateway.url}/anthropic`,
      apiKey: "client-key",
      maxRetries: 0,
    });
    const message = await anthropic.messages.create({
      model: "azure/gpt-4o-mini",
      max_tokens: 64,
      tools: [
        {
          name: "get_weather",
          input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      ],
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            { type: "image", source: { type: "url", url: "https://example.com/map.png" } },
            { type: "text", text: "Weather where this is?" },
          ],
        },
      ],
    });
    expect(message.stop_reason).toBe("tool_use");
    const toolUse = message.content.find((block) => block.type === "tool_use");
    expect(toolUse?.type === "tool_use" && toolUse.name).toBe("get_weather");
    expect(toolUse?.type === "tool_use" && toolUse.input).toEqual({ city: "mock" });
    const sent = JSON.parse(mock.stats.lastRequest?.body ?? "{}");
    expect(sent.messages[0].content).toEqual([
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      { type: "image_url", image_url: { url: "https://example.com/map.png" } },
      { type: "text", text: "Weather where this is?" },
    ]);
    expect(sent.tools[0]).toMatchObject({ type: "function", function: { name: "get_weather" } });
  });
});
