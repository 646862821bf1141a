import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CohereMockServer, startCohereMock } from "../../bench/mock/cohere-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// OpenAI and Anthropic SDKs through the gateway to a mock Cohere speaking the v2 wire format.

let mock: CohereMockServer;
let gateway: RunningGateway;
let client: OpenAI;
let dir: string;

const weather: OpenAI.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

beforeAll(async () => {
  mock = await startCohereMock({ requireKey: "co-secret", embeddingDims: 8 });
  dir = mkdtempSync(join(tmpdir(), "switchyard-cohere-"));
  const config = {
    providers: {
      cohere: {
        network_config: { base_url: mock.url },
        keys: [{ name: "co", value: "co-secret", models: ["*"] }],
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

describe("OpenAI SDK to Cohere", () => {
  it("converts a chat completion [cohere: chat]", async () => {
    const completion = await client.chat.completions.create({
      model: "cohere/command-a-03-2025",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
      max_tokens: 50,
      top_p: 0.5,
    });
    expect(completion.model).toBe("cohere/command-a-03-2025");
    expect(completion.choices[0]?.message.content).toContain("Switchyard");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    expect(mock.stats.lastRequest?.path).toBe("/v2/chat");
    expect(mock.stats.lastRequest?.headers.authorization).toBe("Bearer co-secret");
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}")).toEqual({
      model: "command-a-03-2025",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
      max_tokens: 50,
      p: 0.5,
    });
  });

  it("streams with include_usage [cohere: stream]", async () => {
    const stream = await client.chat.completions.create({
      model: "cohere/command-a-03-2025",
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
    expect(text).toBe("Switchyard mock Cohere reply text. ");
    expect(finish).toBe("stop");
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it("returns tool calls and takes the tool results back [cohere: tools]", async () => {
    const first = await client.chat.completions.create({
      model: "cohere/command-a-03-2025",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weather],
    });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    if (call?.type !== "function") throw new Error("no function call");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "mock" });

    const second = await client.chat.completions.create({
      model: "cohere/command-a-03-2025",
      messages: [
        { role: "user", content: "Weather in Paris?" },
        first.choices[0]?.message as OpenAI.ChatCompletionMessageParam,
        { role: "tool", tool_call_id: call.id, content: "18C and sunny" },
      ],
      tools: [weather],
    });
    expect(second.choices[0]?.finish_reason).toBe("stop");
    const sent = JSON.parse(mock.stats.lastRequest?.body ?? "{}");
    expect(sent.messages[1]).toMatchObject({ role: "assistant", tool_calls: [{ id: call.id }] });
    expect(sent.messages[2]).toEqual({ role: "tool", tool_call_id: call.id, content: "18C and sunny" });
  });

  it("streams tool calls [cohere: tools, stream]", async () => {
    const stream = await client.chat.completions.create({
      model: "cohere/command-a-03-2025",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weather],
      stream: true,
    });
    let args = "";
    let name = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const call = chunk.choices[0]?.delta.tool_calls?.[0];
      name += call?.function?.name ?? "";
      args += call?.function?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe("get_weather");
    expect(JSON.parse(args)).toEqual({ city: "mock" });
    expect(finish).toBe("tool_calls");
  });

  it("creates embeddings, decoded from base64 by the SDK [cohere: embeddings]", async () => {
    const result = await client.embeddings.create({ model: "cohere/embed-v4.0", input: ["one", "two"] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding).toHaveLength(8);
    expect(result.usage.prompt_tokens).toBeGreaterThan(0);
    expect(mock.stats.lastRequest?.path).toBe("/v2/embed");
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}")).toEqual({
      model: "embed-v4.0",
      texts: ["one", "two"],
      input_type: "search_document",
      embedding_types: ["float"],
    });
    const floats = await client.embeddings.create({
      model: "cohere/embed-v4.0",
      input: "one",
      encoding_format: "float",
    });
    expect(result.data[0]?.embedding).toEqual(floats.data[0]?.embedding.map((x) => Math.fround(x)));
  });

  it("turns Cohere's 429 into a rate-limit error and an unsupported parameter into a 400", async () => {
    const limited = await client.chat.completions
      .create({ model: "cohere/mock-error-429", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as Error).message).toContain("Trial key");

    const refused = await client.chat.completions
      .create({ model: "cohere/command-a-03-2025", messages: [{ role: "user", content: "x" }], n: 2 })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("n");
  });
});

