import { badReply } from "./errors.js";
import { TOKEN_CHARS } from "./token.js";

// An incremental reader of HTTP/1.1 responses (RFC 9112) for the gateway's upstream client: status line and
// head, then a body framed by Content-Length, chunked coding or the connection's close. It hands the body
// on as views of the socket's own buffers, never copies it, and is reused for every exchange on its
// connection. Anything that breaks the framing throws an UpstreamError: the connection is then dropped.

/** Lower-case names; a repeated header's values in an array. */
export type UpstreamHeaders = Record<string, string | string[] | undefined>;

export interface ResponseSink {
  /** The final head (1xx heads are skipped). */
  onHead(status: number, headers: UpstreamHeaders): void;
  /** A piece of the body: a view of the socket's buffer, valid until the sink returns. */
  onBody(chunk: Buffer): void;
  /**
   * The reply is whole. `reusable`: the connection may carry another exchange. Nothing of the parser is
   * touched after this call, so the sink may start the next exchange from inside it.
   */
  onComplete(reusable: boolean): void;
}

/** A head's bytes, status line and trailers included, before the reply is refused. */
export const HEAD_LIMIT = 32 * 1024;
/** A chunk-size line with its extensions. */
const CHUNK_LINE_LIMIT = 4096;
/** Hex digits of a chunk size: 2^52 bytes is more than any reply. */
const CHUNK_SIZE_DIGITS = 13;

enum State {
  /** No request outstanding: any byte is one nobody asked for. */
  Idle,
  Head,
  LengthBody,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  /** The body runs until the provider closes the connection. */
  CloseBody,
}

const CR = 0x0d;
const LF = 0x0a;

export class ResponseParser {
  private state = State.Idle;
  private headOnly = false;
  /** The bytes of a head, a chunk-size line or trailers that came split across socket reads. */
  private partial: Buffer | undefined;
  private remaining = 0;
  private reusable = true;
  private halted = false;
  private heldBack: Buffer | undefined;
  /** Bumped by `reset`: a feed that sees it change stops at once (the exchange was dropped under it). */
  private generation = 0;

  constructor(private readonly sink: ResponseSink) {}

  /** A request has been written: read its response. `HEAD` replies have no body whatever they declare. */
  expect(method: string): void {
    this.state = State.Head;
    this.headOnly = method === "HEAD";
    this.partial = undefined;
    this.reusable = true;
    this.halted = false;
    this.heldBack = undefined;
  }

  /** Forgets the exchange under way (it was aborted): nothing more reaches the sink. */
  reset(): void {
    this.generation++;
    this.state = State.Idle;
    this.partial = undefined;
    this.halted = false;
    this.heldBack = undefined;
  }

  /** True while a reply is being read. */
  get busy(): boolean {
    return this.state !== State.Idle;
  }

  /** Stops handing body pieces on until `resume`; what is left of the current read is held back. */
  halt(): void {
    this.halted = true;
  }

  resume(): void {
    if (!this.halted) return;
    this.halted = false;
    const held = this.heldBack;
    this.heldBack = undefined;
    if (held !== undefined) this.feed(held);
  }

  /** The connection reached its end. A body that runs until the close is complete; anything else is cut off. */
  end(): boolean {
    if (this.state !== State.CloseBody || this.halted) return false;
    this.state = State.Idle;
    this.sink.onComplete(false);
    return true;
  }

  feed(chunk: Buffer): void {
    if (this.halted) {
      this.heldBack = this.heldBack === undefined ? chunk : Buffer.concat([this.heldBack, chunk]);
      return;
    }
    const generation = this.generation;
    let at = 0;
    while (at < chunk.length) {
      switch (this.state) {
        case State.Idle:
          throw badReply("the provider sent bytes with no request outstanding");
        case State.Head:
          at = this.readHead(chunk, at);
          break;
        case State.LengthBody: {
          const take = Math.min(this.remaining, chunk.length - at);
          const piece = take === chunk.length ? chunk : chunk.subarray(at, at + take);
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = State.Idle;
          this.sink.onBody(piece);
          break;
        }
        case State.ChunkSize:
          at = this.readChunkSize(chunk, at);
          break;
        case State.ChunkData: {
          const take = Math.min(this.remaining, chunk.length - at);
          this.remaining -= take;
          const piece = take === chunk.length ? chunk : chunk.subarray(at, at + take);
          at += take;
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          this.sink.onBody(piece);
          break;
        }
        case State.ChunkDataEnd:
          at = this.readChunkDataEnd(chunk, at);
          break;
        case State.Trailers:
          at = this.readTrailers(chunk, at);
          break;
        case State.CloseBody: {
          const piece = at === 0 ? chunk : chunk.subarray(at);
          at = chunk.length;
          this.sink.onBody(piece);
          break;
        }
      }
      if (this.generation !== generation) return;
      if (this.state === State.Idle) {
        this.complete(chunk, at);
        return;
      }
      if (this.halted && at < chunk.length) {
        this.heldBack = chunk.subarray(at);
        return;
      }
    }
  }

