import type { CanonicalError, ChatRequest, EmbeddingsRequest } from "../formats/canonical.js";
import { type InboundFormat, InvalidRequest } from "../formats/format.js";
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
import { pickKey, resolveModel } from "../routing/resolve.js";
import type { RoutingTable } from "../routing/table.js";
import { poolFor } from "../upstream/pools.js";
import { type Operation, TranscodeHandler } from "../upstream/transcode-relay.js";

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
}

export function transcode(input: TranscodeInput): void {
  const { table, metrics, format, reply } = input;
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.body.toString("utf8"));
  } catch (error) {
    refuse(input, invalid(`The request body is not valid JSON: ${(error as Error).message}`, "invalid_json"));
    return;
  }

  let request: ChatRequest | EmbeddingsRequest;
  try {
    request =
      input.operation === "chat"
        ? format.toCanonical(parsed, input.pathModel, input.pathStream)
        : embeddingsOf(parsed);
  } catch (error) {
    if (!(error instanceof InvalidRequest)) throw error;
    refuse(input, invalid(error.message, null, error.param));
    return;
  }

  const resolved = resolveModel(table, request.model);
  if ("status" in resolved) {
    refuse(input, canonical(resolved));
    return;
  }
  const { provider, model } = resolved;
  const keyIndex = pickKey(provider, model);
  if (keyIndex < 0) {
    refuse(input, {
      status: 404,
      message: `No key of provider '${provider.name}' is configured for model '${model}'.`,
      type: "invalid_request_error",
      code: "model_not_found",
      param: "model",
    });
    return;
  }
  const adapter = adapterFor(provider.config.kind);
  const stream = input.operation === "chat" && (request as ChatRequest).stream === true;
  const target: Target = {
    provider,
    key: provider.keys[keyIndex] as Target["key"],
    keyIndex,
    model,
    stream,
    anthropicBeta: input.anthropicBeta,
  };

  let built: UpstreamRequest | Promise<UpstreamRequest>;
  try {
    if (input.operation === "chat") built = adapter.chatRequest(request as ChatRequest, target);
    else if (adapter.embeddingsRequest !== undefined)
      built = adapter.embeddingsRequest(request as EmbeddingsRequest, target);
    else throw new UnsupportedRequest(`Provider '${provider.name}' does not offer embeddings.`, "model");
  } catch (error) {
    refuse(input, unsupported(error));
    return;
  }

  const account = new ExchangeAccount(metrics, provider.name, model, input.startedAt);
  const send = (upstream: UpstreamRequest) => {
    const handler = new TranscodeHandler(
      reply,
      format,
      adapter,
      target,
      input.operation,
      request.model,
      account,
      { includeUsage: stream && (request as ChatRequest).stream_options?.include_usage === true },
    );
    poolFor(upstream.origin).dispatch(
      {
        path: upstream.path,
        method: upstream.method,
        headers: [...upstream.headers, "x-request-id", input.requestId],
        body: upstream.body,
        headersTimeout: provider.config.network.requestTimeoutMs,
        bodyTimeout: provider.config.network.requestTimeoutMs,
      },
      handler,
    );
    account.dispatched();
  };
  if (built instanceof Promise) {
    // Signing or token exchange (Vertex, Bedrock) may be asynchronous.
    built.then(send, (error: unknown) => {
      const failure = unsupported(error);
      account.finish(failure.status);
      sendFormatError(reply, format, failure);
    });
  } else send(built);
}

function embeddingsOf(body: unknown): EmbeddingsRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidRequest("The request body must be a JSON object.");
  }
  const request = body as Record<string, unknown>;
  if (typeof request.model !== "string" || request.model === "") {
    throw new InvalidRequest("you must provide a model parameter", "model");
  }
  if (request.input === undefined) throw new InvalidRequest("'input' is required", "input");
  return request as unknown as EmbeddingsRequest;
}

function invalid(message: string, code: string | null = null, param: string | null = null): CanonicalError {
  return { status: 400, message, type: "invalid_request_error", code, param };
}

function canonical(error: GatewayError): CanonicalError {
  return {
    status: error.status,
    message: error.message,
    type: error.type,
    code: error.code,
    param: error.param ?? null,
  };
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

function refuse(input: TranscodeInput, error: CanonicalError): void {
  sendFormatError(input.reply, input.format, error);
  input.metrics.record("", "", error.status, -1, -1, 0, 0);
}
