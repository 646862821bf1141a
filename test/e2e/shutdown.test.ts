import { afterAll, beforeAll, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { startGateway } from "../helpers/gateway.js";

// SIGTERM stops accepting, lets requests under way finish, then exits cleanly.

let mock: MockServer;

beforeAll(async () => {
  mock = await startOpenAIMock({ latencyMs: 800 });
});
afterAll(async () => {
  await mock?.close();
});

it("drains requests under way on SIGTERM and exits with 0", async () => {
  const gateway = await startGateway({ env: { OPENAI_API_KEY: "k", OPENAI_BASE_URL: `${mock.url}/v1` } });
  const underWay = fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  });
  await expect.poll(() => mock.stats.inFlight).toBe(1);
  const exit = gateway.stop("SIGTERM");
  const response = await underWay;
  expect(response.status).toBe(200);
  expect(((await response.json()) as { object: string }).object).toBe("chat.completion");
  expect(await exit).toBe(0);
  expect(gateway.output()).toContain("drained; bye");
});
