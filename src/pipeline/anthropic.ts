import { estimateInputTokens } from "../formats/anthropic/count.js";
import { anthropicErrorBody, anthropicFormat } from "../formats/anthropic/format.js";
import type { CanonicalError } from "../formats/canonical.js";
import type { GatewayError } from "../http/errors.js";
import type { Reply, RequestHead } from "../http/exchange.js";
import { guarded } from "../http/internal-error.js";
import { rewriteModel, type ScanResult, scanRequest } from "../native/index.js";
import { ExchangeAccount } from "../observability/account.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import { anthropicUpstream } from "../providers/anthropic/adapter.js";
import { anthropicError } from "../providers/anthropic/response.js";
import type { ProviderRoute } from "../providers/route.js";
import { type AttemptHook, runAttempts } from "../routing/attempts.js";
import { candidatesFor, type RouteCandidate } from "../routing/candidates.js";
import { checkModelName, repeatedModel } from "../routing/model-name.js";
import type { RoutingTable } from "../routing/table.js";
import { dispatchUpstream } from "../upstream/pools.js";
import { type RelayErrors, RelayHandler } from "../upstream/relay.js";
import { checkBodyModels, parseLimitOf, requestDeadline, scanBody } from "./extras.js";
import {
  answerBeforeSending,
  type Prepared,
  prepareTranscode,
  sendFormatError,
  sendTranscoded,
} from "./transcode.js";

// Anthropic clients (/anthropic/v1/messages and count_tokens). To an Anthropic provider the body passes
// through as bytes with only the model rewritten, so unknown fields and beta features reach Anthropic
// untouched; to any other provider `convert` transcodes it.

export const ANTHROPIC_ERRORS: RelayErrors = {
  provider(status, provider, body) {
    // Anthropic's own error bodies go through as they are; anything else (a proxy's HTML page) is rewrapped.
    const text = body.toString("utf8");
    return isAnthropicError(text) ? text : anthropicErrorBody(anthropicError(status, body, provider));
  },
  gateway: (error) => anthropicErrorBody(canonical(error)),
  sseEvent: (error) => `event: error\ndata: ${anthropicErrorBody(canonical(error))}\n\n`,
};

function isAnthropicError(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as { type?: unknown; error?: { message?: unknown } };
    return parsed.type === "error" && typeof parsed.error?.message === "string";
  } catch {
    return false;
  }
}

function canonical(error: GatewayError): CanonicalError {
  return { ...error, param: error.param ?? null };
}

interface Resolved {
  readonly provider: ProviderRoute;
  readonly model: string;
  readonly keyIndex: number;
  readonly scan: ScanResult & { ok: true };
}

/** The request's Anthropic provider and key; undefined when it goes elsewhere or cannot be routed. */
function resolveAnthropic(table: RoutingTable, body: Buffer): Resolved | GatewayError | undefined {
  const scan = scanRequest(body);
  if (!scan.ok)
    return {
      status: 400,
      message: `The request body is not valid JSON: ${scan.error}`,
      type: "invalid_request_error",
      code: "invalid_json",
    };
  if (scan.modelRepeated) return repeatedModel;
  if (scan.modelType !== "string" || scan.model === undefined || scan.model === "") {
    return {
      status: 400,
      message: "model: Field required",
      type: "invalid_request_error",
      code: null,
      param: "model",
    };
  }
  const unsafe = checkModelName(scan.model);
  if (unsafe !== undefined) return unsafe;
  // Model groups and aliases resolve as on every other route; the group's first Anthropic member counts.
  const plan = candidatesFor(table, scan.model);
  if ("status" in plan) return plan;
  const anthropic = plan.candidates.find((c) => c.provider.config.kind === "anthropic");
  if (anthropic === undefined) return undefined;
  return { provider: anthropic.provider, model: anthropic.model, keyIndex: anthropic.keyIndex, scan };
}

function relay(
  resolved: Resolved,
  path: string,
  body: Buffer,
  head: RequestHead,
  reply: Reply,
  metrics: LaneMetrics,
  startedAt: number,
  candidate?: RouteCandidate,
  hook?: AttemptHook,
): void {
  const { provider, model, keyIndex, scan } = resolved;
  const upstreamBody =
    model === scan.model ? body : rewriteModel(body, scan.modelStart, scan.modelEnd, model);
  const key = provider.keys[keyIndex] as ProviderRoute["keys"][number];
  const upstream = anthropicUpstream(provider, key, path, upstreamBody, head.anthropicBeta);
  const account = new ExchangeAccount(metrics, provider.name, model, startedAt);
  const network = provider.config.network;
  dispatchUpstream(
    upstream.origin,
    network,
    {
      path: upstream.path,
      method: "POST",
      headers: [...upstream.headers, "x-request-id", head.requestId],
      body: upstream.body,
      headersTimeout: candidate?.firstByteTimeoutMs ?? network.firstByteTimeoutMs ?? network.requestTimeoutMs,
      bodyTimeout: candidate?.idleTimeoutMs ?? network.idleTimeoutMs ?? network.requestTimeoutMs,
    },
    new RelayHandler(
      reply,
      provider.name,
      key.value,
      account,
      ANTHROPIC_ERRORS,
      hook === undefined ? candidate?.firstHeaders : hook.headers,
      hook,
    ),
    account,
  );
}

