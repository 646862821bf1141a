import { UpstreamError } from "./errors.js";
import { TOKEN_CHARS } from "./token.js";

// The head of one upstream request, as one latin1 string. Names, values and the path are checked byte by
// byte first: a value that carries CR or LF would let whoever chose it write headers or a second request
// of their own, so such a request is refused before anything is sent.

/** Framing is the client's to write; a caller that sets these would break it. */
const FRAMING_HEADERS = new Set([
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "expect",
]);

export interface RequestHeadInput {
  readonly method: string;
  readonly path: string;
  /** host[:port] as the Host header carries it, unless the headers carry their own (a signed request). */
  readonly host: string;
  /** Flat [name, value, ...]. A frozen list (a provider key's own headers) is checked and written once. */
  readonly headers: readonly string[];
  /** Flat [name, value, ...] made for this request (its id, a plugin's). */
  readonly extraHeaders: readonly string[];
  /** The body's length in bytes; -1 for a request without one. */
  readonly contentLength: number;
}

interface HeaderBlock {
  readonly text: string;
  readonly hasHost: boolean;
}

const preparedBlocks = new WeakMap<readonly string[], HeaderBlock>();

export function requestHead(input: RequestHeadInput): string {
  checkToken(input.method, "method");
  checkPath(input.path);
  const own = blockOf(input.headers);
  const extra = input.extraHeaders.length === 0 ? NO_HEADERS : headerBlock(input.extraHeaders);
  const host = own.hasHost || extra.hasHost ? "" : `host: ${input.host}\r\n`;
  const length = input.contentLength >= 0 ? `content-length: ${input.contentLength}\r\n` : "";
  return `${input.method} ${input.path} HTTP/1.1\r\n${own.text}${extra.text}${host}${length}\r\n`;
}

const NO_HEADERS: HeaderBlock = { text: "", hasHost: false };

function blockOf(headers: readonly string[]): HeaderBlock {
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
    checkToken(name, "header name");
    const lower = name.toLowerCase();
    if (FRAMING_HEADERS.has(lower)) throw invalid(`the header ${lower} is the HTTP client's to write`);
    checkValue(name, value);
    if (lower === "host") hasHost = true;
    text += `${name}: ${value}\r\n`;
  }
  return { text, hasHost };
}

function checkToken(text: string, what: string): void {
  if (text.length === 0) throw invalid(`an empty ${what}`);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff || TOKEN_CHARS[code] !== 1)
      throw invalid(`a ${what} with a character HTTP does not allow`);
  }
}

function checkValue(name: string, value: string): void {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    // Visible ASCII, space and tab, and obs-text bytes; nothing that would end the line or need encoding.
    if ((code < 0x20 && code !== 0x09) || code === 0x7f || code > 0xff)
      throw invalid(`the header ${name} has a character HTTP does not allow`);
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
