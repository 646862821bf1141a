import { readFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { UpstreamError } from "./errors.js";
import type { UpstreamController, UpstreamHandler, UpstreamRequestOptions } from "./exchange.js";
import { H1Pool } from "./pool.js";
import type { UpstreamHeaders } from "./response-parser.js";

// The upstream client against servers that answer as they are scripted to: well, late, never, halfway,
// with Keep-Alive hints, over TLS. Each test names the behaviour a relay depends on.

interface Outcome {
  status: number;
  headers: UpstreamHeaders;
  body: string;
  error: Error | undefined;
}

/** What a handler heard, and the controller it was given. */
class Recorder implements UpstreamHandler {
  readonly outcome: Outcome = { status: 0, headers: {}, body: "", error: undefined };
  controller: UpstreamController | undefined;
  readonly done: Promise<Outcome>;
  private settle: (outcome: Outcome) => void = () => {};

  constructor(
    private readonly on: Partial<Record<"start" | "head" | "data", (c: UpstreamController) => void>> = {},
  ) {
    this.done = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  onRequestStart(controller: UpstreamController): void {
    this.controller = controller;
    this.on.start?.(controller);
  }
  onResponseStart(controller: UpstreamController, status: number, headers: UpstreamHeaders): void {
    this.outcome.status = status;
    this.outcome.headers = headers;
    this.on.head?.(controller);
  }
  onResponseData(controller: UpstreamController, chunk: Buffer): void {
    this.outcome.body += chunk.toString();
    this.on.data?.(controller);
  }
  onResponseEnd(): void {
    this.settle(this.outcome);
  }
  onResponseError(_controller: UpstreamController, error: Error): void {
    this.outcome.error = error;
    this.settle(this.outcome);
  }
}

const request = (extra: Partial<UpstreamRequestOptions> = {}): UpstreamRequestOptions => ({
  method: "POST",
  path: "/v1/chat/completions",
  headers: Object.freeze(["content-type", "application/json", "authorization", "Bearer sk-test"]),
  extraHeaders: ["x-request-id", "req-1"],
  body: '{"model":"gpt-4o-mini"}',
  headersTimeout: 5_000,
  bodyTimeout: 5_000,
  ...extra,
});

function send(
  pool: H1Pool,
  options: UpstreamRequestOptions = request(),
  recorder = new Recorder(),
): Promise<Outcome> {
  pool.dispatch(options, recorder);
  return recorder.done;
}

/** A TCP server that hands each whole request (head and body) to `answer`, with its socket. */
interface Scripted {
  readonly origin: string;
  readonly requests: string[];
  connections: number;
  readonly server: Server;
}

const servers: Server[] = [];
const pools: H1Pool[] = [];

afterEach(async () => {
  for (const pool of pools.splice(0)) pool.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function newPool(origin: string, options: Partial<ConstructorParameters<typeof H1Pool>[1]> = {}): H1Pool {
  const pool = new H1Pool(origin, { connectTimeoutMs: 2_000, keepAliveMs: 30_000, ...options });
  pools.push(pool);
  return pool;
}

async function scripted(answer: (socket: Socket, request: string, index: number) => void): Promise<Scripted> {
  const state: Scripted = {
    origin: "",
    requests: [],
    connections: 0,
    server: undefined as unknown as Server,
  };
  const server = createServer((socket) => {
    state.connections++;
    let pending = "";
    socket.on("data", (chunk) => {
      pending += chunk.toString("latin1");
      for (;;) {
        const end = pending.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(pending.slice(0, end))?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        const whole = pending.slice(0, end + 4 + length);
        pending = pending.slice(end + 4 + length);
        state.requests.push(whole);
        answer(socket, whole, state.requests.length - 1);
      }
    });
    socket.on("error", () => {});
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(state, {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
  });
}

const ok = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe("H1Pool", () => {
  it("writes the head the provider expects: method, path, Host, the key's and the request's headers, the length", async () => {
    const server = await scripted((socket) => socket.write(ok('{"ok":true}')));
    const outcome = await send(newPool(server.origin));
    expect(outcome).toMatchObject({ status: 200, body: '{"ok":true}', error: undefined });
    expect(outcome.headers["content-type"]).toBe("application/json");
    const port = new URL(server.origin).port;
    expect(server.requests[0]).toBe(
      "POST /v1/chat/completions HTTP/1.1\r\ncontent-type: application/json\r\nauthorization: Bearer sk-test\r\n" +
        `x-request-id: req-1\r\nhost: 127.0.0.1:${port}\r\ncontent-length: 23\r\n\r\n{"model":"gpt-4o-mini"}`,
    );
  });

  it("keeps a signed request's own Host header and sends a GET without a body", async () => {
    const server = await scripted((socket) => socket.write(ok("[]")));
    await send(
      newPool(server.origin),
      request({ method: "GET", body: undefined, headers: ["Host", "bedrock.example"] }),
    );
    expect(server.requests[0]).toBe(
      "GET /v1/chat/completions HTTP/1.1\r\nHost: bedrock.example\r\nx-request-id: req-1\r\n\r\n",
    );
  });

  it("sends a large body (written apart from its head) and a UTF-8 one with their lengths in bytes", async () => {
    const server = await scripted((socket) => socket.write(ok("ok")));
    const pool = newPool(server.origin);
    const large = `{"text":"${"é".repeat(50_000)}"}`;
    await send(pool, request({ body: large }));
    await send(pool, request({ body: Buffer.from(large) }));
    for (const sent of server.requests) {
      const [head, body] = [
        sent.slice(0, sent.indexOf("\r\n\r\n")),
        sent.slice(sent.indexOf("\r\n\r\n") + 4),
      ];
      expect(head).toContain(`content-length: ${Buffer.byteLength(large)}`);
      expect(Buffer.from(body, "latin1").toString("utf8")).toBe(large);
    }
  });

  it("makes a body edit as it writes: shorter, longer, larger than the head, and on a large body", async () => {
    const server = await scripted((socket) => socket.write(ok("ok")));
    const pool = newPool(server.origin);
    const body = Buffer.from('{"model":"openai/gpt-4o-mini","messages":[]}');
    const long = Buffer.from(`{"model":"${"x".repeat(300)}"}`);
    const model = (of: Buffer) =>
      [of.indexOf('":"') + 2, of.indexOf('"', of.indexOf('":"') + 3) + 1] as const;
    const cases = [
      { replacement: '"gpt-4o-mini"', body, headers: request().headers },
      { replacement: '"a-much-longer-deployment-name-than-before"', body, headers: request().headers },
      // More is cut than the head is long: no provider headers, a long name replaced by a short one.
      { replacement: '"m"', body: long, headers: [] },
      {
        replacement: '"gpt-4o-mini"',
        body: Buffer.concat([body, Buffer.alloc(70_000, 0x20)]),
        headers: request().headers,
      },
    ];
    for (const edit of cases) {
      const [editStart, editEnd] = model(edit.body);
      await send(
        pool,
        request({
          body: edit.body,
          headers: edit.headers,
          bodyEdit: { start: editStart, end: editEnd, replacement: Buffer.from(edit.replacement) },
        }),
      );
      const expected = Buffer.concat([
        edit.body.subarray(0, editStart),
        Buffer.from(edit.replacement),
        edit.body.subarray(editEnd),
      ]);
      const sent = server.requests.at(-1) as string;
      const bodyAt = sent.indexOf("\r\n\r\n") + 4;
      expect(sent.slice(0, bodyAt)).toContain(`content-length: ${expected.length}\r\n`);
      expect(sent.slice(bodyAt)).toBe(expected.toString("latin1"));
    }
  });

  it("opens one connection per concurrent request and reuses them afterwards", async () => {
    const server = await scripted((socket, _request, index) =>
      setTimeout(() => socket.write(ok(`r${index}`)), 20),
    );
    const pool = newPool(server.origin);
    const first = await Promise.all(Array.from({ length: 20 }, () => send(pool)));
    expect(first.every((outcome) => outcome.status === 200)).toBe(true);
    expect(pool.connections).toBe(20);
    for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: 20 }, () => send(pool)));
    expect(server.connections).toBe(20);
    expect(server.requests).toHaveLength(80);
  });

  it("closes a connection after the reply when the provider's Keep-Alive hint leaves no time to reuse it", async () => {
    const server = await scripted((socket) => socket.write(ok("a", "keep-alive: timeout=1\r\n")));
    const pool = newPool(server.origin);
    await send(pool);
    await send(pool);
    expect(server.connections).toBe(2);
  });

  it("does not reuse a connection the provider closed while it was idle", async () => {
    const server = await scripted((socket) => socket.end(ok("bye")));
    const pool = newPool(server.origin);
    expect((await send(pool)).body).toBe("bye");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await send(pool);
    expect(again).toMatchObject({ status: 200, body: "bye", error: undefined });
    expect(server.connections).toBe(2);
  });

  it("reads a chunked event stream piece by piece and a body that ends with the connection", async () => {
    const server = await scripted((socket, _request, index) => {
      if (index === 0) {
        socket.write(
          "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        );
        socket.write("6\r\ndata: \r\n");
        setTimeout(() => socket.write("3\r\nhi\n\r\n0\r\n\r\n"), 10);
      } else socket.end("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end");
    });
    const pool = newPool(server.origin);
    expect((await send(pool)).body).toBe("data: hi\n");
    expect((await send(pool)).body).toBe("until the end");
  });

  it("fails with UPSTREAM_HEADERS_TIMEOUT when no head comes, and UPSTREAM_BODY_TIMEOUT when the body stalls", async () => {
    const server = await scripted((socket, _request, index) => {
      if (index === 1) socket.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf");
    });
    const pool = newPool(server.origin);
    const silent = await send(pool, request({ headersTimeout: 50 }));
    expect((silent.error as UpstreamError).code).toBe("UPSTREAM_HEADERS_TIMEOUT");
    const stalled = await send(pool, request({ bodyTimeout: 50 }));
    expect(stalled.body).toBe("half");
    expect((stalled.error as UpstreamError).code).toBe("UPSTREAM_BODY_TIMEOUT");
  });

  it("fails with UPSTREAM_CLOSED when the provider hangs up mid-reply, and with the socket's error when nobody listens", async () => {
    const server = await scripted((socket) => {
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf");
      setTimeout(() => socket.destroy(), 10);
    });
    const cut = await send(newPool(server.origin));
    expect((cut.error as UpstreamError).code).toBe("UPSTREAM_CLOSED");
    const closed = await scripted(() => {});
    const port = new URL(closed.origin).port;
    await new Promise((resolve) => closed.server.close(resolve));
    const refused = await send(newPool(`http://127.0.0.1:${port}`));
    expect((refused.error as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it("fails a malformed reply with UPSTREAM_BAD_REPLY and does not reuse its connection", async () => {
    const server = await scripted((socket, _request, index) =>
      socket.write(index === 0 ? "HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n" : ok("fine")),
    );
    const pool = newPool(server.origin);
    expect(((await send(pool)).error as UpstreamError).code).toBe("UPSTREAM_BAD_REPLY");
    expect((await send(pool)).body).toBe("fine");
    expect(server.connections).toBe(2);
  });

  it("refuses a header value with a line break before taking a connection: nothing is dialled", async () => {
    const server = await scripted((socket) => socket.write(ok("x")));
    const pool = newPool(server.origin);
    const outcome = await send(pool, request({ extraHeaders: ["x-request-id", "a\r\nx-injected: 1"] }));
    expect((outcome.error as UpstreamError).code).toBe("UPSTREAM_INVALID_REQUEST");
    for (const bad of [
      ["content-length", "5"],
      ["transfer-encoding", "chunked"],
      ["bad name", "x"],
    ]) {
      const refused = await send(pool, request({ extraHeaders: bad }));
      expect((refused.error as UpstreamError).code).toBe("UPSTREAM_INVALID_REQUEST");
    }
    const badPath = await send(pool, request({ path: "/v1/x HTTP/1.1\r\nx: y" }));
    expect((badPath.error as UpstreamError).code).toBe("UPSTREAM_INVALID_REQUEST");
    expect(pool.connections).toBe(0);
    expect(server.connections).toBe(0);
  });

  it("an abort before anything is written keeps the connection; an abort mid-reply drops it", async () => {
    const server = await scripted((socket, _request, index) => {
      if (index === 0) socket.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhal");
      else socket.write(ok("whole"));
    });
    const pool = newPool(server.origin);
    const reason = new Error("client gone");
    const early = await send(pool, request(), new Recorder({ start: (c) => c.abort(reason) }));
    expect(early.error).toBe(reason);
    const mid = await send(pool, request(), new Recorder({ data: (c) => c.abort(reason) }));
    expect(mid).toMatchObject({ body: "hal", error: reason });
    expect((await send(pool)).body).toBe("whole");
    expect(server.requests).toHaveLength(2);
    expect(server.connections).toBe(2);
  });

  it("a paused reply hands nothing on and does not time out until it is resumed", async () => {
    const server = await scripted((socket) => {
      socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n");
      setTimeout(() => socket.write("6\r\nsecond\r\n0\r\n\r\n"), 20);
    });
    let paused: UpstreamController | undefined;
    const recorder = new Recorder({
      data: (c) => {
        if (paused === undefined) {
          paused = c;
          c.pause();
        }
      },
    });
    const done = send(newPool(server.origin), request({ bodyTimeout: 60 }), recorder);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(recorder.outcome).toMatchObject({ body: "first", error: undefined });
    paused?.resume();
    expect(await done).toMatchObject({ body: "firstsecond", error: undefined });
  });

  it("a closed pool fails what is still open with UPSTREAM_POOL_CLOSED", async () => {
    const server = await scripted(() => {});
    const pool = newPool(server.origin);
    const pending = send(pool);
    await new Promise((resolve) => setTimeout(resolve, 20));
    pool.destroy();
    expect(((await pending).error as UpstreamError).code).toBe("UPSTREAM_POOL_CLOSED");
    expect(pool.connections).toBe(0);
  });

  it("speaks TLS, trusting a private CA only when told to", async () => {
    const key = readFileSync(new URL("../../../test/fixtures/tls/key.pem", import.meta.url));
    const cert = readFileSync(new URL("../../../test/fixtures/tls/cert.pem", import.meta.url), "utf8");
    const server = createHttpsServer({ key, cert }, (req, res) => res.end(`tls ${req.url}`));
    servers.push(server as unknown as Server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `https://localhost:${(server.address() as AddressInfo).port}`;
    const untrusted = await send(newPool(origin));
    expect((untrusted.error as NodeJS.ErrnoException).code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    const pool = newPool(origin, { caCertPem: cert });
    expect(await send(pool)).toMatchObject({
      status: 200,
      body: "tls /v1/chat/completions",
      error: undefined,
    });
    expect(await send(pool)).toMatchObject({ status: 200, error: undefined });
    expect(pool.connections).toBe(1);
  });
});