  private complete(chunk: Buffer, at: number): void {
    // One request at a time: bytes past the reply were not asked for, and the connection is not trusted.
    const reusable = this.reusable && at === chunk.length;
    this.state = State.Idle;
    this.sink.onComplete(reusable);
  }

  // --- Head --------------------------------------------------------------------------------------------------

  private readHead(chunk: Buffer, at: number): number {
    let bytes = chunk;
    let from = at;
    if (this.partial !== undefined) {
      bytes = Buffer.concat([this.partial, chunk.subarray(at)]);
      from = 0;
    }
    const end = bytes.indexOf("\r\n\r\n", from, "latin1");
    if (end < 0) {
      if (bytes.length - from > HEAD_LIMIT)
        throw badReply(`the reply's head is larger than ${HEAD_LIMIT} bytes`);
      this.partial = from === 0 ? bytes : bytes.subarray(from);
      return chunk.length;
    }
    if (end - from > HEAD_LIMIT) throw badReply(`the reply's head is larger than ${HEAD_LIMIT} bytes`);
    const consumed = end + 4 - from;
    const usedOfChunk = this.partial === undefined ? at + consumed : at + consumed - this.partial.length;
    this.partial = undefined;
    this.parseHead(bytes, from, end);
    return usedOfChunk;
  }

  private parseHead(bytes: Buffer, from: number, end: number): void {
    let lineEnd = bytes.indexOf(LF, from);
    const status = statusOf(bytes, from, lineEnd - 1 >= from && bytes[lineEnd - 1] === CR ? lineEnd - 1 : -1);
    const http10 = bytes[from + 7] === 0x30;
    const headers = new HeaderRecord() as UpstreamHeaders;
    let contentLength = -1;
    let chunked = false;
    let transferCoded = false;
    let closeAsked = false;
    let keepAliveAsked = false;
    let at = lineEnd + 1;
    while (at < end + 2) {
      lineEnd = bytes.indexOf(LF, at);
      if (lineEnd <= at || bytes[lineEnd - 1] !== CR)
        throw badReply("a header line of the reply does not end in CRLF");
      const colon = bytes.indexOf(0x3a, at);
      if (colon <= at || colon > lineEnd) throw badReply("a header line of the reply has no name");
      const name = headerName(bytes, at, colon);
      const value = headerValue(bytes, colon + 1, lineEnd - 1);
      at = lineEnd + 1;
      const previous = headers[name];
      if (previous === undefined) headers[name] = value;
      else if (typeof previous === "string") headers[name] = [previous, value];
      else previous.push(value);
      switch (name) {
        case "content-length": {
          const length = contentLengthOf(value);
          if (contentLength >= 0 && length !== contentLength)
            throw badReply("the reply has two different Content-Lengths");
          contentLength = length;
          break;
        }
        case "transfer-encoding":
          transferCoded = true;
          chunked = /(?:^|,)[ \t]*chunked[ \t]*$/i.test(value);
          break;
        case "connection": {
          const tokens = value.toLowerCase();
          if (tokens.includes("close")) closeAsked = true;
          if (tokens.includes("keep-alive")) keepAliveAsked = true;
          break;
        }
      }
    }
    if (status < 200) {
      // An interim reply (100 Continue, 103 Early Hints): the final one follows.
      if (status === 101) throw badReply("the provider switched protocols, which the gateway never asks for");
      this.state = State.Head;
      return;
    }
    // HTTP/1.1 keeps the connection unless told to close; 1.0 closes it unless told to keep it.
    this.reusable = !closeAsked && (!http10 || keepAliveAsked);
    if (this.headOnly || status === 204 || status === 304) {
      this.state = State.Idle;
    } else if (transferCoded) {
      // Transfer-Encoding wins over Content-Length; a message that has both is not one to keep the link for.
      if (contentLength >= 0) this.reusable = false;
      if (chunked) this.state = State.ChunkSize;
      else {
        this.state = State.CloseBody;
        this.reusable = false;
      }
    } else if (contentLength >= 0) {
      this.remaining = contentLength;
      this.state = contentLength === 0 ? State.Idle : State.LengthBody;
    } else {
      this.state = State.CloseBody;
      this.reusable = false;
    }
    this.sink.onHead(status, headers);
  }

