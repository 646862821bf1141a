import type { ProviderKey } from "../config/types.js";
import type { CanonicalError } from "../formats/canonical.js";
import { formatFor } from "../formats/registry.js";
import { errorBody, type GatewayError, invalidRequest, sendError } from "../http/errors.js";
import type { Reply, RequestHead } from "../http/exchange.js";
import { type ErrorBody, guarded } from "../http/internal-error.js";
import { rewriteModel, scanRequest } from "../native/index.js";
import type { ScanOk } from "../native/types.js";
import { ExchangeAccount } from "../observability/account.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import { UnsupportedRequest } from "../providers/adapter.js";
import { speaksOpenAI } from "../providers/registry.js";
import type { KeyEndpoint } from "../providers/route.js";
import { type AttemptHook, runAttempts } from "../routing/attempts.js";
import { candidatesFor, type RouteCandidate } from "../routing/candidates.js";
import { checkModelName } from "../routing/model-name.js";
import type { RoutingTable } from "../routing/table.js";
import { dispatchUpstream } from "../upstream/pools.js";
import { RelayHandler } from "../upstream/relay.js";
import { anthropicPassthrough } from "./anthropic.js";
import { checkBodyModels, parseLimitOf, requestDeadline, scanBody } from "./extras.js";
import { geminiBytes } from "./gemini.js";
import { type Route, routeFormat } from "./routes.js";
import {
  answerBeforeSending,
  canonical,
  type Prepared,
  prepareTranscode,
  refuseInFormat,
  sendTranscoded,
  transcode,
} from "./transcode.js";

// One OpenAI-compatible request, end to end. Reads top to bottom like the request's way in DESIGN.md:
// body → routing fields → model resolution → key → rewrite → upstream → relay and account.

export function proxy(
  table: RoutingTable,
  metrics: LaneMetrics,
  route: Route,
  head: RequestHead,
  reply: Reply,
): void {
  const limit = table.config.client.maxRequestBodyBytes;
  if (head.contentLength > limit) {
    refuse(reply, metrics, tooLarge(limit));
    return;
  }
  const format = route.format === undefined ? undefined : formatFor(route.format);
  const formatErrorBody: ErrorBody =
    format === undefined ? errorBody : (error) => format.errorBody(canonical(error));
  const onBody = (received: Buffer | null, overLimit: boolean): void => {
    if (received === null) {
      if (overLimit) refuse(reply, metrics, tooLarge(limit));
      return;
    }
    const startedAt = performance.now();
    const { body, scan, extras, refusal } = scanBody(
      route.pathModel === undefined ? received : withModel(received, route.pathModel),
      parseLimitOf(table),
    );
    if (refusal !== undefined) {
      refuse(reply, metrics, refusal);
      return;
    }
    if (!scan.ok) {
      refuse(
        reply,
        metrics,
        invalidRequest(`The request body is not valid JSON: ${scan.error}`, "invalid_json"),
      );
      return;
    }
    // Before resolution: its cache, metric labels and response headers only ever see checked names.
    const invalid = checkBodyModels(scan, extras);
    if (invalid !== undefined) {
      refuse(reply, metrics, invalid);
      return;
    }
    if (scan.modelType !== "string" || scan.model === undefined || scan.model === "") {
      const problem =
        scan.modelType === "missing" ? "you must provide a model parameter" : "'model' must be a string";
      refuse(
        reply,
        metrics,
        invalidRequest(problem, scan.modelType === "missing" ? "missing_model" : "invalid_type", "model"),
      );
      return;
    }

    const plan = candidatesFor(table, scan.model);
    if ("status" in plan) {
      refuse(reply, metrics, plan);
      return;
    }
    const request: OpenAIRequest = {
      table,
      metrics,
      route,
      head,
      reply,
      body,
      scan,
      startedAt,
      prepared: undefined,
    };
    runAttempts({
      table,
      metrics,
      reply,
      startedAt,
      plan,
      requestFallbacks: extras?.fallbacks,
      deadlineMs: requestDeadline(table, head.timeout, extras?.timeoutMs ?? 0),
      errorBody: formatErrorBody,
      send: (candidate, hook) => sendOpenAI(request, candidate, hook),
    });
  };
  reply.readBody(limit, guarded(reply, metrics, formatErrorBody, onBody));
}

/** An OpenAI-format request read and scanned, ready for attempts. */
interface OpenAIRequest {
  readonly table: RoutingTable;
  readonly metrics: LaneMetrics;
  readonly route: Route;
  readonly head: RequestHead;
  readonly reply: Reply;
  readonly body: Buffer;
  readonly scan: ScanOk;
  readonly startedAt: number;
  /** The parsed body, once a candidate needed it converted. */
  prepared: Prepared | CanonicalError | undefined;
}

