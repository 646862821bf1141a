import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnthropicMockServer, startAnthropicMock } from "../../bench/mock/anthropic-mock.js";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type AdminCall, adminApi, eventually } from "../helpers/admin-api.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { startTestRedis, type TestRedis } from "../helpers/redis.js";

// The answer cache through the real server and the official SDKs, two lanes sharing it: exact hits
// whatever the JSON's member order and spacing, misses when anything that changes the answer changes,
// streams replayed as streams, tenants apart, the client's controls, semantic hits (the mock embeds with
// the toy embedding) that numbers and negations keep honest, hits in the log and the metrics, and Redis
// shared by two gateways.

const ADMIN = "sk-admin-cache-test";
let openaiMock: MockServer;
let anthropicMock: AnthropicMockServer;
let gateway: RunningGateway;
let admin: AdminCall;
let appDir: string;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    OPENAI_API_KEY: "sk-mock-provider",
    OPENAI_BASE_URL: `${openaiMock.url}/v1`,
    ANTHROPIC_API_KEY: "sk-ant-mock",
    ANTHROPIC_BASE_URL: anthropicMock.url,
    SWITCHYARD_API_KEY: ADMIN,
    SWITCHYARD_ENCRYPTION_KEY: "cache-test-encryption-key",
    SWITCHYARD_CACHE: "memory",
    SWITCHYARD_CACHE_EMBEDDING_MODEL: "openai/text-embedding-3-small",
    ...extra,
  };
}

beforeAll(async () => {
  appDir = mkdtempSync(join(tmpdir(), "switchyard-cache-"));
  openaiMock = await startOpenAIMock({ streamChunks: 6 });
  anthropicMock = await startAnthropicMock({});
  gateway = await startGateway({ env: env(), args: ["--lanes", "2", "--app-dir", appDir] });
  admin = adminApi(gateway.url, ADMIN);
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([openaiMock?.close(), anthropicMock?.close()]);
  rmSync(appDir, { recursive: true, force: true });
});