/**
 * Relays a Messages request to Anthropic providers as bytes. Returns false when no candidate of the model
 * is an Anthropic provider or the body cannot be routed: the caller then transcodes (and reports any
 * error). Candidates of another kind (in the group, or fallbacks) are converted one by one.
 */
export function anthropicPassthrough(
  table: RoutingTable,
  metrics: LaneMetrics,
  head: RequestHead,
  reply: Reply,
  received: Buffer,
  startedAt: number,
): boolean {
  const { body, scan, extras, refusal } = scanBody(received, parseLimitOf(table));
  if (refusal !== undefined) {
    refuse(reply, metrics, refusal);
    return true;
  }
  // A repeated model would reach Anthropic as it is, so it is refused here rather than by the transcoder.
  const invalid = scan.ok ? checkBodyModels(scan, extras) : undefined;
  if (invalid !== undefined) {
    refuse(reply, metrics, invalid);
    return true;
  }
  if (!scan.ok || scan.modelType !== "string" || scan.model === undefined || scan.model === "") return false;
  const plan = candidatesFor(table, scan.model);
  // The leg is chosen per candidate (sendAnthropic): a group with any Anthropic member takes this way, so
  // its Anthropic members get the bytes as sent whichever deployment comes first.
  if ("status" in plan || !plan.candidates.some((c) => c.provider.config.kind === "anthropic")) return false;
  const request: AnthropicRequest = {
    table,
    metrics,
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
    errorBody: ANTHROPIC_ERRORS.gateway,
    send: (candidate, hook) => sendAnthropic(request, candidate, hook),
  });
  return true;
}

interface AnthropicRequest {
  readonly table: RoutingTable;
  readonly metrics: LaneMetrics;
  readonly head: RequestHead;
  readonly reply: Reply;
  readonly body: Buffer;
  readonly scan: ScanResult & { ok: true };
  readonly startedAt: number;
  /** The parsed body, once a candidate of another kind needed it converted. */
  prepared: Prepared | CanonicalError | undefined;
}

function sendAnthropic(
  request: AnthropicRequest,
  candidate: RouteCandidate,
  hook: AttemptHook | undefined,
): void {
  const { provider, model, keyIndex } = candidate;
  if (provider.config.kind === "anthropic") {
    relay(
      { provider, model, keyIndex, scan: request.scan },
      "/messages",
      request.body,
      request.head,
      request.reply,
      request.metrics,
      request.startedAt,
      candidate,
      hook,
    );
    return;
  }
  request.prepared ??= prepareTranscode({
    table: request.table,
    metrics: request.metrics,
    format: anthropicFormat,
    operation: "chat",
    reply: request.reply,
    body: request.body,
    requestId: request.head.requestId,
    startedAt: request.startedAt,
    anthropicBeta: request.head.anthropicBeta,
    timeoutHeader: request.head.timeout,
  });
  const prepared = request.prepared;
  if (!("status" in prepared)) {
    sendTranscoded(prepared, candidate, hook);
    return;
  }
  answerBeforeSending(
    { reply: request.reply, metrics: request.metrics, format: anthropicFormat },
    prepared,
    hook,
  );
}

/**
 * POST /anthropic/v1/messages/count_tokens: Anthropic's own count for Anthropic models; for any other
 * model an o200k_base estimate over the request's text (see src/formats/anthropic/count.ts).
 */
export function anthropicCountTokens(
  table: RoutingTable,
  metrics: LaneMetrics,
  head: RequestHead,
  reply: Reply,
): void {
  const client = table.config.client;
  const limit = Math.min(client.maxCountTokensBodyBytes, client.maxRequestBodyBytes);
  const tooLarge = () =>
    refuse(reply, metrics, {
      status: 413,
      message: `The request body is larger than the gateway's limit of ${limit} bytes for count_tokens.`,
      type: "request_too_large",
      code: "request_too_large",
    });
  if (head.contentLength > limit) {
    tooLarge();
    return;
  }
  const onBody = (body: Buffer | null, overLimit: boolean): void => {
    if (body === null) {
      if (overLimit) tooLarge();
      return;
    }
    const startedAt = performance.now();
    const resolved = resolveAnthropic(table, body);
    if (resolved !== undefined && "status" in resolved) {
      refuse(reply, metrics, resolved);
      return;
    }
    if (resolved !== undefined) {
      relay(resolved, "/messages/count_tokens", body, head, reply, metrics, startedAt);
      return;
    }
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    if (!Array.isArray((parsed as { messages?: unknown }).messages)) {
      refuse(reply, metrics, {
        status: 400,
        message: "messages: Field required",
        type: "invalid_request_error",
        code: null,
        param: "messages",
      });
      return;
    }
    reply.start(200, [["content-type", "application/json"]]);
    reply.end(`{"input_tokens":${estimateInputTokens(parsed)}}`);
    metrics.record("", "", 200, -1, (performance.now() - startedAt) / 1000, 0, 0);
  };
  reply.readBody(limit, guarded(reply, metrics, ANTHROPIC_ERRORS.gateway, onBody));
}

function refuse(reply: Reply, metrics: LaneMetrics, error: GatewayError): void {
  sendFormatError(reply, anthropicFormat, canonical(error));
  metrics.recordAnswered(error.status);
}
