import type { ChatRequest } from "../../formats/canonical.js";
import { type ProviderAdapter, UnsupportedRequest } from "../adapter.js";
import { openAIChatFields, openAICompatibleAdapter } from "../openai/adapter.js";

// Where a member of the OpenAI-compatible family departs from OpenAI's request body in a documented way,
// as data: a new difference is one line here. These apply to requests converted from another client format
// (the convert leg); an OpenAI client's own body still passes through as bytes, as the client wrote it.
// Differences in URL (Perplexity serves its API at the root, without /v1) live in the catalog's `openaiPath`.

export interface CompatibleParams {
  /** OpenAI's name → the provider's name for the same parameter. */
  readonly rename?: Readonly<Record<string, string>>;
  /** Parameters the provider refuses although it already behaves as they ask: left out. */
  readonly omit?: readonly string[];
  /** Parameters the provider refuses and cannot honour: dropped under drop_params, otherwise a 400. */
  readonly unsupported?: readonly string[];
  /** The provider returns one choice only; `n` above 1 is unsupported. */
  readonly singleChoice?: boolean;
}

export const COMPATIBLE_PARAMS: Readonly<Record<string, CompatibleParams>> = {
  // Mistral's chat API names the limit max_tokens and the seed random_seed, and rejects unknown fields
  // (422 extra_forbidden) including stream_options; its streams end with usage without being asked.
  mistral: {
    rename: { max_completion_tokens: "max_tokens", seed: "random_seed" },
    omit: ["stream_options"],
  },
  // Groq's OpenAI compatibility: logprobs, logit_bias and top_logprobs are not supported, n must be 1.
  groq: { unsupported: ["logprobs", "logit_bias", "top_logprobs"], singleChoice: true },
};

/** Applies a provider's parameter map to an OpenAI request body (mutating it). */
export function applyParams(
  params: CompatibleParams,
  body: Record<string, unknown>,
  request: ChatRequest,
  provider: string,
): Record<string, unknown> {
  const drop = request.drop_params === true;
  const refuse = (param: string) => {
    if (!drop) throw new UnsupportedRequest(`${provider} does not support '${param}'.`, param);
    delete body[param];
  };
  if (params.singleChoice === true && typeof body.n === "number" && body.n !== 1) refuse("n");
  for (const param of params.unsupported ?? []) if (body[param] !== undefined) refuse(param);
  for (const param of params.omit ?? []) delete body[param];
  for (const [from, to] of Object.entries(params.rename ?? {})) {
    if (body[from] === undefined) continue;
    // max_tokens and max_completion_tokens mean the same; the newer name wins, as OpenAI's API has it.
    body[to] = body[from];
    delete body[from];
  }
  return body;
}

/** Adapters for the family members that have a parameter map; the rest use the OpenAI adapter as it is. */
export const compatibleAdapters: ProviderAdapter[] = Object.entries(COMPATIBLE_PARAMS).map(
  ([kind, params]): ProviderAdapter => ({
    ...openAICompatibleAdapter,
    kinds: [kind],
    chatRequest(chat, target) {
      const body = applyParams(params, openAIChatFields(chat, target.model), chat, target.provider.name);
      const endpoint = target.provider.endpoints[target.keyIndex];
      if (endpoint === undefined) throw new Error(`no endpoint for key ${target.keyIndex}`);
      return {
        origin: endpoint.origin,
        path: endpoint.path("/chat/completions", target.model),
        method: "POST",
        headers: [...endpoint.headers],
        body: JSON.stringify(body),
      };
    },
  }),
);
