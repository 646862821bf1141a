import type { CanonicalError } from "../formats/canonical.js";
import type { GatewayError } from "../http/errors.js";

// Providers that speak the OpenAI API mostly answer errors in OpenAI's shape already; the rest (an HTML
// page from a proxy, `{"detail": ...}`, a JSON array, a bare string) are rewrapped so that clients always
// get `{"error": {"message", "type", "code", "param"}}` with the provider's status.

export function providerErrorBody(status: number, provider: string, body: Buffer): string {
  const { message, type, param, code } = providerError(status, provider, body);
  return JSON.stringify({ error: { message, type, param, code } });
}

/** A provider's error reply, whatever its shape, as a canonical error with the provider's status. */
export function providerError(status: number, provider: string, body: Buffer): CanonicalError {
  const text = body.toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed)) parsed = parsed[0];
  const error = isObject(parsed) ? parsed.error : undefined;
  if (isObject(error) && typeof error.message === "string") {
    return {
      status,
      message: error.message,
      type: typeof error.type === "string" ? error.type : typeForStatus(status),
      param: typeof error.param === "string" ? error.param : null,
      code: typeof error.code === "string" || typeof error.code === "number" ? error.code : null,
    };
  }
  const message =
    typeof error === "string"
      ? error
      : isObject(parsed) && typeof parsed.message === "string"
        ? parsed.message
        : isObject(parsed) && typeof parsed.detail === "string"
          ? parsed.detail
          : text.trim().slice(0, 500) || `HTTP ${status}`;
  return { status, message: `${provider}: ${message}`, type: typeForStatus(status), param: null, code: null };
}

export function typeForStatus(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * True for an error undici raised before anything was sent (a header value it refuses, such as a client's
 * x-request-id with a control byte): the request's fault, never the provider's.
 */
export function isRefusedRequest(error: Error): boolean {
  return (error as { code?: string }).code === "UND_ERR_INVALID_ARG";
}

/**
 * The gateway's answer when the provider could not be reached, broke off its reply, or did not answer in
 * time. `midResponse` tells that the provider had already started answering.
 */
export function transportError(provider: string, error: Error, midResponse: boolean): GatewayError {
  if (isRefusedRequest(error)) {
    return {
      status: 400,
      message: `The request could not be sent to ${provider}: ${error.message}.`,
      type: "invalid_request_error",
      code: "invalid_request",
    };
  }
  const code = (error as { code?: string }).code ?? "";
  if (TIMEOUT_CODES.has(code)) {
    return {
      status: 504,
      message: `${provider} did not answer in time (${code === "UND_ERR_CONNECT_TIMEOUT" ? "connect" : code === "UND_ERR_HEADERS_TIMEOUT" ? "waiting for the response" : "between response chunks"}).`,
      type: "timeout_error",
      code: "upstream_timeout",
    };
  }
  const why = code === "" ? error.message : `${code}: ${error.message}`;
  return {
    status: 502,
    message: midResponse
      ? `${provider} broke off its response (${why}).`
      : `${provider} could not be reached (${why}).`,
    type: "api_error",
    code: "upstream_unreachable",
  };
}
