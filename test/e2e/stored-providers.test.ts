import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type AdminCall, adminApi } from "../helpers/admin-api.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// A provider added through the management API to a gateway started with none: served by every lane as soon
// as it has a key, refusing requests while its key is disabled, no longer once the key is gone, and again after a restart from the store, whose copy of
// the key is encrypted; the API shows the key masked only.

const ADMIN = "sk-admin-stored-providers-test";
const UPSTREAM_SECRET = "sk-upstream-stored-provider-0123456789";
const MODEL = "team-gpt/gpt-4o-mini";
let mock: MockServer;
let gateway: RunningGateway;
let admin: AdminCall;
let appDir: string;
let configDir: string;

const configPath = () => join(configDir, "config.json");

function writeConfig(config: unknown): void {
  // Written beside and renamed over, so the watcher never reads a half-written file.
  writeFileSync(`${configPath()}.tmp`, JSON.stringify(config));
  renameSync(`${configPath()}.tmp`, configPath());
}

async function start(): Promise<void> {
  gateway = await startGateway({
    env: { SWITCHYARD_API_KEY: ADMIN, SWITCHYARD_ENCRYPTION_KEY: "stored-providers-test-encryption-key" },
    args: ["--lanes", "2", "--app-dir", appDir, "--config", configPath()],
  });
  admin = adminApi(gateway.url, ADMIN);
}

beforeAll(async () => {
  appDir = mkdtempSync(join(tmpdir(), "switchyard-stored-providers-"));
  configDir = mkdtempSync(join(tmpdir(), "switchyard-stored-providers-config-"));
  writeConfig({ providers: {} });
  mock = await startOpenAIMock({ requireKey: UPSTREAM_SECRET });
  await start();
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
  rmSync(appDir, { recursive: true, force: true });
  rmSync(configDir, { recursive: true, force: true });
});

const ask = (model = MODEL) =>
  new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: ADMIN, maxRetries: 0 }).chat.completions.create({
    model,
    messages: [{ role: "user", content: "Say hello" }],
  });

interface LaneAnswer {
  readonly status: number;
  readonly code: string | undefined;
}

