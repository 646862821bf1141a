import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../mock/openai-mock.js";
import { ClientPool } from "./client-pool.js";

let mock: MockServer;
beforeAll(async () => {
  mock = await startOpenAIMock({ latencyMs: 30 });
});
afterAll(async () => {
  await mock.close();
});

function send(pool: ClientPool, model: string): Promise<number | string> {
  return new Promise((resolve) => {
    let status = 0;
    pool.dispatch(
      {
        path: "/v1/chat/completions",
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
      },
      {
        onConnect() {},
        onHeaders(s) {
          status = s;
          return true;
        },
        onData: () => true,
        onComplete: () => resolve(status),
        onError: (err) => resolve((err as { code?: string }).code ?? "error"),
      },
    );
  });
}

describe("ClientPool", () => {
  it("never opens more than max connections and serves the queue in turn", async () => {
    const pool = new ClientPool(mock.url, 3);
    const replies = await Promise.all(Array.from({ length: 12 }, () => send(pool, "gpt-4o-mini")));
    expect(replies).toEqual(Array(12).fill(200));
    expect(pool.connections).toBe(3);
    await pool.destroy();
  });

  it("fails queued and running requests with UND_ERR_DESTROYED on destroy", async () => {
    const pool = new ClientPool(mock.url, 1);
    const hung = send(pool, "mock-hang");
    const queued = send(pool, "gpt-4o-mini");
    await expect.poll(() => mock.stats.inFlight, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    await pool.destroy();
    expect(await queued).toBe("UND_ERR_DESTROYED");
    expect(await hung).not.toBe(200);
    expect(await send(pool, "gpt-4o-mini")).toBe("UND_ERR_DESTROYED");
  });
});
