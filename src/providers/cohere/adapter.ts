import type { ProviderAdapter, Target, UpstreamRequest } from "../adapter.js";
import { providerError } from "../provider-error.js";
import type { KeyEndpoint } from "../route.js";
import { cohereChatBody, cohereEmbedBody } from "./request.js";
import { cohereChatResponse, cohereEmbedResponse, cohereStreamDecoder } from "./response.js";

// Cohere's own v2 API: POST /v2/chat (streamed as typed SSE events) and POST /v2/embed, Bearer auth.
// Its errors are `{"id", "message"}` with the HTTP status; they become canonical errors with that status.

/** Embedding requests that asked for base64, so the reply's floats are encoded on the way back. */
const wantsBase64 = new WeakSet<Target>();

function request(target: Target, path: string, body: Record<string, unknown>): UpstreamRequest {
  const endpoint = target.provider.endpoints[target.keyIndex] as KeyEndpoint;
  return {
    origin: endpoint.origin,
    // A base URL given with the API version (…/v2) still reaches the same paths.
    path: endpoint.path("", target.model).replace(/\/v[12]$/, "") + path,
    method: "POST",
    headers: [...endpoint.headers],
    body: JSON.stringify(body),
  };
}

export const cohereAdapter: ProviderAdapter = {
  kinds: ["cohere"],

  chatRequest: (chat, target) => request(target, "/v2/chat", cohereChatBody(chat, target.model)),

  chatResponse: (body, target) => cohereChatResponse(body, target.model),

  chatStream: (target) => cohereStreamDecoder(target.model),

  embeddingsRequest(embeddings, target) {
    if (embeddings.encoding_format === "base64") wantsBase64.add(target);
    return request(target, "/v2/embed", cohereEmbedBody(embeddings, target.model));
  },

  embeddingsResponse: (body, target) => cohereEmbedResponse(body, target.model, wantsBase64.has(target)),

  error: (status, body, target) => providerError(status, target.provider.name, body),
};
