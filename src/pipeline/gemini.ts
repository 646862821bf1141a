import type { CanonicalError } from "../formats/canonical.js";
import type { InboundFormat } from "../formats/format.js";
import { geminiErrorBody } from "../formats/gemini/format.js";
import type { GatewayError } from "../http/errors.js";
import type { Reply, RequestHead } from "../http/exchange.js";
import { ExchangeAccount } from "../observability/account.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import { UnsupportedRequest } from "../providers/adapter.js";
import { geminiHeaders, geminiRoot, modelPath } from "../providers/gemini/adapter.js";
import { geminiError } from "../providers/gemini/response.js";
import { type AttemptHook, runAttempts } from "../routing/attempts.js";
import { candidatesFor, type RouteCandidate } from "../routing/candidates.js";
import type { RoutingTable } from "../routing/table.js";
import { dispatchUpstream } from "../upstream/pools.js";
import { type RelayErrors, RelayHandler } from "../upstream/relay.js";
import { requestDeadline } from "./extras.js";
import { answerBeforeSending, type Prepared, prepareTranscode, sendTranscoded } from "./transcode.js";

// Google GenAI clients (/genai/v1beta/models/{model}:generateContent and :streamGenerateContent). The model
// is in the URL, so to a Gemini API provider the body goes through as the bytes sent, and only the path is
// rebuilt (the provider's root, model and key); any other candidate gets the request converted. Either way
// the attempt loop runs: retries, fallbacks, breakers, limits and deadline hold on every leg.

const GEMINI_ERRORS: RelayErrors = {
  provider(status, provider, body) {
    const error = geminiError(status, body, provider);
    // Google's own envelope goes through as it is; anything else is rewrapped in it.
    return error.code !== null ? body.toString("utf8") : geminiErrorBody(error);
  },
  gateway: (error) => geminiErrorBody(canonical(error)),
  sseEvent: (error) => `data: ${geminiErrorBody(canonical(error))}\r\n\r\n`,
};

const canonical = (error: GatewayError): CanonicalError => ({ ...error, param: error.param ?? null });

export interface GeminiCall {
  readonly table: RoutingTable;
  readonly metrics: LaneMetrics;
  readonly head: RequestHead;
  readonly reply: Reply;
  readonly format: InboundFormat;
  readonly body: Buffer;
  readonly startedAt: number;
  /** The model named by the path, `models/` prefix removed. */
  readonly model: string;
  readonly stream: boolean;
  /** The parsed body, once a candidate of another kind needed it converted. */
  prepared?: Prepared | CanonicalError;
}

/** False when no candidate of the model is a Gemini API provider: the caller transcodes. */
export function geminiBytes(call: GeminiCall): boolean {
  const plan = candidatesFor(call.table, call.model);
  if ("status" in plan || !plan.candidates.some((c) => c.provider.config.kind === "gemini")) return false;
  runAttempts({
    table: call.table,
    metrics: call.metrics,
    reply: call.reply,
    startedAt: call.startedAt,
    plan,
    requestFallbacks: undefined,
    deadlineMs: requestDeadline(call.table, call.head.timeout, 0),
    errorBody: GEMINI_ERRORS.gateway,
    send: (candidate, hook) => sendGemini(call, candidate, hook),
  });
  return true;
}

function sendGemini(call: GeminiCall, candidate: RouteCandidate, hook: AttemptHook | undefined): void {
  const { provider, model, keyIndex } = candidate;
  if (provider.config.kind !== "gemini") {
    sendConverted(call, candidate, hook);
    return;
  }
  let path: string;
  try {
    path = modelPath(model);
  } catch (error) {
    if (!(error instanceof UnsupportedRequest)) throw error;
    answerBeforeSending(
      call,
      {
        status: 400,
        message: error.message,
        type: "invalid_request_error",
        code: "invalid_model",
        param: "model",
      },
      hook,
    );
    return;
  }
  const method = call.stream ? "streamGenerateContent" : "generateContent";
  // Only `alt` is passed on: a client's own `key=` must not reach the provider.
  const query = call.stream && /(^|&)alt=sse(&|$)/.test(call.head.query) ? "?alt=sse" : "";
  const account = new ExchangeAccount(call.metrics, provider.name, model, call.startedAt);
  dispatchUpstream(
    provider.origin,
    provider.config.network,
    {
      path: `${geminiRoot(provider.apiPath)}/v1beta/${path}:${method}${query}`,
      method: "POST",
      headers: [...geminiHeaders(provider, keyIndex), "x-request-id", call.head.requestId],
      body: call.body,
      headersTimeout: candidate.firstByteTimeoutMs,
      bodyTimeout: candidate.idleTimeoutMs,
    },
    new RelayHandler(
      call.reply,
      provider.name,
      provider.keys[keyIndex]?.value ?? "",
      account,
      GEMINI_ERRORS,
      hook === undefined ? candidate.firstHeaders : hook.headers,
      hook,
    ),
    account,
  );
}

function sendConverted(call: GeminiCall, candidate: RouteCandidate, hook: AttemptHook | undefined): void {
  call.prepared ??= prepareTranscode({
    table: call.table,
    metrics: call.metrics,
    format: call.format,
    operation: "chat",
    reply: call.reply,
    body: call.body,
    requestId: call.head.requestId,
    startedAt: call.startedAt,
    pathModel: call.model,
    pathStream: call.stream,
    timeoutHeader: call.head.timeout,
  });
  const prepared = call.prepared;
  if ("status" in prepared) answerBeforeSending(call, prepared, hook);
  else sendTranscoded(prepared, candidate, hook);
}
