import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { adminApi } from "../helpers/admin-api.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { startTestPostgres } from "../helpers/postgres.js";

// The request log through the real server: one record per request whatever its end (success, provider
// error, stream, client abort, retry, fallback, refusal), read back through /api/logs, its stats and the
// live tail; records the store acknowledged survive a crash; a burst that fits the rings loses nothing, and
// when a stalled store lets the rings fill, what is dropped is counted exactly.

const ADMIN = "sk-admin-request-log";
let mock: MockServer;
let dir: string;
const running: RunningGateway[] = [];

interface LoggedView {
  id: string;
  request_id: string;
  model: string;
  provider: string;
  provider_model: string;
  provider_key: string;
  status: number;
  error_code: string;
  error_class: string;
  latency_ms: number;
  ttft_ms: number | null;
  retries: number;
  fallback_index: number;
  input_tokens: number;
  output_tokens: number;
  cost: number;
  stream: boolean;
  metadata: Record<string, string> | null;
  input?: string | null;
  output?: string | null;
}

beforeAll(async () => {
  mock = await startOpenAIMock();
  dir = mkdtempSync(join(tmpdir(), "switchyard-request-log-"));
  writeFileSync(
    join(dir, "config.yaml"),
    [
      "model_list:",
      "  - model_name: good",
      "    litellm_params: { model: openai/gpt-4o-mini, api_base: os.environ/MOCK_BASE, api_key: sk-mock, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 }",
      "  - model_name: slow",
      "    litellm_params: { model: openai/mock-slow-stream, api_base: os.environ/MOCK_BASE, api_key: sk-mock }",
      "  - model_name: refuses",
      "    litellm_params: { model: openai/mock-error-400, api_base: os.environ/MOCK_BASE, api_key: sk-mock }",
      "  - model_name: flaky",
      "    litellm_params: { model: openai/mock-error-503, api_base: os.environ/MOCK_BASE, api_key: sk-mock, order: 1 }",
      "  - model_name: flaky",
      "    litellm_params: { model: openai/gpt-4o-mini, api_base: os.environ/MOCK_BASE, api_key: sk-mock, order: 2 }",
      "  - model_name: down",
      "    litellm_params: { model: openai/mock-error-500, api_base: os.environ/MOCK_BASE, api_key: sk-mock }",
      "router_settings:",
      "  num_retries: 1",
      "  fallbacks: [{ down: [good] }]",
      "general_settings:",
      `  master_key: ${ADMIN}`,
      "  store_prompts_in_spend_logs: true",
      "",
    ].join("\n"),
  );
});

afterAll(async () => {
  await Promise.all(running.map((gateway) => gateway.stop()));
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function gatewayIn(appDir: string, env: Record<string, string> = {}): Promise<RunningGateway> {
  const gateway = await startGateway({
    args: ["--config", join(dir, "config.yaml"), "--app-dir", appDir, "--lanes", "2"],
    env: { MOCK_BASE: `${mock.url}/v1`, ...env },
  });
  running.push(gateway);
  return gateway;
}

const client = (gateway: RunningGateway) =>
  new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: ADMIN, maxRetries: 0 });

async function logsOf(gateway: RunningGateway, query = ""): Promise<LoggedView[]> {
  const { status, body } = await adminApi(gateway.url, ADMIN)("GET", `/api/logs?limit=1000${query}`);
  expect(status).toBe(200);
  return (body as { data: LoggedView[] }).data;
}

/** The record of the request the client sent with this x-request-id, once the log has it. */
async function recordOf(gateway: RunningGateway, requestId: string): Promise<LoggedView> {
  let found: LoggedView | undefined;
  await expect
    .poll(
      async () => {
        found = (await logsOf(gateway)).find((log) => log.request_id === requestId);
        return found !== undefined;
      },
      { timeout: 10_000 },
    )
    .toBe(true);
  const { body } = await adminApi(gateway.url, ADMIN)("GET", `/api/logs/${(found as LoggedView).id}`);
  return body as LoggedView;
}

function metric(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(" ")[1]);
}

