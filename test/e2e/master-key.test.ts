import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnthropicMockServer, startAnthropicMock } from "../../bench/mock/anthropic-mock.js";
import { type GeminiMockServer, startGeminiMock } from "../../bench/mock/gemini-mock.js";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// A LiteLLM config.yaml with general_settings.master_key: every inference route, /v1/models and (as the
// file asks) /metrics want the key; each SDK presents it its own way; /health stays open for load
// balancers; the key shows up in no output and no error.

const MASTER = "sk-master-e2e-7f3a91";
const WRONG = "sk-master-e2e-7f3a90";

let openai: MockServer;
let anthropic: AnthropicMockServer;
let gemini: GeminiMockServer;
let gateway: RunningGateway;

beforeAll(async () => {
  [openai, anthropic, gemini] = await Promise.all([
    startOpenAIMock({ requireKey: "sk-provider-openai" }),
    startAnthropicMock({ requireKey: "sk-ant-provider" }),
    startGeminiMock({ requireKey: "gm-provider" }),
  ]);
  const dir = mkdtempSync(join(tmpdir(), "switchyard-master-key-"));
  const config = join(dir, "config.yaml");
  writeFileSync(
    config,
    [
      "model_list:",
      "  - model_name: gpt",
      "    litellm_params: { model: openai/gpt-4o-mini, api_base: os.environ/OPENAI_BASE, api_key: os.environ/OPENAI_KEY }",
      "  - model_name: claude",
      "    litellm_params: { model: anthropic/claude-sonnet-4-5, api_base: os.environ/ANTHROPIC_BASE, api_key: os.environ/ANTHROPIC_KEY }",
      "  - model_name: gemini-2.5-flash",
      "    litellm_params: { model: gemini/gemini-2.5-flash, api_base: os.environ/GEMINI_BASE, api_key: os.environ/GEMINI_KEY }",
      "general_settings:",
      "  master_key: os.environ/MASTER",
      "litellm_settings:",
      "  require_auth_for_metrics_endpoint: true",
      "",
    ].join("\n"),
  );
  gateway = await startGateway({
    args: ["--config", config, "--lanes", "2"],
    env: {
      MASTER,
      OPENAI_BASE: `${openai.url}/v1`,
      OPENAI_KEY: "sk-provider-openai",
      ANTHROPIC_BASE: anthropic.url,
      ANTHROPIC_KEY: "sk-ant-provider",
      GEMINI_BASE: gemini.url,
      GEMINI_KEY: "gm-provider",
    },
  });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([openai?.close(), anthropic?.close(), gemini?.close()]);
});

const json = { "content-type": "application/json" };
const chat = JSON.stringify({ model: "gpt", messages: [{ role: "user", content: "Hi" }] });
const messages = JSON.stringify({
  model: "claude",
  max_tokens: 16,
  messages: [{ role: "user", content: "Hi" }],
});
const contents = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Hi" }] }] });

/** Every route that must want the key, with a body and the error shape its clients read. */
const GUARDED: ReadonlyArray<{ path: string; body?: string; shape: "openai" | "anthropic" | "gemini" }> = [
  { path: "/v1/chat/completions", body: chat, shape: "openai" },
  { path: "/chat/completions", body: chat, shape: "openai" },
  { path: "/v1/embeddings", body: JSON.stringify({ model: "gpt", input: "Hi" }), shape: "openai" },
  { path: "/v1/responses", body: JSON.stringify({ model: "gpt", input: "Hi" }), shape: "openai" },
  { path: "/openai/deployments/gpt/chat/completions", body: chat, shape: "openai" },
  { path: "/v1/models", shape: "openai" },
  { path: "/anthropic/v1/messages", body: messages, shape: "anthropic" },
  {
    path: "/anthropic/v1/messages/count_tokens",
    body: messages.replace('"claude"', '"anthropic/claude-sonnet-4-5"'),
    shape: "anthropic",
  },
  { path: "/genai/v1beta/models/gemini-2.5-flash:generateContent", body: contents, shape: "gemini" },
  {
    path: "/genai/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    body: contents,
    shape: "gemini",
  },
  { path: "/metrics", shape: "openai" },
];

