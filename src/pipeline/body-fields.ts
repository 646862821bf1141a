import { type GatewayError, gatewayError } from "../errors.js";
import { type ScanOk, type ScanResult, scanRequest } from "../native/index.js";
import { checkFallbacks, checkModelName, repeatedModel } from "../routing/model-name.js";
import { MAX_TIMER_MS, shortestDeadline, timeoutSecondsToMs } from "../routing/retry.js";
import type { RoutingTable } from "../routing/table.js";

// Gateway fields a client may put in its request body — Bifrost's `fallbacks: ["provider/model", ...]`,
// LiteLLM's `timeout` (seconds) and its `cache` controls — which must not reach the provider. The request scan reports whether the
// body has either at its top level; only such a body is parsed.

export interface GatewayFields {
  /** The body without the gateway's fields (the same Buffer when it had none). */
  readonly body: Buffer;
  readonly fallbacks: readonly string[] | undefined;
  /** 0 when absent. */
  readonly timeoutMs: number;
  /** The `cache` member as sent (src/cache/controls.ts checks it); undefined when absent. */
  readonly cache: unknown;
}

/** A request body scanned, without the gateway's fields when it had them. */
export interface ScannedBody {
  readonly body: Buffer;
  readonly scan: ScanResult;
  readonly fields: GatewayFields | undefined;
  /** Set when the body names the gateway's fields but is too large to parse on a lane. */
  readonly refusal: GatewayError | undefined;
}

/**
 * Scans a request body; one that names the gateway's fields loses them and is scanned again. Taking them
 * out means parsing the body whole, so that is done up to `parseLimit` bytes (client.max_converted_body_size_mb).
 */
export function scanBody(received: Buffer, parseLimit: number): ScannedBody {
  const scan = scanRequest(received);
  if (!scan.ok || !scan.gatewayFields) return { body: received, scan, fields: undefined, refusal: undefined };
  if (received.length > parseLimit)
    return { body: received, scan, fields: undefined, refusal: tooLargeToParse(parseLimit) };
  const fields = takeGatewayFields(received);
  if (fields === undefined) return { body: received, scan, fields, refusal: undefined };
  return { body: fields.body, scan: scanRequest(fields.body), fields, refusal: undefined };
}

/** The limit on a body the gateway must parse whole: its fields taken out, or converted to another format. */
export function parseLimitOf(table: RoutingTable): number {
  const { client } = table.config;
  return Math.min(client.maxConvertedBodyBytes, client.maxRequestBodyBytes);
}

export function tooLargeToParse(limit: number): GatewayError {
  return gatewayError(
    "request_too_large",
    `The request body is larger than ${limit} bytes, the gateway's limit for a body it must parse (to convert it to another provider's format, or to take out the gateway's own fields): client.max_converted_body_size_mb.`,
  );
}

/** The 400 for a body whose model names are unsafe or ambiguous (see model-name.ts); undefined when fine or absent. */
export function checkBodyModels(scan: ScanOk, fields: GatewayFields | undefined): GatewayError | undefined {
  if (scan.modelRepeated) return repeatedModel;
  if (scan.modelType === "string" && scan.model !== undefined && scan.model !== "") {
    const problem = checkModelName(scan.model);
    if (problem !== undefined) return problem;
  }
  return checkFallbacks(fields?.fallbacks);
}

/** Reads and removes the gateway's fields from a JSON body the scan found them in; undefined when it has none. */
export function takeGatewayFields(body: Buffer): GatewayFields | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const fields = parsed as Record<string, unknown>;
  // The words may have been inside a message; only top-level fields count.
  if (!("fallbacks" in fields) && !("timeout" in fields) && !("cache" in fields)) return undefined;
  const raw = fields.fallbacks;
  const fallbacks = Array.isArray(raw)
    ? raw.filter((name): name is string => typeof name === "string" && name !== "")
    : undefined;
  const timeoutMs = timeoutSecondsToMs(fields.timeout);
  const cache = fields.cache;
  delete fields.fallbacks;
  delete fields.timeout;
  delete fields.cache;
  return {
    body: Buffer.from(JSON.stringify(fields)),
    fallbacks: fallbacks !== undefined && fallbacks.length > 0 ? fallbacks : undefined,
    timeoutMs,
    cache,
  };
}

/**
 * The request's total deadline in ms: routing's timeout, the x-switchyard-timeout header and the body's,
 * shortest first, so a client's value never outlasts the gateway's own (nor MAX_TIMER_MS).
 */
export function requestDeadline(table: RoutingTable, timeoutHeader: string, bodyTimeoutMs: number): number {
  const header = timeoutHeader === "" ? 0 : timeoutSecondsToMs(timeoutHeader);
  const own = Math.min(table.config.routing?.timeoutMs ?? 0, MAX_TIMER_MS);
  return shortestDeadline(own, header, Math.min(bodyTimeoutMs, MAX_TIMER_MS));
}
