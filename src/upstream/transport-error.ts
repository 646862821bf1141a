import { type GatewayError, gatewayError } from "../errors.js";

// The gateway's own answers when an upstream exchange fails below HTTP: the client refused to write the
// request, the provider could not be reached, broke off, or did not answer in time.

const TIMEOUT_PHASES: Readonly<Record<string, string>> = {
  UPSTREAM_CONNECT_TIMEOUT: "connect",
  UPSTREAM_HEADERS_TIMEOUT: "waiting for the response",
  UPSTREAM_BODY_TIMEOUT: "between response chunks",
};

/**
 * True for a request the upstream client refused before anything was sent (a header value it will not
 * write, such as a client's x-request-id with a control byte): the request's fault, never the provider's.
 */
export function isRefusedRequest(error: Error): boolean {
  return (error as { code?: string }).code === "UPSTREAM_INVALID_REQUEST";
}

/** Errors of the gateway's own machine running out of something (descriptors, local ports, buffers). */
const EXHAUSTION_CODES = new Set(["EMFILE", "ENFILE", "EADDRNOTAVAIL", "ENOBUFS", "ENOMEM"]);

/**
 * True when the connection failed for want of the gateway's own resources: no fault of the provider's (its
 * health is not touched) and none of the request's; any other candidate would meet the same, so it is
 * answered at once as an overload the client may retry.
 */
export function isLocalExhaustion(error: Error): boolean {
  return EXHAUSTION_CODES.has((error as { code?: string }).code ?? "");
}

/**
 * The gateway's answer when the provider could not be reached, broke off its reply, or did not answer in
 * time. `midResponse` tells that the provider had already started answering.
 */
export function transportError(provider: string, error: Error, midResponse: boolean): GatewayError {
  if (isRefusedRequest(error)) {
    return gatewayError("invalid_request", `The request could not be sent to ${provider}: ${error.message}.`);
  }
  const code = (error as { code?: string }).code ?? "";
  if (isLocalExhaustion(error)) {
    return gatewayError(
      "overloaded",
      `The gateway is at its limit of open connections (${code}); try again shortly.`,
      null,
      [["retry-after", "1"]],
    );
  }
  const phase = TIMEOUT_PHASES[code];
  if (phase !== undefined)
    return gatewayError("upstream_timeout", `${provider} did not answer in time (${phase}).`);
  const why = code === "" ? error.message : `${code}: ${error.message}`;
  return gatewayError(
    "upstream_unreachable",
    midResponse
      ? `${provider} broke off its response (${why}).`
      : `${provider} could not be reached (${why}).`,
  );
}
