// What a request may ask of the cache: LiteLLM's `cache` body member (no-cache, no-store, ttl, s-maxage,
// namespace), Switchyard's headers and Bifrost's. Every value is checked and bounded here: a client's
// namespace or key becomes part of a cache key and a TTL a store's expiry, so nothing unchecked goes on.

/** Request headers the front captures for the cache, in this order (RequestHead.cacheHeaders). */
export const CACHE_REQUEST_HEADERS = [
  "x-switchyard-cache",
  "x-switchyard-cache-ttl",
  "x-switchyard-cache-key",
  "x-bf-cache-key",
  "x-bf-cache-ttl",
  "x-bf-cache-threshold",
  "x-bf-cache-no-store",
] as const;

export interface CacheControls {
  /** An earlier answer may be given (false: LiteLLM's no-cache, `x-switchyard-cache: no-cache`). */
  readonly read: boolean;
  /** This answer may be stored (false: no-store). */
  readonly write: boolean;
  /** The request asked to be cached (`x-switchyard-cache: on`, or any `cache` member): opts in under default_off. */
  readonly optIn: boolean;
  /** How long to keep this answer. */
  readonly ttlMs?: number;
  /** Only an answer stored at most this long ago may be given (LiteLLM's s-maxage). */
  readonly maxAgeMs?: number;
  /** A subdivision of the request's own namespace (a `cache.namespace`, or a cache-key header). */
  readonly namespace?: string;
  /** The semantic threshold for this request (Bifrost's x-bf-cache-threshold). */
  readonly threshold?: number;
}

export const NO_CONTROLS: CacheControls = { read: true, write: true, optIn: false };

/** A control the gateway cannot follow: answered 400 in the client's format, not ignored. */
export class CacheControlError extends Error {}

const MAX_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const NAME = /^[A-Za-z0-9_.:/=+-]{1,128}$/;
/** 30, 30s, 5m, 2h, 1d: Bifrost's TTL header takes a Go duration or seconds. */
const DURATION = /^(\d{1,9})(ms|s|m|h|d)?$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The request's controls from its captured headers (CACHE_REQUEST_HEADERS' values) and its body's `cache`
 * member as parsed (undefined when absent). Throws CacheControlError for a malformed one.
 */
export function cacheControls(headers: readonly string[], bodyMember: unknown): CacheControls {
  if (bodyMember === undefined && headers.every((value) => value === "")) return NO_CONTROLS;
  let read = true;
  let write = true;
  let optIn = bodyMember !== undefined;
  let ttlMs: number | undefined;
  let maxAgeMs: number | undefined;
  let namespace: string | undefined;
  let threshold: number | undefined;

  if (bodyMember !== undefined) {
    const member = bodyMember;
    if (typeof member !== "object" || member === null || Array.isArray(member))
      throw new CacheControlError("'cache' must be an object, e.g. {\"no-cache\": true}.");
    for (const [name, value] of Object.entries(member)) {
      if (name === "no-cache") read = !flag(value, "cache.no-cache");
      else if (name === "no-store") write = !flag(value, "cache.no-store");
      else if (name === "ttl") ttlMs = secondsMs(value, "cache.ttl");
      else if (name === "s-maxage") maxAgeMs = secondsMs(value, "cache.s-maxage");
      else if (name === "namespace") namespace = label(value, "cache.namespace");
      else if (name === "use-cache") optIn = flag(value, "cache.use-cache");
      else throw new CacheControlError(`'cache.${name.slice(0, 64)}' is not a cache control.`);
    }
  }
  const [mode, ttl, key, bfKey, bfTtl, bfThreshold, bfNoStore] = headers;
  if (mode !== undefined && mode !== "") {
    const value = mode.trim().toLowerCase();
    if (value === "on") optIn = true;
    else if (value === "no-cache") read = false;
    else if (value === "no-store") write = false;
    else if (value === "off") {
      read = false;
      write = false;
    } else throw new CacheControlError("x-switchyard-cache must be on, off, no-cache or no-store.");
  }
  const ttlHeader = ttl || bfTtl;
  if (ttlHeader) ttlMs = durationMs(ttlHeader, ttl ? "x-switchyard-cache-ttl" : "x-bf-cache-ttl");
  const keyHeader = key || bfKey;
  if (keyHeader) {
    namespace = label(keyHeader, key ? "x-switchyard-cache-key" : "x-bf-cache-key");
    optIn = true;
  }
  if (bfThreshold) {
    const value = Number(bfThreshold);
    if (!/^\s*[0-9.]+\s*$/.test(bfThreshold) || !(value >= 0 && value <= 1))
      throw new CacheControlError("x-bf-cache-threshold must be a number from 0 to 1.");
    threshold = value;
  }
  if (bfNoStore) write = !headerFlag(bfNoStore, "x-bf-cache-no-store");
  return {
    read,
    write,
    optIn,
    ...(ttlMs === undefined ? {} : { ttlMs }),
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
    ...(namespace === undefined ? {} : { namespace }),
    ...(threshold === undefined ? {} : { threshold }),
  };
}

function flag(value: unknown, name: string): boolean {
  if (typeof value !== "boolean") throw new CacheControlError(`'${name}' must be true or false.`);
  return value;
}

function headerFlag(value: string, name: string): boolean {
  const lower = value.trim().toLowerCase();
  if (lower === "true" || lower === "1") return true;
  if (lower === "false" || lower === "0") return false;
  throw new CacheControlError(`${name} must be true or false.`);
}

function secondsMs(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value * 1000 > MAX_TTL_MS)
    throw new CacheControlError(`'${name}' must be seconds from 0 to ${MAX_TTL_MS / 1000}.`);
  return Math.round(value * 1000);
}

function durationMs(value: string, name: string): number {
  const match = DURATION.exec(value.trim());
  const ms = match === null ? Number.NaN : Number(match[1]) * (UNIT_MS[match[2] ?? "s"] as number);
  if (!(ms >= 0 && ms <= MAX_TTL_MS))
    throw new CacheControlError(`${name} must be seconds (or 30s, 5m, 2h, 1d) up to ${MAX_TTL_MS / 1000} s.`);
  return ms;
}

function label(value: unknown, name: string): string {
  if (typeof value !== "string" || !NAME.test(value))
    throw new CacheControlError(`'${name}' must be 1 to 128 letters, digits and _ . : / = + -.`);
  return value;
}
