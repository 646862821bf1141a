import { type GatewayError, gatewayError } from "../errors.js";
import type { ChatRequest, EmbeddingsRequest } from "../formats/canonical.js";
import { InvalidRequest } from "../formats/format.js";
import { checkChatRequest } from "../formats/validate.js";
import { ExchangeAccount } from "../observability/account.js";
import {
  ProviderStreamError,
  type Target,
  UnsupportedRequest,
  type UpstreamRequest,
} from "../providers/adapter.js";
import { adapterFor } from "../providers/registry.js";
import type { AttemptReport } from "../routing/attempts.js";
import type { PlanCandidate } from "../routing/candidates.js";
import { ConvertRelay } from "../upstream/convert-relay.js";
import { sendUpstream } from "../upstream/pools.js";
import { crashFailure } from "../upstream/relay-core.js";
import { parseLimitOf, tooLargeToParse } from "./body-fields.js";
import { dispatchAttempt, refusedAttempt } from "./inbound.js";
import type { InboundRequest } from "./pipeline.js";

// The convert leg: the provider speaks another wire format than the client, so the body is parsed once
// into the canonical request (OpenAI's chat shape), and for each candidate that needs it the adapter
// builds the provider's own request; its reply is converted back on the way out (ConvertRelay).

/** A client body parsed into the canonical request, ready for any candidate's adapter. */
export interface CanonicalBody {
  readonly request: ChatRequest | EmbeddingsRequest;
  readonly stream: boolean;
}

/** Sends one attempt to `candidate` by way of its adapter. */
export function sendConverted(
  request: InboundRequest,
  candidate: PlanCandidate,
  attempt: AttemptReport,
): void {
  request.canonical ??= parseCanonical(request, candidate);
  const parsed = request.canonical;
  if ("status" in parsed) {
    attempt.failed(refusedAttempt(request, parsed));
    return;
  }
  const { route, reply, metrics } = request;
  const { provider, model, keyIndex } = candidate;
  const adapter = adapterFor(provider.config.kind);
  const target: Target = {
    provider,
    key: provider.keys[keyIndex] as Target["key"],
    keyIndex,
    model,
    stream: parsed.stream,
    anthropicBeta: request.head.anthropicBeta,
  };
  const operation = route.operation === "embeddings" ? "embeddings" : "chat";
  let built: UpstreamRequest | Promise<UpstreamRequest>;
  try {
    if (operation === "chat") built = adapter.chatRequest(parsed.request as ChatRequest, target);
    else if (adapter.embeddingsRequest !== undefined)
      built = adapter.embeddingsRequest(parsed.request as EmbeddingsRequest, target, sendUpstream);
    else throw new UnsupportedRequest(`Provider '${provider.name}' does not offer embeddings.`, "model");
  } catch (error) {
    if (isBug(error)) throw error;
    attempt.failed(refusedAttempt(request, unbuildable(error)));
    return;
  }

  const account = new ExchangeAccount(metrics, provider.name, model, request.startedAt);
  const send = (upstream: UpstreamRequest) => {
    const relay = new ConvertRelay(
      reply,
      route.format,
      adapter,
      target,
      operation,
      request.model,
      account,
      {
        includeUsage: parsed.stream && (parsed.request as ChatRequest).stream_options?.include_usage === true,
      },
      attempt,
      request.hooks,
    );
    dispatchAttempt(request, candidate, upstream, relay, account);
  };
  if (!(built instanceof Promise)) {
    send(built);
    return;
  }
  // Signing or token exchange (Vertex, Bedrock) may be asynchronous.
  built
    .then(send, (error: unknown) => {
      if (isBug(error)) throw error;
      const failure = unbuildable(error);
      account.finish(failure.status, failure.status >= 500 ? "provider" : "client");
      attempt.failed(refusedAttempt(request, failure, true));
    })
    .catch((error: unknown) => {
      account.finish(500, "gateway");
      attempt.failed(crashFailure(reply, metrics, request.errorBody, error, true));
    });
}

/** The body as the canonical request; the error to answer when it cannot be (for this candidate's kind). */
function parseCanonical(request: InboundRequest, candidate: PlanCandidate): CanonicalBody | GatewayError {
  const { route } = request;
  if (route.operation === "completions") {
    return gatewayError(
      "unsupported_endpoint",
      `Provider '${candidate.provider.name}' does not offer legacy completions; use /v1/chat/completions.`,
      "model",
    );
  }
  const limit = parseLimitOf(request.table);
  if (request.body.length > limit) return tooLargeToParse(limit);
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body.toString("utf8"));
  } catch (error) {
    return gatewayError("invalid_json", `The request body is not valid JSON: ${(error as Error).message}`);
  }
  try {
    if (route.operation === "embeddings") return { request: embeddingsOf(parsed), stream: false };
    const chat = route.format.toCanonical(parsed, route.pathModel, route.pathStream);
    checkChatRequest(chat);
    return { request: chat, stream: chat.stream === true };
  } catch (error) {
    if (!(error instanceof InvalidRequest)) throw error;
    return gatewayError("invalid_request", error.message, error.param);
  }
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

/** An error of the gateway's own code, answered, logged and counted as an internal error by the guards. */
function isBug(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError;
}

/** Why the provider request could not be built. */
function unbuildable(error: unknown): GatewayError {
  if (error instanceof UnsupportedRequest)
    return gatewayError("unsupported_parameter", error.message, error.param);
  // A provider call made while building the request (Bedrock's Titan fan-out) failed with the provider's error.
  if (error instanceof ProviderStreamError) return error.error;
  return gatewayError(
    "internal_error",
    `The gateway could not build the provider request: ${(error as Error).message}`,
  );
}
