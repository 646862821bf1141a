import { type ErrorClass, errorClassOf, type GatewayError } from "../errors.js";
import type { Reply, RequestHead } from "../http/exchange.js";
import type { ErrorBody } from "../http/internal-error.js";
import type { ScanOk } from "../native/types.js";
import type { ExchangeAccount } from "../observability/account.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import type { UpstreamRequest } from "../providers/adapter.js";
import type { PlanCandidate } from "../routing/candidates.js";
import type { RoutingTable } from "../routing/table.js";
import type { UpstreamHandler } from "../upstream/h1/exchange.js";
import { dispatchUpstream } from "../upstream/pools.js";
import type { UpstreamFailure } from "../upstream/report.js";
import type { CanonicalBody } from "./convert.js";
import type { RequestHooks } from "./request-hooks.js";
import type { InferenceRoute } from "./routes.js";

// One inference request as the pipeline carries it from step to step, and the small things every step
// and both legs do with it.

export interface InboundRequest {
  readonly table: RoutingTable;
  readonly metrics: LaneMetrics;
  readonly route: InferenceRoute;
  readonly head: RequestHead;
  readonly reply: Reply;
  /** performance.now() when the body was complete: the gateway's own time starts here. */
  readonly startedAt: number;
  /** The body as the client sent it, the gateway's own fields taken out (and a path's model put in). */
  readonly body: Buffer;
  /** The body's scan: where its model is, for the byte leg's rewrite. */
  readonly scan: ScanOk;
  /** The model the client asked for (checked: see model-name.ts). */
  readonly model: string;
  readonly stream: boolean;
  /** The client's own fallback chain (Bifrost's `fallbacks` body field). */
  readonly fallbacks: readonly string[] | undefined;
  /** The request's deadline in ms, all attempts included; 0 when none. */
  readonly deadlineMs: number;
  /** A gateway-made error in the client's wire format. */
  readonly errorBody: ErrorBody;
  /** The plugins' view of this request; absent when no plugin has request or reply hooks. */
  readonly hooks: RequestHooks | undefined;
  /** The body parsed for the convert leg, once a candidate needed it. */
  canonical: CanonicalBody | GatewayError | undefined;
}

/**
 * An attempt the gateway ends before any provider answers (the body cannot be converted for this candidate,
 * the provider request cannot be built): the attempt loop adds its headers and knows not to retry a
 * client's error. `recorded` is true when the attempt's exchange account recorded it already.
 */
export function refusedAttempt(
  request: InboundRequest,
  error: GatewayError,
  recorded = false,
): UpstreamFailure {
  const errorClass = errorClassOf(error.code);
  if (!recorded) request.metrics.recordAnswered(error.status, errorClass);
  return {
    source: errorClass === "provider" ? "reply" : errorClass === "gateway" ? "gateway" : "request",
    status: error.status,
    code: error.code,
    message: error.message,
    timedOut: false,
    retryAfterMs: -1,
    deliver(headers) {
      request.reply.start(error.status, [JSON_TYPE, ...headers]);
      request.reply.end(request.errorBody(error));
      request.hooks?.error(error.status, error.code, errorClass, error.message);
    },
  };
}

const JSON_TYPE: readonly [string, string] = ["content-type", "application/json"];

/**
 * Sends one attempt's upstream request to `candidate` with `relay` answering the client: the provider's
 * headers, the request id and any a plugin added; the candidate's timeouts.
 */
export function dispatchAttempt(
  request: InboundRequest,
  candidate: PlanCandidate,
  upstream: UpstreamRequest,
  relay: UpstreamHandler,
  account: ExchangeAccount,
): void {
  dispatchUpstream(
    upstream.origin,
    candidate.provider.config.network,
    {
      path: upstream.path,
      method: upstream.method,
      headers: upstream.headers,
      extraHeaders: upstreamHeaders(request),
      body: upstream.body,
      headersTimeout: candidate.firstByteTimeoutMs,
      bodyTimeout: candidate.idleTimeoutMs,
    },
    relay,
    account,
  );
}

function upstreamHeaders(request: InboundRequest): string[] {
  const headers = ["x-request-id", request.head.requestId];
  const added = request.hooks?.upstreamHeaders;
  if (added !== undefined) for (const value of added) headers.push(value);
  return headers;
}

/**
 * Answers a request the gateway turns away itself, in the client's wire format, and counts it; the class
 * is the catalog's for the error's code unless given (a plugin's refusal is a policy's, whatever its code).
 */
export function refuse(
  reply: Reply,
  metrics: LaneMetrics,
  errorBody: ErrorBody,
  error: GatewayError,
  errorClass: ErrorClass = errorClassOf(error.code),
): void {
  reply.start(error.status, error.headers === undefined ? JSON_HEADERS : [JSON_TYPE, ...error.headers]);
  reply.end(errorBody(error));
  metrics.recordAnswered(error.status, errorClass);
}

const JSON_HEADERS = [JSON_TYPE] as const;
