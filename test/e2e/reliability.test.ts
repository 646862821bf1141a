import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// Fault injection through the real gateway: two OpenAI mocks, one of them failing in the way a model name
// asks (429 with Retry-After, 500, 503, hang, reset before and during a stream, context window), and a
// LiteLLM config.yaml with retries, fallbacks and timeouts. Counting requests at the mocks proves that no
// request was sent upstream more often than the policy allows.

const CONFIG = `
model_list:
  - model_name: ok
    litellm_params: { model: openai/gpt-4o-mini, api_base: os.environ/GOOD_BASE }
  - model_name: limited
    litellm_params: { model: openai/mock-error-429, api_base: os.environ/BAD_BASE }
  - model_name: limited
    litellm_params: { model: openai/gpt-4o-mini, api_base: os.environ/GOOD_BASE }
  - model_name: overloaded
    litellm_params: { model: openai/mock-error-503, api_base: os.environ/BAD_BASE }
  - model_name: broken
    litellm_params: { model: openai/mock-error-500, api_base: os.environ/BAD_BASE }
  - model_name: hanging
    litellm_params: { model: openai/mock-hang, api_base: os.environ/BAD_BASE, timeout: 0.5 }
  - model_name: resetting
    litellm_params: { model: openai/mock-reset, api_base: os.environ/BAD_BASE }
  - model_name: midstream
    litellm_params: { model: openai/mock-reset-midstream, api_base: os.environ/BAD_BASE }
  - model_name: missing
    litellm_params: { model: openai/mock-error-404, api_base: os.environ/BAD_BASE }
  - model_name: small
    litellm_params: { model: openai/mock-error-400, api_base: os.environ/BAD_BASE }
  - model_name: slow
    litellm_params: { model: openai/mock-hang, api_base: os.environ/BAD_BASE, timeout: 30 }

router_settings:
  num_retries: 2
  # Circuit breakers stay closed here: every test sees each deployment fresh.
  allowed_fails: 100000
  retry_after: 0.02
  fallbacks: [{"broken": ["ok"]}, {"hanging": ["ok"]}, {"resetting": ["ok"]}, {"midstream": ["ok"]}, {"missing": ["ok"]}]
  context_window_fallbacks: [{"small": ["ok"]}]
  retry_policy: { InternalServerErrorRetries: 1 }
`;

let good: MockServer;
let bad: MockServer;
let gateway: RunningGateway;

beforeAll(async () => {
  [good, bad] = await Promise.all([startOpenAIMock(), startOpenAIMock()]);
  const path = join(mkdtempSync(join(tmpdir(), "switchyard-reliability-")), "config.yaml");
  writeFileSync(path, CONFIG);
  gateway = await startGateway({
    args: ["--config", path, "--lanes", "1"],
    env: { GOOD_BASE: `${good.url}/v1`, BAD_BASE: `${bad.url}/v1` },
  });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([good?.close(), bad?.close()]);
});

interface Counts {
  good: number;
  bad: number;
}

/** Requests each mock received while `run` ran. */
async function counted<T>(run: () => Promise<T>): Promise<[T, Counts]> {
  const before = { good: good.stats.requests, bad: bad.stats.requests };
  const result = await run();
  return [result, { good: good.stats.requests - before.good, bad: bad.stats.requests - before.bad }];
}

const chat = (model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], ...extra }),
  });

