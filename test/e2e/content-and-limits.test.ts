import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// What a hostile or careless client may send: a cross-origin "simple" POST (text/plain, no preflight) and
// a count_tokens body far past its limit (both HTTP fronts); and an upstream stream whose line never ends.

const OPENAI = JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
const ANTHROPIC = JSON.stringify({
  model: "openai/gpt-4o-mini",
  max_tokens: 16,
  messages: [{ role: "user", content: "hi" }],
});
const GEMINI = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });
const GEMINI_PATH = "/genai/v1beta/models/openai%2Fgpt-4o-mini:generateContent";

describe.each(["uws", "node"] as const)("hostile clients over the %s front", (backend) => {
  let mock: MockServer;
  let gateway: RunningGateway;

  const post = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${gateway.url}${path}`, { method: "POST", body, headers });

  beforeAll(async () => {
    mock = await startOpenAIMock();
    gateway = await startGateway({
      env: {
        OPENAI_API_KEY: "k",
        OPENAI_BASE_URL: `${mock.url}/v1`,
        ...(backend === "node" ? { SWITCHYARD_HTTP: "node" } : {}),
      },
      args: ["--lanes", "1"],
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await mock?.close();
  });

  it("refuses text/plain with 415 in each route's own error shape, before any provider is asked", async () => {
    const before = mock.stats.requests;
    const openai = await post("/v1/chat/completions", OPENAI, { "content-type": "text/plain" });
    expect(openai.status).toBe(415);
    expect(((await openai.json()) as { error: { code: string } }).error.code).toBe("unsupported_media_type");

    const anthropic = await post("/anthropic/v1/messages", ANTHROPIC, { "content-type": "text/plain" });
    expect(anthropic.status).toBe(415);
    const anthropicError = (await anthropic.json()) as { type: string; error: { message: string } };
    expect(anthropicError.type).toBe("error");
    expect(anthropicError.error.message).toContain("Content-Type: application/json");

    const count = await post("/anthropic/v1/messages/count_tokens", ANTHROPIC, {
      "content-type": "text/plain;charset=UTF-8",
    });
    expect(count.status).toBe(415);
    expect(((await count.json()) as { type: string }).type).toBe("error");

    const gemini = await post(GEMINI_PATH, GEMINI, { "content-type": "text/plain" });
    expect(gemini.status).toBe(415);
    expect(((await gemini.json()) as { error: { code: number } }).error.code).toBe(415);

    expect(mock.stats.requests).toBe(before);
  });

  it("refuses a form post and a body with no Content-Type, naming the header", async () => {
    const form = await post("/v1/chat/completions", OPENAI, {
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(form.status).toBe(415);
    // fetch sends text/plain for a string body unless told otherwise; a Uint8Array body goes without one.
    const none = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      body: new TextEncoder().encode(OPENAI),
    });
    expect(none.status).toBe(415);
    expect(((await none.json()) as { error: { message: string } }).error.message).toContain(
      "no Content-Type",
    );
  });

  it("takes application/json with a charset on every kind of route", async () => {
    const headers = { "content-type": "application/json; charset=utf-8" };
    expect((await post("/v1/chat/completions", OPENAI, headers)).status).toBe(200);
    expect((await post("/anthropic/v1/messages", ANTHROPIC, headers)).status).toBe(200);
    expect((await post("/anthropic/v1/messages/count_tokens", ANTHROPIC, headers)).status).toBe(200);
    expect((await post(GEMINI_PATH, GEMINI, headers)).status).toBe(200);
  });

  it("refuses a count_tokens body over its own 4 MiB limit with 413 in Anthropic's shape", async () => {
    const huge = JSON.stringify({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "x".repeat(6 << 20) }],
    });
    const response = await post("/anthropic/v1/messages/count_tokens", huge, {
      "content-type": "application/json",
    }).catch((error: Error) => error);
    // A server may close the connection while a large upload is still being sent; both are refusals.
    if (response instanceof Error) expect(response.message).toMatch(/fetch failed|other side closed|reset/);
    else {
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({
        type: "error",
        error: { type: "request_too_large", message: expect.stringContaining("4194304 bytes") },
      });
    }
    const health = await fetch(`${gateway.url}/health`);
    expect(health.status).toBe(200);
  });

  it("counts a 3 MiB message with no whitespace without holding the lane", async () => {
    const body = JSON.stringify({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "x".repeat(3 << 20) }],
    });
    const response = await post("/anthropic/v1/messages/count_tokens", body, {
      "content-type": "application/json",
    });
    expect(response.status).toBe(200);
    const { input_tokens } = (await response.json()) as { input_tokens: number };
    expect(input_tokens).toBeGreaterThan((3 << 20) / 64);
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });
});

describe("an upstream stream line that never ends", () => {
  let upstream: Server;
  let gateway: RunningGateway;

  beforeAll(async () => {
    // An OpenAI-compatible upstream that opens a stream, then sends 17 MiB without a line break.
    upstream = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(
          'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n',
        );
        res.write("data: ");
        const piece = "x".repeat(1 << 20);
        let sent = 0;
        const more = () => {
          while (sent < 17) {
            sent++;
            if (!res.write(piece)) {
              res.once("drain", more);
              return;
            }
          }
          res.end();
        };
        more();
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const { port } = upstream.address() as AddressInfo;
    gateway = await startGateway({
      env: { OPENAI_API_KEY: "k", OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` },
      args: ["--lanes", "1"],
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it("ends a converted stream with an error event once the line passes 16 Mi characters", async () => {
    const response = await fetch(`${gateway.url}/anthropic/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "openai/gpt-4o-mini",
        max_tokens: 16,
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    const last = text.trimEnd().split("\n\n").at(-1) ?? "";
    expect(last.startsWith("event: error\ndata: ")).toBe(true);
    expect(JSON.parse(last.slice("event: error\ndata: ".length))).toMatchObject({
      type: "error",
      error: { message: expect.stringContaining("longer than 16777216 characters") },
    });
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });
});
