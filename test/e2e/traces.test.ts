import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// OpenTelemetry traces through the real server: a tiny OTLP/HTTP receiver collects what the gateway
// exports; the client's trace context reaches the provider; a collector that is down or never answers
// costs requests nothing.

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string; intValue?: string } }[];
  status?: { code: number };
}

interface Receiver {
  readonly url: string;
  readonly spans: JsonSpan[];
  readonly requests: { path: string; contentType: string; serviceName: string }[];
  close(): Promise<void>;
}

/** An OTLP/HTTP receiver; `answer` false holds every export open, as a stalled collector would. */
async function startReceiver(answer = true): Promise<Receiver & { server: Server }> {
  const spans: JsonSpan[] = [];
  const requests: Receiver["requests"] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      for (const resource of body.resourceSpans) {
        const service = resource.resource.attributes.find((a: { key: string }) => a.key === "service.name");
        requests.push({
          path: req.url ?? "",
          contentType: req.headers["content-type"] ?? "",
          serviceName: service?.value.stringValue ?? "",
        });
        for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      }
      if (answer) res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function attribute(span: JsonSpan, key: string): string | undefined {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.intValue;
}

function failedExports(metrics: string): number {
  const line = metrics.split("\n").find((l) => l.startsWith("switchyard_trace_exports_failed_total "));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

const CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";

function chat(gateway: RunningGateway, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  });
}

let mock: MockServer;

beforeAll(async () => {
  mock = await startOpenAIMock();
});

afterAll(async () => {
  await mock?.close();
});

