import { crc32 } from "node:zlib";

// AWS event stream framing (application/vnd.amazon.eventstream), as ConverseStream answers:
//   total length u32 BE | headers length u32 BE | prelude CRC32 | headers | payload | message CRC32
// The prelude CRC covers the first 8 bytes, the message CRC everything before it. A header is
// name length u8 | name | value type u8 | value. Decoding is incremental: bytes are kept only until the
// message they belong to is complete.

const PRELUDE = 12;
const MIN_MESSAGE = 16;
/** The format's own ceiling (16 MiB); a larger length means the stream is corrupt. */
const MAX_MESSAGE = 16 * 1024 * 1024;

export type HeaderValue = string | number | bigint | boolean | Buffer | Date;

export interface EventMessage {
  readonly headers: Record<string, HeaderValue>;
  readonly payload: Buffer;
}

export class EventStreamError extends Error {}

enum Type {
  True = 0,
  False = 1,
  Byte = 2,
  Short = 3,
  Integer = 4,
  Long = 5,
  Bytes = 6,
  String = 7,
  Timestamp = 8,
  Uuid = 9,
}

function uuidText(bytes: Buffer): string {
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function decodeHeaders(buffer: Buffer, start: number, end: number): Record<string, HeaderValue> {
  const headers: Record<string, HeaderValue> = {};
  let at = start;
  const need = (n: number) => {
    if (at + n > end) throw new EventStreamError("event stream header runs past its section");
  };
  while (at < end) {
    need(1);
    const nameLength = buffer[at] as number;
    at += 1;
    need(nameLength + 1);
    const name = buffer.toString("utf8", at, at + nameLength);
    at += nameLength;
    const type = buffer[at] as number;
    at += 1;
    let value: HeaderValue;
    switch (type) {
      case Type.True:
        value = true;
        break;
      case Type.False:
        value = false;
        break;
      case Type.Byte:
        need(1);
        value = buffer.readInt8(at);
        at += 1;
        break;
      case Type.Short:
        need(2);
        value = buffer.readInt16BE(at);
        at += 2;
        break;
      case Type.Integer:
        need(4);
        value = buffer.readInt32BE(at);
        at += 4;
        break;
      case Type.Long:
        need(8);
        value = buffer.readBigInt64BE(at);
        at += 8;
        break;
      case Type.Bytes:
      case Type.String: {
        need(2);
        const length = buffer.readUInt16BE(at);
        at += 2;
        need(length);
        value =
          type === Type.String
            ? buffer.toString("utf8", at, at + length)
            : Buffer.from(buffer.subarray(at, at + length));
        at += length;
        break;
      }
      case Type.Timestamp:
        need(8);
        value = new Date(Number(buffer.readBigInt64BE(at)));
        at += 8;
        break;
      case Type.Uuid:
        need(16);
        value = uuidText(buffer.subarray(at, at + 16));
        at += 16;
        break;
      default:
        throw new EventStreamError(`unknown event stream header type ${type}`);
    }
    headers[name] = value;
  }
  return headers;
}

/** Splits a byte stream into event messages, checking both CRCs of each. */
export class EventStreamDecoder {
  /** Bytes of an unfinished message, joined only once the message is complete: a long message costs linear time. */
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Bytes needed before decoding can go on: a prelude, or the whole message once its prelude is read. */
  private needed = PRELUDE;

  push(bytes: Buffer): EventMessage[] {
    const messages: EventMessage[] = [];
    this.pendingLength += bytes.length;
    if (this.pendingLength < this.needed) {
      // Copied: the caller's chunk may be reused once this returns.
      this.pending.push(Buffer.from(bytes));
      return messages;
    }
    this.pending.push(bytes);
    const buffer = this.pending.length === 1 ? bytes : Buffer.concat(this.pending, this.pendingLength);
    let at = 0;
    this.needed = PRELUDE;
    while (buffer.length - at >= PRELUDE) {
      const total = buffer.readUInt32BE(at);
      const headersLength = buffer.readUInt32BE(at + 4);
      if (crc32(buffer.subarray(at, at + 8)) !== buffer.readUInt32BE(at + 8)) {
        throw new EventStreamError("event stream prelude CRC mismatch");
      }
      if (total < MIN_MESSAGE || total > MAX_MESSAGE || headersLength > total - MIN_MESSAGE) {
        throw new EventStreamError(`event stream message length ${total} is out of range`);
      }
      if (buffer.length - at < total) {
        this.needed = total;
        break;
      }
      const end = at + total;
      if (crc32(buffer.subarray(at, end - 4)) !== buffer.readUInt32BE(end - 4)) {
        throw new EventStreamError("event stream message CRC mismatch");
      }
      const headersEnd = at + PRELUDE + headersLength;
      messages.push({
        headers: decodeHeaders(buffer, at + PRELUDE, headersEnd),
        // Copied so the read buffer is not held alive by a payload.
        payload: Buffer.from(buffer.subarray(headersEnd, end - 4)),
      });
      at = end;
    }
    const rest = buffer.length - at;
    this.pending = rest === 0 ? [] : [Buffer.from(buffer.subarray(at))];
    this.pendingLength = rest;
    return messages;
  }

  /** Bytes of an unfinished message at the end of the stream. */
  get buffered(): number {
    return this.pendingLength;
  }
}

function encodeHeader(name: string, value: HeaderValue): Buffer {
  const nameBytes = Buffer.from(name, "utf8");
  const head = Buffer.alloc(1 + nameBytes.length + 1);
  head[0] = nameBytes.length;
  nameBytes.copy(head, 1);
  const typeAt = 1 + nameBytes.length;
  let body: Buffer;
  if (typeof value === "string") {
    head[typeAt] = Type.String;
    const text = Buffer.from(value, "utf8");
    body = Buffer.alloc(2 + text.length);
    body.writeUInt16BE(text.length, 0);
    text.copy(body, 2);
  } else if (typeof value === "boolean") {
    head[typeAt] = value ? Type.True : Type.False;
    body = Buffer.alloc(0);
  } else if (typeof value === "number") {
    head[typeAt] = Type.Integer;
    body = Buffer.alloc(4);
    body.writeInt32BE(value, 0);
  } else if (typeof value === "bigint") {
    head[typeAt] = Type.Long;
    body = Buffer.alloc(8);
    body.writeBigInt64BE(value, 0);
  } else if (value instanceof Date) {
    head[typeAt] = Type.Timestamp;
    body = Buffer.alloc(8);
    body.writeBigInt64BE(BigInt(value.getTime()), 0);
  } else {
    head[typeAt] = Type.Bytes;
    body = Buffer.alloc(2 + value.length);
    body.writeUInt16BE(value.length, 0);
    value.copy(body, 2);
  }
  return Buffer.concat([head, body]);
}

/** One framed message; used by the mock provider and by tests. */
export function encodeMessage(headers: Record<string, HeaderValue>, payload: Buffer | string): Buffer {
  const headerBytes = Buffer.concat(
    Object.entries(headers).map(([name, value]) => encodeHeader(name, value)),
  );
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const total = PRELUDE + headerBytes.length + body.length + 4;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  headerBytes.copy(message, PRELUDE);
  body.copy(message, PRELUDE + headerBytes.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  return message;
}
