import type { CanonicalError, ChatRequest, EmbeddingsRequest } from "../formats/canonical.js";
import { type InboundFormat, InvalidRequest } from "../formats/format.js";
import { checkChatRequest } from "../formats/validate.js";
import type { GatewayError } from "../http/errors.js";
import type { Reply } from "../http/exchange.js";
import { ExchangeAccount } from "../observability/account.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import {
  ProviderStreamError,
  type Target,
  UnsupportedRequest,
  type UpstreamRequest,
} from "../providers/adapter.js";
import { adapterFor } from "../providers/registry.js";
import { type AttemptHook, attemptCrashed, type Failure, runAttempts } from "../routing/attempts.js";
import { candidatesFor, type RouteCandidate } from "../routing/candidates.js";
import { checkFallbacks, checkModelName } from "../routing/model-name.js";
import type { RoutingTable } from "../routing/table.js";
import { dispatchUpstream, sendUpstream } from "../upstream/pools.js";
import { type Operation, TranscodeHandler } from "../upstream/transcode-relay.js";
import { parseLimitOf, requestDeadline, takeObjectExtras, tooLargeToParse } from "./extras.js";

// A request whose client format differs from the provider's wire format, end to end:
// parse → canonical request → model resolution → key → provider request → upstream → convert back.

export interface TranscodeInput {
  readonly table: RoutingTable;
  readonly metrics: LaneMetrics;
  readonly format: InboundFormat;
  readonly operation: Operation;
  readonly reply: Reply;
  readonly body: Buffer;
  readonly requestId: string;
  /** performance.now() when the body was complete. */
  readonly startedAt: number;
  /** Gemini-style routes carry the model and streaming in the URL. */
  readonly pathModel?: string;
  readonly pathStream?: boolean;
  /** The client's `anthropic-beta` header, for providers that speak Anthropic's API. */
  readonly anthropicBeta?: string;
  /** The client's x-switchyard-timeout header ("" when absent). */
  readonly timeoutHeader: string;
}

/** A client request parsed and converted once, ready to be sent to any candidate. */
export interface Prepared {
  readonly input: TranscodeInput;
  readonly request: ChatRequest | EmbeddingsRequest;
  readonly stream: boolean;
  /** Bifrost's `fallbacks` body field. */
  readonly fallbacks: readonly string[] | undefined;
  /** LiteLLM's `timeout` body field, in ms; 0 when absent. */
  readonly timeoutMs: number;
}

export function transcode(input: TranscodeInput): void {
  const prepared = prepareTranscode(input);
  if ("status" in prepared) {
    refuseInFormat(input, prepared);
    return;
  }
  const plan = candidatesFor(input.table, prepared.request.model);
  if ("status" in plan) {
    refuseInFormat(input, canonical(plan));
    return;
  }
  runAttempts({
    table: input.table,
    metrics: input.metrics,
    reply: input.reply,
    startedAt: input.startedAt,
    plan,
    requestFallbacks: prepared.fallbacks,
    deadlineMs: requestDeadline(input.table, input.timeoutHeader, prepared.timeoutMs),
    errorBody: (error) => input.format.errorBody(canonical(error)),
    send: (candidate, hook) => sendTranscoded(prepared, candidate, hook),
  });
}

/** Parses the client body into the canonical request; the error to answer when it cannot. */
export function prepareTranscode(input: TranscodeInput): Prepared | CanonicalError {
  const limit = parseLimitOf(input.table);
  if (input.body.length > limit) return canonical(tooLargeToParse(limit));
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.body.toString("utf8"));
  } catch (error) {
    return invalid(`The request body is not valid JSON: ${(error as Error).message}`, "invalid_json");
  }
  const extras =
    typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? takeObjectExtras(parsed as Record<string, unknown>)
      : undefined;
  let request: ChatRequest | EmbeddingsRequest;
  try {
    if (input.operation === "chat") {
      const chat = input.format.toCanonical(parsed, input.pathModel, input.pathStream);
      checkChatRequest(chat);
      request = chat;
    } else request = embeddingsOf(parsed);
  } catch (error) {
    if (!(error instanceof InvalidRequest)) throw error;
    return invalid(error.message, null, error.param);
  }
  const unsafe = checkModelName(request.model) ?? checkFallbacks(extras?.fallbacks);
  if (unsafe !== undefined) return canonical(unsafe);
  return {
    input,
    request,
    stream: input.operation === "chat" && (request as ChatRequest).stream === true,
    fallbacks: extras?.fallbacks,
    timeoutMs: extras?.timeoutMs ?? 0,
  };
}

