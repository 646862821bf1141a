import { createHash } from "node:crypto";
import { CacheControlError, type CacheControls, cacheControls } from "../../cache/controls.js";
import { type SemanticQuery, semanticQuery } from "../../cache/conversation.js";
import {
  type CacheOperation,
  type CacheScope,
  cacheNamespace,
  keyOfMembers,
  parseCacheBody,
} from "../../cache/key.js";
import { searchSemantic } from "../../cache/semantic-search.js";
import type { CacheEntry } from "../../cache/store.js";
import type { CacheOverride } from "../../config/types.js";
import { gatewayError } from "../../errors.js";
import type { ChatRequest } from "../../formats/canonical.js";
import type { ResponseHeaders } from "../../http/exchange.js";
import { emptyUsage } from "../../observability/usage.js";
import type { LaneKey } from "../governance/lane-governance.js";
import { refuse } from "../inbound.js";
import type { InboundRequest } from "../pipeline.js";
import { CacheRecorder, type SemanticEntry } from "./cache-recorder.js";
import { embed } from "./embedder.js";
import type { LaneCache } from "./lane-cache.js";
import { wholeAsStream } from "./stream-replay.js";

// The cache's step of the pipeline, between governance's admission and the plugins' onRequest: an answer
// stored for the same request (exact: the canonical body's hash) or, failing that, for a question that
// means the same (semantic: the nearest earlier conversation by embedding, over the threshold, with the same
// numbers, names and negations) is replayed in the client's format, a stream as a stream. Otherwise the
// request goes on, and its answer is stored once complete (CacheRecorder).

/** Members that hold a conversation, left out of the semantic scope (the scope keeps everything else). */
const CONVERSATION = new Set([
  "messages",
  "contents",
  "input",
  "system",
  "systemInstruction",
  "instructions",
]);
const SEMANTIC_VERSION = "switchyard-semantic-cache-v1";
const NO_OVERRIDE: CacheOverride = {};

