import { randomUuid } from "../random-id.js";
import type { ResponseHeaders } from "./exchange.js";

// The one place where response header values are rendered and where request headers that end up in a
// response (or upstream) are vetted. A CR or LF in a value would let a client write headers, or a whole
// second response, of its own; both HTTP fronts write only what passes through here.

/** Values longer than this are cut; nothing the gateway sends legitimately comes close. */
export const MAX_HEADER_VALUE = 8192;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Anything but visible ASCII and space: control characters (CR, LF, NUL, ...), DEL and non-ASCII. */
const UNSAFE = /[^\x20-\x7e]/;
const UNSAFE_ALL = /[^\x20-\x7e]/gu;

/** A header value safe to write: unsafe characters percent-encoded (UTF-8), the length bounded. */
export function headerValue(value: string): string {
  const safe = UNSAFE.test(value)
    ? value.replace(UNSAFE_ALL, (c) => {
        let out = "";
        for (const byte of Buffer.from(c, "utf8"))
          out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
        return out;
      })
    : value;
  return safe.length > MAX_HEADER_VALUE ? safe.slice(0, MAX_HEADER_VALUE) : safe;
}

/** Names already found valid: the same few dozen come with every reply, so each is tested once. */
const validNames = new Set<string>();
const MAX_VALID_NAMES = 512;

/** Whether `name` is an HTTP token, the only form a header name may take. */
export function isHeaderToken(name: string): boolean {
  return TOKEN.test(name);
}

/** Whether `value` can go into a header as it is: visible ASCII and spaces only (no CR, LF, NUL, ...). */
export function isPlainHeaderValue(value: string): boolean {
  return !UNSAFE.test(value);
}

function validName(name: string): boolean {
  if (validNames.has(name)) return true;
  if (!TOKEN.test(name)) return false;
  if (validNames.size < MAX_VALID_NAMES && name.length <= 64) validNames.add(name);
  return true;
}

/**
 * Calls `write(target, name, value)` for each header with a valid name, with its value rendered; other
 * headers are left out. The target is passed through so that a front's writer needs no closure per reply.
 */
export function renderHeaders<T>(
  headers: ResponseHeaders,
  target: T,
  write: (target: T, name: string, value: string) => void,
): void {
  for (const [name, value] of headers) if (validName(name)) write(target, name, headerValue(value));
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's x-request-id when it is a short plain token, else a fresh id: it is echoed and sent upstream. */
export function requestId(sent: string): string {
  return REQUEST_ID.test(sent) ? sent : randomUuid();
}

const LIST_ITEM = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_LIST_ITEMS = 32;

/**
 * A comma-separated list of plain tokens (header names, `anthropic-beta` flags) with every other item
 * dropped; "" when none is left. Used for request headers the gateway echoes or passes on.
 */
export function tokenList(sent: string): string {
  if (sent === "") return "";
  const items: string[] = [];
  for (const raw of sent.split(",")) {
    const item = raw.trim();
    if (LIST_ITEM.test(item)) items.push(item);
    if (items.length === MAX_LIST_ITEMS) break;
  }
  return items.join(",");
}