/** One attempt: the canonical request converted for `candidate`'s provider and sent. */
export function sendTranscoded(
  prepared: Prepared,
  candidate: RouteCandidate,
  hook: AttemptHook | undefined,
): void {
  const { input, request, stream } = prepared;
  const { provider, model, keyIndex } = candidate;
  const adapter = adapterFor(provider.config.kind);
  const target: Target = {
    provider,
    key: provider.keys[keyIndex] as Target["key"],
    keyIndex,
    model,
    stream,
    anthropicBeta: input.anthropicBeta,
  };
  const headers = hook?.headers ?? candidate.firstHeaders;

  let built: UpstreamRequest | Promise<UpstreamRequest>;
  try {
    if (input.operation === "chat") built = adapter.chatRequest(request as ChatRequest, target);
    else if (adapter.embeddingsRequest !== undefined)
      built = adapter.embeddingsRequest(request as EmbeddingsRequest, target, sendUpstream);
    else throw new UnsupportedRequest(`Provider '${provider.name}' does not offer embeddings.`, "model");
  } catch (error) {
    if (isBug(error)) throw error;
    answerBeforeSending(input, unsupported(error), hook);
    return;
  }

  const account = new ExchangeAccount(input.metrics, provider.name, model, input.startedAt);
  const send = (upstream: UpstreamRequest) => {
    const handler = new TranscodeHandler(
      input.reply,
      input.format,
      adapter,
      target,
      input.operation,
      request.model,
      account,
      { includeUsage: stream && (request as ChatRequest).stream_options?.include_usage === true },
      headers,
      hook,
    );
    dispatchUpstream(
      upstream.origin,
      provider.config.network,
      {
        path: upstream.path,
        method: upstream.method,
        headers: [...upstream.headers, "x-request-id", input.requestId],
        body: upstream.body,
        headersTimeout: candidate.firstByteTimeoutMs,
        bodyTimeout: candidate.idleTimeoutMs,
      },
      handler,
      account,
    );
  };
  if (built instanceof Promise) {
    // Signing or token exchange (Vertex, Bedrock) may be asynchronous.
    built
      .then(send, (error: unknown) => {
        if (isBug(error)) throw error;
        const failure = unsupported(error);
        account.finish(failure.status);
        if (hook !== undefined) hook.failed(clientFailure(input, failure));
        else sendFormatError(input.reply, input.format, failure);
      })
      .catch((error: unknown) => {
        account.finish(500);
        const errorBody = (e: GatewayError) => input.format.errorBody(canonical(e));
        attemptCrashed(input.reply, input.metrics, errorBody, hook, error, true);
      });
  } else send(built);
}

/** Where an error goes back to the client: its reply, in its wire format, counted in its lane. */
export interface ClientSide {
  readonly reply: Reply;
  readonly metrics: LaneMetrics;
  readonly format: InboundFormat;
}

/**
 * An error found before an attempt reached a provider (the body cannot be converted for it, or the
 * request cannot be built), answered in the client's format: by the attempt loop when one runs, which
 * adds its headers and knows a client's error is not retried, else at once.
 */
export function answerBeforeSending(
  client: ClientSide,
  error: CanonicalError,
  hook: AttemptHook | undefined,
): void {
  if (hook === undefined) {
    refuseInFormat(client, error);
    return;
  }
  client.metrics.recordAnswered(error.status);
  hook.failed(clientFailure(client, error));
}

function clientFailure(client: ClientSide, error: CanonicalError): Failure {
  return {
    kind: error.status >= 500 ? "server" : "client",
    status: error.status,
    retryAfterMs: -1,
    deliver(headers) {
      client.reply.start(error.status, [["content-type", "application/json"], ...headers]);
      client.reply.end(client.format.errorBody(error));
    },
  };
}

function embeddingsOf(body: unknown): EmbeddingsRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidRequest("The request body must be a JSON object.");
  }
  const request = body as Record<string, unknown>;
  if (typeof request.model !== "string" || request.model === "") {
    throw new InvalidRequest("you must provide a model parameter", "model");
  }
  const input = request.input;
  if (input === undefined) throw new InvalidRequest("'input' is required", "input");
  if (typeof input !== "string" && !Array.isArray(input)) {
    throw new InvalidRequest("'input' must be a string or an array", "input");
  }
  return request as unknown as EmbeddingsRequest;
}

function invalid(message: string, code: string | null = null, param: string | null = null): CanonicalError {
  return { status: 400, message, type: "invalid_request_error", code, param };
}

export function canonical(error: GatewayError): CanonicalError {
  return {
    status: error.status,
    message: error.message,
    type: error.type,
    code: error.code,
    param: error.param ?? null,
  };
}

/** An error of the gateway's own code, answered, logged and counted as an internal error by the guards. */
function isBug(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError;
}

function unsupported(error: unknown): CanonicalError {
  if (error instanceof UnsupportedRequest)
    return invalid(error.message, "unsupported_parameter", error.param);
  // A provider call made while building the request (Bedrock's Titan fan-out) failed with the provider's error.
  if (error instanceof ProviderStreamError) return error.error;
  return {
    status: 500,
    message: `The gateway could not build the provider request: ${(error as Error).message}`,
    type: "api_error",
    code: "internal_error",
    param: null,
  };
}

export function sendFormatError(reply: Reply, format: InboundFormat, error: CanonicalError): void {
  reply.start(error.status, [["content-type", "application/json"]]);
  reply.end(format.errorBody(error));
}

/** A request the gateway answers itself, in the client's wire format, before any provider is asked. */
export function refuseInFormat(client: ClientSide, error: CanonicalError): void {
  sendFormatError(client.reply, client.format, error);
  client.metrics.recordAnswered(error.status);
}
