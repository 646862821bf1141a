// Byte-level twin of native/src/scan.rs: same grammar, same error messages and offsets.
import { MAX_BODY, MAX_DEPTH, type ScanResult } from "./types.js";

const KEY_OTHER = 0;
const KEY_MODEL = 1;
const KEY_STREAM = 2;
/** `fallbacks`, `timeout` or `cache`: members the gateway consumes itself. */
const KEY_GATEWAY = 3;
const KEY_METADATA = 4;
const TIMEOUT = Buffer.from("timeout");
const METADATA = Buffer.from("metadata");
const FALLBACKS = Buffer.from("fallbacks");
const CACHE = Buffer.from("cache");

function sameBytes(b: Uint8Array, at: number, word: Uint8Array): boolean {
  for (let i = 0; i < word.length; i++) if (b[at + i] !== word[i]) return false;
  return true;
}

class ScanError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
  }
}

function eof(len: number): ScanError {
  return new ScanError("Unexpected end of input", len);
}

function unexpected(b: Uint8Array, pos: number): ScanError {
  if (pos >= b.length) return eof(b.length);
  const c = b[pos] as number;
  if (c >= 0x20 && c < 0x7f) return new ScanError(`Unexpected token '${String.fromCharCode(c)}'`, pos);
  return new ScanError(`Unexpected byte 0x${c.toString(16).padStart(2, "0")}`, pos);
}

function skipWs(b: Uint8Array, pos: number): number {
  const len = b.length;
  while (pos < len) {
    const c = b[pos];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    pos++;
  }
  return pos;
}

function cont(b: Uint8Array, pos: number, lo: number, hi: number): boolean {
  const c = b[pos];
  return c !== undefined && c >= lo && c <= hi;
}

/** Length of the well-formed UTF-8 sequence at `pos` (lead byte >= 0x80), or 0 when malformed. */
function utf8Len(b: Uint8Array, pos: number): number {
  const c = b[pos] as number;
  if (c >= 0xc2 && c <= 0xdf) return cont(b, pos + 1, 0x80, 0xbf) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(b, pos + 1, lo, hi) && cont(b, pos + 2, 0x80, 0xbf) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(b, pos + 1, lo, hi) && cont(b, pos + 2, 0x80, 0xbf) && cont(b, pos + 3, 0x80, 0xbf) ? 4 : 0;
  }
  return 0;
}

