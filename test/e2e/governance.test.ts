import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type AdminCall, adminApi, eventually, micros } from "../helpers/admin-api.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// Virtual keys made through the management API, used by the official SDKs: each SDK's key header, what a
// key may use, its limits and budgets, spend charged from the provider's usage (streams included), and
// spend that outlives the process.

const ADMIN = "sk-admin-governance-test";
let mock: MockServer;
let gateway: RunningGateway;
let admin: AdminCall;
let appDir: string;

function gatewayEnv(): Record<string, string> {
  return {
    OPENAI_API_KEY: "sk-mock-provider",
    OPENAI_BASE_URL: `${mock.url}/v1`,
    SWITCHYARD_API_KEY: ADMIN,
    SWITCHYARD_ENCRYPTION_KEY: "governance-test-encryption-key",
  };
}

async function start(): Promise<void> {
  gateway = await startGateway({ env: gatewayEnv(), args: ["--lanes", "2", "--app-dir", appDir] });
  admin = adminApi(gateway.url, ADMIN);
}

beforeAll(async () => {
  appDir = mkdtempSync(join(tmpdir(), "switchyard-governance-"));
  mock = await startOpenAIMock({ requireKey: "sk-mock-provider", streamChunks: 8 });
  await start();
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
  rmSync(appDir, { recursive: true, force: true });
});

async function newKey(fields: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const created = await admin("POST", "/api/keys", fields);
  expect(created.status).toBe(201);
  return { id: created.body.id, key: created.body.key };
}

