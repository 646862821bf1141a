import type { GatewayError } from "../http/errors.js";

// The gateway's own answers when an upstream exchange fails below HTTP: undici refused the request, the
// provider could not be reached, broke off, or did not answer in time.

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
