// What both data-plane prototypes share: the request they route, the route table and the upstream call.
import { Pool } from "undici";

export const CHAT_BODY = Buffer.from(
  JSON.stringify({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Say hello to the benchmark, briefly, in one line." }],
    max_tokens: 16,
  }),
);

export interface Route {
  readonly pool: Pool;
  readonly path: string;
}

const JSON_HEADERS = { "content-type": "application/json" };

/** undici settings used by every prototype: one keep-alive pool per origin, no connection cap. */
export function makePool(origin: string): Pool {
  return new Pool(origin, {
    connections: null,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
}

/** Route table: model name to upstream. One origin here; a Map lookup is what a real router does first. */
export function makeRouter(upstream: string): Map<string, Route> {
  const pool = makePool(upstream);
  const routes = new Map<string, Route>();
  for (const model of ["gpt-4o-mini", "gpt-4o", "gpt-4.1"]) {
    routes.set(model, { pool, path: "/v1/chat/completions" });
  }
  return routes;
}

export interface Reply {
  status: number;
  body: Buffer;
}

const NOT_FOUND: Reply = {
  status: 404,
  body: Buffer.from(
    '{"error":{"message":"unknown model","type":"invalid_request_error","code":"model_not_found"}}',
  ),
};
const BAD_REQUEST: Reply = {
  status: 400,
  body: Buffer.from('{"error":{"message":"invalid JSON body","type":"invalid_request_error","code":null}}'),
};
const BAD_GATEWAY: Reply = {
  status: 502,
  body: Buffer.from('{"error":{"message":"upstream failed","type":"api_error","code":"upstream_error"}}'),
};

/** Parses the body for the model, finds the route, forwards the bytes and returns status + body. */
export async function forward(routes: Map<string, Route>, body: Uint8Array): Promise<Reply> {
  let model: unknown;
  try {
    model = (
      JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString()) as { model?: unknown }
    ).model;
  } catch {
    return BAD_REQUEST;
  }
  const route = typeof model === "string" ? routes.get(model) : undefined;
  if (route === undefined) return NOT_FOUND;
  try {
    const up = await route.pool.request({ method: "POST", path: route.path, headers: JSON_HEADERS, body });
    const buf = Buffer.from(await up.body.arrayBuffer());
    return { status: up.statusCode, body: buf };
  } catch {
    return BAD_GATEWAY;
  }
}

export const STATUS_TEXT: Record<number, string> = {
  200: "200 OK",
  400: "400 Bad Request",
  404: "404 Not Found",
  429: "429 Too Many Requests",
  500: "500 Internal Server Error",
  502: "502 Bad Gateway",
  503: "503 Service Unavailable",
};

export function statusLine(status: number): string {
  return STATUS_TEXT[status] ?? `${status} Status`;
}

/** Reads `--name value` flags. */
export function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v ?? fallback;
}