describe("the request log", () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    gateway = await gatewayIn(join(dir, "main"));
  });

  it("records a success with its tokens, cost, content and the client's metadata", async () => {
    const reply = await client(gateway).chat.completions.create(
      { model: "good", messages: [{ role: "user", content: "hello log" }], metadata: { run: "r-1" } },
      { headers: { "x-request-id": "log-success", "x-switchyard-metadata-user": "ann" } },
    );
    const record = await recordOf(gateway, "log-success");
    expect(record).toMatchObject({
      model: "good",
      // A LiteLLM deployment of openai/ with its own api_base is an OpenAI-compatible server.
      provider: "custom",
      provider_model: "gpt-4o-mini",
      status: 200,
      error_class: "",
      retries: 0,
      fallback_index: 0,
      stream: false,
      input_tokens: reply.usage?.prompt_tokens,
      output_tokens: reply.usage?.completion_tokens,
      metadata: { user: "ann", run: "r-1" },
      ttft_ms: null,
    });
    const tokens = reply.usage as { prompt_tokens: number; completion_tokens: number };
    expect(record.cost).toBeCloseTo(tokens.prompt_tokens * 1e-6 + tokens.completion_tokens * 2e-6, 6);
    expect(record.latency_ms).toBeGreaterThan(0);
    expect(record.input).toContain("hello log");
    expect(JSON.parse(record.output ?? "{}").choices[0].message.content).toBe(
      reply.choices[0]?.message.content,
    );
  });

  it("keeps no content for a virtual key that turns content logging off, and names its key", async () => {
    const api = adminApi(gateway.url, ADMIN);
    const made = await api("POST", "/api/keys", { name: "quiet", log_content: false });
    expect(made.status).toBe(201);
    const { id, key } = made.body as { id: string; key: string };
    await new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 }).chat.completions.create(
      { model: "good", messages: [{ role: "user", content: "secret plans" }] },
      { headers: { "x-request-id": "log-quiet" } },
    );
    const record = await recordOf(gateway, "log-quiet");
    expect(record).toMatchObject({ status: 200, input: null, output: null });
    expect((record as unknown as { virtual_key: string }).virtual_key).toBe(id);
    expect((await logsOf(gateway, "&q=secret%20plans")).length).toBe(0);
    expect((await logsOf(gateway, `&virtual_key=${id}`)).map((log) => log.request_id)).toEqual(["log-quiet"]);
  });

  it("records a stream with its first byte's time and the relayed events", async () => {
    const stream = await client(gateway).chat.completions.create(
      {
        model: "good",
        messages: [{ role: "user", content: "stream please" }],
        stream: true,
        stream_options: { include_usage: true },
      },
      { headers: { "x-request-id": "log-stream" } },
    );
    let text = "";
    let completionTokens = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
    }
    const record = await recordOf(gateway, "log-stream");
    expect(record).toMatchObject({ status: 200, stream: true, output_tokens: completionTokens });
    expect(record.ttft_ms).toBeGreaterThan(0);
    expect(record.ttft_ms).toBeLessThanOrEqual(record.latency_ms);
    expect(completionTokens).toBeGreaterThan(0);
    expect(record.output).toContain("data: ");
    expect(record.output).toContain(JSON.stringify(text.split(" ")[0]).slice(1, -1));
  });

  it("records a provider's error, a retry, a fallback and a refusal, each with its class", async () => {
    await expect(
      client(gateway).chat.completions.create(
        { model: "refuses", messages: [{ role: "user", content: "x" }] },
        { headers: { "x-request-id": "log-provider-error" } },
      ),
    ).rejects.toMatchObject({ status: 400 });
    expect(await recordOf(gateway, "log-provider-error")).toMatchObject({
      status: 400,
      error_class: "provider",
      provider: "custom",
    });

    await client(gateway).chat.completions.create(
      { model: "flaky", messages: [{ role: "user", content: "x" }] },
      { headers: { "x-request-id": "log-retry" } },
    );
    expect(await recordOf(gateway, "log-retry")).toMatchObject({
      status: 200,
      retries: 1,
      fallback_index: 0,
    });

    await client(gateway).chat.completions.create(
      { model: "down", messages: [{ role: "user", content: "x" }] },
      { headers: { "x-request-id": "log-fallback" } },
    );
    expect(await recordOf(gateway, "log-fallback")).toMatchObject({
      status: 200,
      fallback_index: 1,
      provider_model: "gpt-4o-mini",
    });

    const refused = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ADMIN}`,
        "content-type": "application/json",
        "x-request-id": "log-refused",
      },
      body: JSON.stringify({ model: "no-such-model", messages: [] }),
    });
    expect(refused.status).toBe(404);
    expect(await recordOf(gateway, "log-refused")).toMatchObject({
      status: 404,
      error_class: "client",
      model: "no-such-model",
      provider: "",
    });

    const keyless = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "log-keyless" },
      body: "{}",
    });
    expect(keyless.status).toBe(401);
    expect(await recordOf(gateway, "log-keyless")).toMatchObject({
      status: 401,
      error_class: "policy",
      model: "",
    });
  });

  it("records a stream the client left, as a 499 with what was relayed", async () => {
    const abort = new AbortController();
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${ADMIN}`,
        "content-type": "application/json",
        "x-request-id": "log-abort",
      },
      body: JSON.stringify({ model: "slow", messages: [{ role: "user", content: "x" }], stream: true }),
      signal: abort.signal,
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    abort.abort();
    const record = await recordOf(gateway, "log-abort");
    expect(record).toMatchObject({ status: 499, error_class: "client", stream: true });
    expect(record.output).toContain("data: ");
  });

  it("finds records by filter and text, pages them with a cursor, and sums them in stats", async () => {
    const api = adminApi(gateway.url, ADMIN);
    const errors = await logsOf(gateway, "&status=error");
    expect(errors.length).toBeGreaterThanOrEqual(4);
    expect(errors.every((log) => log.status >= 400)).toBe(true);
    expect((await logsOf(gateway, "&q=hello%20log")).map((log) => log.request_id)).toEqual(["log-success"]);
    expect((await logsOf(gateway, "&model=flaky")).map((log) => log.request_id)).toEqual(["log-retry"]);

    const all = await logsOf(gateway);
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const { body } = await api("GET", `/api/logs?limit=2${cursor === "" ? "" : `&cursor=${cursor}`}`);
      const page = body as { data: LoggedView[]; next_cursor: string | null };
      seen.push(...page.data.map((log) => log.id));
      cursor = page.next_cursor;
    }
    expect(seen).toEqual(all.map((log) => log.id));

    const { status, body } = await api(
      "GET",
      `/api/logs/stats?group_by=model&from=${Date.now() - 600_000}&interval=1m`,
    );
    expect(status).toBe(200);
    const stats = body as {
      total: {
        requests: number;
        errors: number;
        input_tokens: number;
        latency_ms: { p50: number; p99: number };
      };
      groups: { group: string; requests: number }[];
      series: { requests: number }[];
    };
    expect(stats.total.requests).toBe(all.length);
    expect(stats.total.errors).toBe(all.filter((log) => log.status >= 400).length);
    expect(stats.total.input_tokens).toBe(all.reduce((sum, log) => sum + log.input_tokens, 0));
    expect(stats.total.latency_ms.p99).toBeGreaterThanOrEqual(stats.total.latency_ms.p50);
    expect(stats.groups.find((g) => g.group === "good")?.requests).toBe(
      all.filter((log) => log.model === "good").length,
    );
    expect(stats.series.reduce((sum, bucket) => sum + bucket.requests, 0)).toBe(all.length);

    expect((await api("GET", "/api/logs?cursor=not-a-cursor")).status).toBe(400);
    expect((await api("GET", "/api/logs/stats?interval=1s&from=0")).status).toBe(400);
    expect((await api("GET", "/api/logs/00000000-0000-4000-8000-000000000000")).status).toBe(404);
  });

  it("shows requests on the live tail as they are stored, to the admin key only", async () => {
    const url = `${gateway.url.replace("http", "ws")}/api/logs/live`;
    const refused = new WebSocket(url);
    refused.on("open", () => refused.send(JSON.stringify({ type: "auth", key: "wrong" })));
    const code = await new Promise<number>((resolve) =>
      refused.on("close", (closeCode) => resolve(closeCode)),
    );
    expect(code).toBe(4401);

    // Both lanes may take the socket: two watchers make it likely that the request's lane and the
    // watcher's differ, which the control plane's fan-out must not care about.
    const watchers = [new WebSocket(url), new WebSocket(url)];
    const seen: string[][] = watchers.map(() => []);
    await Promise.all(
      watchers.map(
        (socket, i) =>
          new Promise<void>((resolve) => {
            socket.on("open", () => socket.send(JSON.stringify({ type: "auth", key: ADMIN })));
            socket.on("message", (data) => {
              const message = JSON.parse(String(data)) as { type: string; logs?: LoggedView[] };
              if (message.type === "ready") resolve();
              for (const log of message.logs ?? []) seen[i]?.push(log.request_id);
            });
          }),
      ),
    );
    await client(gateway).chat.completions.create(
      { model: "good", messages: [{ role: "user", content: "tail" }] },
      { headers: { "x-request-id": "log-tail" } },
    );
    await expect.poll(() => seen.every((ids) => ids.includes("log-tail")), { timeout: 10_000 }).toBe(true);
    for (const socket of watchers) socket.close();
  });

  it("keeps every record the store acknowledged when the process is killed", async () => {
    const appDir = join(dir, "crash");
    const first = await gatewayIn(appDir);
    for (let i = 0; i < 20; i++)
      await client(first).chat.completions.create(
        { model: "good", messages: [{ role: "user", content: `crash ${i}` }] },
        { headers: { "x-request-id": `crash-${i}` } },
      );
    await expect.poll(async () => (await logsOf(first)).length, { timeout: 10_000 }).toBe(20);
    const acknowledged = (await logsOf(first)).map((log) => log.id);
    await first.stop("SIGKILL");
    const second = await gatewayIn(appDir);
    expect((await logsOf(second)).map((log) => log.id)).toEqual(acknowledged);
  });
});