function send(path: string, body: string | undefined, headers: Record<string, string>) {
  return fetch(`${gateway.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { ...json, ...headers },
    ...(body === undefined ? {} : { body }),
  });
}

function expectErrorShape(shape: "openai" | "anthropic" | "gemini", body: Record<string, unknown>): void {
  const error = body.error as Record<string, unknown>;
  if (shape === "anthropic") expect(body.type).toBe("error");
  if (shape === "gemini") expect(error.status).toBe("UNAUTHENTICATED");
  expect(typeof error.message).toBe("string");
  expect(JSON.stringify(body)).not.toContain(MASTER);
}

describe("master_key from a LiteLLM config.yaml", () => {
  it("says at start-up that a key is required, without the key", () => {
    expect(gateway.output()).toContain(
      "auth: master key required on inference routes and /v1/models and /metrics",
    );
    expect(gateway.output()).not.toContain(MASTER);
  });

  it.each(GUARDED)(
    "refuses $path without a key and with a wrong one, in its clients' error shape",
    async ({ path, body, shape }) => {
      const providerCalls = openai.stats.requests + anthropic.stats.requests + gemini.stats.requests;
      const attempts: Record<string, string>[] = [
        {},
        { authorization: `Bearer ${WRONG}` },
        { "x-api-key": WRONG },
      ];
      for (const headers of attempts) {
        const response = await send(path, body, headers);
        expect(response.status).toBe(401);
        expectErrorShape(shape, (await response.json()) as Record<string, unknown>);
      }
      expect(openai.stats.requests + anthropic.stats.requests + gemini.stats.requests).toBe(providerCalls);
    },
  );

  it.each(GUARDED)("serves $path with the key as Authorization: Bearer", async ({ path, body }) => {
    const response = await send(path, body, { authorization: `Bearer ${MASTER}` });
    await response.arrayBuffer();
    expect(response.status).toBe(200);
  });

  it("keeps /health open for load balancers", async () => {
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });

  it("takes the key from each official SDK as it sends it", async () => {
    const openaiClient = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: MASTER, maxRetries: 0 });
    const completion = await openaiClient.chat.completions.create({
      model: "gpt",
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(completion.choices[0]?.message.content).toBeTruthy();

    const anthropicClient = new Anthropic({
      baseURL: `${gateway.url}/anthropic`,
      apiKey: MASTER,
      maxRetries: 0,
    });
    const message = await anthropicClient.messages.create({
      model: "claude",
      max_tokens: 16,
      messages: [{ role: "user", content: "Hi" }],
    });
    expect(message.type).toBe("message");

    const genai = new GoogleGenAI({ apiKey: MASTER, httpOptions: { baseUrl: `${gateway.url}/genai` } });
    const answer = await genai.models.generateContent({ model: "gemini-2.5-flash", contents: "Hi" });
    expect(answer.text).toBeTruthy();

    const refused = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: WRONG, maxRetries: 0 });
    await expect(
      refused.chat.completions.create({ model: "gpt", messages: [{ role: "user", content: "Hi" }] }),
    ).rejects.toMatchObject({ status: 401 });
  });

  it("never prints the key, whatever was sent", () => {
    expect(gateway.output()).not.toContain(MASTER);
    expect(gateway.output()).not.toContain(WRONG);
  });
});

describe("no key configured", () => {
  it("serves without a key and says at start-up that the gateway is open", async () => {
    const open = await startGateway({
      env: { OPENAI_API_KEY: "sk-provider-openai", OPENAI_BASE_URL: `${openai.url}/v1` },
      args: ["--lanes", "1"],
    });
    try {
      expect(open.output()).toContain("auth: none; the gateway is open to anyone who reaches it");
      const response = await fetch(`${open.url}/v1/chat/completions`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] }),
      });
      await response.arrayBuffer();
      expect(response.status).toBe(200);
    } finally {
      await open.stop();
    }
  });

  it("guards every route with SWITCHYARD_API_KEY in environment mode", async () => {
    const guarded = await startGateway({
      env: {
        OPENAI_API_KEY: "sk-provider-openai",
        OPENAI_BASE_URL: `${openai.url}/v1`,
        SWITCHYARD_API_KEY: MASTER,
      },
      args: ["--lanes", "1"],
    });
    try {
      const body = JSON.stringify({
        model: "openai/gpt-4o-mini",
        messages: [{ role: "user", content: "Hi" }],
      });
      const without = await fetch(`${guarded.url}/v1/chat/completions`, {
        method: "POST",
        headers: json,
        body,
      });
      expect(without.status).toBe(401);
      await without.arrayBuffer();
      const withKey = await fetch(`${guarded.url}/v1/chat/completions`, {
        method: "POST",
        headers: { ...json, authorization: `Bearer ${MASTER}` },
        body,
      });
      await withKey.arrayBuffer();
      expect(withKey.status).toBe(200);
      // /metrics stays open unless asked.
      expect((await fetch(`${guarded.url}/metrics`)).status).toBe(200);
      expect(guarded.output()).not.toContain(MASTER);
    } finally {
      await guarded.stop();
    }
  });
});
