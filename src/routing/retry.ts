import type { RetryClass } from "../config/types.js";

// The arithmetic and classification behind retries: which failures are worth another attempt, how long
// to wait before it, and which fallback chain an error calls for. Pure functions, so they are tested alone.

/** What went wrong with one attempt, as far as routing cares. */
export type FailureKind =
  | "rate-limit"
  | "server"
  | "timeout"
  | "connection"
  | "auth"
  | "context-window"
  | "content-policy"
  | "client";

/**
 * The error class LiteLLM's retry_policy names for a failure; undefined for those it has no class for
 * (503 and other 5xx but 500, connection failures), which num_retries governs.
 */
export function retryClassOf(kind: FailureKind, status: number): RetryClass | undefined {
  switch (kind) {
    case "rate-limit":
      return "RateLimitError";
    case "server":
      return status === 500 ? "InternalServerError" : undefined;
    case "timeout":
      return "TimeoutError";
    case "auth":
      return "AuthenticationError";
    case "content-policy":
      return "ContentPolicyViolationError";
    case "connection":
      return undefined;
    default:
      return "BadRequestError";
  }
}

/**
 * True for upstream replies worth trying again: 429, and 5xx except 501 (Not Implemented) and 505, which
 * say the request itself can never succeed there.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** Retries a failure kind gets unless retry_policy says otherwise: none for the client's own mistakes. */
export function retriesByDefault(kind: FailureKind): boolean {
  return kind === "rate-limit" || kind === "server" || kind === "timeout" || kind === "connection";
}

const CONTEXT_CODES = new Set(["context_length_exceeded", "string_above_max_length"]);
const CONTEXT_MESSAGE =
  /context length|context window|context_length|prompt is too long|input is too long|too many (input )?tokens|maximum (context|input|prompt)|exceeds the (maximum|max|context)|input length .* exceed/i;
const POLICY_CODES = new Set([
  "content_policy_violation",
  "content_filter",
  "responsible_ai_policy_violation",
]);
const POLICY_MESSAGE =
  /content (management )?policy|content filter|content_filter|safety system|violat\w* (our|the) (usage )?polic/i;

/**
 * The kind of a provider's error reply, from its status and the error it carried (OpenAI's
 * `context_length_exceeded`, Anthropic's "prompt is too long", Azure's content filter, ...).
 */
export function classifyReply(status: number, code: string | number | null, message: string): FailureKind {
  if (status === 429) return "rate-limit";
  if (status >= 500) return "server";
  if (status === 401 || status === 403) return "auth";
  if (status === 408) return "timeout";
  if (status === 400 || status === 413 || status === 422) {
    const text = typeof code === "string" ? code : "";
    if (CONTEXT_CODES.has(text) || CONTEXT_MESSAGE.test(message)) return "context-window";
    if (POLICY_CODES.has(text) || POLICY_MESSAGE.test(message)) return "content-policy";
  }
  return "client";
}

/**
 * Full-jitter exponential backoff (AWS's "Exponential Backoff And Jitter"): a uniform wait between 0 and
 * min(max, initial · 2^retry). `retry` counts from 0 for the first retry.
 */
export function backoffMs(retry: number, initialMs: number, maxMs: number, random = Math.random()): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(retry, 30));
  return Math.floor(random * ceiling);
}

/**
 * How long to wait before retrying: the backoff, or the provider's Retry-After when that is longer; -1
 * when the wait would run past the request's deadline (`remainingMs`, Infinity when none), so the loop
 * gives up at once instead of sleeping into a timeout.
 */
export function retryDelayMs(backoff: number, retryAfterMs: number, remainingMs: number): number {
  const wait = Math.max(backoff, retryAfterMs);
  return wait >= remainingMs ? -1 : wait;
}

/** The longest delay setTimeout takes; a longer one overflows and fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A per-request timeout in seconds (header or body field) as milliseconds, at most MAX_TIMER_MS. A value
 * that is not a positive finite number (0, negative, NaN, Infinity, not a number) is ignored: 0, as if absent.
 */
export function timeoutSecondsToMs(value: unknown): number {
  const seconds = typeof value === "string" && value !== "" ? Number(value) : value;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) return 0;
  return Math.min(MAX_TIMER_MS, Math.max(1, Math.round(seconds * 1000)));
}

/** The shortest of the deadlines that are set (0 means not set); 0 when none is. */
export function shortestDeadline(a: number, b: number, c: number): number {
  let out = Math.max(a, 0);
  if (b > 0 && (out === 0 || b < out)) out = b;
  if (c > 0 && (out === 0 || c < out)) out = c;
  return out;
}