/** One attempt: the bytes to a provider that takes OpenAI's format (model rewritten), else converted. */
function sendOpenAI(request: OpenAIRequest, candidate: RouteCandidate, hook: AttemptHook | undefined): void {
  const { route, scan, body } = request;
  const provider = candidate.provider;
  // Only OpenAI itself serves the Responses API; other providers get it mapped onto chat.
  const passthrough =
    route.format === "responses" ? provider.config.kind === "openai" : speaksOpenAI(provider.config.kind);
  if (!passthrough) {
    sendConverted(request, candidate, hook);
    return;
  }
  const model = candidate.model;
  const endpoint = provider.endpoints[candidate.keyIndex] as KeyEndpoint;
  let path: string;
  try {
    path = endpoint.path(route.upstreamPath, model);
  } catch (error) {
    if (!(error instanceof UnsupportedRequest)) throw error;
    answerClientError(request, hook, invalidRequest(error.message, "invalid_model", error.param));
    return;
  }
  const upstreamBody =
    model === scan.model ? body : rewriteModel(body, scan.modelStart, scan.modelEnd, model);
  const account = new ExchangeAccount(request.metrics, provider.name, model, request.startedAt);
  const relay = new RelayHandler(
    request.reply,
    provider.name,
    (provider.keys[candidate.keyIndex] as ProviderKey).value,
    account,
    undefined,
    hook === undefined ? candidate.firstHeaders : hook.headers,
    hook,
  );
  dispatchUpstream(
    endpoint.origin,
    provider.config.network,
    {
      path,
      method: "POST",
      headers: [...endpoint.headers, "x-request-id", request.head.requestId],
      body: upstreamBody,
      headersTimeout: candidate.firstByteTimeoutMs,
      bodyTimeout: candidate.idleTimeoutMs,
    },
    relay,
    account,
  );
}

/** The provider has its own wire format: the body is parsed (once per request) and converted. */
function sendConverted(
  request: OpenAIRequest,
  candidate: RouteCandidate,
  hook: AttemptHook | undefined,
): void {
  const { route, reply, metrics } = request;
  const format = routeFormat(route);
  let prepared = request.prepared;
  if (prepared === undefined) {
    prepared =
      route.upstreamPath === "/completions"
        ? {
            ...invalidRequest(
              `Provider '${candidate.provider.name}' does not offer legacy completions; use /v1/chat/completions.`,
              "unsupported_endpoint",
              "model",
            ),
          }
        : prepareTranscode({
            table: request.table,
            metrics,
            format,
            operation: route.upstreamPath === "/embeddings" ? "embeddings" : "chat",
            reply,
            body: request.body,
            requestId: request.head.requestId,
            startedAt: request.startedAt,
            timeoutHeader: request.head.timeout,
          });
    request.prepared = prepared;
  }
  if ("status" in prepared) {
    answerClientError(request, hook, prepared);
    return;
  }
  sendTranscoded(prepared, candidate, hook);
}

/** An attempt the gateway refuses before any provider is involved, in the route's wire format. */
function answerClientError(
  request: OpenAIRequest,
  hook: AttemptHook | undefined,
  error: GatewayError | CanonicalError,
): void {
  const client = { reply: request.reply, metrics: request.metrics, format: routeFormat(request.route) };
  answerBeforeSending(client, canonical(error), hook);
}

/** A route whose client format is not OpenAI's: the body is always parsed and converted. */
export function convert(
  table: RoutingTable,
  metrics: LaneMetrics,
  route: Route,
  head: RequestHead,
  reply: Reply,
  pathModel?: string,
  pathStream?: boolean,
): void {
  const format = routeFormat(route);
  const limit = table.config.client.maxRequestBodyBytes;
  const refuseTooLarge = () => refuseInFormat({ reply, metrics, format }, canonical(tooLarge(limit)));
  if (head.contentLength > limit) {
    refuseTooLarge();
    return;
  }
  const onBody = (body: Buffer | null, overLimit: boolean): void => {
    if (body === null) {
      if (overLimit) refuseTooLarge();
      return;
    }
    const startedAt = performance.now();
    const invalid = pathModel === undefined ? undefined : checkModelName(pathModel);
    if (invalid !== undefined) {
      refuseInFormat({ reply, metrics, format }, canonical(invalid));
      return;
    }
    // Same format on both sides: bytes pass through.
    if (format.name === "anthropic" && anthropicPassthrough(table, metrics, head, reply, body, startedAt))
      return;
    if (
      pathModel !== undefined &&
      format.name.startsWith("gemini") &&
      geminiBytes({
        table,
        metrics,
        head,
        reply,
        format,
        body,
        startedAt,
        model: pathModel.startsWith("models/") ? pathModel.slice("models/".length) : pathModel,
        stream: pathStream === true,
      })
    )
      return;
    transcode({
      table,
      metrics,
      format,
      operation: route.operation ?? "chat",
      reply,
      body,
      requestId: head.requestId,
      startedAt,
      pathModel,
      pathStream,
      anthropicBeta: head.anthropicBeta,
      timeoutHeader: head.timeout,
    });
  };
  reply.readBody(
    limit,
    guarded(reply, metrics, (error) => format.errorBody(canonical(error)), onBody),
  );
}

/** The body with `model` set to the one a deployment path names (LiteLLM lets the path win). */
function withModel(body: Buffer, model: string): Buffer {
  const scan = scanRequest(body);
  if (!scan.ok) return body;
  if (scan.modelType === "string") return rewriteModel(body, scan.modelStart, scan.modelEnd, model);
  const parsed: unknown = JSON.parse(body.toString("utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return body;
  return Buffer.from(JSON.stringify({ ...parsed, model }));
}

function tooLarge(limit: number): GatewayError {
  return {
    status: 413,
    message: `The request body is larger than the gateway's limit of ${limit} bytes.`,
    type: "invalid_request_error",
    code: "request_too_large",
  };
}

/** Answers a request the gateway turns away before any provider is involved. */
export function refuse(reply: Reply, metrics: LaneMetrics, error: GatewayError): void {
  sendError(reply, error);
  metrics.recordAnswered(error.status);
}
