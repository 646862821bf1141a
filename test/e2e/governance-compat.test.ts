import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { adminApi, eventually } from "../helpers/admin-api.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";

// Migrating users: LiteLLM's key routes driven as LiteLLM's clients call them, a Bifrost config.json's
// governance section loaded as it is, and the store on a real PostgreSQL server.

let mock: MockServer;
let dir: string;
const running: RunningGateway[] = [];

beforeAll(async () => {
  mock = await startOpenAIMock({ requireKey: "sk-mock-provider" });
  dir = mkdtempSync(join(tmpdir(), "switchyard-governance-compat-"));
});

afterAll(async () => {
  await Promise.all(running.map((gateway) => gateway.stop()));
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function gatewayWith(env: Record<string, string>, args: string[] = []): Promise<RunningGateway> {
  const gateway = await startGateway({ env, args: ["--lanes", "2", ...args] });
  running.push(gateway);
  return gateway;
}

const chat = (gateway: RunningGateway, key: string, model = "gpt-4o-mini") =>
  new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 }).chat.completions.create({
    model,
    messages: [{ role: "user", content: "hi" }],
    max_tokens: 50,
  });

describe("LiteLLM's key management routes", () => {
  const MASTER = "sk-litellm-master-1234";

  it("generate a key with LiteLLM's fields that the gateway then enforces, and update, list and delete it", async () => {
    const gateway = await gatewayWith({
      OPENAI_API_KEY: "sk-mock-provider",
      OPENAI_BASE_URL: `${mock.url}/v1`,
      LITELLM_MASTER_KEY: MASTER,
    });
    const litellm = adminApi(gateway.url, MASTER);
    const generated = await litellm("POST", "/key/generate", {
      models: ["gpt-4o-mini"],
      max_budget: 5,
      budget_duration: "30d",
      rpm_limit: 2,
      max_parallel_requests: 10,
      key_alias: "billing-service",
      duration: "30d",
      metadata: { owner: "billing" },
    });
    expect(generated.status).toBe(200);
    const { key, token } = generated.body;
    expect(key).toMatch(/^sk-sy-/);
    expect(generated.body.expires).toBeTruthy();

    expect((await chat(gateway, key)).object).toBe("chat.completion");
    await expect(chat(gateway, key, "gpt-4o")).rejects.toMatchObject({ status: 403 });
    await chat(gateway, key);
    await expect(chat(gateway, key)).rejects.toMatchObject({ status: 429, code: "rate_limit_exceeded" });

    const info = await litellm("GET", `/key/info?key=${encodeURIComponent(key)}`);
    expect(info.status).toBe(200);
    expect(info.body.info).toMatchObject({ key_alias: "billing-service", max_budget: 5, rpm_limit: 2 });
    expect(JSON.stringify(info.body.info)).not.toContain(key);

    expect((await litellm("POST", "/key/update", { key, rpm_limit: 100 })).status).toBe(200);
    expect((await chat(gateway, key)).object).toBe("chat.completion");

    const logs = await eventually(
      () => litellm("GET", "/spend/logs"),
      (a) => a.status === 200 && a.body.length >= 3,
    );
    expect(logs.body[0]).toHaveProperty("spend");
    const global = await litellm("GET", "/global/spend");
    expect(global.status).toBe(200);

    const listed = await litellm("GET", "/key/list");
    expect(JSON.stringify(listed.body)).toContain(token);
    expect((await litellm("POST", "/key/delete", { keys: [key] })).status).toBe(200);
    await expect(chat(gateway, key)).rejects.toMatchObject({ status: 401 });
  });
});

describe("Bifrost's governance section", () => {
  it("loads virtual keys with their budgets and rate limits, and requires one on inference", async () => {
    const virtualKey = "sk-bf-compat-virtual-key-0001";
    const path = join(dir, "config.json");
    writeFileSync(
      path,
      JSON.stringify({
        providers: {
          openai: {
            keys: [{ name: "main", value: "sk-mock-provider", models: [], weight: 1 }],
            network_config: { base_url: `${mock.url}/v1` },
          },
        },
        client: { enforce_auth_on_inference: true },
        governance: {
          virtual_keys: [
            {
              id: "vk-app",
              name: "app",
              value: virtualKey,
              is_active: true,
              budget_id: "budget-app",
              rate_limit_id: "limit-app",
              provider_configs: [{ provider: "openai", allowed_models: ["*"], key_ids: ["*"] }],
            },
          ],
          budgets: [{ id: "budget-app", max_limit: 10, reset_duration: "1M" }],
          rate_limits: [{ id: "limit-app", request_max_limit: 2, request_reset_duration: "1m" }],
        },
      }),
    );
    const gateway = await gatewayWith({}, ["--config", path, "--app-dir", dir]);
    await expect(chat(gateway, "anything")).rejects.toMatchObject({ status: 401 });
    const asBifrost = (key: string) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-bf-vk": key },
        body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
      });
    expect((await asBifrost(virtualKey)).status).toBe(200);
    expect((await chat(gateway, virtualKey, "openai/gpt-4o-mini")).object).toBe("chat.completion");
    expect((await asBifrost(virtualKey)).status).toBe(429);
    expect(gateway.output()).not.toContain(virtualKey);
  });
});

describe("the store on PostgreSQL", () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await startTestPostgres();
  }, 120_000);
  afterAll(async () => {
    await postgres?.stop();
  });

  it("keeps keys and spend across a restart", async () => {
    const env = {
      OPENAI_API_KEY: "sk-mock-provider",
      OPENAI_BASE_URL: `${mock.url}/v1`,
      SWITCHYARD_API_KEY: "sk-admin-postgres",
      SWITCHYARD_DATABASE_URL: await postgres.createDatabase(),
      SWITCHYARD_ENCRYPTION_KEY: "postgres-test-encryption-key",
    };
    let gateway = await gatewayWith(env);
    expect(gateway.output()).toMatch(/store: PostgreSQL/);
    let admin = adminApi(gateway.url, "sk-admin-postgres");
    const created = await admin("POST", "/api/keys", { name: "pg", budgets: [{ max_budget: 1 }] });
    await chat(gateway, created.body.key);
    const usage = await eventually(
      () => admin("GET", `/api/usage?key_id=${created.body.id}`),
      (a) => a.body.data.length === 1,
    );
    const spend = (await admin("GET", `/api/keys/${created.body.id}`)).body.budgets[0].spend;
    expect(spend).toBeGreaterThan(0);
    expect(await gateway.stop()).toBe(0);
    gateway = await gatewayWith(env);
    admin = adminApi(gateway.url, "sk-admin-postgres");
    expect((await admin("GET", `/api/usage?key_id=${created.body.id}`)).body).toEqual(usage.body);
    expect((await admin("GET", `/api/keys/${created.body.id}`)).body.budgets[0].spend).toBe(spend);
    expect((await chat(gateway, created.body.key)).object).toBe("chat.completion");
  });
});
