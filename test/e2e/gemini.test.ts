import { GoogleGenAI, Type } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeminiMockServer, startGeminiMock } from "../../bench/mock/gemini-mock.js";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// The OpenAI SDK to the Gemini mock (transcoded), and Google's GenAI SDK to the Gemini mock (bytes through)
// and to the OpenAI mock (transcoded), all through the real gateway.

let gemini: GeminiMockServer;
let openaiMock: MockServer;
let gateway: RunningGateway;
let openai: OpenAI;
let genai: GoogleGenAI;

beforeAll(async () => {
  gemini = await startGeminiMock({ requireKey: "gm-provider-key", streamChunks: 4 });
  openaiMock = await startOpenAIMock({ requireKey: "sk-mock-provider", streamChunks: 4 });
  gateway = await startGateway({
    env: {
      GEMINI_API_KEY: "gm-provider-key",
      GEMINI_BASE_URL: gemini.url,
      OPENAI_API_KEY: "sk-mock-provider",
      OPENAI_BASE_URL: `${openaiMock.url}/v1`,
    },
    args: ["--lanes", "1"],
  });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "client-key", maxRetries: 0 });
  genai = new GoogleGenAI({ apiKey: "client-key", httpOptions: { baseUrl: `${gateway.url}/genai` } });
});

afterAll(async () => {
  await gateway?.stop();
  await gemini?.close();
  await openaiMock?.close();
});

function lastGeminiBody(): Record<string, unknown> {
  return JSON.parse(gemini.stats.lastRequest?.body ?? "{}") as Record<string, unknown>;
}

