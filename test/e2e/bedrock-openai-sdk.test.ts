import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BedrockMock,
  MOCK_ACCESS_KEY,
  MOCK_SECRET_KEY,
  startBedrockMock,
} from "../../bench/mock/bedrock-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// The official OpenAI SDK → the gateway's /v1 routes → the Bedrock adapter (Converse, ConverseStream,
// InvokeModel, SigV4) → the mock Bedrock runtime, which verifies every request's signature.

const CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0";
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

let mock: BedrockMock;
let gateway: RunningGateway;
let client: OpenAI;

const lastBody = () => JSON.parse(mock.stats.lastRequest?.body ?? "{}");

beforeAll(async () => {
  mock = await startBedrockMock({ region: "us-west-2", streamChunks: 4 });
  // Credentials as the AWS SDKs find them; BEDROCK_BASE_URL points the regional endpoint at the mock.
  gateway = await startGateway({
    env: {
      AWS_ACCESS_KEY_ID: MOCK_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: MOCK_SECRET_KEY,
      AWS_SESSION_TOKEN: "IQoJb3JpZ2luX2VjEMOCK",
      AWS_REGION: "us-west-2",
      BEDROCK_BASE_URL: mock.url,
    },
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
});

describe("Bedrock through the OpenAI SDK", () => {
  it("chat: a signed Converse call, converted back to a chat completion [bedrock: chat]", async () => {
    const rejectedBefore = mock.stats.rejected;
    const completion = await client.chat.completions.create({
      model: `bedrock/${CLAUDE}`,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
      max_tokens: 64,
      temperature: 0.2,
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe(`bedrock/${CLAUDE}`);
    expect(completion.choices[0]?.message.content).toBe(`Hello from Bedrock (${CLAUDE}).`);
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    expect(mock.stats.rejected).toBe(rejectedBefore);
    expect(mock.stats.lastRequest?.path).toBe(`/model/${encodeURIComponent(CLAUDE)}/converse`);
    expect(mock.stats.lastRequest?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDMOCKBEDROCK\/\d{8}\/us-west-2\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(lastBody()).toEqual({
      messages: [{ role: "user", content: [{ text: "Say hello" }] }],
      system: [{ text: "Be brief." }],
      inferenceConfig: { maxTokens: 64, temperature: 0.2 },
    });
  });

  it("resolves a bare Bedrock model id to the provider", async () => {
    const completion = await client.chat.completions.create({
      model: `us.${CLAUDE}`,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.choices[0]?.message.content).toContain(`us.${CLAUDE}`);
  });

  it("streams ConverseStream's event stream as chunks, with the usage chunk when include_usage is set [bedrock: stream]", async () => {
    const stream = await client.chat.completions.create({
      model: `bedrock/${CLAUDE}`,
      messages: [{ role: "user", content: "Count" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let chunks = 0;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(mock.stats.lastRequest?.path).toMatch(/\/converse-stream$/);
    expect(text).toBe(`Hello from Bedrock (${CLAUDE}).`);
    expect(chunks).toBeGreaterThan(3);
    expect(finish).toBe("stop");
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
  });

  it("tools: definitions and choice go out, the tool call comes back; the result goes back as toolResult [bedrock: tools]", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather for a city",
          parameters: {
            type: "object",
            properties: { city: { type: "string" }, unit: { type: "string", enum: ["c", "f"] } },
            required: ["city", "unit"],
          },
        },
      },
    ];
    const first = await client.chat.completions.create({
      model: `bedrock/${CLAUDE}`,
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools,
      tool_choice: "required",
    });
    expect(lastBody().toolConfig.toolChoice).toEqual({ any: {} });
    const call = first.choices[0]?.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "mock", unit: "c" });

    const second = await client.chat.completions.create({
      model: `bedrock/${CLAUDE}`,
      messages: [
        { role: "user", content: "Weather in Paris?" },
        first.choices[0]?.message as OpenAI.ChatCompletionMessageParam,
        { role: "tool", tool_call_id: call.id, content: "18 C, sunny" },
      ],
      tools,
    });
    expect(second.choices[0]?.message.content).toBe("The tool answered.");
    expect(lastBody().messages[2]).toEqual({
      role: "user",
      content: [{ toolResult: { toolUseId: call.id, content: [{ text: "18 C, sunny" }] } }],
    });
  });

  it("tools stream: tool call deltas arrive with id, name and arguments [bedrock: tools, stream]", async () => {
    const stream = await client.chat.completions.create({
      model: `bedrock/${CLAUDE}`,
      messages: [{ role: "user", content: "Weather?" }],
      tools: [
        {
          type: "function",
          function: {
            name: "lookup",
            parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] },
          },
        },
      ],
      stream: true,
    });
    let args = "";
    let name = "";
    let id = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const call = chunk.choices[0]?.delta.tool_calls?.[0];
      if (call?.id) id = call.id;
      if (call?.function?.name) name = call.function.name;
      args += call?.function?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(id).toMatch(/^tooluse_/);
    expect(name).toBe("lookup");
    expect(JSON.parse(args)).toEqual({ q: "mock" });
    expect(finish).toBe("tool_calls");
  });

  it("images: a base64 data URL goes as bytes; an http URL is refused with a 400 naming the parameter [bedrock: vision]", async () => {
    const completion = await client.chat.completions.create({
      model: `bedrock/${CLAUDE}`,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe("I see 1 image.");
    expect(lastBody().messages[0].content[1]).toEqual({ image: { format: "png", source: { bytes: PNG } } });

    const refused = await client.chat.completions
      .create({
        model: `bedrock/${CLAUDE}`,
        messages: [
          { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }] },
        ],
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/base64 data URLs/);
  });

  it("response_format json_schema comes back as JSON content", async () => {
    const completion = await client.chat.completions.create({
      model: `bedrock/${CLAUDE}`,
      messages: [{ role: "user", content: "Give me a city" }],
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "city",
          schema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
        },
      },
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? "")).toEqual({ name: "mock" });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
  });

  it("thinking: Claude's reasoning comes back as reasoning_content [bedrock: reasoning]", async () => {
    const completion = await client.chat.completions.create({
      model: `bedrock/${CLAUDE}`,
      messages: [{ role: "user", content: "Think" }],
      reasoning_effort: "low",
    });
    expect(lastBody().additionalModelRequestFields).toEqual({
      thinking: { type: "enabled", budget_tokens: 2048 },
    });
    const message = completion.choices[0]?.message as unknown as { reasoning_content?: string };
    expect(message.reasoning_content).toBe("Let me think about this step by step.");
  });

  it("embeddings: Titan, one InvokeModel call per input, decoded by the SDK from base64 [bedrock: embeddings]", async () => {
    const before = mock.stats.requests;
    const result = await client.embeddings.create({
      model: "bedrock/amazon.titan-embed-text-v2:0",
      input: ["first text", "second text"],
      dimensions: 8,
    });
    expect(mock.stats.requests - before).toBe(2);
    expect(result.data.map((d) => d.index)).toEqual([0, 1]);
    expect(result.data.every((d) => d.embedding.length === 8)).toBe(true);
    expect(result.data[0]?.embedding).not.toEqual(result.data[1]?.embedding);
    expect(result.usage.prompt_tokens).toBe(6);
    const floats = await client.embeddings.create({
      model: "bedrock/amazon.titan-embed-text-v2:0",
      input: "first text",
      dimensions: 8,
      encoding_format: "float",
    });
    expect(floats.data[0]?.embedding).toEqual(result.data[0]?.embedding);
  });

  it("errors: Bedrock's exceptions reach the client with their status", async () => {
    const cases: [number, unknown][] = [
      [400, OpenAI.BadRequestError],
      [403, OpenAI.PermissionDeniedError],
      [404, OpenAI.NotFoundError],
      [429, OpenAI.RateLimitError],
      [500, OpenAI.InternalServerError],
      [503, OpenAI.InternalServerError],
    ];
    for (const [status, kind] of cases) {
      const error = await client.chat.completions
        .create({ model: `bedrock/mock-error-${status}`, messages: [{ role: "user", content: "x" }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(kind as typeof OpenAI.APIError);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
    }
    const throttled = (await client.chat.completions
      .create({ model: "bedrock/mock-error-429", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(throttled.code).toBe("ThrottlingException");
    expect(throttled.message).toMatch(/Too many requests/);
  });

  it("an exception inside the stream ends it with the canonical error", async () => {
    const stream = await client.chat.completions.create({
      model: "bedrock/mock-stream-exception",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    let text = "";
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().catch((e: unknown) => e);
    expect(text.length).toBeGreaterThan(0);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as Error).message).toMatch(/Too many tokens/);
  });
});

describe("Bedrock from a Bifrost config.json", () => {
  let configured: RunningGateway;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchyard-bedrock-"));
    const file = join(dir, "config.json");
    writeFileSync(
      file,
      JSON.stringify({
        providers: {
          bedrock: {
            keys: [
              {
                name: "aws-main",
                models: ["*"],
                bedrock_key_config: {
                  access_key: "env.TEST_AWS_ID",
                  secret_key: "env.TEST_AWS_SECRET",
                  region: "us-west-2",
                  deployments: { "claude-sonnet": `us.${CLAUDE}` },
                },
              },
            ],
            network_config: { base_url: mock.url },
          },
        },
      }),
    );
    configured = await startGateway({
      env: { TEST_AWS_ID: MOCK_ACCESS_KEY, TEST_AWS_SECRET: MOCK_SECRET_KEY },
      args: ["--config", file],
    });
  });
  afterAll(async () => {
    await configured?.stop();
  });

  it("maps a model name to the key's inference profile and signs without a session token [bedrock: chat]", async () => {
    const local = new OpenAI({ baseURL: `${configured.url}/v1`, apiKey: "k", maxRetries: 0 });
    const completion = await local.chat.completions.create({
      model: "bedrock/claude-sonnet",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.choices[0]?.message.content).toBe(`Hello from Bedrock (us.${CLAUDE}).`);
    expect(mock.stats.lastRequest?.path).toBe(`/model/${encodeURIComponent(`us.${CLAUDE}`)}/converse`);
    expect(mock.stats.lastRequest?.headers["x-amz-security-token"]).toBeUndefined();
  });
});
