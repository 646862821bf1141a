import type { AdminRequest, AdminResponse } from "../admin/handler.js";
import { type GatewayError, gatewayError } from "../errors.js";
import { isJsonContentType } from "../http/content-type.js";
import type { Reply, RequestHead } from "../http/exchange.js";
import { type ErrorBody, internalFailure } from "../http/internal-error.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import { refuse } from "./inbound.js";
import type { Lane } from "./pipeline.js";

// The management API as a lane serves it: the admin key checked here, the body read here (bounded), and
// the request handed to the control plane, which owns the store (src/admin/handler.ts answers it there).

/** Management requests are small JSON documents. */
export const ADMIN_BODY_LIMIT = 1024 * 1024;
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
const JSON_HEADERS: [string, string][] = [["content-type", "application/json"]];

export type AdminForward = (request: AdminRequest) => Promise<AdminResponse>;

export function serveAdmin(
  lane: Lane,
  head: RequestHead,
  reply: Reply,
  errorBody: ErrorBody,
  forward: AdminForward,
): void {
  const metrics = lane.metrics;
  const denied = adminDenied(lane, head.apiKey);
  if (denied !== undefined) {
    refuse(reply, metrics, errorBody, denied, "policy");
    return;
  }
  if (!METHODS.has(head.method)) {
    refuse(
      reply,
      metrics,
      errorBody,
      gatewayError("method_not_allowed", `${head.method} is not a method of the management API.`),
    );
    return;
  }
  if (head.method === "GET" || head.method === "DELETE") {
    send(reply, metrics, errorBody, forward, head, Buffer.alloc(0));
    return;
  }
  if (!isJsonContentType(head.contentType)) {
    refuse(
      reply,
      metrics,
      errorBody,
      gatewayError(
        "unsupported_media_type",
        'The management API takes JSON: send "Content-Type: application/json".',
      ),
    );
    return;
  }
  if (head.contentLength > ADMIN_BODY_LIMIT) {
    refuse(reply, metrics, errorBody, tooLarge());
    return;
  }
  reply.readBody(ADMIN_BODY_LIMIT, (body, overLimit) => {
    if (body !== null) send(reply, metrics, errorBody, forward, head, body);
    else if (overLimit) refuse(reply, metrics, errorBody, tooLarge());
  });
}

/** Only the master key manages the gateway; a virtual key never does. Without one the API stays shut. */
function adminDenied(lane: Lane, presented: string): GatewayError | undefined {
  const admin = lane.adminKey;
  if (admin === undefined)
    return gatewayError(
      "request_refused",
      "The management API needs an admin key: set SWITCHYARD_API_KEY (or general_settings.master_key) and send it as 'Authorization: Bearer <key>'.",
    );
  return admin.accepts(presented)
    ? undefined
    : gatewayError("invalid_api_key", "The management API requires the gateway's admin key.");
}

function send(
  reply: Reply,
  metrics: LaneMetrics,
  errorBody: ErrorBody,
  forward: AdminForward,
  head: RequestHead,
  body: Buffer,
): void {
  forward({ method: head.method, path: head.path, query: head.query, body }).then(
    (response) => {
      if (reply.aborted) return;
      reply.start(response.status, response.headers ?? JSON_HEADERS);
      reply.end(response.body);
      metrics.recordAnswered(response.status, response.status < 400 ? "" : "client");
    },
    (error: Error) => internalFailure(reply, metrics, errorBody, error),
  );
}

function tooLarge(): GatewayError {
  return gatewayError(
    "request_too_large",
    `A management request's body may be at most ${ADMIN_BODY_LIMIT} bytes.`,
  );
}
