import type { ProviderKey } from "../../config/types.js";
import { ANTHROPIC_VERSION } from "../../formats/anthropic/wire.js";
import type { ProviderAdapter, Target, UpstreamRequest } from "../adapter.js";
import type { CompiledProvider } from "../route.js";
import { anthropicRequest } from "./request.js";
import { anthropicError, chatResponse, chatStream } from "./response.js";

// Anthropic's Messages API (POST {base}/v1/messages). The catalog's API path for Anthropic is "/v1", so a
// base URL given with or without /v1 both work.

/** Per key of a configuration snapshot (keys are immutable objects): auth, version and configured extras. */
const headerCache = new WeakMap<ProviderKey, readonly string[]>();

/** Headers for a request to Anthropic's API with this key. */
export function anthropicHeaders(provider: CompiledProvider, key: ProviderKey): readonly string[] {
  let headers = headerCache.get(key);
  if (headers === undefined) {
    const list = ["content-type", "application/json", "anthropic-version", ANTHROPIC_VERSION];
    if (key.value !== "") list.push("x-api-key", key.value);
    for (const [name, value] of Object.entries(provider.config.network.extraHeaders)) list.push(name, value);
    headers = list;
    headerCache.set(key, headers);
  }
  return headers;
}

/** The upstream request for an Anthropic API path ("/messages", "/messages/count_tokens"). */
export function anthropicUpstream(
  provider: CompiledProvider,
  key: ProviderKey,
  path: string,
  body: string | Buffer,
  beta: string | undefined,
): UpstreamRequest {
  const headers = [...anthropicHeaders(provider, key)];
  if (beta !== undefined && beta !== "") headers.push("anthropic-beta", beta);
  return { origin: provider.origin, path: `${provider.apiPath}${path}`, method: "POST", headers, body };
}

export const anthropicAdapter: ProviderAdapter = {
  kinds: ["anthropic"],

  chatRequest: (chat, target: Target) =>
    anthropicUpstream(
      target.provider,
      target.key,
      "/messages",
      JSON.stringify(anthropicRequest(chat, target.model)),
      target.anthropicBeta,
    ),

  chatResponse: (body) => chatResponse(body),

  chatStream: () => chatStream(),

  error: (status, body, target) => anthropicError(status, body, target.provider.name),
};