  // --- Chunked body ------------------------------------------------------------------------------------------

  /** Reads up to a CRLF across reads; returns the line (without CRLF) and the index after it, or undefined. */
  private line(chunk: Buffer, at: number, limit: number, what: string): [Buffer, number] | undefined {
    const lf = chunk.indexOf(LF, at);
    if (lf < 0) {
      const piece = chunk.subarray(at);
      this.partial = this.partial === undefined ? piece : Buffer.concat([this.partial, piece]);
      if (this.partial.length > limit) throw badReply(`the reply's ${what} is longer than ${limit} bytes`);
      return undefined;
    }
    let whole = chunk.subarray(at, lf + 1);
    if (this.partial !== undefined) {
      whole = Buffer.concat([this.partial, whole]);
      this.partial = undefined;
    }
    if (whole.length > limit) throw badReply(`the reply's ${what} is longer than ${limit} bytes`);
    if (whole.length < 2 || whole[whole.length - 2] !== CR)
      throw badReply(`the reply's ${what} does not end in CRLF`);
    return [whole.subarray(0, whole.length - 2), lf + 1];
  }

  private readChunkSize(chunk: Buffer, at: number): number {
    const read = this.line(chunk, at, CHUNK_LINE_LIMIT, "chunk-size line");
    if (read === undefined) return chunk.length;
    const [line, next] = read;
    let size = 0;
    let digits = 0;
    for (; digits < line.length; digits++) {
      const digit = hexValue(line[digits] as number);
      if (digit < 0) break;
      if (digits === CHUNK_SIZE_DIGITS) throw badReply("a chunk of the reply is too large");
      size = size * 16 + digit;
    }
    if (digits === 0) throw badReply("a chunk-size line of the reply has no size");
    // Past the size only whitespace and extensions (";name=value") may follow; they are not read.
    let rest = digits;
    while (rest < line.length && (line[rest] === 0x20 || line[rest] === 0x09)) rest++;
    if (rest < line.length && line[rest] !== 0x3b)
      throw badReply("a chunk-size line of the reply is malformed");
    if (size === 0) this.state = State.Trailers;
    else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
    return next;
  }

  private readChunkDataEnd(chunk: Buffer, at: number): number {
    // The CRLF after a chunk's data, which may come split across reads: `remaining` counts what is left of it.
    let next = at;
    while (next < chunk.length && this.remaining < 2) {
      if (chunk[next] !== (this.remaining === 0 ? CR : LF))
        throw badReply("a chunk of the reply is longer than its size");
      this.remaining++;
      next++;
    }
    if (this.remaining === 2) this.state = State.ChunkSize;
    return next;
  }

  private readTrailers(chunk: Buffer, at: number): number {
    // Trailers are read past, not kept: nothing the gateway relays depends on them.
    let next = at;
    for (;;) {
      const read = this.line(chunk, next, HEAD_LIMIT, "trailer section");
      if (read === undefined) return chunk.length;
      next = read[1];
      if (read[0].length === 0) {
        this.state = State.Idle;
        return next;
      }
    }
  }
}

/**
 * The record a head's headers go in: an ordinary fast object, but with nothing behind it, so that no name a
 * provider sends ("constructor", "__proto__") reads as anything but its own header.
 */
class HeaderRecord {}
Object.setPrototypeOf(HeaderRecord.prototype, null);
Reflect.deleteProperty(HeaderRecord.prototype, "constructor");

function statusOf(bytes: Buffer, from: number, cr: number): number {
  // "HTTP/1.x NNN" then a space and a reason (which may be empty), or the line's end.
  if (cr < 0 || cr - from < 12) throw badReply("the reply does not start with an HTTP/1.1 status line");
  if (
    bytes.toString("latin1", from, from + 7) !== "HTTP/1." ||
    (bytes[from + 7] !== 0x31 && bytes[from + 7] !== 0x30)
  )
    throw badReply("the reply does not start with an HTTP/1.1 status line");
  if (bytes[from + 8] !== 0x20 || (cr > from + 12 && bytes[from + 12] !== 0x20))
    throw badReply("the reply's status line is malformed");
  let status = 0;
  for (let i = from + 9; i < from + 12; i++) {
    const digit = (bytes[i] as number) - 0x30;
    if (digit < 0 || digit > 9) throw badReply("the reply's status code is not three digits");
    status = status * 10 + digit;
  }
  if (status < 100) throw badReply("the reply's status code is out of range");
  return status;
}

