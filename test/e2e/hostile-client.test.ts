import { mkdtempSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { nodeFrontLanes, type RunningGateway, startGateway } from "../helpers/gateway.js";

// A hostile client on both HTTP fronts: model names that try to write response headers (through the
// body and through the URL path), request headers that are echoed, and a flood of distinct model names
// that must not grow the metrics. Header checks read the raw bytes off one keep-alive connection, so a
// forged header or a forged second response would show.

const INJECTED = "x\r\nSet-Cookie: x=y";

interface RawResponse {
  readonly status: number;
  /** Header lines as sent, "name: value". */
  readonly headerLines: readonly string[];
  readonly body: string;
}

/** Reads HTTP/1.1 responses off one socket, one at a time, in order. */
class RawConnection {
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiter?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  async request(method: string, path: string, body = "", headers: Record<string, string> = {}) {
    let head = `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    head += `content-length: ${Buffer.byteLength(body)}\r\n\r\n`;
    this.socket.write(head + body);
    return this.readResponse();
  }

  close(): void {
    this.socket.destroy();
  }

  /** Bytes received beyond the responses read so far. */
  get leftover(): number {
    return this.buffer.length;
  }

  private async until(ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (this.closed) throw new Error(`connection closed; received so far: ${this.buffer.toString()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async readResponse(): Promise<RawResponse> {
    await this.until(() => this.buffer.indexOf("\r\n\r\n") >= 0);
    const end = this.buffer.indexOf("\r\n\r\n");
    const lines = this.buffer.toString("latin1", 0, end).split("\r\n");
    this.buffer = this.buffer.subarray(end + 4);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? "")?.[1]);
    const headerLines = lines.slice(1);
    const header = (name: string) =>
      headerLines
        .find((line) => line.toLowerCase().startsWith(`${name}:`))
        ?.slice(name.length + 1)
        .trim();
    let body: Buffer;
    const length = header("content-length");
    if (length !== undefined) {
      const n = Number(length);
      await this.until(() => this.buffer.length >= n);
      body = this.buffer.subarray(0, n);
      this.buffer = this.buffer.subarray(n);
    } else if (header("transfer-encoding")?.toLowerCase() === "chunked") {
      const parts: Buffer[] = [];
      for (;;) {
        await this.until(() => this.buffer.indexOf("\r\n") >= 0);
        const lineEnd = this.buffer.indexOf("\r\n");
        const size = Number.parseInt(this.buffer.toString("latin1", 0, lineEnd), 16);
        await this.until(() => this.buffer.length >= lineEnd + 2 + size + 2);
        parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        this.buffer = this.buffer.subarray(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
      body = Buffer.concat(parts);
    } else body = Buffer.alloc(0);
    return { status, headerLines, body: body.toString("utf8") };
  }
}

const chat = (model: string) => JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] });

function expectNoInjection(response: RawResponse): void {
  for (const line of response.headerLines) {
    expect(line).toMatch(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+: [\x20-\x7e]*$/);
    expect(line.toLowerCase()).not.toMatch(/^set-cookie:/);
  }
}

