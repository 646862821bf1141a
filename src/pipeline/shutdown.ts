import { gatewayError } from "../errors.js";
import type { CanonicalError } from "../formats/canonical.js";
import { formatFor } from "../formats/registry.js";
import { sseEvent } from "../formats/sse.js";
import type { ShutdownNotice } from "../http/exchange.js";

// What a client still waiting when the drain deadline comes is told, in its own wire format (see
// HttpFront.interruptExchanges): a 503 it may retry elsewhere, or an error event that ends its stream.

const SHUTTING_DOWN: CanonicalError = {
  ...gatewayError(
    "shutting_down",
    "The gateway is shutting down and could not finish this reply within its drain window; retry it.",
  ),
  param: null,
};

function build(formatName: string): ShutdownNotice {
  const format = formatFor(formatName);
  // The Responses encoder opens a response before an error it reports; this stream has one open already.
  if (formatName === "responses") {
    const { code, message, param } = SHUTTING_DOWN;
    return {
      body: format.errorBody(SHUTTING_DOWN),
      sseEvent: sseEvent(JSON.stringify({ type: "error", code, message, param }), "error"),
    };
  }
  // A Gemini array stream is not an event stream: a started one is cut instead.
  const streamFormat = formatName === "gemini-array" ? formatFor("gemini") : format;
  return {
    body: format.errorBody(SHUTTING_DOWN),
    sseEvent: streamFormat.streamEncoder("").error(SHUTTING_DOWN),
  };
}

const notices = new Map<string, ShutdownNotice>();

/** The notice for a route's wire format (OpenAI's when the route names none). */
export function shutdownNoticeFor(formatName = "openai"): ShutdownNotice {
  let notice = notices.get(formatName);
  if (notice === undefined) {
    notice = build(formatName);
    notices.set(formatName, notice);
  }
  return notice;
}
