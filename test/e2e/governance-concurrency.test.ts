import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type AdminCall, adminApi, eventually, micros } from "../helpers/admin-api.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// A small budget under hundreds of requests at once across both lanes, plain, streamed and streams the
// client cancels: the budget is never exceeded (every request states max_tokens, so its estimate bounds its
// cost: docs/governance.md), and what the budget's counter was charged is exactly the sum of the spend
// records, one per admitted request.

const ADMIN = "sk-admin-concurrency-test";
const BUDGET_MICROS = 4000;
const REQUESTS = 360;
let mock: MockServer;
let gateway: RunningGateway;
let admin: AdminCall;
let appDir: string;

beforeAll(async () => {
  appDir = mkdtempSync(join(tmpdir(), "switchyard-concurrency-"));
  mock = await startOpenAIMock({
    requireKey: "sk-mock-provider",
    streamChunks: 8,
    latencyMs: 20,
    chunkIntervalMs: 40,
  });
  gateway = await startGateway({
    env: {
      OPENAI_API_KEY: "sk-mock-provider",
      OPENAI_BASE_URL: `${mock.url}/v1`,
      SWITCHYARD_API_KEY: ADMIN,
      SWITCHYARD_ENCRYPTION_KEY: "concurrency-test-encryption-key",
    },
    args: ["--lanes", "2", "--app-dir", appDir],
  });
  admin = adminApi(gateway.url, ADMIN);
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
  rmSync(appDir, { recursive: true, force: true });
});

type Outcome = "served" | "cancelled" | "refused";

async function one(client: OpenAI, i: number): Promise<Outcome> {
  const request = {
    model: "openai/gpt-4o-mini",
    messages: [{ role: "user" as const, content: `Request ${i}: say something` }],
    max_tokens: 40,
  };
  try {
    if (i % 3 === 0) {
      await client.chat.completions.create(request);
      return "served";
    }
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { ...request, stream: true },
      { signal: controller.signal },
    );
    let seen = 0;
    try {
      for await (const _ of stream) if (i % 3 === 2 && ++seen === 2) controller.abort();
    } catch (error) {
      if ((error as Error).name !== "APIUserAbortError" && (error as Error).name !== "AbortError")
        throw error;
    }
    return i % 3 === 2 ? "cancelled" : "served";
  } catch (error) {
    expect(error).toMatchObject({ status: 429, code: "budget_exceeded" });
    return "refused";
  }
}

it("never lets hundreds of concurrent requests spend past a budget, and charges it exactly their costs", async () => {
  const created = await admin("POST", "/api/keys", {
    name: "shared-budget",
    budgets: [{ max_budget: BUDGET_MICROS / 1_000_000 }],
  });
  expect(created.status).toBe(201);
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: created.body.key, maxRetries: 0 });
  const outcomes = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => one(client, i)));
  const refused = outcomes.filter((o) => o === "refused").length;
  const admitted = REQUESTS - refused;
  expect(refused).toBeGreaterThan(0);
  expect(outcomes.filter((o) => o === "cancelled").length).toBeGreaterThan(0);

  const records = (
    await eventually(
      () => admin("GET", `/api/usage?key_id=${created.body.id}&limit=10000`),
      (a) => a.body.data.length >= admitted,
    )
  ).body.data as Array<{ cost: number; status: number; estimated: boolean }>;
  expect(records.length).toBe(admitted);
  const sumOfCosts = records.reduce((sum, r) => sum + micros(r.cost), 0);
  const budget = (await admin("GET", `/api/keys/${created.body.id}`)).body.budgets[0];
  expect(micros(budget.reserved)).toBe(0);
  expect(micros(budget.spend)).toBe(sumOfCosts);
  // The measured overspend: zero.
  expect(micros(budget.spend)).toBeLessThanOrEqual(BUDGET_MICROS);
  expect(records.some((r) => r.status === 499 || r.estimated)).toBe(true);
});
