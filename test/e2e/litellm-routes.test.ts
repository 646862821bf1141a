import OpenAI, { AzureOpenAI } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// A LiteLLM proxy client only changes its base URL: the OpenAI SDK pointed at <gateway>/litellm or at the
// bare <gateway> (LiteLLM's route names have no /v1), and Azure-style deployment paths carrying the model.

let mock: MockServer;
let gateway: RunningGateway;

beforeAll(async () => {
  mock = await startOpenAIMock({ requireKey: "sk-mock-provider", streamChunks: 4 });
  gateway = await startGateway({
    env: { OPENAI_API_KEY: "sk-mock-provider", OPENAI_BASE_URL: `${mock.url}/v1` },
  });
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
});

function lastBody(): Record<string, unknown> {
  return JSON.parse(mock.stats.lastRequest?.body ?? "{}");
}

describe.each(["/litellm", "", "/litellm/v1"])("the OpenAI SDK with base URL <gateway>%s", (base) => {
  let client: OpenAI;
  beforeAll(() => {
    client = new OpenAI({ baseURL: gateway.url + base, apiKey: "sk-litellm-virtual", maxRetries: 0 });
  });

  it("creates a chat completion [openai: chat]", async () => {
    const completion = await client.chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(mock.stats.lastRequest?.path).toBe("/v1/chat/completions");
    expect(lastBody().model).toBe("gpt-4o-mini");
  });

  it("streams a chat completion [openai: stream]", async () => {
    const stream = await client.chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "count" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text.length).toBeGreaterThan(0);
  });

  it("creates embeddings and legacy completions [openai: embeddings]", async () => {
    const embeddings = await client.embeddings.create({ model: "openai/text-embedding-3-small", input: "a" });
    expect(embeddings.data[0]?.embedding.length).toBeGreaterThan(0);
    expect(mock.stats.lastRequest?.path).toBe("/v1/embeddings");
    const completion = await client.completions.create({
      model: "openai/gpt-3.5-turbo-instruct",
      prompt: "x",
    });
    expect(completion.object).toBe("text_completion");
    expect(mock.stats.lastRequest?.path).toBe("/v1/completions");
  });

  it("lists models", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain("openai/gpt-4o-mini");
  });

  it("creates a response", async () => {
    const response = await client.responses.create({ model: "openai/gpt-4o-mini", input: "hi" });
    expect(response.object).toBe("response");
    expect(mock.stats.lastRequest?.path).toBe("/v1/responses");
  });
});

describe("deployment paths that carry the model", () => {
  async function post(
    path: string,
    body: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(gateway.url + path, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer k" },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it("takes the model from /openai/deployments/{model}/chat/completions, over the body's", async () => {
    const { status, json } = await post("/openai/deployments/openai%2Fgpt-4o/chat/completions", {
      model: "ignored-by-litellm",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(status).toBe(200);
    expect(json.object).toBe("chat.completion");
    expect(lastBody().model).toBe("gpt-4o");
    expect(lastBody().messages).toEqual([{ role: "user", content: "hi" }]);
  });

  it("adds the model when the body has none (/engines/{model}/...)", async () => {
    const chat = await post("/engines/openai/gpt-4o-mini/chat/completions", {
      messages: [{ role: "user", content: "hi" }],
    });
    expect(chat.status).toBe(200);
    expect(lastBody().model).toBe("gpt-4o-mini");
    const embeddings = await post("/litellm/engines/openai/text-embedding-3-small/embeddings", {
      input: "a",
    });
    expect(embeddings.status).toBe(200);
    expect(mock.stats.lastRequest?.path).toBe("/v1/embeddings");
    expect(lastBody().model).toBe("text-embedding-3-small");
  });

  it("serves the OpenAI SDK's Azure client, whose deployment is the model", async () => {
    const azure = new AzureOpenAI({
      endpoint: gateway.url,
      apiKey: "k",
      apiVersion: "2024-10-21",
      deployment: "gpt-4o-mini",
      maxRetries: 0,
    });
    const completion = await azure.chat.completions.create({
      model: "",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.object).toBe("chat.completion");
    expect(lastBody().model).toBe("gpt-4o-mini");
  });

  it("answers an unknown deployment model with OpenAI's 404", async () => {
    const { status, json } = await post("/openai/deployments/nobody%2Fnothing/chat/completions", {
      messages: [{ role: "user", content: "hi" }],
    });
    expect(status).toBe(404);
    expect((json.error as { message: string }).message).toContain("nobody");
  });
});
