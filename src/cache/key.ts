import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { canonicalMembers, canonicalObject } from "./canonical-json.js";

// The exact cache's key: a SHA-256 of the request in a canonical form, so that the same question asked
// with its JSON members in another order, other whitespace or other number spellings finds the same
// answer, and any change that may change the answer misses. Scoped by a namespace so tenants never share
// entries. Every body member counts except those named below: a member the gateway does not know may
// change the answer, so it is kept (a miss costs a provider call; a wrong hit costs a wrong answer).

/** The operations of the inference routes (src/pipeline/routes.ts). */
export type CacheOperation = "chat" | "completions" | "embeddings";

export interface CacheKeyRequest {
  /** From cacheNamespace(): whose entries these are. */
  readonly namespace: string;
  /** The model after alias resolution: two aliases of one model share entries. */
  readonly model: string;
  /** The inbound format's name (InboundFormat.name). */
  readonly format: string;
  /**
   * Whether the answer is streamed: streamed answers are replayed as the bytes the client was sent, so a
   * stream and a whole answer never share a key, nor do two stream framings (Gemini's SSE and JSON array).
   */
  readonly stream: boolean;
  readonly operation: CacheOperation;
  /** The request body as received (JSON). */
  readonly body: Uint8Array;
}

export interface CacheKeyLimits {
  /** A body longer than this is not cached: its key costs a parse of the whole body (a few times JSON.parse's). */
  readonly maxBodyBytes: number;
  /** Objects and arrays nested deeper than this are not cached. */
  readonly maxDepth: number;
}

export const DEFAULT_CACHE_KEY_LIMITS: CacheKeyLimits = { maxBodyBytes: 1024 * 1024, maxDepth: 64 };

export type CacheKey =
  | {
      readonly cacheable: true;
      readonly key: string;
      /** The body's top-level members, each value canonical, for the semantic cache's scope and the controls. */
      readonly members: ReadonlyMap<string, string>;
    }
  | {
      readonly cacheable: false;
      /**
       * too_large: over maxBodyBytes; too_deep: nested over maxDepth; not_json: not UTF-8 JSON;
       * not_object: JSON but not an object; duplicate_member: a member name repeats within an object.
       */
      readonly reason: "too_large" | "too_deep" | "not_json" | "not_object" | "duplicate_member";
    };

/**
 * Top-level members that do not change the answer: whether it is streamed (keyed apart), who asks (user,
 * metadata: for the provider's records), the gateway's own (cache, fallbacks, timeout) and the model (keyed
 * after alias resolution instead). A stream's stream_options change its bytes, so they are keyed.
 */
const NOT_KEYED = new Set(["model", "stream", "user", "metadata", "cache", "fallbacks", "timeout"]);

/** Formats whose names differ only in how a stream is framed (Gemini's SSE and JSON-array streams). */
const FORMAT_FAMILY: ReadonlyMap<string, string> = new Map([["gemini-array", "gemini"]]);

const VERSION = "switchyard-exact-cache-v1";

/** The body's top-level members, each value canonical; or why the body is not cached. */
export type CacheBody =
  | { readonly cacheable: true; readonly members: ReadonlyMap<string, string> }
  | { readonly cacheable: false; readonly reason: Extract<CacheKey, { cacheable: false }>["reason"] };

/** The body parsed for its key: the one parse a cached request pays (a few times JSON.parse's cost). */
export function parseCacheBody(
  body: Uint8Array,
  limits: CacheKeyLimits = DEFAULT_CACHE_KEY_LIMITS,
): CacheBody {
  if (body.length > limits.maxBodyBytes) return { cacheable: false, reason: "too_large" };
  // A lenient decode would turn different invalid bytes into the same replacement character.
  if (!isUtf8(body)) return { cacheable: false, reason: "not_json" };
  const text = Buffer.from(body.buffer, body.byteOffset, body.length).toString("utf8");
  const parsed = canonicalMembers(text, limits.maxDepth);
  return parsed.ok
    ? { cacheable: true, members: parsed.members }
    : { cacheable: false, reason: parsed.reason };
}

/** Everything of a request but its body that its key depends on. */
export type CacheScope = Omit<CacheKeyRequest, "body">;

/** The key of a parsed body. `leftOut` names more members to leave out (the semantic scope's conversation). */
export function keyOfMembers(
  members: ReadonlyMap<string, string>,
  scope: CacheScope,
  leftOut?: ReadonlySet<string>,
  version = VERSION,
): string {
  const stream = scope.stream;
  const body = canonicalObject(
    [...members].filter(
      ([name]) =>
        !NOT_KEYED.has(name) && (stream || name !== "stream_options") && leftOut?.has(name) !== true,
    ),
  );
  const format = stream ? scope.format : (FORMAT_FAMILY.get(scope.format) ?? scope.format);
  // JSON strings cannot hold a raw newline, so the parts cannot run into each other.
  const parts = JSON.stringify([scope.namespace, format, scope.operation, scope.model, stream]);
  return createHash("sha256").update(`${version}\n${parts}\n${body}`).digest("hex");
}

/** The request's cache key, or why it is not cached. */
export function cacheKey(
  request: CacheKeyRequest,
  limits: CacheKeyLimits = DEFAULT_CACHE_KEY_LIMITS,
): CacheKey {
  const parsed = parseCacheBody(request.body, limits);
  if (!parsed.cacheable) return parsed;
  return { cacheable: true, key: keyOfMembers(parsed.members, request), members: parsed.members };
}

export interface NamespaceSources {
  /** The namespace configured for the key or model: entries shared by everyone it is configured for. */
  readonly configured?: string | undefined;
  /** The id of the virtual key the request came with. */
  readonly virtualKeyId?: string | undefined;
  /** A namespace the client asked for (LiteLLM's `cache.namespace`): a subdivision of its own, never another's. */
  readonly requested?: string | undefined;
}

/**
 * The namespace of a request's entries: the configured one, else the virtual key's, else the one of requests
 * without a virtual key. The sources are tagged, so a configured namespace never equals a key's.
 */
export function cacheNamespace(sources: NamespaceSources): string {
  const base =
    sources.configured !== undefined && sources.configured !== ""
      ? `configured:${sources.configured}`
      : sources.virtualKeyId !== undefined && sources.virtualKeyId !== ""
        ? `key:${sources.virtualKeyId}`
        : "keyless";
  return sources.requested !== undefined && sources.requested !== ""
    ? JSON.stringify([base, sources.requested])
    : base;
}