describe("traces to a running collector", () => {
  let receiver: Receiver;
  let gateway: RunningGateway;

  beforeAll(async () => {
    receiver = await startReceiver();
    gateway = await startGateway({
      env: {
        OPENAI_API_KEY: "sk-mock",
        OPENAI_BASE_URL: `${mock.url}/v1`,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: "switchyard-e2e",
        // A client's traceparent passed on by a plugin must not stand in for the attempt's own.
        SWITCHYARD_FORWARD_HEADERS: "traceparent",
      },
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await receiver?.close();
  });

  it("exports the request's span and its attempt's in the client's trace, and sends the attempt's to the provider", async () => {
    const response = await chat(gateway, { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` });
    expect(response.status).toBe(200);
    const reply = (await response.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };

    const upstream = mock.stats.lastRequest?.headers.traceparent ?? "";
    expect(upstream).toMatch(new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-01$`));
    const upstreamParent = upstream.split("-")[2];
    expect(upstreamParent).not.toBe(CLIENT_SPAN);

    await expect.poll(() => receiver.spans.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(receiver.requests[0]).toEqual({
      path: "/v1/traces",
      contentType: "application/json",
      serviceName: "switchyard-e2e",
    });
    const server = receiver.spans.find((s) => s.kind === 2);
    const client = receiver.spans.find((s) => s.kind === 3);
    if (server === undefined || client === undefined) throw new Error("a span is missing");
    expect(server.traceId).toBe(CLIENT_TRACE);
    expect(server.parentSpanId).toBe(CLIENT_SPAN);
    expect(server.name).toBe("chat openai/gpt-4o-mini");
    expect(client.traceId).toBe(CLIENT_TRACE);
    expect(client.parentSpanId).toBe(server.spanId);
    expect(client.spanId).toBe(upstreamParent);
    expect(client.name).toBe("chat gpt-4o-mini");
    for (const span of [server, client]) {
      expect(attribute(span, "gen_ai.operation.name")).toBe("chat");
      expect(attribute(span, "gen_ai.provider.name")).toBe("openai");
      expect(attribute(span, "gen_ai.system")).toBe("openai");
      expect(attribute(span, "gen_ai.request.model")).toBe("openai/gpt-4o-mini");
      expect(attribute(span, "gen_ai.response.model")).toBe("gpt-4o-mini");
      expect(attribute(span, "gen_ai.usage.input_tokens")).toBe(String(reply.usage.prompt_tokens));
      expect(attribute(span, "gen_ai.usage.output_tokens")).toBe(String(reply.usage.completion_tokens));
      expect(attribute(span, "http.response.status_code")).toBe("200");
      expect(attribute(span, "switchyard.retries")).toBe("0");
      expect(attribute(span, "switchyard.fallback_index")).toBe("0");
      expect(attribute(span, "error.type")).toBeUndefined();
      expect(span.status).toBeUndefined();
    }
  });

  it("names a stream's usage on its spans", async () => {
    const before = receiver.spans.length;
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "openai/gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    expect(response.status).toBe(200);
    const events = (await response.text())
      .split("\n")
      .filter((line) => line.startsWith("data: {"))
      .map((line) => JSON.parse(line.slice(6)));
    const usage = events.find((event) => event.usage)?.usage;
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    await expect.poll(() => receiver.spans.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(before + 2);
    for (const span of receiver.spans.slice(before)) {
      expect(attribute(span, "gen_ai.usage.input_tokens")).toBe(String(usage.prompt_tokens));
      expect(attribute(span, "gen_ai.usage.output_tokens")).toBe(String(usage.completion_tokens));
      expect(attribute(span, "http.response.status_code")).toBe("200");
    }
  });

  it("marks a request the provider fails, and its attempt, as errors", async () => {
    const before = receiver.spans.length;
    mock.configure({ failRate: 1 });
    let status: number;
    try {
      status = (await chat(gateway)).status;
    } finally {
      mock.configure({ failRate: 0 });
    }
    expect(status).toBeGreaterThanOrEqual(500);
    await expect
      .poll(() => receiver.spans.slice(before).some((s) => s.kind === 2), { timeout: 10_000 })
      .toBe(true);
    const spans = receiver.spans.slice(before);
    const server = spans.find((s) => s.kind === 2);
    const attempts = spans.filter((s) => s.kind === 3);
    // The environment's configuration retries nothing: one attempt, whose reply the client got.
    expect(attempts).toHaveLength(1);
    for (const span of [server, attempts[0]]) {
      expect(span?.status).toEqual({ code: 2 });
      expect(attribute(span as JsonSpan, "error.type")).toBe(String(status));
      expect(attribute(span as JsonSpan, "http.response.status_code")).toBe(String(status));
    }
  });

  it("gives a request the gateway refuses before any attempt its span alone, with the refusal's code", async () => {
    const before = receiver.spans.length;
    const refused = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` },
      body: JSON.stringify({ model: "nowhere/no-such-model", messages: [] }),
    });
    expect(refused.status).toBe(404);
    const code = ((await refused.json()) as { error: { code: string } }).error.code;
    await expect
      .poll(() => receiver.spans.slice(before).some((s) => s.kind === 2), { timeout: 10_000 })
      .toBe(true);
    const spans = receiver.spans.slice(before);
    expect(spans.filter((s) => s.kind === 3)).toHaveLength(0);
    const server = spans.find((s) => s.kind === 2) as JsonSpan;
    expect(server.traceId).toBe(CLIENT_TRACE);
    expect(server.name).toBe("chat nowhere/no-such-model");
    expect(server.status).toEqual({ code: 2 });
    expect(attribute(server, "error.type")).toBe(code);
    expect(attribute(server, "http.response.status_code")).toBe("404");
  });

  it("starts a new trace when the client's traceparent is not valid", async () => {
    const before = receiver.spans.length;
    const invalid = `00-${CLIENT_TRACE.toUpperCase()}-${CLIENT_SPAN}-01`;
    expect((await chat(gateway, { traceparent: invalid })).status).toBe(200);
    const upstream = mock.stats.lastRequest?.headers.traceparent ?? "";
    expect(upstream).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(upstream).not.toContain(CLIENT_TRACE);
    await expect.poll(() => receiver.spans.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(before + 2);
    const server = receiver.spans.slice(before).find((s) => s.kind === 2);
    expect(server?.traceId).toBe(upstream.split("-")[1]);
    expect(server?.parentSpanId).toBeUndefined();
  });
});

describe("traces at shutdown", () => {
  it("sends the spans still queued before the gateway exits", async () => {
    const receiver = await startReceiver();
    const gateway = await startGateway({
      env: {
        OPENAI_API_KEY: "sk-mock",
        OPENAI_BASE_URL: `${mock.url}/v1`,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      },
    });
    try {
      expect((await chat(gateway)).status).toBe(200);
    } finally {
      await gateway.stop();
    }
    try {
      expect(receiver.spans.map((s) => s.kind).sort()).toEqual([2, 3]);
    } finally {
      await receiver.close();
    }
  });
});

describe("traces to a collector that is down or stalled", () => {
  it("costs requests nothing when the collector refuses connections", async () => {
    const receiver = await startReceiver();
    const refused = receiver.url;
    await receiver.close();
    const gateway = await startGateway({
      env: {
        OPENAI_API_KEY: "sk-mock",
        OPENAI_BASE_URL: `${mock.url}/v1`,
        OTEL_EXPORTER_OTLP_ENDPOINT: refused,
      },
    });
    try {
      const started = performance.now();
      for (let i = 0; i < 10; i++) expect((await chat(gateway)).status).toBe(200);
      // Generous for a loaded machine; a request that waited on an export would take seconds.
      expect(performance.now() - started).toBeLessThan(10_000);
      await expect
        .poll(async () => failedExports(await (await fetch(`${gateway.url}/metrics`)).text()), {
          timeout: 10_000,
        })
        .toBeGreaterThan(0);
    } finally {
      await gateway.stop();
    }
  });

  it("costs requests nothing when the collector never answers", async () => {
    const receiver = await startReceiver(false);
    const gateway = await startGateway({
      env: {
        OPENAI_API_KEY: "sk-mock",
        OPENAI_BASE_URL: `${mock.url}/v1`,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      },
    });
    try {
      expect((await chat(gateway)).status).toBe(200);
      await expect.poll(() => receiver.requests.length, { timeout: 10_000 }).toBe(1);
      // The export is held open; requests go on at their own pace. Each waiting on it would take 2 s.
      const started = performance.now();
      for (let i = 0; i < 5; i++) expect((await chat(gateway)).status).toBe(200);
      expect(performance.now() - started).toBeLessThan(10_000);
    } finally {
      await gateway.stop();
      await receiver.close();
    }
  });
});
