import { type ErrorClass, errorClassOf, type GatewayError } from "../errors.js";
import type { Reply } from "../http/exchange.js";
import type { ErrorBody } from "../http/internal-error.js";
import type { ExchangeAccount } from "../observability/account.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import type { UpstreamRequest } from "../providers/adapter.js";
import type { PlanCandidate } from "../routing/candidates.js";
import type { BodyEdit, UpstreamHandler } from "../upstream/h1/exchange.js";
import { dispatchUpstream } from "../upstream/pools.js";
import type { UpstreamFailure } from "../upstream/report.js";
import type { InboundRequest } from "./pipeline.js";

// The small things every step of the pipeline and both legs do with an inference request (InboundRequest,
// pipeline.ts): refuse it, end an attempt before any provider answers, send an attempt upstream.

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
  if (!recorded) {
    request.metrics.recordAnswered(error.status, errorClass);
    if (errorClass === "policy") request.metrics.refused(error.code);
  }
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
  bodyEdit?: BodyEdit,
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
      bodyEdit,
      headersTimeout: candidate.firstByteTimeoutMs,
      bodyTimeout: candidate.idleTimeoutMs,
    },
    relay,
    account,
  );
}

/** The request id, the trace context when traces are on, and any header a plugin added. */
function upstreamHeaders(request: InboundRequest): string[] {
  const headers = ["x-request-id", request.head.requestId];
  const hooks = request.hooks;
  // The gateway's own value, hex only: the current attempt's span as the provider's parent.
  const traceparent = hooks?.trace?.traceparent;
  if (traceparent !== undefined) headers.push("traceparent", traceparent);
  const added = hooks?.upstreamHeaders;
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
  if (errorClass === "policy") metrics.refused(error.code);
}

const JSON_HEADERS = [JSON_TYPE] as const;
