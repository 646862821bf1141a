import { mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { nodeFrontLanes, type RunningGateway, startGateway } from "../helpers/gateway.js";

// The gateway's own HTTP behaviour, driven with plain fetch: bad input, limits, CORS, request ids,
// health, metrics and hot reload of a Bifrost config.json. Runs on both HTTP fronts.

interface ErrorReply {
  error: { message: string; type: string; code: string | null; param: string | null };
}
const errorOf = async (response: Response) => ((await response.json()) as ErrorReply).error;

const CHAT = { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] };

function writeConfig(path: string, config: unknown): void {
  // Written beside and renamed over, as deploy tools do, so the watcher never reads a half-written file.
  writeFileSync(`${path}.tmp`, JSON.stringify(config));
  renameSync(`${path}.tmp`, path);
}

function bifrostConfig(mockUrl: string, extra: Record<string, unknown> = {}) {
  return {
    client: { max_request_body_size_mb: 1, allowed_origins: ["https://app.example"] },
    providers: {
      openai: {
        keys: [{ name: "main", value: "env.MOCK_KEY", models: ["*"], weight: 1 }],
        network_config: { base_url: mockUrl, default_request_timeout_in_seconds: 1 },
      },
    },
    ...extra,
  };
}

describe.each(["uws", "node"] as const)("gateway over the %s front", (backend) => {
  const lanes = backend === "uws" ? 2 : nodeFrontLanes(2);
  let mock: MockServer;
  let gateway: RunningGateway;
  let configPath: string;

  const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${gateway.url}${path}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers },
    });

  beforeAll(async () => {
    mock = await startOpenAIMock();
    configPath = join(mkdtempSync(join(tmpdir(), "switchyard-")), "config.json");
    writeConfig(configPath, bifrostConfig(mock.url));
    gateway = await startGateway({
      env: { MOCK_KEY: "sk-secret-provider-key", ...(backend === "node" ? { SWITCHYARD_HTTP: "node" } : {}) },
      args: ["--config", configPath, "--lanes", "2"],
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await mock?.close();
  });

  it("says at start-up which front, how many lanes and which providers, never the key", () => {
    const out = gateway.output();
    expect(out).toContain(backend === "uws" ? "http backend: uWebSockets.js" : "http backend: node:http");
    expect(out).toMatch(backend === "uws" || lanes === 2 ? /lanes: 2[\n ]/ : /lanes: 1 \(asked for 2/);
    expect(out).toMatch(/provider openai/);
    expect(out).not.toContain("sk-secret-provider-key");
  });

  it("reports liveness on /health", async () => {
    const response = await fetch(`${gateway.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", backend, lanes });
  });

  it("rejects malformed JSON with 400 in OpenAI's error shape", async () => {
    const response = await post("/v1/chat/completions", '{"model": "openai/gpt-4o-mini", "messages": [');
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ type: "invalid_request_error", code: "invalid_json" });
  });

  it("answers a provider reply cut off mid-body with a whole 502, not a truncated 200", async () => {
    const response = await post(
      "/v1/chat/completions",
      JSON.stringify({ model: "openai/mock-reset-midbody", messages: [{ role: "user", content: "x" }] }),
    );
    expect(response.status).toBe(502);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await errorOf(response)).toMatchObject({ type: "api_error", code: "upstream_unreachable" });
  });

  it("rejects a missing or non-string model with 400 naming the parameter", async () => {
    const missing = await post("/v1/chat/completions", JSON.stringify({ messages: [] }));
    expect(missing.status).toBe(400);
    expect(await errorOf(missing)).toMatchObject({ param: "model", code: "missing_model" });
    const wrongType = await post("/v1/chat/completions", JSON.stringify({ model: 42, messages: [] }));
    expect(wrongType.status).toBe(400);
    expect(await errorOf(wrongType)).toMatchObject({ param: "model", code: "invalid_type" });
  });

  it("refuses a body over the configured size with 413", async () => {
    const huge = JSON.stringify({ ...CHAT, padding: "x".repeat(2 * 1024 * 1024) });
    const response = await post("/v1/chat/completions", huge).catch((error: Error) => error);
    // A server may close the connection while a large upload is still being sent; both are refusals.
    if (response instanceof Error) expect(response.message).toMatch(/fetch failed|other side closed|reset/);
    else {
      expect(response.status).toBe(413);
      expect((await errorOf(response)).code).toBe("request_too_large");
    }
  });

  it("answers a wrong method with 405 and an unknown route with 404, both as JSON", async () => {
    const wrongMethod = await fetch(`${gateway.url}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect((await errorOf(wrongMethod)).code).toBe("method_not_allowed");
    const unknown = await fetch(`${gateway.url}/v2/nothing`);
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe("unknown_route");
  });

  it("echoes the client's x-request-id, or makes one, and forwards it upstream", async () => {
    const echoed = await post("/v1/chat/completions", JSON.stringify(CHAT), { "x-request-id": "req-123" });
    expect(echoed.headers.get("x-request-id")).toBe("req-123");
    expect(mock.stats.lastRequest?.headers["x-request-id"]).toBe("req-123");
    const made = await post("/v1/chat/completions", JSON.stringify(CHAT));
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("follows client.allowed_origins for CORS", async () => {
    const preflight = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    const allowed = await post("/v1/chat/completions", JSON.stringify(CHAT), {
      origin: "https://app.example",
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const other = await post("/v1/chat/completions", JSON.stringify(CHAT), {
      origin: "https://evil.example",
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("answers a provider that does not answer in time with 504", async () => {
    const response = await post(
      "/v1/chat/completions",
      JSON.stringify({ ...CHAT, model: "openai/mock-hang" }),
    );
    expect(response.status).toBe(504);
    expect((await errorOf(response)).code).toBe("upstream_timeout");
  });

  it("exposes Prometheus metrics aggregated over the lanes", async () => {
    for (let i = 0; i < 6; i++) await post("/v1/chat/completions", JSON.stringify(CHAT));
    const response = await fetch(`${gateway.url}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    const count = Number(
      /switchyard_requests_total\{provider="openai",model="gpt-4o-mini",status="200",error_class=""\} (\d+)/.exec(
        text,
      )?.[1],
    );
    expect(count).toBeGreaterThanOrEqual(6);
    expect(text).toMatch(/switchyard_gateway_overhead_seconds_bucket\{le="0.001"\} \d+/);
    expect(text).toMatch(/switchyard_upstream_latency_seconds_count\{provider="openai"\} \d+/);
    expect(text).toMatch(/switchyard_tokens_output_total\{provider="openai",model="gpt-4o-mini"\} [1-9]/);
    expect(text).toMatch(/switchyard_requests_in_flight 0/);
    expect(text).toContain("process_resident_memory_bytes");
  });

  it("hot-reloads the config file and keeps the old one when an edit is invalid", async () => {
    // Restrict the key to one model: other models of the provider are now refused.
    const restricted = bifrostConfig(mock.url);
    restricted.providers.openai.keys[0] = {
      name: "main",
      value: "env.MOCK_KEY",
      models: ["gpt-4o"],
      weight: 1,
    };
    writeConfig(configPath, restricted);
    await gateway.waitForOutput(/config reloaded/);
    await expect
      .poll(async () => (await post("/v1/chat/completions", JSON.stringify(CHAT))).status, { timeout: 5_000 })
      .toBe(404);

    writeConfig(configPath, {
      providers: { openai: { keys: [{ name: "k", value: "x", weight: "heavy" }] } },
    });
    await gateway.waitForOutput(
      /config change rejected[\s\S]*providers\.openai\.keys\[0\]\.weight: must be a number/,
    );
    const stillRestricted = await post(
      "/v1/chat/completions",
      JSON.stringify({ ...CHAT, model: "openai/gpt-4o" }),
    );
    expect(stillRestricted.status).toBe(200);
  });
});
