import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type AdminCall, adminApi, eventually, micros } from "../helpers/admin-api.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startTestRedis, type TestRedis } from "../helpers/redis.js";

// Cluster mode end to end: three gateway processes on one PostgreSQL (the store) and one Redis (leases of
// budgets and limits), hundreds of requests spread over them with the official SDK. One budget and one
// request limit hold across the three within the stated bounds (docs/cluster.md); every instance shows the
// same spend; a key revoked on one is refused by the others; Redis going away is met by the configured
// policy; an instance killed mid-load leaves the other two serving and nothing charged twice.

const ADMIN = "sk-admin-cluster-test";
const ENCRYPTION = "cluster-test-shared-encryption-key";
/** How long an admin change may take to reach every instance (LISTEN/NOTIFY, docs/cluster.md). */
const CHANGE_WITHIN_MS = 2_000;
const NAMES = ["a", "b", "c"] as const;
const LEASE_TTL_S = 3;

let postgres: TestPostgres;
let redis: TestRedis;
let mock: MockServer;
let dir: string;
let databaseUrl: string;
const gateways: RunningGateway[] = [];
let admins: AdminCall[];

const start = (name: string, env: Record<string, string> = {}) =>
  startGateway({
    env: {
      OPENAI_API_KEY: "sk-mock",
      OPENAI_BASE_URL: `${mock.url}/v1`,
      SWITCHYARD_API_KEY: ADMIN,
      SWITCHYARD_ENCRYPTION_KEY: ENCRYPTION,
      SWITCHYARD_DATABASE_URL: databaseUrl,
      SWITCHYARD_REDIS_URL: redis.url,
      SWITCHYARD_CLUSTER_INSTANCES: "3",
      SWITCHYARD_CLUSTER_NAME: `gw-${name}`,
      // Short, so that a killed instance's lease lapses within the test.
      SWITCHYARD_CLUSTER_LEASE_TTL_SECONDS: String(LEASE_TTL_S),
      ...env,
    },
    args: ["--lanes", "1", "--app-dir", join(dir, name)],
  });

beforeAll(async () => {
  [postgres, redis, mock] = await Promise.all([
    startTestPostgres(),
    startTestRedis({ throwaway: true }),
    startOpenAIMock({ requireKey: "sk-mock", latencyMs: 10 }),
  ]);
  dir = mkdtempSync(join(tmpdir(), "switchyard-cluster-"));
  databaseUrl = await postgres.createDatabase();
  // One after another: the first creates the store's tables.
  for (const name of NAMES)
    gateways.push(await start(name, name === "c" ? { SWITCHYARD_CLUSTER_ON_REDIS_DOWN: "local" } : {}));
  admins = gateways.map((gateway) => adminApi(gateway.url, ADMIN));
}, 90_000);

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.stop()));
  await mock?.close();
  await redis?.stop();
  await postgres?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const client = (gateway: RunningGateway, key: string) =>
  new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });

/** One request through `gateway`: its status, and the error code of a refusal. */
async function ask(gateway: RunningGateway, key: string, i = 0): Promise<{ status: number; code?: string }> {
  try {
    await client(gateway, key).chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: `Request ${i}: say something` }],
      max_tokens: 40,
    });
    return { status: 200 };
  } catch (error) {
    const e = error as { status?: number; code?: string };
    return { status: e.status ?? 0, ...(e.code === undefined ? {} : { code: e.code }) };
  }
}