function headerName(bytes: Buffer, from: number, to: number): string {
  let lower = true;
  let hash = 0;
  for (let i = from; i < to; i++) {
    let byte = bytes[i] as number;
    if (TOKEN_CHARS[byte] !== 1)
      throw badReply("a header name of the reply has a character HTTP does not allow");
    if (byte >= 0x41 && byte <= 0x5a) {
      lower = false;
      byte |= 0x20;
    }
    hash = (Math.imul(hash, 31) + byte) | 0;
  }
  // Providers send the same few dozen names on every reply: those are not made into new strings.
  const known = KNOWN_NAMES.get(hash);
  if (known !== undefined && sameName(bytes, from, to, known)) return known;
  const name = bytes.toString("latin1", from, to);
  return lower ? name : name.toLowerCase();
}

function sameName(bytes: Buffer, from: number, to: number, name: string): boolean {
  if (to - from !== name.length) return false;
  for (let i = 0; i < name.length; i++)
    if (((bytes[from + i] as number) | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

function nameHash(name: string): number {
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (Math.imul(hash, 31) + name.charCodeAt(i)) | 0;
  return hash;
}

/** Header names the OpenAI, Anthropic and Google APIs and common servers send on every reply. */
const KNOWN_NAMES = new Map(
  [
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "date",
    "server",
    "vary",
    "via",
    "alt-svc",
    "cache-control",
    "retry-after",
    "set-cookie",
    "request-id",
    "x-request-id",
    "strict-transport-security",
    "x-content-type-options",
    "access-control-expose-headers",
    "cf-ray",
    "cf-cache-status",
    "openai-organization",
    "openai-processing-ms",
    "openai-project",
    "openai-version",
    "x-envoy-upstream-service-time",
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
    "anthropic-organization-id",
    "anthropic-ratelimit-requests-limit",
    "anthropic-ratelimit-requests-remaining",
    "anthropic-ratelimit-requests-reset",
    "anthropic-ratelimit-tokens-limit",
    "anthropic-ratelimit-tokens-remaining",
    "anthropic-ratelimit-tokens-reset",
    "anthropic-ratelimit-input-tokens-limit",
    "anthropic-ratelimit-input-tokens-remaining",
    "anthropic-ratelimit-input-tokens-reset",
    "anthropic-ratelimit-output-tokens-limit",
    "anthropic-ratelimit-output-tokens-remaining",
    "anthropic-ratelimit-output-tokens-reset",
    "x-goog-api-client",
    "server-timing",
  ].map((name) => [nameHash(name), name] as const),
);

function headerValue(bytes: Buffer, from: number, to: number): string {
  let start = from;
  let end = to;
  while (start < end && (bytes[start] === 0x20 || bytes[start] === 0x09)) start++;
  while (end > start && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09)) end--;
  for (let i = start; i < end; i++) {
    const byte = bytes[i] as number;
    if ((byte < 0x20 && byte !== 0x09) || byte === 0x7f)
      throw badReply("a header value of the reply has a control character");
  }
  return bytes.toString("latin1", start, end);
}

function contentLengthOf(value: string): number {
  if (value.length > 0 && value.length <= 15) {
    let length = 0;
    for (let i = 0; i < value.length; i++) {
      const digit = value.charCodeAt(i) - 0x30;
      if (digit < 0 || digit > 9) return contentLengthList(value);
      length = length * 10 + digit;
    }
    return length;
  }
  return contentLengthList(value);
}

/** A list of equal values ("42, 42") is allowed and means one. */
function contentLengthList(value: string): number {
  let length = -1;
  for (const part of value.split(",")) {
    const trimmed = part.trim();
    if (!/^\d{1,15}$/.test(trimmed)) throw badReply("the reply's Content-Length is not a number");
    const n = Number(trimmed);
    if (length >= 0 && n !== length) throw badReply("the reply has two different Content-Lengths");
    length = n;
  }
  return length;
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