describe("OpenAI SDK → Gemini provider", () => {
  it("converts a chat completion both ways and authenticates with x-goog-api-key [gemini: chat]", async () => {
    const completion = await openai.chat.completions.create({
      model: "gemini/gemini-2.5-flash",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
      max_tokens: 64,
      temperature: 0.3,
    });
    expect(completion.choices[0]?.message.content).toContain("Mock Gemini reply.");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    expect(completion.model).toBe("gemini/gemini-2.5-flash");
    expect(gemini.stats.lastRequest?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(gemini.stats.lastRequest?.headers["x-goog-api-key"]).toBe("gm-provider-key");
    expect(gemini.stats.lastRequest?.headers.authorization).toBeUndefined();
    expect(lastGeminiBody()).toEqual({
      contents: [{ role: "user", parts: [{ text: "Say hello" }] }],
      systemInstruction: { parts: [{ text: "Be brief." }] },
      generationConfig: { maxOutputTokens: 64, temperature: 0.3 },
    });
  });

  it("streams with include_usage [gemini: stream]", async () => {
    const stream = await openai.chat.completions.create({
      model: "gemini-2.5-flash",
      messages: [{ role: "user", content: "Count" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Mock Gemini reply. Hello there!");
    expect(finish).toBe("stop");
    expect(usage?.total_tokens).toBeGreaterThan(0);
    expect(gemini.stats.lastRequest?.path).toBe(
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
  });

  it("calls tools and sends tool results back as functionResponse [gemini: tools]", async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: "function",
        function: {
          name: "get_weather",
          parameters: {
            type: "object",
            properties: { city: { type: "string" } },
            required: ["city"],
            additionalProperties: false,
          },
        },
      },
    ];
    const first = await openai.chat.completions.create({
      model: "gemini/gemini-2.5-flash",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools,
      tool_choice: "required",
    });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "mock-city" });
    expect(lastGeminiBody().toolConfig).toEqual({ functionCallingConfig: { mode: "ANY" } });

    const second = await openai.chat.completions.create({
      model: "gemini/gemini-2.5-flash",
      messages: [
        { role: "user", content: "Weather in Paris?" },
        first.choices[0]?.message as OpenAI.ChatCompletionMessageParam,
        { role: "tool", tool_call_id: call?.id ?? "", content: '{"temp": 21}' },
      ],
      tools,
    });
    expect(second.choices[0]?.message.content).toBe("The function said: done.");
    const contents = lastGeminiBody().contents as { role: string; parts: Record<string, unknown>[] }[];
    // The thought signature the mock put on its call came back with it.
    expect(contents[1]?.parts[0]).toEqual({
      functionCall: { name: "get_weather", args: { city: "mock-city" } },
      thoughtSignature: "c2lnLW1vY2s=",
    });
    expect(contents[2]?.parts[0]).toEqual({
      functionResponse: { name: "get_weather", response: { temp: 21 } },
    });
  });

  it("sends images as inlineData and fileData [gemini: vision]", async () => {
    const completion = await openai.chat.completions.create({
      model: "gemini/gemini-2.5-flash",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toContain("I see 2 image(s).");
    const contents = lastGeminiBody().contents as { parts: unknown[] }[];
    expect(contents[0]?.parts.slice(1)).toEqual([
      { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
      { fileData: { mimeType: "image/jpeg", fileUri: "https://example.com/cat.jpg" } },
    ]);
  });

  it("creates embeddings through batchEmbedContents (float and the SDK's default base64) [gemini: embeddings]", async () => {
    const floats = await openai.embeddings.create({
      model: "gemini/gemini-embedding-001",
      input: ["one", "two"],
      encoding_format: "float",
      dimensions: 4,
    });
    expect(floats.data).toHaveLength(2);
    expect(floats.data[0]?.embedding).toHaveLength(4);
    expect(gemini.stats.lastRequest?.path).toBe("/v1beta/models/gemini-embedding-001:batchEmbedContents");
    const decoded = await openai.embeddings.create({
      model: "gemini/gemini-embedding-001",
      input: "one",
      dimensions: 4,
    });
    const expected = floats.data[0]?.embedding.map((v) => Math.fround(v));
    expect(decoded.data[0]?.embedding).toEqual(expected);
  });

  it("returns provider errors with the provider's status in OpenAI's shape", async () => {
    const failure = await openai.chat.completions
      .create({ model: "gemini/mock-error-429", messages: [{ role: "user", content: "hi" }] })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.RateLimitError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe("RESOURCE_EXHAUSTED");
  });

  it("refuses a parameter Gemini cannot take", async () => {
    const failure = await openai.chat.completions
      .create({
        model: "gemini/gemini-2.5-flash",
        messages: [{ role: "user", content: "hi" }],
        logit_bias: { "42": 1 },
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).param).toBe("logit_bias");
  });
});

describe("Google GenAI SDK → Gemini provider (bytes through)", () => {
  it("relays generateContent untouched with the gateway's key [gemini: chat]", async () => {
    const response = await genai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "Hello",
      config: { temperature: 0.1, safetySettings: [] },
    });
    expect(response.text).toContain("Mock Gemini reply.");
    expect(gemini.stats.lastRequest?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(gemini.stats.lastRequest?.headers["x-goog-api-key"]).toBe("gm-provider-key");
    expect(lastGeminiBody().generationConfig).toEqual({ temperature: 0.1 });
  });

  it("streams with alt=sse and relays Google's errors as they are [gemini: stream]", async () => {
    let text = "";
    for await (const chunk of await genai.models.generateContentStream({
      model: "gemini/gemini-2.5-flash",
      contents: "Hi",
    })) {
      text += chunk.text ?? "";
    }
    expect(text).toBe("Mock Gemini reply. Hello there!");
    expect(gemini.stats.lastRequest?.path).toBe(
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
    const failure = await genai.models
      .generateContent({ model: "gemini/mock-error-404", contents: "x" })
      .catch((error: unknown) => error as { status?: number; message?: string });
    expect(failure).toMatchObject({ status: 404 });
    // Google's envelope as the provider wrote it, its message included.
    expect(String((failure as { message?: string }).message)).toContain("models/mock-error-404 is not found");
    expect(gemini.stats.lastRequest?.path).toBe("/v1beta/models/mock-error-404:generateContent");
  });
});

describe("token counts of Gemini replies relayed as bytes", () => {
  const MODEL = "gemini-2.0-flash-lite";
  async function counted(): Promise<{ input: number; output: number }> {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    const value = (name: string) =>
      Number(
        text
          .split("\n")
          .find((l) => l.startsWith(`${name}{`) && l.includes(`model="${MODEL}"`))
          ?.split(" ")
          .pop() ?? 0,
      );
    return { input: value("switchyard_tokens_input_total"), output: value("switchyard_tokens_output_total") };
  }

  it("adds usageMetadata's prompt, candidates and thoughts tokens, whole and streamed", async () => {
    const whole = await genai.models.generateContent({ model: MODEL, contents: "Count me" });
    let last: Awaited<ReturnType<typeof genai.models.generateContent>> | undefined;
    for await (const chunk of await genai.models.generateContentStream({ model: MODEL, contents: "Me too" }))
      last = chunk;
    const reported = [whole.usageMetadata, last?.usageMetadata];
    const expected = {
      input: reported.reduce((n, u) => n + (u?.promptTokenCount ?? 0), 0),
      output: reported.reduce((n, u) => n + (u?.candidatesTokenCount ?? 0) + (u?.thoughtsTokenCount ?? 0), 0),
    };
    expect(expected.input).toBeGreaterThan(0);
    expect(expected.output).toBeGreaterThan(0);
    // Lanes report their metrics to the control plane periodically.
    let seen = await counted();
    for (let i = 0; i < 50 && seen.output !== expected.output; i++) {
      await new Promise((r) => setTimeout(r, 50));
      seen = await counted();
    }
    expect(seen).toEqual(expected);
  });
});

describe("Google GenAI SDK → OpenAI provider (transcoded)", () => {
  it("answers generateContent from an OpenAI model [openai: chat]", async () => {
    const response = await genai.models.generateContent({
      model: "openai/gpt-4o-mini",
      contents: [{ role: "user", parts: [{ text: "Say hello" }] }],
      config: { systemInstruction: "Be brief.", maxOutputTokens: 50 },
    });
    expect(response.text?.length).toBeGreaterThan(0);
    expect(response.candidates?.[0]?.finishReason).toBe("STOP");
    expect(response.usageMetadata?.totalTokenCount).toBeGreaterThan(0);
    const upstream = JSON.parse(openaiMock.stats.lastRequest?.body ?? "{}");
    expect(upstream.model).toBe("gpt-4o-mini");
    expect(upstream.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Say hello" },
    ]);
    expect(upstream.max_tokens).toBe(50);
  });

  it("streams from an OpenAI model as SSE GenerateContentResponses [openai: stream]", async () => {
    let text = "";
    let usage = 0;
    for await (const chunk of await genai.models.generateContentStream({
      model: "openai/gpt-4o-mini",
      contents: "Count",
    })) {
      text += chunk.text ?? "";
      usage = chunk.usageMetadata?.totalTokenCount ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(usage).toBeGreaterThan(0);
    expect(JSON.parse(openaiMock.stats.lastRequest?.body ?? "{}").stream).toBe(true);
  });

  it("carries function declarations and returns whole function calls [openai: tools]", async () => {
    const response = await genai.models.generateContent({
      model: "openai/gpt-4o-mini",
      contents: "Weather in Paris?",
      config: {
        tools: [
          {
            functionDeclarations: [
              {
                name: "get_weather",
                parameters: {
                  type: Type.OBJECT,
                  properties: { city: { type: Type.STRING } },
                  required: ["city"],
                },
              },
            ],
          },
        ],
      },
    });
    const upstream = JSON.parse(openaiMock.stats.lastRequest?.body ?? "{}");
    expect(upstream.tools[0].function).toEqual({
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    });
    expect(response.functionCalls?.[0]?.name).toBe("get_weather");
    expect(typeof response.functionCalls?.[0]?.args).toBe("object");
  });

  it("reports provider errors in Google's envelope", async () => {
    const failure = await genai.models
      .generateContent({ model: "openai/mock-error-429", contents: "x" })
      .catch((error: unknown) => error as { status?: number; message?: string });
    expect(failure).toMatchObject({ status: 429 });
    expect(String((failure as { message?: string }).message)).toContain("RESOURCE_EXHAUSTED");
  });
});

describe("reasoning on Gemini", () => {
  // OpenAI's SDK types know neither reasoning_content nor thinking_blocks nor the thinking extension.
  type Reasoned = { reasoning_content?: string; thinking_blocks?: unknown[] };

  it("maps reasoning_effort and a thinking budget to thinkingConfig and thought parts to reasoning_content, plain and streamed [gemini: reasoning, stream]", async () => {
    const completion = await openai.chat.completions.create({
      model: "gemini/gemini-2.5-flash",
      messages: [{ role: "user", content: "Think first" }],
      reasoning_effort: "medium",
    });
    expect((lastGeminiBody().generationConfig as Record<string, unknown>).thinkingConfig).toEqual({
      thinkingBudget: 8192,
      includeThoughts: true,
    });
    const message = completion.choices[0]?.message as OpenAI.ChatCompletionMessage & Reasoned;
    expect(message.reasoning_content).toBe("Mock thoughts.");
    expect(message.thinking_blocks).toEqual([{ type: "thinking", thinking: "Mock thoughts." }]);
    expect(message.content).toBe("Mock Gemini reply. Hello there!");
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(5);

    const stream = await openai.chat.completions.create({
      model: "gemini/gemini-2.5-flash",
      messages: [{ role: "user", content: "Think first" }],
      stream: true,
      stream_options: { include_usage: true },
      // The gateway's thinking extension, which the SDK's types do not know.
      thinking: { type: "enabled", budget_tokens: 512 },
    } as OpenAI.ChatCompletionCreateParamsStreaming);
    let reasoning = "";
    let text = "";
    let reasoningTokens: number | undefined;
    for await (const chunk of stream) {
      reasoning += (chunk.choices[0]?.delta as Reasoned | undefined)?.reasoning_content ?? "";
      text += chunk.choices[0]?.delta.content ?? "";
      reasoningTokens = chunk.usage?.completion_tokens_details?.reasoning_tokens ?? reasoningTokens;
    }
    expect((lastGeminiBody().generationConfig as Record<string, unknown>).thinkingConfig).toEqual({
      thinkingBudget: 512,
      includeThoughts: true,
    });
    expect(reasoning).toBe("Mock thoughts.");
    expect(text).toBe("Mock Gemini reply. Hello there!");
    expect(reasoningTokens).toBe(5);

    await openai.chat.completions.create({
      model: "gemini/gemini-2.5-flash",
      messages: [{ role: "user", content: "No thinking" }],
      // @ts-expect-error the gateway's thinking extension, which the SDK does not know
      thinking: { type: "disabled" },
    });
    expect((lastGeminiBody().generationConfig as Record<string, unknown>).thinkingConfig).toEqual({
      thinkingBudget: 0,
    });
  });

  it("relays a GenAI client's thinkingConfig and the thought parts untouched [gemini: reasoning]", async () => {
    const response = await genai.models.generateContent({
      model: "gemini/gemini-2.5-flash",
      contents: "Think first",
      config: { thinkingConfig: { thinkingBudget: 300, includeThoughts: true } },
    });
    expect((lastGeminiBody().generationConfig as Record<string, unknown>).thinkingConfig).toEqual({
      thinkingBudget: 300,
      includeThoughts: true,
    });
    expect(response.candidates?.[0]?.content?.parts?.[0]).toEqual({ text: "Mock thoughts.", thought: true });
    expect(response.usageMetadata?.thoughtsTokenCount).toBe(5);
  });
});
