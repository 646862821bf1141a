// Which inbound route reaches which provider kind by which leg, and the tests that prove each pair goes
// through the attempt loop (retries, fallback, the provider concurrency limit). route-matrix.test.ts
// generates its cases from this data; a docs table can be generated from it too. Plain data: no imports.

/** The client-facing wire formats, each with and without streaming where the format streams. */
export const ROUTES = [
  { id: "openai.chat", wire: "openai", method: "POST", path: "/v1/chat/completions", stream: false },
  { id: "openai.chat+stream", wire: "openai", method: "POST", path: "/v1/chat/completions", stream: true },
  { id: "openai.completions", wire: "openai", method: "POST", path: "/v1/completions", stream: false },
  { id: "openai.responses", wire: "openai", method: "POST", path: "/v1/responses", stream: false },
  { id: "openai.embeddings", wire: "openai", method: "POST", path: "/v1/embeddings", stream: false },
  {
    id: "anthropic.messages",
    wire: "anthropic",
    method: "POST",
    path: "/anthropic/v1/messages",
    stream: false,
  },
  {
    id: "anthropic.messages+stream",
    wire: "anthropic",
    method: "POST",
    path: "/anthropic/v1/messages",
    stream: true,
  },
  {
    id: "gemini.generateContent",
    wire: "gemini",
    method: "POST",
    path: "/genai/v1beta/models/{model}:generateContent",
    stream: false,
  },
  {
    id: "gemini.streamGenerateContent",
    wire: "gemini",
    method: "POST",
    path: "/genai/v1beta/models/{model}:streamGenerateContent?alt=sse",
    stream: true,
  },
] as const;

export type RouteSpec = (typeof ROUTES)[number];
export type RouteId = RouteSpec["id"];
/** The error shape a client of the route gets: OpenAI's, Anthropic's or Google's. */
export type Wire = RouteSpec["wire"];

/**
 * Provider kinds, one per adapter (mistral stands for the OpenAI-compatible family). `openAIWire`: takes
 * OpenAI's chat/completions and embeddings as they are (src/providers/registry.ts speaksOpenAI);
 * `embeddings`: offers an embeddings API.
 */
export const KINDS = [
  { id: "openai", openAIWire: true, embeddings: true },
  { id: "mistral", openAIWire: true, embeddings: true },
  { id: "azure", openAIWire: true, embeddings: true },
  { id: "anthropic", openAIWire: false, embeddings: false },
  { id: "gemini", openAIWire: false, embeddings: true },
  { id: "vertex", openAIWire: false, embeddings: true },
  { id: "bedrock", openAIWire: false, embeddings: true },
  { id: "cohere", openAIWire: false, embeddings: true },
] as const;

export type KindSpec = (typeof KINDS)[number];
export type KindId = KindSpec["id"];

/**
 * bytes: the client's body reaches the provider as sent, only the model rewritten. convert: the request
 * is parsed and rewritten in the provider's own format. unsupported: the provider has no such operation;
 * the client gets a clear 4xx in its own format and no provider is called.
 */
export type Leg = "bytes" | "convert" | "unsupported";

/** The leg the gateway is meant to take for a client of `route` sent to a provider of `kind`. */
export function legOf(route: RouteSpec, kind: KindSpec): Leg {
  if (route.id === "openai.embeddings")
    return !kind.embeddings ? "unsupported" : kind.openAIWire ? "bytes" : "convert";
  // Legacy completions have no canonical form: only providers of OpenAI's API serve them.
  if (route.id === "openai.completions") return kind.openAIWire ? "bytes" : "unsupported";
  if (route.id === "openai.responses") return kind.id === "openai" ? "bytes" : "convert";
  if (route.wire === "openai") return kind.openAIWire ? "bytes" : "convert";
  if (route.wire === "anthropic") return kind.id === "anthropic" ? "bytes" : "convert";
  return kind.id === "gemini" ? "bytes" : "convert";
}

/** The names of the tests that prove one pair; `refusal` alone for an unsupported pair. */
export type Proofs =
  | { readonly retries: string; readonly fallback: string; readonly limit: string; readonly leg: string }
  | { readonly refusal: string };

export interface Pair {
  readonly route: RouteSpec;
  readonly kind: KindSpec;
  readonly leg: Leg;
  readonly proofs: Proofs;
}

function proofsOf(leg: Leg): Proofs {
  if (leg === "unsupported")
    return { refusal: "refuses with a 4xx in the client's format, no provider called" };
  return {
    retries: "retries a 500 from the provider and answers 200 with x-switchyard-retries: 1",
    fallback:
      "falls back to the second provider when the first keeps failing (x-switchyard-fallback-index: 1)",
    limit: "refuses a second request with 429 in the client's format while the provider's one slot is taken",
    leg:
      leg === "bytes"
        ? "passes the client's bytes through with only the model rewritten"
        : "converts the request into the provider's own format",
  };
}

export const MATRIX: readonly Pair[] = ROUTES.flatMap((route) =>
  KINDS.map((kind) => {
    const leg = legOf(route, kind);
    return { route, kind, leg, proofs: proofsOf(leg) };
  }),
);

/**
 * Model groups that mix kinds, asked on a route whose own format one member speaks: the other member,
 * listed first, fails; the retry reaches the native member with the client's bytes.
 */
export const MIXED_GROUPS = [
  { route: "anthropic.messages", first: "openai", native: "anthropic" },
  { route: "anthropic.messages+stream", first: "openai", native: "anthropic" },
  { route: "gemini.generateContent", first: "openai", native: "gemini" },
  { route: "openai.chat", first: "anthropic", native: "mistral" },
] as const satisfies readonly { route: RouteId; first: KindId; native: KindId }[];