/** Looks the request up; answers it from the cache, or calls `next` with the request set up to be stored. */
export function serveFromCache(
  cache: LaneCache,
  request: InboundRequest,
  key: LaneKey | null,
  next: () => void,
): void {
  const { route, reply } = request;
  const operation = route.operation as CacheOperation;
  let controls: CacheControls;
  try {
    controls = cacheControls(request.head.cacheHeaders, request.cacheControls);
  } catch (error) {
    if (!(error instanceof CacheControlError)) throw error;
    const refusal = gatewayError("invalid_request", error.message, "cache");
    refuse(reply, request.metrics, request.errorBody, refusal, "client");
    request.hooks?.error(refusal.status, refusal.code, "client", refusal.message);
    return;
  }
  const config = cache.config;
  const byModel = config.models[request.plan.name] ?? config.models[request.model] ?? NO_OVERRIDE;
  const byKey =
    key === null ? NO_OVERRIDE : (config.keys[key.data.id] ?? config.keys[key.data.name] ?? NO_OVERRIDE);
  const enabled = byKey.enabled ?? byModel.enabled ?? (config.mode === "default_on" || controls.optIn);
  const parsed = enabled && (controls.read || controls.write) ? parseCacheBody(request.body) : undefined;
  if (parsed === undefined || !parsed.cacheable) {
    cache.counts.looked("bypass");
    reply.cacheStatus = "bypass";
    next();
    return;
  }
  const namespace = cacheNamespace({
    configured: byKey.namespace ?? byModel.namespace ?? config.namespace,
    virtualKeyId: key?.data.id,
    requested: controls.namespace,
  });
  const scope = {
    namespace,
    model: request.plan.name,
    format: route.format.name,
    operation,
    stream: request.stream,
  };
  const lookup: Lookup = {
    cache,
    request,
    controls,
    members: parsed.members,
    scope,
    exactKey: keyOfMembers(parsed.members, scope),
    ttlMs: controls.ttlMs ?? byKey.ttlMs ?? byModel.ttlMs ?? config.ttlMs,
    semantic:
      config.semantic !== undefined && operation === "chat" && (byKey.semantic ?? byModel.semantic) !== false
        ? {
            model: config.semantic.embeddingModel,
            threshold:
              controls.threshold ?? byKey.threshold ?? byModel.threshold ?? config.semantic.threshold,
            maxTurns: config.semantic.maxTurns,
          }
        : undefined,
    next,
    handedOn: false,
  };
  lookUp(lookup).catch((error: unknown) => {
    // A bug of the cache's own is not the request's: it goes on uncached, unless it already had.
    console.error(
      `[switchyard] cache lookup failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    if (!lookup.handedOn && !request.reply.committed && !request.reply.aborted) handOn(lookup);
  });
}

function handOn(lookup: Lookup): void {
  lookup.handedOn = true;
  lookup.next();
}

interface Lookup {
  readonly cache: LaneCache;
  readonly request: InboundRequest;
  readonly controls: CacheControls;
  /** The body's members, canonical: the other keys are made from them only when they are needed. */
  readonly members: ReadonlyMap<string, string>;
  readonly scope: CacheScope;
  readonly exactKey: string;
  readonly ttlMs: number;
  readonly semantic:
    | { readonly model: string; readonly threshold: number; readonly maxTurns: number }
    | undefined;
  readonly next: () => void;
  /** `next` has been called: the request is the attempt loop's. */
  handedOn: boolean;
}

async function lookUp(lookup: Lookup): Promise<void> {
  const { cache, request, controls, exactKey } = lookup;
  const store = cache.store;
  if (controls.read) {
    const entry = fresh(await store.get(exactKey), controls.maxAgeMs) ?? (await wholeAnswerAsStream(lookup));
    if (entry !== undefined) {
      answer(lookup, entry, "exact", 1);
      return;
    }
  }
  let semanticEntry: SemanticEntry | undefined;
  const semantic = lookup.semantic;
  const index = cache.index;
  if (semantic !== undefined && index !== undefined && !request.reply.aborted) {
    const query = queryOf(request, semantic.maxTurns);
    if (query !== undefined) {
      const parameters = keyOfMembers(lookup.members, lookup.scope, CONVERSATION, SEMANTIC_VERSION);
      const scope = scopeOf(parameters, query);
      const vector = await embed(request.table, semantic.model, query.text);
      if (vector === undefined) cache.counts.embeddingFailures++;
      else {
        if (controls.read) {
          await cache.share?.sync(scope, index);
          const nearest = await searchSemantic(index, scope, vector, -1);
          if (nearest !== undefined) {
            cache.counts.nearest(nearest.similarity);
            const [key, signature] = Buffer.from(nearest.payload).toString("utf8").split("\n");
            if (nearest.similarity >= semantic.threshold) {
              if (signature !== query.signature) cache.counts.salientRefusals++;
              else {
                const entry = fresh(await store.get(key ?? ""), controls.maxAgeMs);
                if (entry !== undefined) {
                  answer(lookup, entry, "semantic", nearest.similarity);
                  return;
                }
              }
            }
          }
        }
        semanticEntry = { index, share: cache.share, scope, vector, signature: query.signature };
      }
    }
  }
  if (request.reply.aborted) {
    request.metrics.recordAnswered(499, "client");
    request.hooks?.error(499, null, "client", "The client left before the request was sent.");
    return;
  }
  cache.counts.looked("miss");
  request.reply.cacheStatus = "miss";
  request.hooks?.cacheMissed();
  if (controls.write && request.hooks !== undefined)
    request.hooks.cacheRecorder = new CacheRecorder(
      store,
      exactKey,
      lookup.ttlMs,
      semanticEntry,
      request.route.format.name === "gemini-array" ? "application/json; charset=UTF-8" : "text/event-stream",
      request.metrics.pricing,
    );
  handOn(lookup);
}

/**
 * A chat stream's answer from the whole answer to the same request asked without a stream, replayed as
 * the format's stream, its usage at the end when asked (OpenAI's stream_options.include_usage).
 */
async function wholeAnswerAsStream(lookup: Lookup): Promise<CacheEntry | undefined> {
  const { request, members, scope } = lookup;
  if (!scope.stream || scope.operation !== "chat") return undefined;
  const wholeKey = keyOfMembers(members, { ...scope, stream: false });
  const whole = fresh(await lookup.cache.store.get(wholeKey), lookup.controls.maxAgeMs);
  if (whole === undefined || whole.streamed) return undefined;
  const includeUsage = /"include_usage":true/.test(members.get("stream_options") ?? "");
  const stream = wholeAsStream(request.route.format, whole.body, request.model, includeUsage);
  return stream === undefined ? undefined : { ...whole, ...stream, streamed: true };
}

/** An entry young enough for the request's s-maxage. */
function fresh(entry: CacheEntry | undefined, maxAgeMs: number | undefined): CacheEntry | undefined {
  if (entry === undefined || maxAgeMs === undefined) return entry;
  return Date.now() - entry.storedAt <= maxAgeMs ? entry : undefined;
}

/** The conversation of a chat request in any format, through the format's own reading of it. */
function queryOf(request: InboundRequest, maxTurns: number): SemanticQuery | undefined {
  const { route } = request;
  try {
    const canonical = route.format.toCanonical(
      JSON.parse(request.body.toString("utf8")),
      route.pathModel,
      route.pathStream,
    ) as ChatRequest;
    return semanticQuery(canonical, maxTurns);
  } catch {
    return undefined;
  }
}

/** The request's parameters (its scope key) with its system prompt: what a semantic match shares exactly. */
function scopeOf(parameters: string, query: SemanticQuery): string {
  return query.system === ""
    ? parameters
    : createHash("sha256").update(`${parameters}\n${query.system}`).digest("hex");
}

/** Replays `entry` as the answer, a stream as a stream, and tells the log, the metrics and the plugins. */
function answer(lookup: Lookup, entry: CacheEntry, kind: "exact" | "semantic", similarity: number): void {
  const { request, cache } = lookup;
  const { reply, metrics, hooks } = request;
  if (reply.aborted) {
    metrics.recordAnswered(499, "client");
    hooks?.error(499, null, "client", "The client left before the request was sent.");
    return;
  }
  cache.counts.looked(kind === "exact" ? "exact_hit" : "semantic_hit");
  const saved = entry.costMicros;
  cache.counts.savedMicros += saved;
  metrics.cacheHits++;
  hooks?.answeredFromCache(kind, saved);
  if (entry.streamed) {
    hooks?.chunk(entry.body);
    hooks?.streamEnd(entry.status, emptyUsage());
  } else hooks?.response(entry.status, entry.body, undefined);
  reply.start(entry.status, hitHeaders(entry, kind, similarity));
  reply.end(entry.body);
  metrics.recordAnswered(entry.status, "");
}

function hitHeaders(entry: CacheEntry, kind: "exact" | "semantic", similarity: number): ResponseHeaders {
  const age = String(Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000)));
  const headers: [string, string][] = [
    ["content-type", entry.contentType],
    ["x-switchyard-cache", "hit"],
    ["x-switchyard-cache-type", kind],
    ["age", age],
  ];
  if (kind === "semantic") headers.push(["x-switchyard-cache-similarity", similarity.toFixed(4)]);
  if (entry.streamed) headers.push(["cache-control", "no-cache"]);
  return headers;
}
