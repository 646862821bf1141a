import { request } from "node:http";
import { type ClientOptions, WebSocket } from "ws";
import type { ExchangeHandler, HeadNeeds, HttpFront } from "../../src/http/exchange.js";
import { startNodeFront } from "../../src/http/node.js";
import { loadUws, startUwsFront } from "../../src/http/uws.js";
import { WEBSOCKET_LIMITS, type WebSocketEndpoint, type WebSocketLimits } from "../../src/http/websocket.js";

// Both HTTP fronts on a port of their own with a WebSocket endpoint, and a `ws` client to talk to them.

export const FRONTS = ["uws", "node"] as const;
export type FrontKind = (typeof FRONTS)[number];

const NEEDS: HeadNeeds = {
  apiKey: false,
  pluginHeaders: [],
  traceparent: false,
  metadata: false,
  cache: false,
};

/** Answers every plain request with 200 and "http <method> <path>", so a test sees HTTP served it. */
const echoPath: ExchangeHandler = (head, reply) => {
  reply.start(200, [["content-type", "text/plain"]]);
  reply.end(`http ${head.method} ${head.path}`);
};

export function startFront(
  kind: FrontKind,
  endpoint: WebSocketEndpoint,
  limits: Partial<WebSocketLimits> = {},
): Promise<HttpFront> {
  const bounds = { ...WEBSOCKET_LIMITS, ...limits };
  if (kind === "node") return startNodeFront("127.0.0.1", 0, echoPath, NEEDS, endpoint, bounds);
  const uws = loadUws({});
  if (!uws.ok) throw new Error(`uWS did not load: ${uws.reason}`);
  return startUwsFront(uws.uws, "127.0.0.1", 0, echoPath, NEEDS, endpoint, bounds);
}

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** A connected client that keeps every text message it receives, parsed as JSON when it is JSON. */
export class Client {
  readonly received: unknown[] = [];
  readonly closed: Promise<Closed>;
  private waiters: Array<() => void> = [];

  constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const text = (data as Buffer).toString("utf8");
      try {
        this.received.push(JSON.parse(text));
      } catch {
        this.received.push(text);
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  /** Resolves once `count` messages have arrived. */
  async receive(count: number): Promise<unknown[]> {
    while (this.received.length < count) {
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
    return this.received.slice(0, count);
  }

  send(text: string | Buffer): void {
    this.socket.send(text);
  }
}

/** Opens a WebSocket to `path`; rejects with the status when the server answers the upgrade with HTTP. */
export function connect(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  options: ClientOptions = {},
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { ...options, headers });
    const client = new Client(socket);
    socket.once("open", () => resolve(client));
    socket.once("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => reject(new UpgradeRefused(res.statusCode ?? 0, body)));
    });
    socket.once("error", reject);
  });
}

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade answered with ${status}`);
  }
}

/** A request (GET unless `body` is given) on a connection of its own; the status and body that came back. */
export function get(
  port: number,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const method = body === undefined ? "GET" : "POST";
    const req = request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Polls `value` once per turn of the event loop until it gives something (the test's timeout bounds it). */
export async function waitFor<T>(value: () => T | undefined): Promise<T> {
  for (;;) {
    const found = value();
    if (found !== undefined) return found;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