describe("Anthropic SDK to Cohere", () => {
  it("converts messages, streams and tool use [cohere: chat, stream, tools]", async () => {
    const anthropic = new Anthropic({
      baseURL: `${gateway.url}/anthropic`,
      apiKey: "client-key",
      maxRetries: 0,
    });
    const message = await anthropic.messages.create({
      model: "cohere/command-a-03-2025",
      max_tokens: 64,
      system: "Be brief.",
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(message.content[0]?.type === "text" && message.content[0].text).toContain("Switchyard");
    expect(message.stop_reason).toBe("end_turn");
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}")).toMatchObject({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
      max_tokens: 64,
    });

    const stream = anthropic.messages.stream({
      model: "cohere/command-a-03-2025",
      max_tokens: 64,
      messages: [{ role: "user", content: "Count" }],
    });
    const final = await stream.finalMessage();
    expect(final.content[0]?.type === "text" && final.content[0].text).toBe(
      "Switchyard mock Cohere reply text. ",
    );
    expect(final.usage.output_tokens).toBeGreaterThan(0);

    const tools = await anthropic.messages.create({
      model: "cohere/command-a-03-2025",
      max_tokens: 64,
      tools: [
        {
          name: "get_weather",
          input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      ],
      messages: [{ role: "user", content: "Weather in Paris?" }],
    });
    expect(tools.stop_reason).toBe("tool_use");
    const use = tools.content.find((block) => block.type === "tool_use");
    expect(use?.type === "tool_use" && use.input).toEqual({ city: "mock" });
  });
});

describe("images and thinking on Cohere", () => {
  // OpenAI's SDK types know neither reasoning_content nor the gateway's thinking extension.
  type Reasoned = { reasoning_content?: string };

  it("sends images by URL and base64 as Cohere image_url content [cohere: vision]", async () => {
    const completion = await client.chat.completions.create({
      model: "cohere/command-a-vision-07-2025",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "low" } },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toContain("Switchyard");
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}").messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "low" } },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
        ],
      },
    ]);
  });

  it("sends a thinking budget as thinking.token_budget and returns the thinking as reasoning_content, plain and streamed [cohere: reasoning, stream]", async () => {
    const completion = await client.chat.completions.create({
      model: "cohere/mock-thinking",
      messages: [{ role: "user", content: "Think first" }],
      // @ts-expect-error the gateway's thinking extension, which the SDK does not know
      thinking: { type: "enabled", budget_tokens: 2048 },
    });
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}").thinking).toEqual({
      type: "enabled",
      token_budget: 2048,
    });
    const message = completion.choices[0]?.message as OpenAI.ChatCompletionMessage & Reasoned;
    expect(message.reasoning_content).toBe("Considering the question.");
    expect(message.content).toContain("Switchyard");

    const anthropic = new Anthropic({
      baseURL: `${gateway.url}/anthropic`,
      apiKey: "client-key",
      maxRetries: 0,
    });
    const stream = anthropic.messages.stream({
      model: "cohere/mock-thinking",
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: "Think first" }],
    });
    const final = await stream.finalMessage();
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}")).toMatchObject({
      stream: true,
      thinking: { type: "enabled", token_budget: 1024 },
    });
    expect(final.content[0]).toMatchObject({ type: "thinking", thinking: "Considering the question." });
    expect(final.content[1]?.type === "text" && final.content[1].text).toContain("Switchyard");
  });

  it("refuses reasoning_effort, which Cohere has no levels for, naming the parameter", async () => {
    const failure = await client.chat.completions
      .create({
        model: "cohere/command-a-reasoning-08-2025",
        messages: [{ role: "user", content: "hi" }],
        reasoning_effort: "high",
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).param).toBe("reasoning_effort");
  });
});