/** A key made on instance a, once every instance serves it. */
async function makeKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const created = await admins[0]?.("POST", "/api/keys", body);
  expect(created?.status).toBe(201);
  const made = { id: created?.body.id as string, key: created?.body.key as string };
  for (const admin of admins)
    await eventually(
      () => admin("GET", `/api/keys/${made.id}`),
      (answer) => answer.status === 200,
      CHANGE_WITHIN_MS,
    );
  // The store knowing the key is not its lane knowing it: the lane's snapshot follows a moment later (a
  // request sent in between is refused with 401). /v1/models authenticates the key and charges nothing.
  for (const gateway of gateways)
    await eventually(
      () =>
        fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${made.key}` } }).then(
          async (reply) => {
            await reply.arrayBuffer();
            return reply.status;
          },
        ),
      (status) => status === 200,
      CHANGE_WITHIN_MS,
    );
  return made;
}

/** A rate window must not turn over during a test of it (the sliding window then weighs the last one in). */
async function awayFromMinuteEdge(): Promise<void> {
  const second = new Date().getUTCSeconds();
  if (second >= 40) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000));
}

describe("three gateways in cluster mode", () => {
  it("say so at start, naming Redis and the policies", () => {
    for (const gateway of gateways)
      expect(gateway.output()).toMatch(/cluster: on, Redis redis:\/\/127\.0\.0\.1:\d+, instance gw-[abc]-/);
  });

  it("hold one small budget under hundreds of concurrent requests, and show the same spend on every instance", async () => {
    const budgetMicros = 4000;
    const { id, key } = await makeKey({
      name: "cluster-budget",
      budgets: [{ max_budget: budgetMicros / 1e6 }],
    });
    const outcomes = await Promise.all(
      Array.from({ length: 360 }, (_, i) => ask(gateways[i % 3] as RunningGateway, key, i)),
    );
    const served = outcomes.filter((o) => o.status === 200).length;
    expect(served).toBeGreaterThan(0);
    for (const o of outcomes)
      if (o.status !== 200) expect(o).toMatchObject({ status: 429, code: "budget_exceeded" });

    const records = (
      await eventually(
        () => admins[0]?.("GET", `/api/usage?key_id=${id}&limit=10000`) as ReturnType<AdminCall>,
        (answer) => answer.body.data.length >= served,
        10_000,
      )
    ).body.data as Array<{ cost: number }>;
    expect(records.length).toBe(served);
    const sumOfCosts = records.reduce((sum, r) => sum + micros(r.cost), 0);
    // Each request states max_tokens, so its estimate bounds its cost: the stated bound is the limit itself.
    expect(sumOfCosts).toBeLessThanOrEqual(budgetMicros);
    // And leases held unused while others are refused leave at most half of it (docs/cluster.md).
    expect(sumOfCosts).toBeGreaterThanOrEqual(budgetMicros / 2);
    // The cluster's count, as each instance shows it, once every instance has reported.
    for (const admin of admins) {
      const shown = await eventually(
        () => admin("GET", `/api/keys/${id}`),
        (answer) => micros(answer.body.budgets[0].spend) === sumOfCosts,
        10_000,
      );
      expect(micros(shown.body.budgets[0].spend)).toBe(sumOfCosts);
    }
  }, 60_000);

  it("hold one request limit across the three", async () => {
    await awayFromMinuteEdge();
    const limit = 30;
    const { key } = await makeKey({ name: "cluster-rpm", limits: { requests: limit } });
    const outcomes = await Promise.all(
      Array.from({ length: 120 }, (_, i) => ask(gateways[i % 3] as RunningGateway, key, i)),
    );
    const served = outcomes.filter((o) => o.status === 200).length;
    for (const o of outcomes)
      if (o.status !== 200) expect(o).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
    expect(served).toBeLessThanOrEqual(limit);
    // Leases held by instances that no longer need them are returned: most of the limit is used.
    expect(served).toBeGreaterThanOrEqual(limit / 2);
  }, 90_000);

  it("serve every request of a burst that comes after its leases lapsed unused", async () => {
    const { key } = await makeKey({
      name: "cluster-idle",
      budgets: [{ max_budget: 1000, budget_duration: "1d" }],
      limits: { requests: 100_000, tokens: 100_000_000, parallel: 1000 },
    });
    const burst = async () => {
      const outcomes = await Promise.all(
        Array.from({ length: 90 }, (_, i) => ask(gateways[i % 3] as RunningGateway, key, i)),
      );
      return outcomes.filter((o) => o.status !== 200).map((o) => o.code);
    };
    expect(await burst()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, (LEASE_TTL_S + 1) * 1000));
    expect(await burst()).toEqual([]);
  }, 30_000);

  it("log a client that leaves while its instance asks Redis for a lease, and hold nothing for it", async () => {
    const { id, key } = await makeKey({ name: "cluster-leaver", budgets: [{ max_budget: 1 }] });
    const gateway = gateways[0] as RunningGateway;
    // Redis holds every command for a moment (under the refill's deadline): the refill waits and succeeds,
    // but the client has given up first.
    const pauser = createClient({ url: redis.url });
    await pauser.connect();
    await pauser.sendCommand(["CLIENT", "PAUSE", "120", "ALL"]);
    await expect(
      client(gateway, key).chat.completions.create(
        { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "leaving" }], max_tokens: 40 },
        { signal: AbortSignal.timeout(40) },
      ),
    ).rejects.toThrow();
    await pauser.sendCommand(["CLIENT", "UNPAUSE"]);
    await pauser.close();
    const logged = await eventually(
      () => admins[0]?.("GET", `/api/logs?virtual_key=${id}`) as ReturnType<AdminCall>,
      (answer) => answer.body.data?.length === 1,
      10_000,
    );
    expect(logged.body.data[0]).toMatchObject({ status: 499, error_class: "client" });
    const budget = (await admins[0]?.("GET", `/api/keys/${id}`))?.body.budgets[0];
    expect(micros(budget.reserved)).toBe(0);
  });

  it("refuse on every instance a key revoked on one, within the stated time", async () => {
    const { id, key } = await makeKey({ name: "cluster-revoke" });
    for (const gateway of gateways) expect((await ask(gateway, key)).status).toBe(200);
    expect((await admins[1]?.("PATCH", `/api/keys/${id}`, { active: false }))?.status).toBe(200);
    const revokedAt = Date.now();
    for (const gateway of gateways)
      await eventually(
        () => ask(gateway, key),
        (o) => o.status === 401,
        CHANGE_WITHIN_MS,
      );
    expect(Date.now() - revokedAt).toBeLessThan(CHANGE_WITHIN_MS * 3);
  });

  it("meet Redis going away mid-load with each instance's policy, and share again once it is back", async () => {
    const { key } = await makeKey({ name: "cluster-redis-down", budgets: [{ max_budget: 10 }] });
    // Leases in hand on every instance.
    for (const gateway of gateways) expect((await ask(gateway, key)).status).toBe(200);
    // Load on all three the whole time Redis goes away and comes back.
    let loading = true;
    const seen: { gateway: number; status: number; code?: string }[] = [];
    const load = gateways.map(async (gateway, g) => {
      for (let i = 0; loading; i++) {
        seen.push({ gateway: g, ...(await ask(gateway, key, i)) });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await redis.takeDown();
    try {
      // a and b refuse (the default): nothing shared may be admitted unchecked.
      for (const gateway of gateways.slice(0, 2))
        await eventually(
          () => ask(gateway, key),
          (o) => o.status === 503 && o.code === "cluster_unavailable",
          5_000,
        );
      // c serves within the lease it holds (on_redis_down: local).
      expect((await ask(gateways[2] as RunningGateway, key)).status).toBe(200);
      // The load balancer hears of it: /ready names the cluster's Redis.
      const ready = await fetch(`${gateways[0]?.url}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { cluster: false } });
      const metrics = await fetch(`${gateways[0]?.url}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/^switchyard_cluster_redis_up 0$/m);
      expect(metrics).toMatch(/^switchyard_cluster_refusals_total\{reason="redis_unreachable"\} [1-9]/m);
      expect(gateways[0]?.output()).toContain(
        "cluster: Redis is unreachable; requests under shared budgets and limits are refused",
      );
      // c says so on its next look at Redis (every 100 ms), which may come after a and b have refused.
      await eventually(
        async () => gateways[2]?.output() ?? "",
        (output) => output.includes("served only within the leases already held"),
        5_000,
      );
    } finally {
      await redis.bringUp();
    }
    // Back, empty: every instance reports again, and after the warm-up the budget is granted afresh.
    for (const gateway of gateways)
      await eventually(
        () => ask(gateway, key),
        (o) => o.status === 200,
        15_000,
      );
    loading = false;
    await Promise.all(load);
    // Under load, every answer was a success or the policy's refusal: 503 cluster_unavailable while Redis
    // was away, 429 during the warm-up after it came back empty (nothing new is granted until every instance
    // has reported again). Never a failure of another kind.
    for (const o of seen)
      expect(
        o.status === 200 ||
          (o.status === 503 && o.code === "cluster_unavailable") ||
          (o.status === 429 && o.code === "budget_exceeded"),
        JSON.stringify(o),
      ).toBe(true);
    expect(seen.filter((o) => o.status === 200).length).toBeGreaterThan(0);
    expect(seen.some((o) => o.gateway < 2 && o.status === 503)).toBe(true);
    await gateways[0]?.waitForOutput(/cluster: Redis answers again/);
    expect(await fetch(`${gateways[0]?.url}/ready`).then((r) => r.json())).toMatchObject({
      status: "ready",
      checks: { cluster: true, store: true },
    });
  }, 60_000);

  it("keep serving on two instances when the third is killed mid-load, charging nothing twice", async () => {
    const budgetMicros = 1_000_000;
    const { id, key } = await makeKey({
      name: "cluster-kill",
      budgets: [{ max_budget: budgetMicros / 1e6 }],
    });
    const victim = gateways[2] as RunningGateway;
    const load = Array.from({ length: 240 }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 5));
      return { gateway: i % 3, ...(await ask(gateways[i % 3] as RunningGateway, key, i)) };
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    victim.process.kill("SIGKILL");
    const outcomes = await Promise.all(load);
    // The two that live served everything sent to them.
    for (const o of outcomes) if (o.gateway !== 2) expect(o.status).toBe(200);
    const servedByLiving = outcomes.filter((o) => o.gateway !== 2).length;

    const records = (
      await eventually(
        () => admins[0]?.("GET", `/api/usage?key_id=${id}&limit=10000`) as ReturnType<AdminCall>,
        (answer) => answer.body.data.length >= servedByLiving,
        10_000,
      )
    ).body.data as Array<{ request_id: string; cost: number }>;
    // One record per request: none charged twice.
    expect(new Set(records.map((r) => r.request_id)).size).toBe(records.length);
    const sumOfCosts = records.reduce((sum, r) => sum + micros(r.cost), 0);
    // The cluster's count: what the living reported, plus the dead instance's lease charged whole (policy
    // "charge") once it lapsed and another instance's report swept it.
    await new Promise((resolve) => setTimeout(resolve, LEASE_TTL_S * 1000));
    expect((await ask(gateways[0] as RunningGateway, key)).status).toBe(200);
    const shown = await eventually(
      () => admins[0]?.("GET", `/api/keys/${id}`) as ReturnType<AdminCall>,
      (answer) => micros(answer.body.budgets[0].spend) >= sumOfCosts,
      10_000,
    );
    const spent = micros(shown.body.budgets[0].spend);
    expect(spent).toBeLessThanOrEqual(budgetMicros);
    expect(spent - sumOfCosts).toBeLessThanOrEqual(budgetMicros / (3 * 2));
  }, 60_000);
});
