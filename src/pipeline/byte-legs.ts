import type { ProviderKey } from "../config/types.js";
import { type GatewayError, gatewayError } from "../errors.js";
import { anthropicErrorBody } from "../formats/anthropic/format.js";
import { geminiErrorBody } from "../formats/gemini/format.js";
import type { RequestHead } from "../http/exchange.js";
import { UnsupportedRequest, type UpstreamRequest } from "../providers/adapter.js";
import { anthropicUpstream } from "../providers/anthropic/adapter.js";
import { anthropicError } from "../providers/anthropic/response.js";
import { geminiHeaders, geminiRoot, modelPath } from "../providers/gemini/adapter.js";
import { geminiError } from "../providers/gemini/response.js";
import { speaksOpenAI } from "../providers/registry.js";
import type { KeyEndpoint } from "../providers/route.js";
import type { PlanCandidate } from "../routing/candidates.js";
import { OPENAI_ERRORS, type RelayErrors } from "../upstream/byte-relay.js";

// The byte leg of each wire format: a provider that speaks the client's format gets the body as the client
// sent it (only the model rewritten, when the model is in the body), so fields the gateway does not know —
// new parameters, beta features — reach it untouched. Each leg knows which provider kinds speak its format,
// where on the provider the request goes, and how its errors are worded.

export interface ByteLeg {
  /** What the docs call it. */
  readonly name: string;
  /** Whether a provider of `kind` takes this format's requests as bytes. */
  takes(kind: string): boolean;
  /**
   * The request to `candidate` for `body`, which is ready to send; a GatewayError when this candidate
   * cannot take it (a model name its API cannot carry).
   */
  upstream(
    candidate: PlanCandidate,
    upstreamPath: string,
    body: Buffer,
    head: RequestHead,
  ): UpstreamRequest | GatewayError;
  readonly errors: RelayErrors;
}

function openAIApiUpstream(
  candidate: PlanCandidate,
  upstreamPath: string,
  body: Buffer,
): UpstreamRequest | GatewayError {
  const endpoint = candidate.provider.endpoints[candidate.keyIndex] as KeyEndpoint;
  let path: string;
  try {
    path = endpoint.path(upstreamPath, candidate.model);
  } catch (error) {
    if (!(error instanceof UnsupportedRequest)) throw error;
    return gatewayError("invalid_model", error.message, error.param);
  }
  return { origin: endpoint.origin, path, method: "POST", headers: endpoint.headers as string[], body };
}

const openaiApi: ByteLeg = {
  name: "OpenAI API",
  takes: speaksOpenAI,
  upstream: openAIApiUpstream,
  errors: OPENAI_ERRORS,
};

const openaiResponses: ByteLeg = {
  name: "OpenAI Responses API",
  takes: (kind) => kind === "openai",
  upstream: openAIApiUpstream,
  errors: OPENAI_ERRORS,
};

const anthropic: ByteLeg = {
  name: "Anthropic Messages API",
  takes: (kind) => kind === "anthropic",
  upstream(candidate, upstreamPath, body, head) {
    const { provider, keyIndex } = candidate;
    const key = provider.keys[keyIndex] as ProviderKey;
    return anthropicUpstream(provider, key, upstreamPath, body, head.anthropicBeta);
  },
  errors: {
    provider(status, provider, body) {
      // Anthropic's own error bodies go through as they are; anything else (a proxy's HTML page) is rewrapped.
      const text = body.toString("utf8");
      return isAnthropicError(text) ? text : anthropicErrorBody(anthropicError(status, body, provider));
    },
    gateway: (error) => anthropicErrorBody(canonical(error)),
    sseEvent: (error) => `event: error\ndata: ${anthropicErrorBody(canonical(error))}\n\n`,
  },
};

const gemini: ByteLeg = {
  name: "Gemini API",
  takes: (kind) => kind === "gemini",
  upstream(candidate, upstreamPath, body) {
    const { provider, model, keyIndex } = candidate;
    let path: string;
    try {
      path = modelPath(model);
    } catch (error) {
      if (!(error instanceof UnsupportedRequest)) throw error;
      return gatewayError("invalid_model", error.message, "model");
    }
    // The route's method and, for streams, only `alt=sse`: a client's own `key=` never reaches the provider.
    return {
      origin: provider.origin,
      path: `${geminiRoot(provider.apiPath)}/v1beta/${path}:${upstreamPath}`,
      method: "POST",
      headers: geminiHeaders(provider, keyIndex),
      body,
    };
  },
  errors: {
    provider(status, provider, body) {
      const error = geminiError(status, body, provider);
      // Google's own envelope goes through as it is; anything else is rewrapped in it.
      return error.code !== null ? body.toString("utf8") : geminiErrorBody(error);
    },
    gateway: (error) => geminiErrorBody(canonical(error)),
    sseEvent: (error) => `data: ${geminiErrorBody(canonical(error))}\r\n\r\n`,
  },
};

export const byteLegs = { openaiApi, openaiResponses, anthropic, gemini } as const;

function isAnthropicError(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as { type?: unknown; error?: { message?: unknown } };
    return parsed.type === "error" && typeof parsed.error?.message === "string";
  } catch {
    return false;
  }
}

const canonical = (error: GatewayError) => ({ ...error, param: error.param ?? null });