describe("the request log on PostgreSQL", () => {
  it("writes records to the governance store's database and answers queries from it", async () => {
    const postgres = await startTestPostgres();
    try {
      const databaseUrl = await postgres.createDatabase();
      const gateway = await gatewayIn(join(dir, "postgres"), { SWITCHYARD_DATABASE_URL: databaseUrl });
      expect(gateway.output()).toMatch(/request log: PostgreSQL at /);
      for (let i = 0; i < 5; i++)
        await client(gateway).chat.completions.create(
          { model: "good", messages: [{ role: "user", content: `postgres ${i}` }] },
          { headers: { "x-request-id": `pg-${i}` } },
        );
      await expect.poll(async () => (await logsOf(gateway)).length, { timeout: 10_000 }).toBe(5);
      expect((await logsOf(gateway, "&q=postgres%203")).map((log) => log.request_id)).toEqual(["pg-3"]);
      const record = await recordOf(gateway, "pg-0");
      expect(record.input).toContain("postgres 0");
      await gateway.stop();
    } finally {
      await postgres.stop();
    }
  });
});

describe("the request log when its worker dies", () => {
  it("loses nothing: the records it had read but not stored are written by the next one", async () => {
    const appDir = join(dir, "worker-crash");
    const marker = join(dir, "crash-the-log-worker");
    const gateway = await gatewayIn(appDir, { NODE_ENV: "test", SWITCHYARD_TEST_LOG_WORKER_CRASH: marker });
    writeFileSync(marker, "");
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        client(gateway).chat.completions.create(
          { model: "good", messages: [{ role: "user", content: `worker ${i}` }] },
          { headers: { "x-request-id": `worker-${i}` } },
        ),
      ),
    );
    await gateway.waitForOutput(/request log: the log worker ended \(code 1\); starting another/, 10_000);
    await expect.poll(async () => (await logsOf(gateway)).length, { timeout: 10_000 }).toBe(30);
    expect(new Set((await logsOf(gateway)).map((log) => log.request_id)).size).toBe(30);
  });
});

