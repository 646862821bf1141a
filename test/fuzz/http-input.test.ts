import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { seededRandom } from "../helpers/prng.js";

// Throws random and mutated bodies and raw garbage at a running gateway. Every answer must be a
// well-formed reply in OpenAI's shape, and the gateway must still be healthy afterwards.

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000);
const { random, pick } = seededRandom(SEED);

const VALID = JSON.stringify({
  model: "openai/gpt-4o-mini",
  messages: [{ role: "user", content: "hello \u00e9\u4e16" }],
  stream: false,
  temperature: 0.2,
});

function mutate(text: string): Buffer {
  const bytes = Buffer.from(text);
  const kind = Math.floor(random() * 5);
  if (kind === 0) return bytes.subarray(0, Math.floor(random() * bytes.length));
  if (kind === 1) {
    const copy = Buffer.from(bytes);
    for (let i = 0; i < 3; i++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
    return copy;
  }
  if (kind === 2)
    return Buffer.from(JSON.stringify(pick([[], "model", 42, null, { model: [1] }, { model: { a: 1 } }])));
  if (kind === 3)
    return Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)));
  const at = Math.floor(random() * text.length);
  return Buffer.from(
    text.slice(0, at) + pick(["{", "}", '"', "\\", ",", ":", "\u0000", "]"]) + text.slice(at),
  );
}

describe(`HTTP input fuzz (FUZZ_SEED=${SEED})`, () => {
  let mock: MockServer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    mock = await startOpenAIMock();
    gateway = await startGateway({ env: { OPENAI_API_KEY: "k", OPENAI_BASE_URL: `${mock.url}/v1` } });
  });
  afterAll(async () => {
    await gateway?.stop();
    await mock?.close();
  });

  it("answers every mutated body with a JSON reply and a deliberate status", async () => {
    for (let i = 0; i < 300; i++) {
      const body = mutate(VALID);
      const response = await fetch(
        `${gateway.url}${pick(["/v1/chat/completions", "/v1/embeddings", "/openai/completions"])}`,
        {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
        },
      );
      const text = await response.text();
      const context = `body ${JSON.stringify(body.toString("latin1"))} → ${response.status} ${text.slice(0, 200)}`;
      expect([200, 400, 404], context).toContain(response.status);
      const parsed = JSON.parse(text);
      if (response.status !== 200) expect(typeof parsed.error?.message, context).toBe("string");
    }
  });

  it("survives malformed HTTP on raw sockets", async () => {
    const garbage = [
      "GARBAGE\r\n\r\n",
      "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n{",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{}",
      `GET /${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ];
    for (const payload of garbage) {
      await new Promise<void>((resolve) => {
        const socket = connect(gateway.port, "127.0.0.1", () => socket.end(payload));
        socket.on("data", () => {});
        socket.on("error", () => resolve());
        socket.on("close", () => resolve());
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 500);
      });
    }
    const health = await fetch(`${gateway.url}/health`);
    expect(health.status).toBe(200);
    const chat = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      body: VALID,
      headers: { "content-type": "application/json" },
    });
    expect(chat.status).toBe(200);
  });
});