describe.each(["uws", "node"] as const)("a hostile client on the %s front", (backend) => {
  let mock: MockServer;
  let gateway: RunningGateway;
  let connection: RawConnection;

  beforeAll(async () => {
    mock = await startOpenAIMock();
    const configPath = join(mkdtempSync(join(tmpdir(), "switchyard-")), "config.json");
    writeFileSync(
      configPath,
      JSON.stringify({
        client: { allowed_origins: ["https://app.example"] },
        providers: {
          openai: {
            keys: [{ name: "main", value: "env.MOCK_KEY", models: ["*"], weight: 1 }],
            network_config: { base_url: mock.url },
          },
        },
      }),
    );
    gateway = await startGateway({
      env: { MOCK_KEY: "sk-mock", ...(backend === "node" ? { SWITCHYARD_HTTP: "node" } : {}) },
      args: ["--config", configPath, "--lanes", "2"],
    });
    connection = await RawConnection.open(gateway.port);
  });

  afterAll(async () => {
    connection?.close();
    await gateway?.stop();
    await mock?.close();
  });

  /** The same connection still serves a plain request in full, and nothing extra was sent before it. */
  async function expectConnectionIntact(): Promise<void> {
    expect(connection.leftover).toBe(0);
    const next = await connection.request("POST", "/v1/chat/completions", chat("openai/gpt-4o-mini"));
    expect(next.status).toBe(200);
    expect(next.headerLines).toContain("x-switchyard-model: gpt-4o-mini");
    expect(JSON.parse(next.body)).toMatchObject({ object: "chat.completion" });
    expect(connection.leftover).toBe(0);
  }

  it.each([
    ["the body", "/v1/chat/completions", chat(`openai/${INJECTED}`)],
    [
      "a LiteLLM deployment path",
      `/openai/deployments/${encodeURIComponent(INJECTED)}/chat/completions`,
      "{}",
    ],
    ["a LiteLLM engines path", `/engines/openai%2F${encodeURIComponent(INJECTED)}/chat/completions`, "{}"],
  ])("refuses a model name with CR LF in %s, in OpenAI's shape", async (_where, path, body) => {
    const response = await connection.request("POST", path, body);
    expect(response.status).toBe(400);
    expectNoInjection(response);
    expect(JSON.parse(response.body)).toEqual({
      error: expect.objectContaining({
        type: "invalid_request_error",
        code: "invalid_model",
        param: "model",
      }),
    });
    await expectConnectionIntact();
  });

  it("refuses it on the Gemini route in Google's shape", async () => {
    const path = `/genai/v1beta/models/${encodeURIComponent(INJECTED)}:generateContent`;
    const response = await connection.request("POST", path, JSON.stringify({ contents: [] }));
    expect(response.status).toBe(400);
    expectNoInjection(response);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT" } });
    await expectConnectionIntact();
  });

  it("refuses it on the Anthropic route in Anthropic's shape", async () => {
    const body = JSON.stringify({
      model: INJECTED,
      max_tokens: 5,
      messages: [{ role: "user", content: "hi" }],
    });
    const response = await connection.request("POST", "/anthropic/v1/messages", body);
    expect(response.status).toBe(400);
    expectNoInjection(response);
    expect(JSON.parse(response.body)).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error" },
    });
    await expectConnectionIntact();
  });

  it.each([
    "/openai/deployments/openai/../../files/chat/completions",
    "/openai/deployments/openai%2F..%2F..%2Ffiles/chat/completions",
    "/genai/v1beta/models/..%2F..%2Ffiles:generateContent",
    "/genai/v1beta/models/models/../files:generateContent",
  ])("refuses dot segments in the model of %s", async (path) => {
    const response = await connection.request("POST", path, chat("openai/gpt-4o-mini"));
    expect(response.status).toBe(400);
    expect(response.body).toContain("path segment");
    await expectConnectionIntact();
  });

  it("refuses a body naming the model twice", async () => {
    const body =
      '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"model":"openai/o3"}';
    const response = await connection.request("POST", "/v1/chat/completions", body);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: "invalid_model", param: "model" } });
    await expectConnectionIntact();
  });

  it("replaces an x-request-id that is not a plain short token", async () => {
    const kept = await connection.request("POST", "/v1/chat/completions", chat("openai/gpt-4o-mini"), {
      "x-request-id": "req-42.a:b",
    });
    expect(kept.headerLines).toContain("x-request-id: req-42.a:b");
    for (const sent of ["a".repeat(200), "id with spaces", "id;evil=1"]) {
      const response = await connection.request("POST", "/v1/chat/completions", chat("openai/gpt-4o-mini"), {
        "x-request-id": sent,
      });
      const id = response.headerLines.find((line) => line.startsWith("x-request-id: "));
      expect(id).toMatch(/^x-request-id: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    await expectConnectionIntact();
  });

  it("echoes only plain header names in a preflight's allow-headers", async () => {
    const response = await connection.request("OPTIONS", "/v1/chat/completions", "", {
      origin: "https://app.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "x-stainless-os, bad header!, content-type, x=y",
    });
    expect(response.status).toBe(204);
    expect(response.headerLines).toContain("access-control-allow-headers: x-stainless-os,content-type");
    expectNoInjection(response);
    await expectConnectionIntact();
  });

  it("keeps /metrics bounded under 10,000 distinct model names", async () => {
    const before = await (await fetch(`${gateway.url}/metrics`)).text();
    const names = Array.from(
      { length: 10_000 },
      (_, i) => `openai/rnd-${i}-${Math.random().toString(36).slice(2)}`,
    );
    let next = 0;
    const statuses = new Map<number, number>();
    const worker = async () => {
      while (next < names.length) {
        const model = names[next++] as string;
        const response = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: "POST",
          body: chat(model),
          headers: { "content-type": "application/json" },
        });
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    expect(statuses.get(200)).toBe(names.length);

    const after = await (await fetch(`${gateway.url}/metrics`)).text();
    const models = new Set(
      [...after.matchAll(/^switchyard_requests_total\{[^}]*model="([^"]*)"/gm)].map((m) => m[1]),
    );
    // Each lane keeps at most 256 model labels and folds the rest into "other".
    const lanes = backend === "uws" ? 2 : nodeFrontLanes(2);
    expect(models.size).toBeLessThanOrEqual(lanes * 256 + 3);
    expect(models.has("other")).toBe(true);
    expect(after.length - before.length).toBeLessThan(lanes * 257 * 3 * 200);
    const total = [...after.matchAll(/^switchyard_requests_total\{[^}]*status="200"[^}]*\} (\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    expect(total).toBeGreaterThanOrEqual(names.length);
  }, 120_000);
});
