import type { ProviderConfig, ProviderKey } from "../config/types.js";
import type {
  CanonicalError,
  ChatChunk,
  ChatRequest,
  ChatResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from "../formats/canonical.js";
import type { CompiledProvider, KeyEndpoint } from "./route.js";

// What a provider folder (src/providers/<name>/) exports: converters between the canonical shape and the
// provider's wire format, for requests, full responses, stream events and errors, plus its auth.

/** The deployment a request was routed to. */
export interface Target {
  readonly provider: CompiledProvider;
  readonly key: ProviderKey;
  readonly keyIndex: number;
  /** The model as the provider knows it (prefix removed, aliases resolved). */
  readonly model: string;
  readonly stream: boolean;
  /** The client's `anthropic-beta` header, passed on to providers that speak Anthropic's API. */
  readonly anthropicBeta?: string;
}

export interface UpstreamRequest {
  /** scheme://host[:port]; usually the provider's origin, but region- or deployment-specific for some. */
  readonly origin: string;
  readonly path: string;
  readonly method: "POST" | "GET";
  /** Flat [name, value, name, value, ...] as the upstream client takes them. */
  readonly headers: string[];
  readonly body: string | Buffer;
}

/** A provider's whole reply to a request an adapter sent itself. */
export interface UpstreamReply {
  readonly status: number;
  /** Lower-case names, as the upstream client gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/**
 * Sends a request through the lane's connection pool for its origin and reads the whole reply (Bedrock's
 * Titan embeds one text per request: all but the last go this way). The upstream layer supplies it.
 */
export type SendUpstream = (request: UpstreamRequest, timeoutMs: number) => Promise<UpstreamReply>;

/** Turns a provider's streamed bytes into canonical chunks as they arrive. */
export interface StreamDecoder {
  /** Bytes as they came off the wire (any split); returns the chunks they completed. */
  push(bytes: Buffer): ChatChunk[];
  /** The provider ended its body; returns whatever was still pending. */
  end(): ChatChunk[];
}

export interface ProviderAdapter {
  /** Catalog kinds this adapter serves, e.g. ["anthropic"]. */
  readonly kinds: readonly string[];
  chatRequest(request: ChatRequest, target: Target): UpstreamRequest | Promise<UpstreamRequest>;
  chatResponse(body: Buffer, target: Target): ChatResponse;
  chatStream(target: Target): StreamDecoder;
  /** `send` is for requests the adapter needs answered before it can build the one the gateway relays. */
  embeddingsRequest?(
    request: EmbeddingsRequest,
    target: Target,
    send: SendUpstream,
  ): UpstreamRequest | Promise<UpstreamRequest>;
  embeddingsResponse?(body: Buffer, target: Target): EmbeddingsResponse;
  /** The provider's error reply (status >= 400) in the canonical shape; `headers` are the reply's (lower-case). */
  error(
    status: number,
    body: Buffer,
    target: Target,
    headers?: Readonly<Record<string, string | string[] | undefined>>,
  ): CanonicalError;
  /**
   * Present when the provider takes OpenAI's wire format as it is, so that an OpenAI client's body passes
   * through as bytes with only the model rewritten. Called once per key when a configuration is compiled:
   * returns where that key's requests go, given the standard endpoint (base URL + API path, catalog auth).
   */
  readonly openAIEndpoint?: (
    provider: ProviderConfig,
    key: ProviderKey,
    standard: KeyEndpoint,
  ) => KeyEndpoint;
}

/**
 * A request the provider cannot take as it is: a parameter with no equivalent and `drop_params` off, a
 * content type it does not accept. The client gets a 400 naming the parameter.
 */
export class UnsupportedRequest extends Error {
  constructor(
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

/**
 * An error the provider reported inside a stream that had already started (Anthropic's `error` event);
 * the client gets it in its own format with the status the provider would have used.
 */
export class ProviderStreamError extends Error {
  constructor(readonly error: CanonicalError) {
    super(error.message);
  }
}
