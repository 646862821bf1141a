import { mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// Health is for providers, not clients: what a client chooses (a tiny deadline, a header the gateway cannot
// send on) must not open the circuit breakers every other client shares. The breakers here open on the
// second failure and stay open 30 s, so one counted mistake shows as 503s.

const KEY = "sk-switchyard-e2e-0123456789abcdef";

const CONFIG = `
model_list:
  - model_name: slow
    litellm_params: { model: openai/gpt-4o-mini, api_base: os.environ/SLOW_BASE, api_key: os.environ/MOCK_KEY }
  - model_name: plain
    litellm_params: { model: openai/gpt-4o-mini, api_base: os.environ/FAST_BASE, api_key: os.environ/MOCK_KEY }
  - model_name: broken
    litellm_params: { model: openai/mock-error-500, api_base: os.environ/FAST_BASE, api_key: os.environ/MOCK_KEY }
  - model_name: echo
    litellm_params: { model: openai/mock-echo-key, api_base: os.environ/FAST_BASE, api_key: os.environ/MOCK_KEY }

router_settings:
  num_retries: 0
  allowed_fails: 2
  cooldown_time: 30
`;

let slow: MockServer;
let fast: MockServer;
let gateway: RunningGateway;

beforeAll(async () => {
  [slow, fast] = await Promise.all([startOpenAIMock({ latencyMs: 300 }), startOpenAIMock()]);
  const path = join(mkdtempSync(join(tmpdir(), "switchyard-health-")), "config.yaml");
  writeFileSync(path, CONFIG);
  gateway = await startGateway({
    args: ["--config", path, "--lanes", "1"],
    env: { SLOW_BASE: `${slow.url}/v1`, FAST_BASE: `${fast.url}/v1`, MOCK_KEY: KEY },
  });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([slow?.close(), fast?.close()]);
});

const chat = (model: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], ...extra }),
  });

/** A raw HTTP/1.1 request, for header bytes fetch refuses to send; resolves with the status line's code. */
function rawStatus(head: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(gateway.port, "127.0.0.1");
    let data = "";
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1");
      const match = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (match !== null && data.includes("\r\n\r\n")) {
        socket.destroy();
        resolve(Number(match[1]));
      }
    });
    socket.on("error", reject);
    socket.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, "latin1");
  });
}

describe("what does not open a circuit", () => {
  it("20 requests with the client's own tiny deadline: each a 504, then the provider still serves everyone", async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => chat("slow", { "x-switchyard-timeout": "0.0001" })),
    );
    for (const reply of replies) {
      expect(reply.status).toBe(504);
      await reply.arrayBuffer();
    }
    for (let i = 0; i < 3; i++) {
      const reply = await chat("slow");
      expect(reply.status).toBe(200);
      await reply.arrayBuffer();
    }
  });

  it("the body's own tiny `timeout` the same", async () => {
    for (let i = 0; i < 5; i++) {
      const reply = await chat("slow", {}, { timeout: 0.0001 });
      expect(reply.status).toBe(504);
      await reply.arrayBuffer();
    }
    const reply = await chat("slow");
    expect(reply.status).toBe(200);
    await reply.arrayBuffer();
  });

  it("requests whose x-request-id has a control byte the upstream client will not send on", async () => {
    const body = JSON.stringify({ model: "plain", messages: [{ role: "user", content: "hi" }] });
    for (let i = 0; i < 5; i++) {
      const status = await rawStatus(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-request-id: a\u007fb\r\n",
        body,
      );
      // Refused as the client's mistake, or answered with an id the gateway made: never the provider's fault.
      expect([200, 400]).toContain(status);
    }
    const reply = await chat("plain");
    expect(reply.status).toBe(200);
    await reply.arrayBuffer();
  });
});

describe("deadlines", () => {
  it("a huge x-switchyard-timeout or body timeout is clamped, not an immediate 504", async () => {
    const byHeader = await chat("slow", { "x-switchyard-timeout": "1e12" });
    expect(byHeader.status).toBe(200);
    await byHeader.arrayBuffer();
    const byBody = await chat("slow", {}, { timeout: 1e12 });
    expect(byBody.status).toBe(200);
    await byBody.arrayBuffer();
  });
});

describe("an open circuit", () => {
  it("answers 503 with Retry-After saying how long the cooldown has left", async () => {
    let reply = await chat("broken");
    for (let i = 0; i < 5 && reply.status === 500; i++) {
      await reply.arrayBuffer();
      reply = await chat("broken");
    }
    expect(reply.status).toBe(503);
    const retryAfter = Number(reply.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(29);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(((await reply.json()) as { error: { message: string } }).error.message).toContain(
      `retry after ${retryAfter} s`,
    );
  });
});

describe("a provider error that echoes the key", () => {
  it("reaches an OpenAI client with the key redacted", async () => {
    const reply = await chat("echo");
    expect(reply.status).toBe(401);
    const text = await reply.text();
    expect(text).not.toContain(KEY);
    expect(text).not.toContain("0123456789abcdef");
    expect((JSON.parse(text) as { error: { message: string } }).error.message).toBe(
      "Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com/account/api-keys.",
    );
  });

  it("reaches an Anthropic client (a converted reply) with the key redacted", async () => {
    const reply = await fetch(`${gateway.url}/anthropic/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "echo", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(reply.status).toBe(401);
    const text = await reply.text();
    expect(text).not.toContain(KEY);
    expect(text).toContain("[redacted]");
  });
});
