import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "./openai-mock.js";
import { toyEmbedding } from "./toy-embedding.js";

let mock: MockServer;
let client: OpenAI;

beforeAll(async () => {
  mock = await startOpenAIMock({ port: 0, responseBytes: 1400, requireKey: "mock-key" });
  client = new OpenAI({ apiKey: "mock-key", baseURL: `${mock.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await mock.close();
});

const messages = [{ role: "user" as const, content: "Say hello" }];

describe("openai mock", () => {
  it("answers a chat completion of about the configured size, echoing the model", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: "gpt-4o-mini", messages })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.model).toBe("gpt-4o-mini");
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.choices[0]?.message.role).toBe("assistant");
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(100);
    expect(data.choices[0]?.finish_reason).toBe("stop");
    expect(data.usage?.total_tokens).toBe(
      (data.usage?.prompt_tokens ?? 0) + (data.usage?.completion_tokens ?? 0),
    );
    const size = Number(response.headers.get("content-length"));
    expect(size).toBeGreaterThan(1300);
    expect(size).toBeLessThan(1500);
    expect(mock.stats.lastRequest?.path).toBe("/v1/chat/completions");
    expect(mock.stats.lastRequest?.headers.authorization).toBe("Bearer mock-key");
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}").model).toBe("gpt-4o-mini");
  });

  it("streams chunks with role first, finish_reason last and a usage chunk", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.object).toBe("chat.completion.chunk");
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(content.length).toBeGreaterThan(20);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBe(20);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it("answers tools with a tool call, plain and streamed", async () => {
    const tools = [
      {
        type: "function" as const,
        function: {
          name: "get_weather",
          parameters: {
            type: "object",
            properties: { city: { type: "string" }, days: { type: "integer" } },
            required: ["city", "days"],
          },
        },
      },
    ];
    const plain = await client.chat.completions.create({ model: "gpt-4o-mini", messages, tools });
    const call = plain.choices[0]?.message.tool_calls?.[0];
    expect(plain.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type).toBe("function");
    if (call?.type !== "function") throw new Error("expected a function call");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "mock", days: 1 });

    const runner = client.chat.completions.stream({ model: "gpt-4o-mini", messages, tools });
    const final = await runner.finalChatCompletion();
    const streamedCall = final.choices[0]?.message.tool_calls?.[0];
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    if (streamedCall?.type !== "function") throw new Error("expected a function call");
    expect(streamedCall.function.name).toBe("get_weather");
    expect(JSON.parse(streamedCall.function.arguments)).toEqual({ city: "mock", days: 1 });
  });

  it("answers legacy completions", async () => {
    const r = await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Once" });
    expect(r.object).toBe("text_completion");
    expect(r.choices[0]?.text.length).toBeGreaterThan(10);
    const stream = await client.completions.create({
      model: "gpt-3.5-turbo-instruct",
      prompt: "Once",
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text.length).toBeGreaterThan(10);
  });

  it("returns one embedding per input, float or base64", async () => {
    const floats = await client.embeddings.create({
      model: "text-embedding-3-small",
      input: ["a", "b", "a"],
      encoding_format: "float",
    });
    expect(floats.data).toHaveLength(3);
    expect(floats.data[0]?.embedding).toHaveLength(384);
    expect(floats.data[2]?.embedding).toEqual(floats.data[0]?.embedding);
    // The SDK asks for base64 by default and decodes it back to floats.
    const decoded = await client.embeddings.create({
      model: "text-embedding-3-small",
      input: "a",
      dimensions: 16,
    });
    expect(decoded.data[0]?.embedding).toHaveLength(16);
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}").encoding_format).toBe("base64");
  });

  it("embeds with the toy model, so a paraphrase scores above an unrelated text, in floats and base64", async () => {
    const input = [
      "How do I bake sourdough bread at home?",
      "How can I bake sourdough bread at home?",
      "What are the side effects of ibuprofen?",
    ];
    const floats = await client.embeddings.create({
      model: "text-embedding-3-small",
      input,
      encoding_format: "float",
      dimensions: 256,
    });
    const vectors = floats.data.map((d) => d.embedding);
    expect(vectors[0]).toEqual(Array.from(toyEmbedding(input[0] as string, 256)));
    const dot = (a: number[] = [], b: number[] = []) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);
    expect(dot(vectors[0], vectors[1])).toBeGreaterThan(0.9);
    expect(dot(vectors[0], vectors[2])).toBeLessThan(0.3);
    // Base64 carries the same float32 bytes, little-endian, as OpenAI's does.
    const res = await fetch(`${mock.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: "Bearer mock-key", "content-type": "application/json" },
      body: JSON.stringify({ model: "text-embedding-3-small", input: input[0], encoding_format: "base64" }),
    });
    const body = (await res.json()) as { data: { embedding: string }[] };
    const bytes = Buffer.from(body.data[0]?.embedding ?? "", "base64");
    const decoded = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    expect(decoded).toEqual(toyEmbedding(input[0] as string));
  });

  it("lists models", async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain("gpt-4o-mini");
  });

  it("serves an empty pricing sheet at /datasheet for Bifrost's start-up", async () => {
    const res = await fetch(`${mock.url}/datasheet`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });

  it("injects errors by model name in OpenAI's shape", async () => {
    const e429 = await client.chat.completions.create({ model: "mock-error-429", messages }).catch((e) => e);
    expect(e429).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e429.headers.get("retry-after")).toBe("1");
    expect(e429.code).toBe("rate_limit_exceeded");
    const e400 = await client.chat.completions.create({ model: "mock-error-400", messages }).catch((e) => e);
    expect(e400).toBeInstanceOf(OpenAI.BadRequestError);
    expect(e400.type).toBe("invalid_request_error");
    const e500 = await client.chat.completions.create({ model: "mock-error-500", messages }).catch((e) => e);
    expect(e500).toBeInstanceOf(OpenAI.InternalServerError);
    const reset = await client.chat.completions.create({ model: "mock-reset", messages }).catch((e) => e);
    expect(reset).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it("rejects a wrong key and invalid JSON with OpenAI's error shape", async () => {
    const bad = new OpenAI({ apiKey: "wrong", baseURL: `${mock.url}/v1`, maxRetries: 0 });
    const e401 = await bad.chat.completions.create({ model: "gpt-4o-mini", messages }).catch((e) => e);
    expect(e401).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(e401.code).toBe("invalid_api_key");
    const r = await fetch(`${mock.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer mock-key", "content-type": "application/json" },
      body: "{not json",
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("invalid_request_error");
  });

  it("delivers some chunks and then resets on mock-reset-midstream", async () => {
    const stream = await client.chat.completions.create({
      model: "mock-reset-midstream",
      messages,
      stream: true,
    });
    let got = 0;
    const err = await (async () => {
      for await (const _ of stream) got++;
    })().catch((e) => e);
    expect(got).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(Error);
  });

  it("counts a client abort of a slow stream and of a hanging request", async () => {
    const before = mock.stats.aborted;
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "mock-slow-stream", messages, stream: true },
      { signal: controller.signal },
    );
    let got = 0;
    // The SDK ends the iteration quietly when its own signal aborts it.
    for await (const _ of stream) {
      got++;
      if (got === 2) controller.abort();
    }
    expect(got).toBe(2);
    const hang = new AbortController();
    const pending = client.chat.completions.create({ model: "mock-hang", messages }, { signal: hang.signal });
    // Abort only once the mock holds the hanging request, or the client would cancel it before sending.
    await expect
      .poll(() => JSON.parse(mock.stats.lastRequest?.body ?? "{}").model, { timeout: 5000 })
      .toBe("mock-hang");
    expect(mock.stats.inFlight).toBeGreaterThanOrEqual(1);
    hang.abort();
    expect(await pending.catch((e) => e)).toBeInstanceOf(OpenAI.APIUserAbortError);
    await expect.poll(() => mock.stats.aborted, { timeout: 5000 }).toBe(before + 2);
    expect(mock.stats.inFlight).toBe(0);
  });

  it("holds latency without one timer per request", async () => {
    const slow = await startOpenAIMock({ latencyMs: 150 });
    try {
      const c = new OpenAI({ apiKey: "x", baseURL: `${slow.url}/v1`, maxRetries: 0 });
      const started = performance.now();
      const replies = await Promise.all(
        Array.from({ length: 50 }, () => c.chat.completions.create({ model: "gpt-4o-mini", messages })),
      );
      expect(replies).toHaveLength(50);
      expect(performance.now() - started).toBeGreaterThanOrEqual(145);
      expect(slow.stats.requests).toBe(50);
      expect(slow.stats.inFlight).toBe(0);
    } finally {
      await slow.close();
    }
  });
});

describe("openai mock: reasoning and path prefix", () => {
  it("bills reasoning tokens when reasoning_effort is set, and deepseek-reasoner answers with reasoning_content", async () => {
    const effort = await client.chat.completions.create({
      model: "o4-mini",
      messages,
      reasoning_effort: "low",
    });
    expect(effort.usage?.completion_tokens_details?.reasoning_tokens).toBe(16);
    expect(effort.usage?.total_tokens).toBe(
      (effort.usage?.prompt_tokens ?? 0) + (effort.usage?.completion_tokens ?? 0),
    );

    const reasoner = await client.chat.completions.create({ model: "deepseek-reasoner", messages });
    expect(
      (reasoner.choices[0]?.message as { reasoning_content?: string } | undefined)?.reasoning_content,
    ).toBe("The user wants a reply. I will give one.");
    const stream = await client.chat.completions.create({
      model: "deepseek-reasoner",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let reasoning = "";
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      reasoning +=
        (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(reasoning).toBe("The user wants a reply. I will give one.");
    expect(usage?.completion_tokens_details?.reasoning_tokens).toBe(16);
  });

  it("serves its routes under pathPrefix and nowhere else", async () => {
    const groq = await startOpenAIMock({ pathPrefix: "/openai/v1" });
    try {
      const prefixed = new OpenAI({ apiKey: "x", baseURL: `${groq.url}/openai/v1`, maxRetries: 0 });
      const reply = await prefixed.chat.completions.create({ model: "llama-3.1-8b-instant", messages });
      expect(reply.object).toBe("chat.completion");
      const plain = new OpenAI({ apiKey: "x", baseURL: `${groq.url}/v1`, maxRetries: 0 });
      await expect(plain.chat.completions.create({ model: "m", messages })).rejects.toBeInstanceOf(
        OpenAI.NotFoundError,
      );
    } finally {
      await groq.close();
    }
  });
});

describe("openai mock chaos options", () => {
  it("fails the configured share of chat requests and counts sends per x-request-id", async () => {
    const chaos = await startOpenAIMock({ port: 0, failRate: 1 });
    try {
      const send = (id: string) =>
        fetch(`${chaos.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": id },
          body: JSON.stringify({ model: "gpt-4o-mini", messages }),
        });
      expect((await send("a")).status).toBe(500);
      expect((await send("a")).status).toBe(500);
      expect((await send("b")).status).toBe(500);
      expect(chaos.stats.injectedFailures).toBe(3);
      expect(chaos.stats.maxSendsPerRequestId).toBe(2);
      expect(await (await fetch(`${chaos.url}/__mock/sends`)).json()).toEqual({ a: 2, b: 1 });
      chaos.configure({ failRate: 0 });
      expect(await (await fetch(`${chaos.url}/__mock/sends`)).json()).toEqual({});
      expect((await send("c")).status).toBe(200);
      expect(chaos.stats.injectedFailures).toBe(3);
    } finally {
      await chaos.close();
    }
  });
});
