// The one catalog of errors the gateway itself answers with: each has a stable code, an HTTP status, an
// error type in OpenAI's vocabulary and the class metrics and hooks see. Messages are written where the
// error is found (they name what went wrong with this request); every inbound format renders the same
// error in its own shape (InboundFormat.errorBody). Provider errors keep the provider's own code.

/**
 * Who an error is down to: the client's request, a policy of the gateway (auth, limits, deadlines), the
 * provider (its error replies, its transport), or the gateway's own code.
 */
export type ErrorClass = "client" | "policy" | "provider" | "gateway";

export interface ErrorKind {
  readonly status: number;
  readonly type: string;
  readonly errorClass: ErrorClass;
}

const client = (status: number, type = "invalid_request_error"): ErrorKind => ({
  status,
  type,
  errorClass: "client",
});
const policy = (status: number, type: string): ErrorKind => ({ status, type, errorClass: "policy" });
const provider = (status: number, type: string): ErrorKind => ({ status, type, errorClass: "provider" });

export const ERRORS = {
  // The request itself.
  unknown_route: client(404),
  method_not_allowed: client(405),
  unsupported_media_type: client(415),
  request_too_large: client(413),
  invalid_json: client(400),
  /** The body has the wrong shape for its wire format (a field missing or of the wrong type). */
  invalid_request: client(400),
  missing_model: client(400),
  /** A gateway field of the wrong JSON type (`model` not a string). */
  invalid_type: client(400),
  /** A model name the gateway refuses to route (too long, control characters, repeated `model`). */
  invalid_model: client(400),
  model_not_found: client(404),
  /** A parameter or endpoint the chosen provider does not offer. */
  unsupported_parameter: client(400),
  unsupported_endpoint: client(400),
  // The gateway's policies.
  invalid_api_key: policy(401, "authentication_error"),
  /** A plugin's onRequest refused the request; the plugin's own code replaces this one when it gives one. */
  request_refused: policy(403, "permission_error"),
  /** The provider's queue on this gateway is full, or a virtual key's request or token limit is reached. */
  rate_limit_exceeded: policy(429, "rate_limit_error"),
  /** A virtual key (or its team or customer) has as many requests under way as it may. */
  parallel_limit_exceeded: policy(429, "rate_limit_error"),
  /** A budget of the key, its team or its customer cannot take this request's estimated cost (OpenAI's quota type). */
  budget_exceeded: policy(429, "insufficient_quota"),
  /** The virtual key is disabled or past its expiry. */
  virtual_key_inactive: policy(401, "authentication_error"),
  /** The virtual key may not use the model (or none of the providers that serve it). */
  model_not_allowed: policy(403, "permission_error"),
  /** Every key of the provider asked for is disabled through the management API. */
  provider_keys_disabled: policy(503, "api_error"),
  /** Every candidate's circuit is open, or no capacity frees up in time. */
  overloaded: policy(503, "api_error"),
  /** The request's own deadline (routing timeout, x-switchyard-timeout, body `timeout`) passed. */
  request_timeout: policy(504, "timeout_error"),
  shutting_down: policy(503, "api_error"),
  /** Cluster mode: the shared budgets and limits cannot be checked (Redis away, on_redis_down: refuse). */
  cluster_unavailable: policy(503, "api_error"),
  // The provider, as the gateway saw it.
  upstream_unreachable: provider(502, "api_error"),
  upstream_timeout: provider(504, "timeout_error"),
  upstream_malformed: provider(502, "api_error"),
  // The gateway's own code.
  internal_error: { status: 500, type: "api_error", errorClass: "gateway" },
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERRORS;

/** An error the gateway answers with, before it is rendered in the client's wire format. */
export interface GatewayError {
  readonly status: number;
  readonly message: string;
  readonly type: string;
  readonly code: string | number | null;
  readonly param?: string | null;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

/** The catalog's error `code` with this request's message. */
export function gatewayError(
  code: ErrorCode,
  message: string,
  param: string | null = null,
  headers?: ReadonlyArray<readonly [string, string]>,
): GatewayError {
  const kind: ErrorKind = ERRORS[code];
  return headers === undefined
    ? { status: kind.status, type: kind.type, code, message, param }
    : { status: kind.status, type: kind.type, code, message, param, headers };
}

/** The class of an error the gateway answered with: the catalog's for its codes, else the provider's. */
export function errorClassOf(code: string | number | null): ErrorClass {
  if (typeof code === "string" && Object.hasOwn(ERRORS, code)) return ERRORS[code as ErrorCode].errorClass;
  return "provider";
}