describe("the request log under bursts", () => {
  const burst = (gateway: RunningGateway, count: number, prefix: string, bytes: number) =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        client(gateway).chat.completions.create(
          { model: "good", messages: [{ role: "user", content: "b".repeat(bytes) }] },
          { headers: { "x-request-id": `${prefix}-${i}` } },
        ),
      ),
    );

  it("loses nothing of a burst that fits the rings", async () => {
    const gateway = await gatewayIn(join(dir, "fits"));
    await burst(gateway, 300, "fits", 200);
    await expect.poll(async () => (await logsOf(gateway)).length, { timeout: 15_000 }).toBe(300);
    expect(
      metric(await (await fetch(`${gateway.url}/metrics`)).text(), "switchyard_log_records_dropped_total"),
    ).toBe(0);
  });

  it("counts exactly what it drops when a stalled store lets the rings fill, and writes the rest once it moves", async () => {
    const appDir = join(dir, "stalled");
    // The smallest rings (1 MiB a lane) and records of about 6 KB: a few hundred fill them.
    const gateway = await gatewayIn(appDir, { SWITCHYARD_LOG_RING_MB: "1" });
    await burst(gateway, 2, "warm", 10);
    await expect.poll(async () => (await logsOf(gateway)).length, { timeout: 10_000 }).toBe(2);
    // Another process holds the log database's write lock: the log worker's inserts fail and wait.
    const lock = new Database(join(appDir, "logs.db"));
    lock.exec("BEGIN IMMEDIATE");
    const sent = 600;
    await burst(gateway, sent, "stalled", 6000);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    const dropped = metric(metrics, "switchyard_log_records_dropped_total");
    expect(dropped).toBeGreaterThan(0);
    lock.exec("COMMIT");
    lock.close();
    await expect
      .poll(async () => (await logsOf(gateway)).length, { timeout: 60_000, interval: 500 })
      .toBe(2 + sent - dropped);
    await gateway.waitForOutput(/request log: \d+ records dropped/, 20_000);
  });
});
