import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { adminApi, eventually } from "../helpers/admin-api.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { postOnOwnConnection } from "../helpers/own-connection.js";

// A lane that meets an error outside every request's guard (the test-only crash path throws from a timer)
// is closed and replaced by the control plane; the process and the other lane go on serving.

const CRASH_PATH = "/__test/crash";

let mock: MockServer;
let gateway: RunningGateway;

beforeAll(async () => {
  mock = await startOpenAIMock({});
  gateway = await startGateway({
    env: {
      NODE_ENV: "test",
      SWITCHYARD_TEST_CRASH_PATH: CRASH_PATH,
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `${mock.url}/v1`,
    },
    args: ["--lanes", "2"],
  });
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
});

/** One request on its own connection, so the kernel may hand it to either lane. */
function send(path: string, body: string): Promise<{ status: number; body: string } | { error: string }> {
  return postOnOwnConnection(`${gateway.url}${path}`, body).catch((error: Error) => ({
    error: error.message,
  }));
}

const CHAT = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });

describe("a lane that crashes", () => {
  it("is restarted, its held request is closed, and the gateway keeps serving", async () => {
    for (let crash = 0; crash < 3; crash++) {
      const held = await send(CRASH_PATH, "{}");
      // The dying lane's connections are closed: the client sees the socket end, never a hang.
      expect(held).toHaveProperty("error");
      await gateway.waitForOutput(new RegExp(`(lane \\d restarted[\\s\\S]*){${crash + 1}}`));
      const replies = await Promise.all(Array.from({ length: 8 }, () => send("/v1/chat/completions", CHAT)));
      for (const reply of replies) expect(reply, gateway.output()).toMatchObject({ status: 200 });
    }
    expect(gateway.output()).toMatch(/lane \d crashed: Error: test crash of lane \d/);
    expect(gateway.output()).toMatch(/lane \d exited with code 1; starting a new one/);
    expect(gateway.output()).not.toMatch(/uv_loop_close|Aborted|restart failed/);
    expect(gateway.process.exitCode).toBeNull();
  });

  it("is restarted when it dies with an upstream request under way, also as the only lane", async () => {
    // One lane, so the slow request (an upstream call and a deadline timer in flight) and the crash share
    // it, and the restarted lane must take over the port alone.
    const slow = await startOpenAIMock({ latencyMs: 10_000 });
    const single = await startGateway({
      env: {
        NODE_ENV: "test",
        SWITCHYARD_TEST_CRASH_PATH: CRASH_PATH,
        OPENAI_API_KEY: "sk-test",
        OPENAI_BASE_URL: `${slow.url}/v1`,
      },
      args: ["--lanes", "1"],
    });
    try {
      const pending = new Promise<unknown>((resolve) => {
        const req = request(
          `${single.url}/v1/chat/completions`,
          {
            method: "POST",
            agent: false,
            headers: { "content-type": "application/json", "x-switchyard-timeout": "60" },
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode }));
            res.on("error", (error) => resolve({ error: error.message }));
          },
        );
        req.on("error", (error) => resolve({ error: error.message }));
        req.end(CHAT);
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const held = await new Promise<unknown>((resolve) => {
        const req = request(`${single.url}${CRASH_PATH}`, { method: "POST", agent: false }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode }));
        });
        req.on("error", (error) => resolve({ error: error.message }));
        req.end("{}");
      });
      expect(held).toHaveProperty("error");
      expect(await pending).toHaveProperty("error");
      await single.waitForOutput(/lane 0 restarted/);
      expect(single.output()).not.toMatch(/uv_loop_close|Aborted|restart failed/);
      expect(single.process.exitCode).toBeNull();
      const health = await fetch(`${single.url}/health`);
      expect(health.status).toBe(200);
    } finally {
      await single.stop();
      await slow.close();
    }
  });

  it("gives back the governance reservations of the requests it dies with", async () => {
    const slow = await startOpenAIMock({ latencyMs: 10_000 });
    const single = await startGateway({
      env: {
        NODE_ENV: "test",
        SWITCHYARD_TEST_CRASH_PATH: CRASH_PATH,
        SWITCHYARD_API_KEY: "sk-admin-crash",
        OPENAI_API_KEY: "sk-test",
        OPENAI_BASE_URL: `${slow.url}/v1`,
      },
      args: ["--lanes", "1"],
    });
    try {
      const admin = adminApi(single.url, "sk-admin-crash");
      const { body: created } = await admin("POST", "/api/keys", {
        name: "crash",
        limits: { parallel: 1 },
        budgets: [{ max_budget: 1 }],
      });
      const chat = (timeout: string) =>
        fetch(`${single.url}/v1/chat/completions`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${created.key}`,
            "x-switchyard-timeout": timeout,
          },
          body: CHAT,
        }).then(
          (response) => response.status,
          () => 0,
        );
      const pending = chat("60");
      await eventually(
        () => admin("GET", `/api/keys/${created.id}`),
        (a) => a.body.budgets[0].reserved > 0,
      );
      await expect(postOnOwnConnection(`${single.url}${CRASH_PATH}`, "{}")).rejects.toThrow();
      await pending;
      await single.waitForOutput(/lane 0 restarted/);
      expect((await admin("GET", `/api/keys/${created.id}`)).body.budgets[0].reserved).toBe(0);
      // The place it held is free again: the next request is let through (and times out upstream).
      expect(await chat("1")).toBe(504);
    } finally {
      await single.stop();
      await slow.close();
    }
  });
});
