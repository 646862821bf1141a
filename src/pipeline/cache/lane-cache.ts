import type { RedisSemanticShare, redisSemanticShare } from "../../cache/redis-semantic.js";
import type { redisStore } from "../../cache/redis-store.js";
import { createSemanticIndex, type SemanticIndex } from "../../cache/semantic-index.js";
import { closeSemanticSearch } from "../../cache/semantic-search.js";
import { createMemoryCacheStore } from "../../cache/shared-memory-store.js";
import type { CacheStore } from "../../cache/store.js";
import type { CacheConfig, GatewayConfig } from "../../config/types.js";
import type { MetricJson } from "../../observability/metric-json.js";
import { CacheCounts } from "./cache-counts.js";

// A lane's cache: the configuration, the store of answers and the semantic index. Stores outlive
// configuration reloads that leave them as they were (a Redis connection, the memory store's entries);
// the memory store and the index are the process's, shared by every lane through the addon.

export interface LaneCache {
  readonly config: CacheConfig;
  readonly store: CacheStore;
  /** Present when the semantic cache is on. */
  readonly index: SemanticIndex | undefined;
  /** Other instances' semantic entries, through the Redis the answers are in; absent with the memory store. */
  readonly share: RedisSemanticShare | undefined;
  readonly counts: CacheCounts;
}

/** Redis errors are the operator's to see, but not once per request while it is down. */
const REDIS_ERROR_INTERVAL_MS = 60_000;
/** Semantic entries kept per scope in Redis: also what a first sync of a scope reads (1.6 MB at 384 values). */
const SHARED_ENTRIES_PER_SCOPE = 1_000;

interface RedisBackends {
  readonly redisStore: typeof redisStore;
  readonly redisSemanticShare: typeof redisSemanticShare;
}

/** Loaded by loadCacheBackends, only in a lane whose configuration keeps answers in Redis. */
let redisBackends: RedisBackends | undefined;

/**
 * Loads the Redis store's modules when `config` keeps answers in Redis, before the configuration is served:
 * a gateway that never names Redis never loads a Redis client.
 */
export async function loadCacheBackends(config: GatewayConfig): Promise<void> {
  if (config.cache?.store !== "redis" || redisBackends !== undefined) return;
  const [store, semantic] = await Promise.all([
    import("../../cache/redis-store.js"),
    import("../../cache/redis-semantic.js"),
  ]);
  redisBackends = { redisStore: store.redisStore, redisSemanticShare: semantic.redisSemanticShare };
}

function redis(): RedisBackends {
  if (redisBackends === undefined)
    throw new Error("the cache's Redis store was not loaded (loadCacheBackends)");
  return redisBackends;
}

export class LaneCaches {
  private store: { readonly spec: string; readonly store: CacheStore } | undefined;
  private index: { readonly maxBytes: number; readonly index: SemanticIndex } | undefined;
  private share: { readonly url: string; readonly share: RedisSemanticShare } | undefined;
  private readonly counts = new CacheCounts();
  private lastRedisError = 0;

  /** The cache the configuration asks for; undefined when it asks for none. */
  cacheFor(config: GatewayConfig): LaneCache | undefined {
    const cache = config.cache;
    if (cache === undefined) return undefined;
    const semantic = cache.semantic !== undefined;
    return {
      config: cache,
      store: this.storeFor(cache),
      index: semantic ? this.indexFor((cache.semantic as { maxBytes: number }).maxBytes) : undefined,
      share: semantic && cache.store === "redis" ? this.shareFor(cache.redisUrl) : undefined,
      counts: this.counts,
    };
  }

  /** Whether the cache's store can serve (its Redis connected); true with no cache or an in-process one. */
  reachable(): boolean {
    return this.store?.store.reachable() ?? true;
  }

  metrics(): MetricJson[] {
    const store = this.store?.store;
    return store === undefined ? [] : this.counts.metrics(store.counts(), this.share?.share.counts());
  }

  /** The store's connection and the off-lane search thread, at the lane's end. */
  async close(): Promise<void> {
    await Promise.all([this.store?.store.close(), this.share?.share.close(), closeSemanticSearch()]);
    this.store = undefined;
    this.share = undefined;
  }

  private storeFor(cache: CacheConfig): CacheStore {
    const spec = cache.store === "redis" ? `redis ${cache.redisUrl}` : `memory ${cache.maxBytes}`;
    if (this.store?.spec === spec) return this.store.store;
    void this.store?.store.close();
    const store =
      cache.store === "redis" && cache.redisUrl !== undefined
        ? redis().redisStore({ url: cache.redisUrl, onError: (error) => this.redisFailed(error) })
        : createMemoryCacheStore({ maxBytes: cache.maxBytes });
    this.store = { spec, store };
    return store;
  }

  private shareFor(url: string | undefined): RedisSemanticShare | undefined {
    if (url === undefined) return undefined;
    if (this.share?.url === url) return this.share.share;
    void this.share?.share.close();
    const share = redis().redisSemanticShare({
      url,
      maxEntriesPerScope: SHARED_ENTRIES_PER_SCOPE,
      onError: (error) => this.redisFailed(error),
    });
    this.share = { url, share };
    return share;
  }

  private indexFor(maxBytes: number): SemanticIndex {
    if (this.index?.maxBytes === maxBytes) return this.index.index;
    const index = createSemanticIndex({ maxBytes });
    this.index = { maxBytes, index };
    return index;
  }

  private redisFailed(error: Error): void {
    const now = Date.now();
    if (now - this.lastRedisError < REDIS_ERROR_INTERVAL_MS) return;
    this.lastRedisError = now;
    // The message only: a client error may quote the URL, which may hold a password.
    console.error(`[switchyard] cache: Redis is failing (answered as misses): ${error.name}`);
  }
}