function hexVal(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

// Results of the last scanString call; module state avoids allocating a result per string.
let strEnd = 0;
let strEscaped = false;

/** `pos` is at the opening quote; sets strEnd (after the closing quote) and strEscaped. */
function scanString(b: Uint8Array, pos: number): void {
  const len = b.length;
  let i = pos + 1;
  let escaped = false;
  for (;;) {
    let c = 0;
    while (i < len) {
      c = b[i] as number;
      if (c === 0x22 || c === 0x5c || c < 0x20 || c >= 0x80) break;
      i++;
    }
    if (i >= len) throw eof(len);
    if (c === 0x22) {
      strEnd = i + 1;
      strEscaped = escaped;
      return;
    }
    if (c === 0x5c) {
      escaped = true;
      const e = b[i + 1];
      if (e === undefined) throw eof(len);
      if (e === 0x75) {
        for (let k = 2; k < 6; k++) {
          if (i + k >= len) throw eof(len);
          if (hexVal(b[i + k]) < 0) throw new ScanError("Invalid unicode escape", i + k);
        }
        i += 6;
      } else if (
        e === 0x22 ||
        e === 0x5c ||
        e === 0x2f ||
        e === 0x62 ||
        e === 0x66 ||
        e === 0x6e ||
        e === 0x72 ||
        e === 0x74
      ) {
        i += 2;
      } else {
        throw new ScanError("Invalid escape", i + 1);
      }
    } else if (c < 0x20) {
      throw new ScanError("Unescaped control character in string", i);
    } else {
      const n = utf8Len(b, i);
      if (n === 0) throw new ScanError("Invalid UTF-8", i);
      i += n;
    }
  }
}

const SIMPLE_ESCAPES: Record<number, string> = {
  34: '"',
  92: "\\",
  47: "/",
  98: "\b",
  102: "\f",
  110: "\n",
  114: "\r",
  116: "\t",
};

/** Decodes a validated string token [start, end) including its quotes. */
export function decodeString(b: Buffer, start: number, end: number, escaped: boolean): string {
  if (!escaped) return b.toString("utf8", start + 1, end - 1);
  let out = "";
  let i = start + 1;
  const stop = end - 1;
  while (i < stop) {
    const run = i;
    while (i < stop && b[i] !== 0x5c) i++;
    if (i > run) out += b.toString("utf8", run, i);
    if (i >= stop) break;
    const e = b[i + 1] as number;
    if (e === 0x75) {
      let v = 0;
      for (let k = 2; k < 6; k++) v = (v << 4) | hexVal(b[i + k]);
      // Unit by unit, so a surrogate pair recombines and a lone surrogate stays as JSON.parse keeps it.
      out += String.fromCharCode(v);
      i += 6;
    } else {
      out += SIMPLE_ESCAPES[e];
      i += 2;
    }
  }
  return out;
}

function keyKind(b: Buffer, start: number, end: number, escaped: boolean): number {
  if (!escaped) {
    const n = end - start - 2;
    if (n === 5) {
      return b[start + 1] === 0x6d &&
        b[start + 2] === 0x6f &&
        b[start + 3] === 0x64 &&
        b[start + 4] === 0x65 &&
        b[start + 5] === 0x6c
        ? KEY_MODEL
        : sameBytes(b, start + 1, CACHE)
          ? KEY_GATEWAY
          : KEY_OTHER;
    }
    if (n === 6) {
      return b[start + 1] === 0x73 &&
        b[start + 2] === 0x74 &&
        b[start + 3] === 0x72 &&
        b[start + 4] === 0x65 &&
        b[start + 5] === 0x61 &&
        b[start + 6] === 0x6d
        ? KEY_STREAM
        : KEY_OTHER;
    }
    if (n === 7) return sameBytes(b, start + 1, TIMEOUT) ? KEY_GATEWAY : KEY_OTHER;
    if (n === 8) return sameBytes(b, start + 1, METADATA) ? KEY_METADATA : KEY_OTHER;
    if (n === 9) return sameBytes(b, start + 1, FALLBACKS) ? KEY_GATEWAY : KEY_OTHER;
    return KEY_OTHER;
  }
  const s = decodeString(b, start, end, true);
  if (s === "timeout" || s === "fallbacks" || s === "cache") return KEY_GATEWAY;
  if (s === "metadata") return KEY_METADATA;
  return s === "model" ? KEY_MODEL : s === "stream" ? KEY_STREAM : KEY_OTHER;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function scanNumber(b: Uint8Array, pos: number): number {
  const len = b.length;
  if (b[pos] === 0x2d) pos++;
  if (pos >= len) throw eof(len);
  const c = b[pos] as number;
  if (c === 0x30) pos++;
  else if (c >= 0x31 && c <= 0x39) {
    pos++;
    while (isDigit(b[pos])) pos++;
  } else throw unexpected(b, pos);
  if (b[pos] === 0x2e) {
    pos++;
    if (!isDigit(b[pos])) throw unexpected(b, pos);
    while (isDigit(b[pos])) pos++;
  }
  if (b[pos] === 0x65 || b[pos] === 0x45) {
    pos++;
    if (b[pos] === 0x2b || b[pos] === 0x2d) pos++;
    if (!isDigit(b[pos])) throw unexpected(b, pos);
    while (isDigit(b[pos])) pos++;
  }
  return pos;
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function scanLiteral(b: Uint8Array, pos: number, word: number[]): number {
  for (let k = 1; k < word.length; k++) {
    if (b[pos + k] !== word[k]) throw unexpected(b, pos + k);
  }
  return pos + word.length;
}

// Reused between calls: scanning is synchronous, and depth never exceeds MAX_DEPTH.
const stack = new Uint8Array(MAX_DEPTH);

/** Validates the whole body as JSON with an object at the top and locates top-level model, stream and metadata. */
export function scanRequest(b: Buffer): ScanResult {
  try {
    return scanOrThrow(b);
  } catch (e) {
    if (e instanceof ScanError) return { ok: false, error: e.message, offset: e.offset };
    throw e;
  }
}

function scanOrThrow(b: Buffer): ScanResult {
  const len = b.length;
  if (len > MAX_BODY) throw new ScanError("Body too large", 0);
  let modelType: "string" | "missing" | "other" = "missing";
  let modelStart = -1;
  let modelEnd = -1;
  let modelEscaped = false;
  let stream: boolean | undefined;
  let gatewayFields = false;
  let modelRepeated = false;
  let metadataStart = -1;
  let metadataEnd = -1;
  // The top-level `metadata` object being scanned: its end is where the depth comes back to 1.
  let metadataOpen = false;
  let pos = skipWs(b, 0);
  if (pos >= len) throw eof(len);
  const first = b[pos] as number;
  if (first !== 0x7b) {
    if (
      first === 0x5b ||
      first === 0x22 ||
      first === 0x2d ||
      isDigit(first) ||
      first === 0x74 ||
      first === 0x66 ||
      first === 0x6e
    ) {
      throw new ScanError("Top-level value must be an object", pos);
    }
    throw unexpected(b, pos);
  }
  let depth = 0;
  let key = KEY_OTHER;

  // Reads a key at `p` (expected opening quote); returns the position of its value.
  const readKey = (p: number, top: boolean): number => {
    if (b[p] !== 0x22) throw unexpected(b, p);
    scanString(b, p);
    if (top) key = keyKind(b, p, strEnd, strEscaped);
    const q = skipWs(b, strEnd);
    if (b[q] !== 0x3a) throw unexpected(b, q);
    return skipWs(b, q + 1);
  };

  for (;;) {
    // Expecting a value at `pos`.
    const atTop = depth === 1;
    if (pos >= len) throw eof(len);
    const c = b[pos] as number;
    if (atTop) {
      if (key === KEY_MODEL && modelType !== "missing") modelRepeated = true;
      if (key === KEY_STREAM) stream = c === 0x74 ? true : c === 0x66 ? false : undefined;
      else if (key === KEY_GATEWAY) gatewayFields = true;
      else if (key === KEY_MODEL && c !== 0x22) {
        modelType = "other";
        modelStart = -1;
        modelEnd = -1;
      } else if (key === KEY_METADATA) {
        // JSON.parse keeps the last member of a name: so does this.
        metadataOpen = c === 0x7b;
        metadataStart = metadataOpen ? pos : -1;
        metadataEnd = -1;
      }
    }
    let next = true;
    if (c === 0x7b || c === 0x5b) {
      if (depth >= MAX_DEPTH) throw new ScanError(`Nesting deeper than ${MAX_DEPTH}`, pos);
      const isObj = c === 0x7b;
      stack[depth++] = isObj ? 1 : 0;
      pos = skipWs(b, pos + 1);
      if (b[pos] === (isObj ? 0x7d : 0x5d)) {
        depth--;
        pos++;
        if (metadataOpen && depth === 1) {
          metadataOpen = false;
          metadataEnd = pos;
        }
      } else {
        if (isObj) pos = readKey(pos, depth === 1);
        next = false;
      }
    } else if (c === 0x22) {
      scanString(b, pos);
      if (atTop && key === KEY_MODEL) {
        modelType = "string";
        modelStart = pos;
        modelEnd = strEnd;
        modelEscaped = strEscaped;
      }
      pos = strEnd;
    } else if (c === 0x2d || isDigit(c)) pos = scanNumber(b, pos);
    else if (c === 0x74) pos = scanLiteral(b, pos, TRUE);
    else if (c === 0x66) pos = scanLiteral(b, pos, FALSE);
    else if (c === 0x6e) pos = scanLiteral(b, pos, NULL);
    else throw unexpected(b, pos);

    // After a value: close containers or move on to the next member or element.
    while (next) {
      pos = skipWs(b, pos);
      if (depth === 0) {
        if (pos !== len) throw new ScanError("Unexpected data after JSON", pos);
        return {
          ok: true,
          modelType,
          model: modelType === "string" ? decodeString(b, modelStart, modelEnd, modelEscaped) : undefined,
          modelStart,
          modelEnd,
          stream,
          gatewayFields,
          modelRepeated,
          metadataStart,
          metadataEnd,
        };
      }
      if (pos >= len) throw eof(len);
      const isObj = stack[depth - 1] === 1;
      const d = b[pos];
      if (d === 0x2c) {
        pos = skipWs(b, pos + 1);
        if (isObj) pos = readKey(pos, depth === 1);
        next = false;
      } else if ((isObj && d === 0x7d) || (!isObj && d === 0x5d)) {
        depth--;
        pos++;
        if (metadataOpen && depth === 1) {
          metadataOpen = false;
          metadataEnd = pos;
        }
      } else throw unexpected(b, pos);
    }
  }
}
