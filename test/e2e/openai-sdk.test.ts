import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// The official OpenAI SDK pointed at the gateway, which relays to the project's mock OpenAI provider.

let mock: MockServer;
let gateway: RunningGateway;
let client: OpenAI;

beforeAll(async () => {
  mock = await startOpenAIMock({ requireKey: "sk-mock-provider", streamChunks: 5 });
  gateway = await startGateway({
    env: { OPENAI_API_KEY: "sk-mock-provider", OPENAI_BASE_URL: `${mock.url}/v1` },
    args: ["--lanes", "2"],
  });
  // The gateway holds the provider key; the client's own key is not forwarded upstream.
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
});

describe("chat completions through the OpenAI SDK", () => {
  it("relays a chat completion and strips the provider prefix from the model [openai: chat]", async () => {
    const completion = await client.chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "Say hello" }],
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]?.message.role).toBe("assistant");
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
    const upstream = JSON.parse(mock.stats.lastRequest?.body ?? "{}");
    expect(upstream.model).toBe("gpt-4o-mini");
    expect(upstream.messages).toEqual([{ role: "user", content: "Say hello" }]);
    expect(mock.stats.lastRequest?.headers.authorization).toBe("Bearer sk-mock-provider");
  });

  it("resolves a bare model name through the provider's model families", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.model).toBe("gpt-4o-mini");
  });

  it("passes unknown fields to the provider untouched", async () => {
    await client.chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      // @ts-expect-error a provider-specific field the SDK does not know
      vendor_extension: { nested: [1, 2, { deep: "yes" }] },
    });
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}").vendor_extension).toEqual({
      nested: [1, 2, { deep: "yes" }],
    });
  });

  it("streams chunks and the final usage chunk when include_usage is set [openai: stream]", async () => {
    const stream = await client.chat.completions.create({
      model: "openai/gpt-4o-mini",
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

  it("returns tool calls [openai: tools]", async () => {
    const completion = await client.chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            parameters: { type: "object", properties: { city: { type: "string" } } },
          },
        },
      ],
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
  });

  it("aborting mid-stream aborts the upstream request", async () => {
    const before = mock.stats.aborted;
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: "openai/mock-slow-stream", messages: [{ role: "user", content: "long" }], stream: true },
      { signal: controller.signal },
    );
    let chunks = 0;
    // The SDK ends the iteration quietly once its own signal aborts.
    for await (const _ of stream) {
      if (++chunks === 2) controller.abort();
    }
    expect(chunks).toBeLessThan(10);
    await expect.poll(() => mock.stats.aborted, { timeout: 5_000 }).toBeGreaterThan(before);
  });
});

describe("other OpenAI routes", () => {
  it("creates embeddings [openai: embeddings]", async () => {
    const result = await client.embeddings.create({
      model: "openai/text-embedding-3-small",
      input: ["one", "two"],
    });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding.length).toBeGreaterThan(0);
  });

  it("serves legacy completions", async () => {
    const result = await client.completions.create({
      model: "openai/gpt-3.5-turbo-instruct",
      prompt: "Once",
    });
    expect(result.object).toBe("text_completion");
  });

  it("lists the models the provider serves, prefixed with the provider", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => id.startsWith("openai/"))).toBe(true);
  });

  it("answers on the /openai drop-in prefix too", async () => {
    const dropIn = new OpenAI({ baseURL: `${gateway.url}/openai`, apiKey: "k", maxRetries: 0 });
    const completion = await dropIn.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.object).toBe("chat.completion");
  });
});

describe("errors reach the SDK as typed exceptions", () => {
  it("passes the provider's 429 and Retry-After through", async () => {
    const error = await client.chat.completions
      .create({ model: "openai/mock-error-429", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get("retry-after")).toBeTruthy();
  });

  it("passes the provider's 400 through in OpenAI's shape", async () => {
    const error = await client.chat.completions
      .create({ model: "openai/mock-error-400", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      type: "invalid_request_error",
    });
  });

  it("answers an unknown model with 404 listing what is available", async () => {
    const error = await client.chat.completions
      .create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as Error).message).toContain("openai");
  });

  it("turns a connection reset before the reply into a 502", async () => {
    const error = await client.chat.completions
      .create({ model: "openai/mock-reset", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });

  it("answers a reply cut off mid-body with a 502, since nothing of it was sent yet", async () => {
    const error = await client.chat.completions
      .create({ model: "openai/mock-reset-midbody", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });

  it("answers 504 when the request's timeout passes while the reply's body is still coming", async () => {
    const error = await client.chat.completions
      .create(
        { model: "openai/mock-hang-midbody", messages: [{ role: "user", content: "x" }] },
        { headers: { "x-switchyard-timeout": "0.3" } },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(504);
    expect(apiError.code).toBe("request_timeout");
  });

  it("turns a reset mid-stream into an error the SDK raises", async () => {
    const stream = await client.chat.completions.create({
      model: "openai/mock-reset-midstream",
      messages: [{ role: "user", content: "x" }],
      stream: true,
    });
    await expect(
      (async () => {
        for await (const _ of stream) {
          // drain until the gateway reports the broken upstream
        }
      })(),
    ).rejects.toThrow(/broke off its response/);
  });
});