/** A chat completion sent as raw JSON text, so its spelling is the test's. */
async function raw(body: string, headers: Record<string, string> = {}, key = ADMIN) {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Chat requests the OpenAI mock has answered (embeddings apart). */
const openaiRequests = () => openaiMock.stats.requests;

describe("the exact cache", () => {
  it("answers the same request again from the cache, whatever its member order and spacing, on every lane", async () => {
    const first = await raw(
      '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"exact one"}],"temperature":0.5}',
    );
    expect(first.status).toBe(200);
    expect(first.headers.get("x-switchyard-cache")).toBe("miss");
    const asked = openaiRequests();
    const spellings = [
      '{ "temperature": 0.5, "messages": [ { "content": "exact one", "role": "user" } ], "model": "openai/gpt-4o-mini" }',
      '{"messages":[{"role":"user","content":"exact \\u006fne"}],"model":"openai/gpt-4o-mini","temperature":5e-1}',
      '{"model":"openai/gpt-4o-mini","temperature":0.50,"messages":[{"role":"user","content":"exact one"}]}',
    ];
    // Six rounds land on both lanes: the store is the process's, not a lane's.
    for (let round = 0; round < 2; round++) {
      for (const spelling of spellings) {
        const again = await raw(spelling);
        expect(again.status).toBe(200);
        expect(again.headers.get("x-switchyard-cache")).toBe("hit");
        expect(again.headers.get("x-switchyard-cache-type")).toBe("exact");
        expect(again.text).toBe(first.text);
      }
    }
    expect(openaiRequests()).toBe(asked);
  });

  it("misses when anything that changes the answer changes", async () => {
    const base = {
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "exact two" }],
      temperature: 0.1,
    };
    expect((await raw(JSON.stringify(base))).headers.get("x-switchyard-cache")).toBe("miss");
    expect((await raw(JSON.stringify(base))).headers.get("x-switchyard-cache")).toBe("hit");
    const changes: Record<string, unknown>[] = [
      { temperature: 0.2 },
      { max_tokens: 7 },
      { messages: [{ role: "user", content: "Which river is the longest?" }] },
      { messages: [{ role: "system", content: "Be terse." }, ...base.messages] },
      { response_format: { type: "json_object" } },
      { tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }] },
      { model: "openai/gpt-4o" },
    ];
    for (const change of changes) {
      const answer = await raw(JSON.stringify({ ...base, ...change }));
      expect(answer.status, JSON.stringify(change)).toBe(200);
      expect(answer.headers.get("x-switchyard-cache"), JSON.stringify(change)).toBe("miss");
    }
  });

  it("replays a stream as a stream to the OpenAI SDK, and never answers a whole request with a stream", async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: ADMIN, maxRetries: 0 });
    const request = {
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user" as const, content: "stream me" }],
    };
    const read = async () => {
      const { data, response } = await client.chat.completions
        .create({ ...request, stream: true, stream_options: { include_usage: true } })
        .withResponse();
      let text = "";
      let chunks = 0;
      let usage = 0;
      for await (const chunk of data) {
        chunks++;
        text += chunk.choices[0]?.delta.content ?? "";
        usage += chunk.usage?.completion_tokens ?? 0;
      }
      return { text, chunks, usage, cache: response.headers.get("x-switchyard-cache") };
    };
    const first = await read();
    expect(first.cache).toBe("miss");
    const asked = openaiRequests();
    const replayed = await read();
    expect(replayed).toEqual({ ...first, cache: "hit" });
    expect(replayed.chunks).toBeGreaterThan(3);
    expect(openaiRequests()).toBe(asked);
    const whole = await client.chat.completions.create(request).withResponse();
    expect(whole.response.headers.get("x-switchyard-cache")).toBe("miss");
    expect(whole.data.choices[0]?.message.content).toContain("Switchyard mock reply");
  });

  it("answers a stream from the whole answer to the same request, replayed as the format's stream", async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: ADMIN, maxRetries: 0 });
    const request = {
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user" as const, content: "whole, then streamed" }],
    };
    const whole = await client.chat.completions.create(request);
    const asked = openaiRequests();
    const { data, response } = await client.chat.completions
      .create({ ...request, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get("x-switchyard-cache")).toBe("hit");
    let text = "";
    let finish: string | null | undefined;
    let usage: number | undefined;
    for await (const chunk of data) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish ??= chunk.choices[0]?.finish_reason;
      usage ??= chunk.usage?.total_tokens;
    }
    expect(text).toBe(whole.choices[0]?.message.content);
    expect(finish).toBe(whole.choices[0]?.finish_reason);
    expect(usage).toBe(whole.usage?.total_tokens);
    expect(openaiRequests()).toBe(asked);
  });

  it("replays whole and streamed answers to the Anthropic SDK in its own format", async () => {
    const client = new Anthropic({ baseURL: `${gateway.url}/anthropic`, apiKey: ADMIN, maxRetries: 0 });
    const request = {
      model: "anthropic/claude-sonnet-4-5",
      max_tokens: 64,
      messages: [{ role: "user" as const, content: "cache me, Claude" }],
    };
    const whole = await client.messages.create(request).withResponse();
    expect(whole.response.headers.get("x-switchyard-cache")).toBe("miss");
    const asked = anthropicMock.stats.requests;
    const again = await client.messages.create(request).withResponse();
    expect(again.response.headers.get("x-switchyard-cache")).toBe("hit");
    expect(again.data).toEqual(whole.data);
    const streamed = async () => {
      const stream = client.messages.stream(request);
      const text: string[] = [];
      stream.on("text", (delta) => text.push(delta));
      const message = await stream.finalMessage();
      return { text: text.join(""), id: message.id };
    };
    // The whole answer answers the stream too, replayed as Anthropic's events.
    const firstStream = await streamed();
    const wholeText = whole.data.content.map((block) => (block.type === "text" ? block.text : "")).join("");
    expect(firstStream).toEqual({ text: wholeText, id: whole.data.id });
    expect(await streamed()).toEqual(firstStream);
    expect(anthropicMock.stats.requests).toBe(asked);
  });

  it("keeps tenants apart: one virtual key never gets another's answer", async () => {
    const keyA = (await admin("POST", "/api/keys", { name: "tenant-a" })).body.key as string;
    const keyB = (await admin("POST", "/api/keys", { name: "tenant-b" })).body.key as string;
    const body = '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"tenant question"}]}';
    expect((await raw(body, {}, keyA)).headers.get("x-switchyard-cache")).toBe("miss");
    expect((await raw(body, {}, keyA)).headers.get("x-switchyard-cache")).toBe("hit");
    expect((await raw(body, {}, keyB)).headers.get("x-switchyard-cache")).toBe("miss");
    expect((await raw(body, {}, ADMIN)).headers.get("x-switchyard-cache")).toBe("miss");
  });

  it("follows the client's controls: no-cache, no-store, TTL, s-maxage and a namespace of its own", async () => {
    const body = (content: string, cache?: unknown) =>
      JSON.stringify({
        model: "openai/gpt-4o-mini",
        messages: [{ role: "user", content }],
        ...(cache === undefined ? {} : { cache }),
      });
    const state = async (text: string, headers: Record<string, string> = {}) =>
      (await raw(text, headers)).headers.get("x-switchyard-cache");

    expect(await state(body("controls"))).toBe("miss");
    expect(await state(body("controls", { "no-cache": true }))).toBe("miss");
    expect(await state(body("controls"))).toBe("hit");
    expect(await state(body("not stored", { "no-store": true }))).toBe("miss");
    expect(await state(body("not stored"))).toBe("miss");
    expect(await state(body("short-lived"), { "x-switchyard-cache-ttl": "1" })).toBe("miss");
    expect(await state(body("short-lived"))).toBe("hit");
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(await state(body("short-lived"))).toBe("miss");
    expect(await state(body("aged"))).toBe("miss");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await state(body("aged", { "s-maxage": 1 }))).toBe("miss");
    expect(await state(body("aged"))).toBe("hit");
    expect(await state(body("spaced"), { "x-bf-cache-key": "session-1" })).toBe("miss");
    expect(await state(body("spaced"), { "x-bf-cache-key": "session-1" })).toBe("hit");
    expect(await state(body("spaced"), { "x-bf-cache-key": "session-2" })).toBe("miss");
    expect(await state(body("off"), { "x-switchyard-cache": "off" })).toBe("bypass");
  });

  it("refuses a malformed control in the client's own format, and never lets it reach the provider", async () => {
    const bad = await raw(
      '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"x"}],"cache":{"ttl":"soon"}}',
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error).toMatchObject({ type: "invalid_request_error", param: "cache" });
    const anthropic = await fetch(`${gateway.url}/anthropic/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": ADMIN, "content-type": "application/json", "x-switchyard-cache": "sometimes" },
      body: JSON.stringify({
        model: "anthropic/claude-sonnet-4-5",
        max_tokens: 8,
        messages: [{ role: "user", content: "x" }],
      }),
    });
    expect(anthropic.status).toBe(400);
    expect(((await anthropic.json()) as { type: string }).type).toBe("error");
    await raw(
      '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"fields"}],"cache":{"ttl":60}}',
    );
    expect(openaiMock.stats.lastRequest?.body).not.toContain('"cache"');
  });
});

describe("the semantic cache", () => {
  const ask = (content: string) =>
    raw(JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content }] }));

  it("answers a paraphrase from the earlier question, and says how similar it was", async () => {
    const first = await ask("How do I reset my password on the website?");
    expect(first.headers.get("x-switchyard-cache")).toBe("miss");
    const asked = openaiRequests();
    const paraphrase = await ask("How can I reset my password on the website?");
    expect(paraphrase.headers.get("x-switchyard-cache")).toBe("hit");
    expect(paraphrase.headers.get("x-switchyard-cache-type")).toBe("semantic");
    expect(Number(paraphrase.headers.get("x-switchyard-cache-similarity"))).toBeGreaterThan(0.88);
    expect(paraphrase.text).toBe(first.text);
    // The paraphrase's embedding is one more request to the mock; no chat completion was asked.
    expect(openaiRequests()).toBe(asked + 1);
  });

  it("never answers a near-miss: other numbers, a negation, another name", async () => {
    await ask("What is 15 percent of 240 dollars?");
    for (const nearMiss of ["What is 18 percent of 240 dollars?", "What is not 15 percent of 240 dollars?"])
      expect((await ask(nearMiss)).headers.get("x-switchyard-cache"), nearMiss).toBe("miss");
    await ask("What is the best time of year to visit Lisbon?");
    expect(
      (await ask("What is the best time of year to visit Madrid?")).headers.get("x-switchyard-cache"),
    ).toBe("miss");
  });

  it("records hits as hits in the log, with no provider cost, and counts them in the metrics", async () => {
    const content = "Explain the log of a cache hit";
    await ask(content);
    const hit = await ask(content);
    const id = hit.headers.get("x-request-id");
    const record = await eventually(
      () => admin("GET", `/api/logs?limit=50`),
      (answer) => answer.body.data.some((row: { request_id: string }) => row.request_id === id),
    );
    const row = record.body.data.find((r: { request_id: string }) => r.request_id === id);
    expect(row).toMatchObject({ cache: "hit", cost: 0, provider: "" });
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_cache_lookups_total\{result="exact_hit"\} [1-9]/);
    expect(metrics).toMatch(/switchyard_cache_lookups_total\{result="semantic_hit"\} [1-9]/);
    expect(metrics).toMatch(/switchyard_cache_similarity_bucket\{le="1"\} [1-9]/);
    expect(metrics).toMatch(/switchyard_cache_hits_total [1-9]/);
  });
});

describe("the Redis cache", () => {
  let redis: TestRedis;
  const gateways: RunningGateway[] = [];

  beforeAll(async () => {
    // A server of the test's own, which it may take down.
    redis = await startTestRedis({ throwaway: true });
    const redisEnv = env({ SWITCHYARD_CACHE: "redis", SWITCHYARD_CACHE_REDIS_URL: redis.url });
    for (const name of ["a", "b"]) {
      const dir = join(appDir, `redis-${name}`);
      gateways.push(await startGateway({ env: redisEnv, args: ["--lanes", "1", "--app-dir", dir] }));
    }
  });

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await redis?.stop();
  });

  it("shares exact answers between gateways", async () => {
    const send = (url: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"shared through Redis"}]}',
      });
    const [a, b] = gateways as [RunningGateway, RunningGateway];
    const first = await send(a.url);
    expect(first.headers.get("x-switchyard-cache")).toBe("miss");
    const text = await first.text();
    const other = await eventually(
      () => send(b.url),
      (response) => response.headers.get("x-switchyard-cache") === "hit",
    );
    expect(await other.text()).toBe(text);
  });

  it("shares semantic entries between gateways: a paraphrase asked of one finds the other's answer", async () => {
    const send = (url: string, content: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content }] }),
      });
    const [a, b] = gateways as [RunningGateway, RunningGateway];
    const first = await send(a.url, "How do I bake sourdough bread at home?");
    expect(first.headers.get("x-switchyard-cache")).toBe("miss");
    const text = await first.text();
    // The entry is published once the answer is stored, just after it was sent.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const paraphrase = await send(b.url, "How can I bake sourdough bread at home?");
    expect(paraphrase.headers.get("x-switchyard-cache")).toBe("hit");
    expect(paraphrase.headers.get("x-switchyard-cache-type")).toBe("semantic");
    expect(await paraphrase.text()).toBe(text);
  });

  it("serves every request while Redis is down, as misses, and caches again once it is back", async () => {
    const [a] = gateways as [RunningGateway];
    const send = (content: string) =>
      fetch(`${a.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content }] }),
      });
    await redis.takeDown();
    for (let i = 0; i < 5; i++) {
      const answer = await send("asked while Redis is down");
      expect(answer.status).toBe(200);
      expect(answer.headers.get("x-switchyard-cache")).toBe("miss");
      await answer.text();
    }
    await redis.bringUp();
    const back = await eventually(
      async () => {
        const answer = await send("asked once Redis is back");
        await answer.text();
        return answer.headers.get("x-switchyard-cache");
      },
      (state) => state === "hit",
      15_000,
    );
    expect(back).toBe("hit");
  }, 30_000);
});
