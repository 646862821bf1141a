import { type GatewayError, gatewayError } from "../errors.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import type { Reply } from "./exchange.js";

// The last line of defence for a request: an error nobody expected (a bug, a shape no converter foresaw)
// is answered and counted here, so it costs one request and never the lane.

/** A gateway-made error as the client's wire format writes it. */
export type ErrorBody = (error: GatewayError) => string;

/**
 * Logs `error` once with its stack (never the request), counts it, and answers 500 in the client's format.
 * A reply already under way cannot be taken back: an event stream gets `streamEvent`'s error event and
 * ends, anything else is cut off. `recorded` is true when the caller's exchange account has already
 * recorded the request.
 */
export function internalFailure(
  reply: Reply,
  metrics: LaneMetrics,
  errorBody: ErrorBody,
  error: unknown,
  recorded = false,
  streamEvent?: ErrorBody,
): void {
  metrics.internalErrors++;
  const id = reply.requestId;
  console.error(`switchyard: internal error on request ${id}:`, error instanceof Error ? error.stack : error);
  if (!recorded) metrics.recordAnswered(500, "gateway");
  if (reply.aborted) return;
  const failure = gatewayError(
    "internal_error",
    `The gateway failed while handling request ${id}; it has been logged.`,
  );
  if (reply.committed) {
    if (streamEvent === undefined) reply.destroy();
    else {
      reply.write(streamEvent(failure));
      reply.end();
    }
    return;
  }
  reply.start(500, [["content-type", "application/json"]]);
  reply.end(errorBody(failure));
}