const anthropic = (model: string, extra: Record<string, unknown> = {}) =>
  fetch(`${gateway.url}/anthropic/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: "user", content: "hi" }], ...extra }),
  });

describe("retries", () => {
  it("moves a 429 to the group's other deployment at once, without waiting out Retry-After", async () => {
    const [replies, counts] = await counted(async () => {
      const out: Response[] = [];
      for (let i = 0; i < 20; i++) out.push(await chat("limited"));
      return out;
    });
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      await reply.arrayBuffer();
    }
    const retried = replies.filter((r) => r.headers.get("x-switchyard-retries") === "1");
    // Equal weights: the 429 deployment comes first in some of 20 requests unless the coin is off by 1 in 10^6.
    expect(retried.length).toBeGreaterThan(0);
    expect(counts.good).toBe(20);
    expect(counts.bad).toBe(retried.length);
    for (const reply of replies)
      expect(reply.headers.get("x-switchyard-provider")).toBe(
        replies[0]?.headers.get("x-switchyard-provider"),
      );
  });

  it("retries a 503 num_retries times (retry_policy's InternalServerError is 500 only), then answers the 503", async () => {
    const [reply, counts] = await counted(() => chat("overloaded"));
    expect(reply.status).toBe(503);
    expect(((await reply.json()) as { error: { type: string } }).error.type).toBe("server_error");
    expect(reply.headers.get("x-switchyard-retries")).toBe("2");
    expect(counts).toEqual({ good: 0, bad: 3 });
  });

  it("retries a 500 as retry_policy says for its class, then falls back", async () => {
    const [reply, counts] = await counted(() => chat("broken"));
    expect(reply.status).toBe(200);
    expect(reply.headers.get("x-switchyard-fallback-index")).toBe("1");
    expect(reply.headers.get("x-switchyard-retries")).toBe("1");
    expect(counts).toEqual({ good: 1, bad: 2 });
    await reply.arrayBuffer();
  });

  it("retries a connection reset before the reply, then falls back", async () => {
    const [reply, counts] = await counted(() => chat("resetting"));
    expect(reply.status).toBe(200);
    expect(reply.headers.get("x-switchyard-fallback-index")).toBe("1");
    // retry_policy has no class for a connection failure: num_retries governs it.
    expect(counts).toEqual({ good: 1, bad: 3 });
    await reply.arrayBuffer();
  });

  it("never retries a stream that broke after bytes reached the client: an error event ends it", async () => {
    const [text, counts] = await counted(async () => {
      const reply = await chat("midstream", { stream: true });
      expect(reply.status).toBe(200);
      return reply.text();
    });
    expect(text).toContain("data: {");
    expect(text).toMatch(/"error"/);
    expect(counts).toEqual({ good: 0, bad: 1 });
  });

  it("never retries or falls back on the client's own 4xx", async () => {
    const [reply, counts] = await counted(() => chat("missing"));
    expect(reply.status).toBe(404);
    expect(((await reply.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
    expect(counts).toEqual({ good: 0, bad: 1 });
  });
});

describe("timeouts", () => {
  it("gives up on a hanging deployment after its timeout and falls back", async () => {
    const [reply, counts] = await counted(() => chat("hanging"));
    expect(reply.status).toBe(200);
    expect(reply.headers.get("x-switchyard-fallback-index")).toBe("1");
    // A timeout is retried num_retries times (no class override), then the chain.
    expect(counts).toEqual({ good: 1, bad: 3 });
    await reply.arrayBuffer();
  });

  it("answers 504 when x-switchyard-timeout passes, in the client's format", async () => {
    const started = Date.now();
    const [reply, counts] = await counted(() => chat("slow", {}, { "x-switchyard-timeout": "0.3" }));
    expect(reply.status).toBe(504);
    const body = (await reply.json()) as { error: { code: string; type: string } };
    expect(body.error).toMatchObject({ code: "request_timeout", type: "timeout_error" });
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(counts).toEqual({ good: 0, bad: 1 });
  });

  it("answers 504 when the body's timeout passes, and the field never reaches the provider", async () => {
    const [reply] = await counted(() => anthropic("slow", { timeout: 0.3 }));
    expect(reply.status).toBe(504);
    const body = (await reply.json()) as { type: string; error: { type: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("timeout_error");
    expect(bad.stats.lastRequest?.body).not.toContain('"timeout"');
  });
});

describe("fallbacks", () => {
  it("follows the request's own fallbacks and strips them from the body sent upstream", async () => {
    const [reply, counts] = await counted(() => chat("missing-model/none", { fallbacks: ["ok"] }));
    // An unknown first model cannot be routed at all: 404 before any upstream.
    expect(reply.status).toBe(404);
    expect(counts).toEqual({ good: 0, bad: 0 });
    const [second, counts2] = await counted(() => chat("overloaded", { fallbacks: ["ok"] }));
    expect(second.status).toBe(200);
    expect(second.headers.get("x-switchyard-fallback-index")).toBe("1");
    expect(counts2).toEqual({ good: 1, bad: 3 });
    expect(good.stats.lastRequest?.body).not.toContain("fallbacks");
    await second.arrayBuffer();
  });

  it("takes the context-window chain on context_length_exceeded", async () => {
    const [reply, counts] = await counted(() => chat("small"));
    expect(reply.status).toBe(200);
    expect(reply.headers.get("x-switchyard-fallback-index")).toBe("1");
    expect(counts).toEqual({ good: 1, bad: 1 });
    await reply.arrayBuffer();
  });

  it("falls back from the Anthropic route too, converting for the fallback's provider", async () => {
    const [reply, counts] = await counted(() => anthropic("broken"));
    expect(reply.status).toBe(200);
    const body = (await reply.json()) as { type: string };
    expect(body.type).toBe("message");
    expect(counts).toEqual({ good: 1, bad: 2 });
  });
});