const openai = (key: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
const ask = (key: string, extra: Record<string, unknown> = {}) =>
  openai(key).chat.completions.create({
    model: "openai/gpt-4o-mini",
    messages: [{ role: "user", content: "Say hello" }],
    max_tokens: 200,
    ...extra,
  });

async function usageOf(keyId: string, count: number): Promise<Array<Record<string, unknown>>> {
  const answer = await eventually(
    () => admin("GET", `/api/usage?key_id=${keyId}&limit=1000`),
    (a) => a.status === 200 && a.body.data.length >= count,
  );
  return answer.body.data;
}

describe("virtual keys", () => {
  it("serve each SDK's key header, and are stored only as a hash", async () => {
    const { id, key } = await newKey({ name: "app" });
    expect(key).toMatch(/^sk-sy-[A-Za-z0-9_-]{43}$/);
    expect((await ask(key)).choices[0]?.message.role).toBe("assistant");
    const anthropic = new Anthropic({ baseURL: `${gateway.url}/anthropic`, apiKey: key, maxRetries: 0 });
    const message = await anthropic.messages.create({
      model: "openai/gpt-4o-mini",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(message.type).toBe("message");
    for (const header of ["x-bf-vk", "api-key", "x-goog-api-key"]) {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", [header]: key },
        body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
      });
      expect([header, response.status]).toEqual([header, 200]);
    }
    const shown = await admin("GET", `/api/keys/${id}`);
    expect(JSON.stringify(shown.body)).not.toContain(key);
    expect((await usageOf(id, 5)).length).toBe(5);
  });

  it("refuse a key that is disabled or expired, a model it may not use, and anything without the admin key", async () => {
    const { id, key } = await newKey({ name: "narrow", models: ["openai/gpt-4o"] });
    await expect(ask(key)).rejects.toMatchObject({ status: 403, code: "model_not_allowed" });
    const allowed = await openai(key).chat.completions.create({
      model: "openai/gpt-4o",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(allowed.object).toBe("chat.completion");
    expect((await admin("PATCH", `/api/keys/${id}`, { active: false })).status).toBe(200);
    await expect(ask(key)).rejects.toMatchObject({ status: 401, code: "virtual_key_inactive" });
    const expired = await newKey({ name: "old", expires_at: Date.now() - 1000 });
    await expect(ask(expired.key)).rejects.toMatchObject({ status: 401, code: "virtual_key_inactive" });
    const asKey = await fetch(`${gateway.url}/api/keys`, { headers: { authorization: `Bearer ${key}` } });
    expect(asKey.status).toBe(401);
  });

  it("list only the models a key may use", async () => {
    const narrow = await newKey({ name: "lister", models: ["openai/gpt-4o*"] });
    const everything = await newKey({ name: "lister-all" });
    const ids = async (key: string) => (await openai(key).models.list()).data.map((m) => m.id);
    const all = await ids(everything.key);
    const allowed = await ids(narrow.key);
    expect(allowed.length).toBeGreaterThan(0);
    expect(allowed.length).toBeLessThan(all.length);
    expect(allowed.every((id) => id.startsWith("openai/gpt-4o"))).toBe(true);
  });

  it("narrow a fallback chain to the key's models, and estimate a budget at the dearest model it may end on", async () => {
    const { key } = await newKey({
      name: "fallbacks",
      models: ["openai/mock-error-*", "openai/gpt-4o-mini"],
    });
    const send = (fallbacks: string[], model = "openai/mock-error-500") =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ model, fallbacks, messages: [{ role: "user", content: "hi" }] }),
      });
    const allowed = await send(["openai/gpt-4o-mini"]);
    expect([allowed.status, allowed.headers.get("x-switchyard-model")]).toEqual([200, "gpt-4o-mini"]);
    const refused = await send(["openai/gpt-4o"]);
    expect(refused.status).toBe(500);
    expect(mock.stats.lastRequest?.body).not.toContain('"gpt-4o"');

    const budgeted = await newKey({ name: "fallback-budget", budgets: [{ max_budget: 0.001 }] });
    const ask500 = (fallbacks: string[]) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${budgeted.key}` },
        body: JSON.stringify({
          model: "openai/gpt-4o-mini",
          max_tokens: 500,
          fallbacks,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
    // 500 output tokens of gpt-4o-mini fit $0.001; of gpt-4o ($10 per million) they do not.
    expect((await ask500([])).status).toBe(200);
    const tooDear = await ask500(["openai/gpt-4o"]);
    expect(tooDear.status).toBe(429);
    expect(((await tooDear.json()) as { error: { code: string } }).error.code).toBe("budget_exceeded");
  });

  it("hold requests per minute and requests under way", async () => {
    // A rolling minute from the key's creation: a calendar minute could turn over between the requests.
    const perMinute = await newKey({ name: "rpm", limits: { requests: 2, window: "1m:rolling" } });
    await ask(perMinute.key);
    await ask(perMinute.key);
    const refused = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${perMinute.key}` },
      body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(60);

    const oneAtATime = await newKey({ name: "parallel", limits: { parallel: 1 } });
    mock.configure({ latencyMs: 300 });
    try {
      const results = await Promise.allSettled([ask(oneAtATime.key), ask(oneAtATime.key)]);
      const statuses = results.map((r) =>
        r.status === "fulfilled" ? 200 : (r.reason as { status: number }).status,
      );
      expect(statuses.sort()).toEqual([200, 429]);
      // The place frees when the first ends.
      expect((await ask(oneAtATime.key)).object).toBe("chat.completion");
    } finally {
      mock.configure({ latencyMs: 0 });
    }
  });

  it("charge a budget with each reply's cost and refuse once it cannot cover the next estimate", async () => {
    const { id, key } = await newKey({
      name: "budgeted",
      budgets: [{ max_budget: 0.0003, budget_duration: "1d" }],
    });
    let served = 0;
    let refusal: unknown;
    for (let i = 0; i < 100 && refusal === undefined; i++) {
      try {
        await ask(key, { max_tokens: 50 });
        served++;
      } catch (error) {
        refusal = error;
      }
    }
    expect(served).toBeGreaterThan(1);
    expect(refusal).toMatchObject({ status: 429, code: "budget_exceeded" });
    const records = await usageOf(id, served);
    const charged = records.reduce((sum, r) => sum + micros(r.cost as number), 0);
    const view = await admin("GET", `/api/keys/${id}`);
    const budget = view.body.budgets[0];
    expect(micros(budget.spend)).toBe(charged);
    expect(micros(budget.spend)).toBeLessThanOrEqual(300);
    expect(micros(budget.reserved)).toBe(0);
  });

  it("ask an OpenAI stream for usage the client did not, charge it, and keep it from the client", async () => {
    const { id, key } = await newKey({ name: "streams" });
    const stream = await openai(key).chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "Stream please" }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.every((c) => c.choices.length > 0 && c.usage == null)).toBe(true);
    expect(JSON.parse(mock.stats.lastRequest?.body ?? "{}").stream_options).toEqual({ include_usage: true });
    const [record] = await usageOf(id, 1);
    expect(record).toMatchObject({ stream: true, estimated: false, status: 200 });
    expect(record?.completion_tokens).toBeGreaterThan(0);
    expect(micros(record?.cost as number)).toBeGreaterThan(0);
  });

  it("charge a stream the client cancels for what was generated", async () => {
    const { id, key } = await newKey({ name: "cancelled" });
    mock.configure({ chunkIntervalMs: 50 });
    try {
      const controller = new AbortController();
      const stream = await openai(key).chat.completions.create(
        { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Stream please" }], stream: true },
        { signal: controller.signal },
      );
      const abortedBefore = mock.stats.aborted;
      let seen = 0;
      try {
        for await (const _ of stream) if (++seen === 3) controller.abort();
      } catch (error) {
        expect((error as Error).name).toMatch(/Abort/);
      }
      await eventually(
        async () => mock.stats.aborted,
        (aborted) => aborted > abortedBefore,
      );
    } finally {
      mock.configure({ chunkIntervalMs: 0 });
    }
    const [record] = await usageOf(id, 1);
    expect(record).toMatchObject({ stream: true, estimated: true, status: 499 });
    expect(record?.completion_tokens).toBeGreaterThan(0);
    expect(micros(record?.cost as number)).toBeGreaterThan(0);
  });

  it("charge a whole reply the client leaves at its estimate, and free its place", async () => {
    const { id, key } = await newKey({ name: "left", limits: { parallel: 1 }, budgets: [{ max_budget: 1 }] });
    mock.configure({ latencyMs: 400 });
    try {
      const controller = new AbortController();
      const left = fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({
          model: "openai/gpt-4o-mini",
          max_tokens: 30,
          messages: [{ role: "user", content: "hi" }],
        }),
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(), 100);
      await expect(left).rejects.toThrow();
      const [record] = await usageOf(id, 1);
      expect(record).toMatchObject({ status: 499, estimated: true, completion_tokens: 30 });
      expect(micros(record?.cost as number)).toBeGreaterThan(0);
    } finally {
      mock.configure({ latencyMs: 0 });
    }
    expect((await ask(key)).object).toBe("chat.completion");
    const budget = (await admin("GET", `/api/keys/${id}`)).body.budgets[0];
    expect(micros(budget.reserved)).toBe(0);
  });

  it("keep keys, budgets and spend across a restart", async () => {
    const { id, key } = await newKey({ name: "durable", budgets: [{ max_budget: 1 }] });
    await ask(key);
    const before = await usageOf(id, 1);
    const spentBefore = (await admin("GET", `/api/keys/${id}`)).body.budgets[0].spend;
    expect(spentBefore).toBeGreaterThan(0);
    expect(await gateway.stop()).toBe(0);
    await start();
    expect(await usageOf(id, 1)).toEqual(before);
    expect((await admin("GET", `/api/keys/${id}`)).body.budgets[0].spend).toBe(spentBefore);
    expect((await ask(key)).object).toBe("chat.completion");
  });

  it("lose at most the last flush interval when the process is killed", async () => {
    const { id, key } = await newKey({ name: "killed", budgets: [{ max_budget: 1 }] });
    await ask(key);
    await ask(key);
    // Past the lanes' batch (200 ms) and the control plane's flush (1 s): both records are in the store.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const spent = (await admin("GET", `/api/keys/${id}`)).body.budgets[0].spend;
    await gateway.stop("SIGKILL");
    await start();
    expect((await usageOf(id, 2)).length).toBe(2);
    expect((await admin("GET", `/api/keys/${id}`)).body.budgets[0].spend).toBe(spent);
  });
});
