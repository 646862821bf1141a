import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// Bifrost's concurrency_and_buffer_size across all lanes: 2 in flight, 2 waiting, the rest refused.
let mock: MockServer;
const gateways: RunningGateway[] = [];

async function gatewayWith(dropExcess: boolean): Promise<RunningGateway> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-limit-"));
  const path = join(dir, "config.json");
  writeFileSync(
    path,
    JSON.stringify({
      client: { drop_excess_requests: dropExcess },
      providers: {
        openai: {
          keys: [{ name: "k", value: "mock-key", models: ["*"], weight: 1 }],
          network_config: { base_url: `${mock.url}/v1` },
          concurrency_and_buffer_size: { concurrency: 2, buffer_size: 2 },
        },
      },
    }),
  );
  const gateway = await startGateway({ args: ["--config", path, "--lanes", "2"] });
  gateways.push(gateway);
  return gateway;
}

const chat = (url: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  });

beforeAll(async () => {
  mock = await startOpenAIMock({ port: 0, latencyMs: 600 });
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await mock.close();
});

async function untilInFlight(n: number): Promise<void> {
  while (mock.stats.inFlight < n) await new Promise((r) => setTimeout(r, 5));
}

describe("provider concurrency limit", () => {
  it("lets two through, queues two, refuses the fifth with Retry-After", async () => {
    const gateway = await gatewayWith(false);
    const first = [chat(gateway.url), chat(gateway.url)];
    await untilInFlight(2);
    const waiting = [chat(gateway.url), chat(gateway.url)];
    await new Promise((r) => setTimeout(r, 100));
    // Never more than the limit at the provider.
    expect(mock.stats.inFlight).toBe(2);
    const fifth = await chat(gateway.url);
    expect([429, 503]).toContain(fifth.status);
    expect(Number(fifth.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const all = await Promise.all([...first, ...waiting]);
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it("refuses the third at once under drop_excess_requests", async () => {
    const gateway = await gatewayWith(true);
    const first = [chat(gateway.url), chat(gateway.url)];
    await untilInFlight(2);
    const third = await chat(gateway.url);
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).not.toBeNull();
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
  });
});