function send(
  agent: Agent,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${gateway.url}${path}`,
      { method, agent, headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * The answer to MODEL from each lane: on connections of their own (so the kernel picks a lane afresh), each
 * asks /health which lane it reached, then the model on the same connection; at most 40 connections.
 */
async function answersByLane(): Promise<Map<number, LaneAnswer>> {
  const answers = new Map<number, LaneAnswer>();
  let lanes = 1;
  for (let i = 0; i < 40 && answers.size < lanes; i++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const health = JSON.parse((await send(agent, "GET", "/health")).text);
      lanes = health.lanes;
      const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }] });
      const answer = await send(agent, "POST", "/v1/chat/completions", body);
      const code = answer.status === 200 ? undefined : JSON.parse(answer.text).error?.code;
      answers.set(health.lane, { status: answer.status, code });
    } finally {
      agent.destroy();
    }
  }
  expect(answers.size).toBe(lanes);
  return answers;
}

const everyLane = async (answer: LaneAnswer) =>
  expect(
    [...(await answersByLane()).values()].every((a) => a.status === answer.status && a.code === answer.code),
  ).toBe(true);

async function addKey(): Promise<string> {
  const created = await admin("POST", "/api/providers/team-gpt/keys", {
    name: "main",
    secret: UPSTREAM_SECRET,
    models: ["gpt-4o-mini"],
  });
  expect(created.status).toBe(201);
  expect(created.body.secret).toBe("sk-…6789");
  return created.body.id;
}

describe("providers added through the management API", () => {
  let keyId: string;

  it("are served by every lane once they have a key, without a restart", async () => {
    await expect(ask()).rejects.toMatchObject({ status: 404, code: "model_not_found" });
    const created = await admin("POST", "/api/providers", {
      name: "team-gpt",
      kind: "openai",
      base_url: `${mock.url}/v1`,
    });
    expect(created.status).toBe(201);
    // A provider of a public API's kind is not served until it has a key to send.
    await everyLane({ status: 404, code: "model_not_found" });

    keyId = await addKey();
    const requests = mock.stats.requests;
    const completion = await ask();
    expect(completion.choices[0]?.message.role).toBe("assistant");
    expect(mock.stats.requests).toBe(requests + 1);
    expect(mock.stats.lastRequest?.headers.authorization).toBe(`Bearer ${UPSTREAM_SECRET}`);
    await everyLane({ status: 200, code: undefined });
  });

  it("show in /model/info and /api/providers, the key masked only", async () => {
    const info = await admin("GET", "/model/info");
    expect(info.body.data.map((m: { model_name: string }) => m.model_name)).toContain(MODEL);
    const providers = await admin("GET", "/api/providers");
    expect(providers.body.data).toEqual([expect.objectContaining({ name: "team-gpt", source: "api" })]);
    const keys = await admin("GET", "/api/providers/team-gpt/keys");
    expect(keys.body.data).toEqual([expect.objectContaining({ id: keyId, secret: "sk-…6789" })]);
    for (const answer of [info, providers, keys])
      expect(JSON.stringify(answer.body)).not.toContain(UPSTREAM_SECRET);
  });

  it("refuse requests in the client's format while every key is disabled, and serve them once one is enabled", async () => {
    const requests = mock.stats.requests;
    const disabled = await admin("PATCH", `/api/providers/team-gpt/keys/${keyId}`, { enabled: false });
    expect(disabled.body).toMatchObject({ id: keyId, enabled: false });
    await everyLane({ status: 503, code: "provider_keys_disabled" });
    await expect(ask()).rejects.toMatchObject({
      status: 503,
      code: "provider_keys_disabled",
      message: expect.stringContaining("Every key of provider 'team-gpt' is disabled"),
    });
    const anthropic = await fetch(`${gateway.url}/anthropic/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": ADMIN, "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: MODEL, max_tokens: 8, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(anthropic.status).toBe(503);
    expect(await anthropic.json()).toMatchObject({
      type: "error",
      error: { message: expect.stringContaining("is disabled") },
    });
    // Nothing went upstream, with the disabled key or without any.
    expect(mock.stats.requests).toBe(requests);
    const keys = await admin("GET", "/api/providers/team-gpt/keys");
    expect(keys.body.data).toEqual([expect.objectContaining({ id: keyId, enabled: false })]);

    expect((await admin("PATCH", `/api/providers/team-gpt/keys/${keyId}`, { enabled: true })).status).toBe(
      200,
    );
    await everyLane({ status: 200, code: undefined });
    expect(mock.stats.lastRequest?.headers.authorization).toBe(`Bearer ${UPSTREAM_SECRET}`);
  });

  it("follow a key's change and stop being served when the key is deleted", async () => {
    const wrong = await admin("PATCH", `/api/providers/team-gpt/keys/${keyId}`, {
      secret: "sk-wrong-secret-0000",
    });
    expect(wrong.status).toBe(200);
    await expect(ask()).rejects.toMatchObject({ status: 401 });
    expect(
      (await admin("PATCH", `/api/providers/team-gpt/keys/${keyId}`, { secret: UPSTREAM_SECRET })).status,
    ).toBe(200);
    expect((await ask()).object).toBe("chat.completion");

    expect((await admin("DELETE", `/api/providers/team-gpt/keys/${keyId}`)).status).toBe(200);
    await everyLane({ status: 404, code: "model_not_found" });
  });

  it("are served again after a restart, the key decrypted from the store", async () => {
    keyId = await addKey();
    await gateway.stop();
    // At rest the key is encrypted: no file of the store holds it in the clear.
    for (const file of readdirSync(appDir))
      expect([file, readFileSync(join(appDir, file)).includes(UPSTREAM_SECRET)]).toEqual([file, false]);

    await start();
    expect(gateway.output()).toMatch(/provider team-gpt \(openai\) http:\/\/127\.0\.0\.1:\d+\/v1, 1 key/);
    expect(gateway.output()).not.toContain(UPSTREAM_SECRET);
    expect((await ask()).choices[0]?.message.role).toBe("assistant");
    expect(mock.stats.lastRequest?.headers.authorization).toBe(`Bearer ${UPSTREAM_SECRET}`);
    const keys = await admin("GET", "/api/providers/team-gpt/keys");
    expect(keys.body.data).toEqual([expect.objectContaining({ id: keyId, secret: "sk-…6789" })]);
  });

  it("stay served across a reload of the configuration file, which wins for a name it defines too", async () => {
    const fileProvider = (value: string) => ({
      custom_provider_config: { base_provider_type: "openai" },
      keys: [{ name: "file", value, models: ["*"], weight: 1 }],
      network_config: { base_url: `${mock.url}/v1` },
    });
    writeConfig({ providers: { "file-gpt": fileProvider(UPSTREAM_SECRET) } });
    await gateway.waitForOutput(/config reloaded/);
    const served = async () =>
      (await Promise.allSettled([ask(), ask("file-gpt/gpt-4o-mini")])).map((result) => result.status);
    await expect.poll(served, { timeout: 5_000 }).toEqual(["fulfilled", "fulfilled"]);

    writeConfig({ providers: { "team-gpt": fileProvider("sk-file-wrong-secret") } });
    await gateway.waitForOutput(
      /warning: stored provider "team-gpt": the configuration file defines this name too; the file's is served/,
    );
    await expect
      .poll(
        async () =>
          ask().then(
            () => 200,
            (error: { status: number }) => error.status,
          ),
        { timeout: 5_000 },
      )
      .toBe(401);
  });
});
