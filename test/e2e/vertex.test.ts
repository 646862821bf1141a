import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeminiMockServer, startGeminiMock } from "../../bench/mock/gemini-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// The OpenAI SDK to Vertex AI (Gemini and Anthropic models) through the real gateway. The mock's token
// endpoint verifies each JWT with the public half of a key pair made here; the service account holds the
// private half.

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
let mock: GeminiMockServer;
let gateway: RunningGateway;
let client: OpenAI;
let dir: string;

beforeAll(async () => {
  mock = await startGeminiMock({ verifyKey: publicKey, streamChunks: 3 });
  dir = mkdtempSync(join(tmpdir(), "switchyard-vertex-"));
  const credentials = join(dir, "sa.json");
  writeFileSync(
    credentials,
    JSON.stringify({
      type: "service_account",
      project_id: "proj-from-file",
      private_key_id: "kid-1",
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
      client_email: "gateway@proj-1.iam.gserviceaccount.com",
      token_uri: mock.tokenUri,
    }),
  );
  gateway = await startGateway({
    env: {
      GOOGLE_APPLICATION_CREDENTIALS: credentials,
      VERTEX_PROJECT: "proj-1",
      VERTEX_LOCATION: "europe-west4",
      VERTEX_BASE_URL: mock.url,
    },
    args: ["--lanes", "1"],
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const GEMINI_PATH = "/v1/projects/proj-1/locations/europe-west4/publishers/google/models/gemini-2.5-flash";

describe("OpenAI SDK → Vertex AI", () => {
  it("calls a Gemini model with a token from the service account, fetched once for many requests [vertex: chat]", async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        client.chat.completions.create({
          model: "vertex/gemini-2.5-flash",
          messages: [{ role: "user", content: "Say hello" }],
        }),
      ),
    );
    for (const answer of answers) expect(answer.choices[0]?.message.content).toContain("Mock Gemini reply.");
    await client.chat.completions.create({
      model: "vertex/gemini-2.5-flash",
      messages: [{ role: "user", content: "again" }],
    });
    expect(mock.stats.tokenRequests).toBe(1);
    expect(mock.stats.lastRequest?.path).toBe(`${GEMINI_PATH}:generateContent`);
    expect(mock.stats.lastRequest?.headers.authorization).toMatch(/^Bearer ya29\.mock-/);
    expect(mock.stats.lastClaims).toMatchObject({
      aud: mock.tokenUri,
      scope: "https://www.googleapis.com/auth/cloud-platform",
    });
  });

  it("streams a Gemini model with usage [vertex: stream]", async () => {
    const stream = await client.chat.completions.create({
      model: "vertex/gemini-2.5-flash",
      messages: [{ role: "user", content: "Count" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let total = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      total = chunk.usage?.total_tokens ?? total;
    }
    expect(text).toBe("Mock Gemini reply. Hello there!");
    expect(total).toBeGreaterThan(0);
    expect(mock.stats.lastRequest?.path).toBe(`${GEMINI_PATH}:streamGenerateContent?alt=sse`);
  });

  it("calls Claude on Vertex through rawPredict and streamRawPredict [vertex: chat, stream]", async () => {
    const completion = await client.chat.completions.create({
      model: "vertex/claude-sonnet-4@20250514",
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 100,
    });
    expect(completion.choices[0]?.message.content).toBe("Mock Claude on Vertex reply.");
    expect(mock.stats.lastRequest?.path).toBe(
      "/v1/projects/proj-1/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict",
    );
    const body = JSON.parse(mock.stats.lastRequest?.body ?? "{}");
    expect(body.anthropic_version).toBe("vertex-2023-10-16");
    expect(body.model).toBeUndefined();
    expect(body.max_tokens).toBe(100);

    const stream = await client.chat.completions.create({
      model: "vertex/claude-sonnet-4@20250514",
      messages: [{ role: "user", content: "Hello" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Mock Claude on Vertex reply.");
    expect(mock.stats.lastRequest?.path).toMatch(/:streamRawPredict$/);
  });

  it("creates embeddings through predict [vertex: embeddings]", async () => {
    const result = await client.embeddings.create({
      model: "vertex/text-embedding-005",
      input: ["a", "b"],
      encoding_format: "float",
      dimensions: 4,
    });
    expect(result.data.map((d) => d.embedding.length)).toEqual([4, 4]);
    expect(result.usage.prompt_tokens).toBe(2);
    expect(mock.stats.lastRequest?.path).toMatch(/publishers\/google\/models\/text-embedding-005:predict$/);
  });

  it("returns Vertex errors with their status", async () => {
    const failure = await client.chat.completions
      .create({ model: "vertex/mock-error-503", messages: [{ role: "user", content: "hi" }] })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.InternalServerError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe("UNAVAILABLE");
  });
});

const CLAUDE_PATH =
  "/v1/projects/proj-1/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4@20250514";

const weather: OpenAI.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

// OpenAI's SDK types know neither reasoning_content nor thinking_blocks nor the thinking extension.
type Reasoned = { reasoning_content?: string; thinking_blocks?: unknown[] };

function sent(): Record<string, unknown> {
  return JSON.parse(mock.stats.lastRequest?.body ?? "{}") as Record<string, unknown>;
}

describe("tools, images and reasoning on Vertex AI", () => {
  it("Gemini: function declarations out, the call back, its result out as functionResponse; streamed too [vertex: tools, stream]", async () => {
    const first = await client.chat.completions.create({
      model: "vertex/gemini-2.5-flash",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weather],
      tool_choice: "required",
    });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "mock-city" });
    expect(mock.stats.lastRequest?.path).toBe(`${GEMINI_PATH}:generateContent`);
    const request = sent();
    expect(
      (request.tools as { functionDeclarations: { name: string }[] }[])[0]?.functionDeclarations[0]?.name,
    ).toBe("get_weather");
    expect(request.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY" } });

    const second = await client.chat.completions.create({
      model: "vertex/gemini-2.5-flash",
      messages: [
        { role: "user", content: "Weather in Paris?" },
        first.choices[0]?.message as OpenAI.ChatCompletionMessageParam,
        { role: "tool", tool_call_id: call?.id ?? "", content: '{"temp":21}' },
      ],
      tools: [weather],
    });
    expect(second.choices[0]?.message.content).toBe("The function said: done.");
    const contents = sent().contents as { role: string; parts: Record<string, unknown>[] }[];
    expect(contents[1]?.parts[0]).toMatchObject({
      functionCall: { name: "get_weather", args: { city: "mock-city" } },
    });
    expect(contents[2]?.parts[0]).toEqual({
      functionResponse: { name: "get_weather", response: { temp: 21 } },
    });

    const stream = await client.chat.completions.create({
      model: "vertex/gemini-2.5-flash",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weather],
      stream: true,
    });
    let name = "";
    let args = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      name += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.name ?? "";
      args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe("get_weather");
    expect(JSON.parse(args)).toEqual({ city: "mock-city" });
    expect(finish).toBe("tool_calls");
    expect(mock.stats.lastRequest?.path).toBe(`${GEMINI_PATH}:streamGenerateContent?alt=sse`);
  });

  it("Gemini: images as inlineData and fileData [vertex: vision]", async () => {
    const completion = await client.chat.completions.create({
      model: "vertex/gemini-2.5-flash",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "gs://bucket/cat.jpg" } },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toContain("I see 2 image(s).");
    const contents = sent().contents as { parts: unknown[] }[];
    expect(contents[0]?.parts).toEqual([
      { text: "Compare" },
      { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
      { fileData: { mimeType: "image/jpeg", fileUri: "gs://bucket/cat.jpg" } },
    ]);
  });

  it("Gemini: reasoning_effort becomes a thinking budget, thoughts come back as reasoning_content [vertex: reasoning, stream]", async () => {
    const completion = await client.chat.completions.create({
      model: "vertex/gemini-2.5-flash",
      messages: [{ role: "user", content: "Think first" }],
      reasoning_effort: "low",
    });
    expect((sent().generationConfig as Record<string, unknown>).thinkingConfig).toEqual({
      thinkingBudget: 1024,
      includeThoughts: true,
    });
    const message = completion.choices[0]?.message as OpenAI.ChatCompletionMessage & Reasoned;
    expect(message.reasoning_content).toBe("Mock thoughts.");
    expect(message.content).toBe("Mock Gemini reply. Hello there!");
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(5);

    const stream = await client.chat.completions.create({
      model: "vertex/gemini-2.5-flash",
      messages: [{ role: "user", content: "Think first" }],
      stream: true,
      // The gateway's thinking extension, which the SDK's types do not know.
      thinking: { type: "enabled", budget_tokens: 2048 },
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let reasoning = "";
    let text = "";
    for await (const chunk of stream) {
      reasoning += (chunk.choices[0]?.delta as Reasoned | undefined)?.reasoning_content ?? "";
      text += chunk.choices[0]?.delta.content ?? "";
    }
    expect((sent().generationConfig as Record<string, unknown>).thinkingConfig).toEqual({
      thinkingBudget: 2048,
      includeThoughts: true,
    });
    expect(reasoning).toBe("Mock thoughts.");
    expect(text).toBe("Mock Gemini reply. Hello there!");
  });

  it("Claude: tools as Anthropic tools, tool_use back as a tool call, the result as tool_result; streamed too [vertex: tools, stream]", async () => {
    const first = await client.chat.completions.create({
      model: "vertex/claude-sonnet-4@20250514",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weather],
      max_tokens: 200,
    });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "mock-city" });
    expect(mock.stats.lastRequest?.path).toBe(`${CLAUDE_PATH}:rawPredict`);
    expect((sent().tools as unknown[])[0]).toEqual({
      name: "get_weather",
      input_schema: weather.function.parameters,
    });

    const second = await client.chat.completions.create({
      model: "vertex/claude-sonnet-4@20250514",
      messages: [
        { role: "user", content: "Weather in Paris?" },
        first.choices[0]?.message as OpenAI.ChatCompletionMessageParam,
        { role: "tool", tool_call_id: call?.id ?? "", content: "sunny" },
      ],
      tools: [weather],
      max_tokens: 200,
    });
    expect(second.choices[0]?.message.content).toBe("Mock Claude on Vertex reply.");
    const messages = sent().messages as { role: string; content: Record<string, unknown>[] }[];
    expect(messages[1]?.content[0]).toMatchObject({ type: "tool_use", id: call?.id, name: "get_weather" });
    expect(messages[2]?.content[0]).toMatchObject({ type: "tool_result", tool_use_id: call?.id });

    const stream = await client.chat.completions.create({
      model: "vertex/claude-sonnet-4@20250514",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weather],
      max_tokens: 200,
      stream: true,
    });
    let name = "";
    let args = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      name += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.name ?? "";
      args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(name).toBe("get_weather");
    expect(JSON.parse(args)).toEqual({ city: "mock-city" });
    expect(finish).toBe("tool_calls");
    expect(mock.stats.lastRequest?.path).toBe(`${CLAUDE_PATH}:streamRawPredict`);
  });

  it("Claude: images by base64 and URL as Anthropic image blocks [vertex: vision]", async () => {
    const completion = await client.chat.completions.create({
      model: "vertex/claude-sonnet-4@20250514",
      max_tokens: 100,
      messages: [
        {
          role: "user",
          content: [
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
            { type: "text", text: "Compare" },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe("Mock Claude on Vertex reply.");
    const messages = sent().messages as { content: unknown[] }[];
    expect(messages[0]?.content).toEqual([
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
      { type: "text", text: "Compare" },
    ]);
  });

  it("Claude: reasoning_effort becomes a thinking budget, thinking comes back signed, plain and streamed [vertex: reasoning, stream]", async () => {
    const completion = await client.chat.completions.create({
      model: "vertex/claude-sonnet-4@20250514",
      messages: [{ role: "user", content: "Think first" }],
      max_tokens: 4000,
      reasoning_effort: "low",
    });
    expect(sent().thinking).toEqual({ type: "enabled", budget_tokens: 2048 });
    const message = completion.choices[0]?.message as OpenAI.ChatCompletionMessage & Reasoned;
    expect(message.reasoning_content).toBe("Mock Claude thoughts.");
    expect(message.thinking_blocks).toEqual([
      { type: "thinking", thinking: "Mock Claude thoughts.", signature: "c2lnLXZydHg=" },
    ]);
    expect(message.content).toBe("Mock Claude on Vertex reply.");

    const stream = await client.chat.completions.create({
      model: "vertex/claude-sonnet-4@20250514",
      messages: [{ role: "user", content: "Think first" }],
      max_tokens: 4000,
      stream: true,
      // The gateway's thinking extension, which the SDK's types do not know.
      thinking: { type: "enabled", budget_tokens: 1500 },
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let reasoning = "";
    let text = "";
    for await (const chunk of stream) {
      reasoning += (chunk.choices[0]?.delta as Reasoned | undefined)?.reasoning_content ?? "";
      text += chunk.choices[0]?.delta.content ?? "";
    }
    expect(sent().thinking).toEqual({ type: "enabled", budget_tokens: 1500 });
    expect(reasoning).toBe("Mock Claude thoughts.");
    expect(text).toBe("Mock Claude on Vertex reply.");
    expect(mock.stats.lastRequest?.path).toBe(`${CLAUDE_PATH}:streamRawPredict`);
  });
});
