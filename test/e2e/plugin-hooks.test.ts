import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnthropicMockServer, startAnthropicMock } from "../../bench/mock/anthropic-mock.js";
import { type GeminiMockServer, startGeminiMock } from "../../bench/mock/gemini-mock.js";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// A plugin written only against the public hook interface (test/fixtures/plugins/probe.mjs) on every
// inference route, streamed and not, on both legs: it sees each request once, every byte of a streamed reply
// as it goes out, the whole reply when it is not streamed, and it can refuse a model on any route, in the
// route's own error format. What it saw is checked against what the client got.

const PROBE = fileURLToPath(new URL("../fixtures/plugins/probe.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "switchyard-plugin-hooks-"));
const log = join(dir, "probe.jsonl");

let openai: MockServer;
let anthropic: AnthropicMockServer;
let gemini: GeminiMockServer;
let gateway: RunningGateway;

beforeAll(async () => {
  [openai, anthropic, gemini] = await Promise.all([
    startOpenAIMock({ streamChunks: 3 }),
    startAnthropicMock({ streamChunks: 3 }),
    startGeminiMock({ streamChunks: 3 }),
  ]);
  const network = (url: string) => ({ base_url: url });
  const config = join(dir, "config.json");
  writeFileSync(
    config,
    JSON.stringify({
      providers: {
        openai: { keys: [{ name: "o", value: "sk-o", models: [] }], network_config: network(openai.url) },
        anthropic: {
          keys: [{ name: "a", value: "sk-a", models: [] }],
          network_config: network(anthropic.url),
        },
        gemini: { keys: [{ name: "g", value: "g-key", models: [] }], network_config: network(gemini.url) },
      },
      plugins: [{ enabled: true, name: "probe", path: PROBE, config: { log } }],
    }),
  );
  gateway = await startGateway({ args: ["--config", config, "--lanes", "2"] });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([openai?.close(), anthropic?.close(), gemini?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

interface Seen {
  id: string;
  route: string;
  format: string;
  model: string;
  stream: boolean;
  requests: number;
  responses: number;
  chunks: number;
  chunkBytes: number;
  ends: number;
  bodyBytes?: number;
  promptTokens?: number;
  status?: number;
  provider?: string;
  tag?: string;
  errors: { status: number; code: string; errorClass: string }[];
}

/** The probe's last line about request `id`, once it has written one. */
async function seenBy(id: string): Promise<Seen> {
  for (let i = 0; i < 100; i++) {
    if (existsSync(log)) {
      const lines = readFileSync(log, "utf8").trim().split("\n");
      const mine = lines.map((line) => JSON.parse(line) as Seen).filter((entry) => entry.id === id);
      if (mine.length > 0) return mine.at(-1) as Seen;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the probe wrote nothing about ${id}`);
}

interface Case {
  readonly route: string;
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly stream: boolean;
  readonly provider: string;
  /** The model as the plugin sees it. */
  readonly model: string;
}

const chat = { messages: [{ role: "user", content: "hi" }] };
const anthropicBody = { max_tokens: 32, messages: [{ role: "user", content: "hi" }] };
const geminiBody = { contents: [{ role: "user", parts: [{ text: "hi" }] }] };
const genai = (model: string, method: string) =>
  `/genai/v1beta/models/${encodeURIComponent(model)}:${method}`;

const CASES: Case[] = [
  ...[false, true].flatMap((stream) => [
    {
      route: "openai.chat.completions",
      path: "/v1/chat/completions",
      body: { model: "openai/gpt-4o-mini", ...chat, stream },
      stream,
      provider: "openai",
      model: "openai/gpt-4o-mini",
    },
    // The convert leg: an OpenAI client, an Anthropic provider.
    {
      route: "openai.chat.completions",
      path: "/v1/chat/completions",
      body: { model: "anthropic/claude-3-5-haiku-latest", ...chat, stream },
      stream,
      provider: "anthropic",
      model: "anthropic/claude-3-5-haiku-latest",
    },
    {
      route: "openai.responses",
      path: "/v1/responses",
      body: { model: "openai/gpt-4o-mini", input: "hi", stream },
      stream,
      provider: "openai",
      model: "openai/gpt-4o-mini",
    },
    {
      route: "anthropic.messages",
      path: "/anthropic/v1/messages",
      body: { model: "anthropic/claude-3-5-haiku-latest", ...anthropicBody, stream },
      stream,
      provider: "anthropic",
      model: "anthropic/claude-3-5-haiku-latest",
    },
    {
      route: "anthropic.messages",
      path: "/anthropic/v1/messages",
      body: { model: "openai/gpt-4o-mini", ...anthropicBody, stream },
      stream,
      provider: "openai",
      model: "openai/gpt-4o-mini",
    },
  ]),
  {
    route: "openai.completions",
    path: "/v1/completions",
    body: { model: "openai/gpt-3.5-turbo-instruct", prompt: "hi" },
    stream: false,
    provider: "openai",
    model: "openai/gpt-3.5-turbo-instruct",
  },
  {
    route: "openai.embeddings",
    path: "/v1/embeddings",
    body: { model: "openai/text-embedding-3-small", input: "hi" },
    stream: false,
    provider: "openai",
    model: "openai/text-embedding-3-small",
  },
  {
    route: "gemini.generateContent",
    path: genai("gemini/gemini-2.5-flash", "generateContent"),
    body: geminiBody,
    stream: false,
    provider: "gemini",
    model: "gemini/gemini-2.5-flash",
  },
  {
    route: "gemini.streamGenerateContent",
    path: `${genai("gemini/gemini-2.5-flash", "streamGenerateContent")}?alt=sse`,
    body: geminiBody,
    stream: true,
    provider: "gemini",
    model: "gemini/gemini-2.5-flash",
  },
  {
    route: "gemini.streamGenerateContent",
    path: `${genai("openai/gpt-4o-mini", "streamGenerateContent")}?alt=sse`,
    body: geminiBody,
    stream: true,
    provider: "openai",
    model: "openai/gpt-4o-mini",
  },
];

let requests = 0;

async function send(path: string, body: Record<string, unknown>) {
  const id = `probe-${++requests}`;
  const response = await fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": id, "x-probe-tag": `tag-${id}` },
    body: JSON.stringify(body),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { id, response, bytes };
}

describe("a plugin on every route", () => {
  it.each(CASES.map((c) => [`${c.route} ${c.stream ? "streamed" : "whole"} via ${c.provider}`, c] as const))(
    "%s: sees the request once and every byte of the reply",
    async (_name, c) => {
      const { id, response, bytes } = await send(c.path, c.body);
      expect(response.status, bytes.toString()).toBe(200);
      const seen = await seenBy(id);
      expect(seen).toMatchObject({
        route: c.route,
        model: c.model,
        stream: c.stream,
        requests: 1,
        provider: c.provider,
        status: 200,
        tag: `tag-${id}`,
        errors: [],
      });
      if (c.stream) {
        expect(seen.ends).toBe(1);
        expect(seen.responses).toBe(0);
        expect(seen.chunks).toBeGreaterThan(0);
        expect(seen.chunkBytes).toBe(bytes.length);
      } else {
        expect(seen.responses).toBe(1);
        expect(seen.chunks).toBe(0);
        expect(seen.bodyBytes).toBe(bytes.length);
        expect(seen.promptTokens).toBeGreaterThan(0);
      }
    },
  );

  it("stamps its header on the upstream request, on both legs", async () => {
    await send("/v1/chat/completions", { model: "openai/gpt-4o-mini", ...chat });
    expect(openai.stats.lastRequest?.headers["x-probe-upstream"]).toBe("seen-openai.chat.completions");
    await send("/v1/chat/completions", { model: "anthropic/claude-3-5-haiku-latest", ...chat });
    expect(anthropic.stats.lastRequest?.headers["x-probe-upstream"]).toBe("seen-openai.chat.completions");
    await send(genai("gemini/gemini-2.5-flash", "generateContent"), geminiBody);
    expect(gemini.stats.lastRequest?.headers["x-probe-upstream"]).toBe("seen-gemini.generateContent");
  });

  it.each([
    ["openai.chat.completions", "/v1/chat/completions", { model: "openai/blocked-model", ...chat }],
    ["openai.responses", "/v1/responses", { model: "openai/blocked-model", input: "hi", stream: true }],
    ["anthropic.messages", "/anthropic/v1/messages", { model: "anthropic/blocked-model", ...anthropicBody }],
    [
      "gemini.streamGenerateContent",
      `${genai("gemini/blocked-model", "streamGenerateContent")}?alt=sse`,
      geminiBody,
    ],
  ] as const)("%s: refuses a model in the route's own error format", async (route, path, body) => {
    const before = openai.stats.requests + anthropic.stats.requests + gemini.stats.requests;
    const { id, response, bytes } = await send(path, body);
    expect(response.status).toBe(403);
    const error: unknown = JSON.parse(bytes.toString());
    if (route === "anthropic.messages")
      expect(error).toMatchObject({
        type: "error",
        error: { type: "permission_error", message: "probe refuses anthropic/blocked-model" },
      });
    else if (route.startsWith("gemini"))
      expect(error).toMatchObject({ error: { code: 403, status: "PERMISSION_DENIED" } });
    else expect(error).toMatchObject({ error: { code: "model_not_allowed", type: "permission_error" } });
    expect(openai.stats.requests + anthropic.stats.requests + gemini.stats.requests).toBe(before);
    const seen = await seenBy(id);
    expect(seen.errors).toEqual([{ status: 403, code: "model_not_allowed", errorClass: "policy" }]);
    expect(seen.ends + seen.responses).toBe(0);
  });

  it("sees a provider's error as one, in its class", async () => {
    const { id, response } = await send("/v1/chat/completions", { model: "openai/mock-error-503", ...chat });
    expect(response.status).toBe(503);
    const seen = await seenBy(id);
    expect(seen.errors).toEqual([expect.objectContaining({ status: 503, errorClass: "provider" })]);
  });
});

describe("the built-in header allowlist (SWITCHYARD_FORWARD_HEADERS)", () => {
  it("passes the listed client headers to the provider, on both legs, and no other", async () => {
    const forwarding = await startGateway({
      env: {
        OPENAI_API_KEY: "sk-o",
        OPENAI_BASE_URL: `${openai.url}/v1`,
        ANTHROPIC_API_KEY: "sk-a",
        ANTHROPIC_BASE_URL: anthropic.url,
        SWITCHYARD_FORWARD_HEADERS: "x-trace-id,x-tenant",
      },
      args: ["--lanes", "1"],
    });
    try {
      expect(forwarding.output()).toContain("header_allowlist");
      const headers = {
        "content-type": "application/json",
        "x-trace-id": "trace-7",
        "x-tenant": "acme",
        "x-secret-internal": "do-not-forward",
      };
      for (const model of ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"]) {
        const response = await fetch(`${forwarding.url}/v1/chat/completions`, {
          method: "POST",
          headers,
          body: JSON.stringify({ model, ...chat }),
        });
        expect(response.status, await response.text()).toBe(200);
      }
      for (const received of [openai.stats.lastRequest?.headers, anthropic.stats.lastRequest?.headers]) {
        expect(received?.["x-trace-id"]).toBe("trace-7");
        expect(received?.["x-tenant"]).toBe("acme");
        expect(received?.["x-secret-internal"]).toBeUndefined();
      }
    } finally {
      await forwarding.stop();
    }
  });
});
