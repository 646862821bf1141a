import { UpstreamError } from "./errors.js";
import type { UpstreamRequestOptions } from "./exchange.js";
import { TOKEN_CHARS } from "./token.js";

// The head of one upstream request, written straight into the buffer that goes to the socket: no string
// is built for it. Names, values and the path are checked byte by byte first (`headLength`): a value that
// carries CR or LF would let whoever chose it write headers or a second request of their own, so such a
// request is refused before anything is sent. Every piece is latin1, so a string's length is its size.

/** Framing is the client's to write; a caller that sets these would break it. */
const FRAMING_HEADERS = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "expect",
]);

/** A header list checked and written out as `name: value\r\n` lines. */
interface HeaderBlock {
  readonly text: string;
  readonly hasHost: boolean;
}

const preparedBlocks = new WeakMap<readonly string[], HeaderBlock>();

const VERSION = " HTTP/1.1\r\n";
const CONTENT_LENGTH = "content-length: ";

/**
 * Checks the request's method, path and headers and returns its head's size in bytes. `hostLine` is the
 * pool's `host: ...\r\n`, written unless the headers carry their own (a signed request).
 */
export function headLength(request: UpstreamRequestOptions, hostLine: string, bodyLength: number): number {
  checkToken(request.method, "method");
  checkPath(request.path);
  const own = blockOf(request.headers);
  let length = request.method.length + 1 + request.path.length + VERSION.length + own.text.length + 2;
  const extra = request.extraHeaders;
  let hasHost = own.hasHost;
  for (let i = 0; i + 1 < extra.length; i += 2) {
    const name = extra[i] as string;
    const value = extra[i + 1] as string;
    if (checkHeader(name, value)) hasHost = true;
    length += name.length + value.length + 4;
  }
  if (!hasHost) length += hostLine.length;
  if (bodyLength >= 0) length += CONTENT_LENGTH.length + digits(bodyLength) + 2;
  return length;
}

/** Writes the head `headLength` measured into `out` from 0; returns where it ends. */
export function writeHead(
  request: UpstreamRequestOptions,
  hostLine: string,
  bodyLength: number,
  out: Buffer,
): number {
  let at = out.write(request.method, 0, "latin1");
  out[at++] = 0x20;
  at += out.write(request.path, at, "latin1");
  at += out.write(VERSION, at, "latin1");
  const own = blockOf(request.headers);
  at += out.write(own.text, at, "latin1");
  const extra = request.extraHeaders;
  let hasHost = own.hasHost;
  for (let i = 0; i + 1 < extra.length; i += 2) {
    const name = extra[i] as string;
    if (name.length === 4 && name.toLowerCase() === "host") hasHost = true;
    at += out.write(name, at, "latin1");
    out[at++] = 0x3a;
    out[at++] = 0x20;
    at += out.write(extra[i + 1] as string, at, "latin1");
    at = crlf(out, at);
  }
  if (!hasHost) at += out.write(hostLine, at, "latin1");
  if (bodyLength >= 0) {
    at += out.write(CONTENT_LENGTH, at, "latin1");
    at = writeDigits(out, at, bodyLength);
    at = crlf(out, at);
  }
  return crlf(out, at);
}

function crlf(out: Buffer, at: number): number {
  out[at] = 0x0d;
  out[at + 1] = 0x0a;
  return at + 2;
}

function digits(n: number): number {
  let count = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) count++;
  return count;
}

function writeDigits(out: Buffer, at: number, n: number): number {
  const end = at + digits(n);
  let rest = n;
  for (let i = end - 1; i >= at; i--) {
    out[i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  return end;
}

function blockOf(headers: readonly string[]): HeaderBlock {
  // A frozen list (a provider key's own headers, frozen when the routing table is built) is checked and
  // written out once; any other is made for this request and checked now.
  if (!Object.isFrozen(headers)) return headerBlock(headers);
  let block = preparedBlocks.get(headers);
  if (block === undefined) {
    block = headerBlock(headers);
    preparedBlocks.set(headers, block);
  }
  return block;
}

function headerBlock(headers: readonly string[]): HeaderBlock {
  let text = "";
  let hasHost = false;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    if (checkHeader(name, value)) hasHost = true;
    text += `${name}: ${value}\r\n`;
  }
  return { text, hasHost };
}

/** Throws unless the header may be written as it is; true for a Host header. */
function checkHeader(name: string, value: string): boolean {
  checkToken(name, "header name");
  const lower = name.toLowerCase();
  if (FRAMING_HEADERS.has(lower)) throw invalid(`the header ${lower} is the HTTP client's to write`);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    // Visible ASCII, space and tab, and obs-text bytes; nothing that would end the line or need encoding.
    if ((code < 0x20 && code !== 0x09) || code === 0x7f || code > 0xff)
      throw invalid(`the header ${name} has a character HTTP does not allow`);
  }
  return lower === "host";
}

function checkToken(text: string, what: string): void {
  if (text.length === 0) throw invalid(`an empty ${what}`);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff || TOKEN_CHARS[code] !== 1)
      throw invalid(`a ${what} with a character HTTP does not allow`);
  }
}

function checkPath(path: string): void {
  if (path.charCodeAt(0) !== 0x2f) throw invalid("a request path that does not start with /");
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f) throw invalid("a request path with a character a URL does not allow");
  }
}

function invalid(message: string): UpstreamError {
  return new UpstreamError("UPSTREAM_INVALID_REQUEST", message);
}
