import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { eventually } from "../helpers/admin-api.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { startTestRedis, type TestRedis } from "../helpers/redis.js";

// /ready, for a load balancer: 200 while the gateway should get traffic, 503 with the failing check named
// when the cache's Redis is gone or the gateway is draining; /health stays 200 (alive) throughout.

interface ReadyAnswer {
  status: number;
  body: { status: string; checks: { draining: boolean; store: boolean; cache: boolean } };
}

let mock: MockServer;
let redis: TestRedis;

beforeAll(async () => {
  mock = await startOpenAIMock({ latencyMs: 800 });
  redis = await startTestRedis({ throwaway: true });
});

afterAll(async () => {
  await mock?.close();
  await redis?.stop();
});

const env = () => ({
  OPENAI_API_KEY: "k",
  OPENAI_BASE_URL: `${mock.url}/v1`,
  SWITCHYARD_CACHE: "redis",
  SWITCHYARD_CACHE_REDIS_URL: redis.url,
});

async function ready(url: string, dispatcher?: Agent): Promise<ReadyAnswer> {
  const answer = await request(`${url}/ready`, dispatcher === undefined ? {} : { dispatcher });
  return { status: answer.statusCode, body: (await answer.body.json()) as ReadyAnswer["body"] };
}

describe("/ready", () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    gateway = await startGateway({ env: env(), args: ["--lanes", "2"] });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("is ready with the store answering and the cache's Redis connected", async () => {
    const answer = await eventually(
      () => ready(gateway.url),
      (a) => a.status === 200,
    );
    expect(answer.body).toEqual({ status: "ready", checks: { draining: false, store: true, cache: true } });
  });

  it("is not ready while the cache's Redis is gone, and ready again once it is back", async () => {
    await redis.takeDown();
    const down = await eventually(
      () => ready(gateway.url),
      (a) => a.status === 503,
    );
    expect(down.body).toEqual({
      status: "not ready",
      checks: { draining: false, store: true, cache: false },
    });
    expect((await request(`${gateway.url}/health`)).statusCode).toBe(200);
    await redis.bringUp();
    await eventually(
      () => ready(gateway.url),
      (a) => a.status === 200,
      15_000,
    );
  }, 30_000);
});

it("says not ready while it drains, on a connection it already had", async () => {
  const gateway = await startGateway({ env: env(), args: ["--lanes", "1"] });
  // Two kept-alive connections: one carries a slow request, the other asks /ready during the drain.
  const agent = new Agent({ connections: 2, pipelining: 1 });
  try {
    await eventually(
      () => ready(gateway.url, agent),
      (a) => a.status === 200,
    );
    const underWay = request(`${gateway.url}/v1/chat/completions`, {
      dispatcher: agent,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "slow" }] }),
    });
    await expect.poll(() => mock.stats.inFlight).toBe(1);
    const exit = gateway.stop("SIGTERM");
    const draining = await eventually(
      () => ready(gateway.url, agent),
      (a) => a.status === 503,
    );
    expect(draining.body.checks.draining).toBe(true);
    expect((await underWay).statusCode).toBe(200);
    expect(await exit).toBe(0);
  } finally {
    await agent.close();
  }
}, 30_000);
