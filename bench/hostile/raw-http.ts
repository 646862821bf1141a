/**
 * A raw HTTP/1.x client over one TCP connection: it sends exactly the bytes it is given (malformed,
 * pipelined, HTTP/1.0, control bytes in headers), which undici and fetch refuse to, and parses whatever
 * answers come back. Silence is an outcome too: `timedOut` says the server neither answered nor closed.
 */
import { connect } from "node:net";

export interface RawResponse {
  readonly status: number;
  readonly version: string;
  /** Names lowercased, in the order received. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

export interface RawExchange {
  readonly responses: RawResponse[];
  /** The server closed the connection (after or instead of answering). */
  readonly closed: boolean;
  /** Neither every expected answer nor a close came within the time given. */
  readonly timedOut: boolean;
  /** Bytes received that did not parse as a response. */
  readonly leftover: Buffer;
}

export interface RawOptions {
  /** Stop once this many responses are parsed (the connection is then closed by the client). */
  readonly expect?: number;
  readonly timeoutMs?: number;
  /** Sent one after another with this pause between them; a single buffer is one write. */
  readonly pauseMs?: number;
  /** Close the client side after this many milliseconds, as a client that gives up would. */
  readonly abortAfterMs?: number;
}

export function header(response: RawResponse, name: string): string | undefined {
  return response.headers.find(([n]) => n === name)?.[1];
}

export function rawExchange(
  origin: string,
  request: Buffer | string | ReadonlyArray<Buffer | string>,
  options: RawOptions = {},
): Promise<RawExchange> {
  const { hostname, port } = new URL(origin);
  const pieces = Array.isArray(request) ? request : [request as Buffer | string];
  const expect = options.expect ?? 1;
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean, timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const { responses, rest } = parseResponses(received, closed);
      resolve({ responses, closed, timedOut, leftover: rest });
    };
    const timer = setTimeout(() => finish(false, true), options.timeoutMs ?? 5_000);
    if (options.abortAfterMs !== undefined) setTimeout(() => finish(false, false), options.abortAfterMs);
    socket.on("connect", async () => {
      for (const [i, piece] of pieces.entries()) {
        if (done) return;
        socket.write(piece);
        if (i < pieces.length - 1 && options.pauseMs !== undefined)
          await new Promise((r) => setTimeout(r, options.pauseMs));
      }
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (parseResponses(received, false).responses.length >= expect) finish(false, false);
    });
    socket.on("error", () => finish(true, false));
    socket.on("close", () => finish(true, false));
  });
}

/** Parses as many whole responses as `data` holds; a body without a length runs to the close. */
export function parseResponses(data: Buffer, closed: boolean): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < data.length) {
    const headEnd = data.indexOf("\r\n\r\n", offset);
    if (headEnd < 0) break;
    const lines = data.subarray(offset, headEnd).toString("latin1").split("\r\n");
    const statusLine = /^(HTTP\/\d\.\d) (\d{3})/.exec(lines[0] ?? "");
    if (statusLine === null) break;
    const headers = lines.slice(1).map((line): [string, string] => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    });
    const length = headers.find(([n]) => n === "content-length")?.[1];
    const chunked = headers.some(([n, v]) => n === "transfer-encoding" && /chunked/i.test(v));
    let bodyEnd: number;
    let body: Buffer;
    if (length !== undefined) {
      bodyEnd = headEnd + 4 + Number(length);
      if (bodyEnd > data.length) break;
      body = data.subarray(headEnd + 4, bodyEnd);
    } else if (chunked) {
      const parsed = parseChunked(data, headEnd + 4);
      if (parsed === undefined) break;
      ({ end: bodyEnd, body } = parsed);
    } else {
      const status = Number(statusLine[2]);
      if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
        bodyEnd = headEnd + 4;
        body = Buffer.alloc(0);
      } else {
        if (!closed) break;
        bodyEnd = data.length;
        body = data.subarray(headEnd + 4);
      }
    }
    responses.push({ version: statusLine[1] as string, status: Number(statusLine[2]), headers, body });
    offset = bodyEnd;
  }
  return { responses, rest: data.subarray(offset) };
}

function parseChunked(data: Buffer, start: number): { end: number; body: Buffer } | undefined {
  const parts: Buffer[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", offset);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString("latin1"), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) {
      const end = data.indexOf("\r\n", lineEnd + 2);
      return end < 0 ? undefined : { end: end + 2, body: Buffer.concat(parts) };
    }
    if (lineEnd + 2 + size + 2 > data.length) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

/** One request's bytes; a string body is sent as UTF-8 with its Content-Length unless headers say otherwise. */
export function requestBytes(
  method: string,
  path: string,
  headers: ReadonlyArray<readonly [string, string]>,
  body?: Buffer | string,
  version = "HTTP/1.1",
): Buffer {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const lines = [`${method} ${path} ${version}`, "host: 127.0.0.1"];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (payload !== undefined && !headers.some(([n]) => n.toLowerCase() === "content-length"))
    lines.push(`content-length: ${payload.length}`);
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
  return payload === undefined ? head : Buffer.concat([head, payload]);
}
