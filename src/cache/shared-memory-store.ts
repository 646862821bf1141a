import { type SharedCache, sharedCache } from "../native/index.js";
import { type MemoryStoreOptions, memoryStore } from "./memory-store.js";
import { type CacheEntry, type CacheStore, type CacheStoreCounts, newCounts } from "./store.js";

// The exact cache in this process, shared by every lane: the lanes are worker threads, so a JS Map would
// give each its own cache and a repeated request would hit only on the lane that stored it. The addon's
// statics are one per process, so its store (native/src/shared_cache.rs) serves them all. Same semantics
// as memory-store.ts: bounded by bytes, least recently used out first, each entry gone at its TTL.

/**
 * Bytes of the fixed header before an entry's content type and body: storedAt (f64), status (u16),
 * flags (u8: 1 = streamed), one unused byte, the content type's UTF-8 length (u32), costMicros (f64);
 * little-endian.
 */
export const SHARED_ENTRY_HEADER_BYTES = 24;
const STREAMED = 1;

function encode(entry: CacheEntry): Buffer {
  const typeBytes = Buffer.byteLength(entry.contentType);
  const out = Buffer.allocUnsafe(SHARED_ENTRY_HEADER_BYTES + typeBytes + entry.body.length);
  out.writeDoubleLE(entry.storedAt, 0);
  out.writeUInt16LE(entry.status, 8);
  out[10] = entry.streamed ? STREAMED : 0;
  out[11] = 0;
  out.writeUInt32LE(typeBytes, 12);
  out.writeDoubleLE(entry.costMicros ?? 0, 16);
  out.write(entry.contentType, SHARED_ENTRY_HEADER_BYTES);
  out.set(entry.body, SHARED_ENTRY_HEADER_BYTES + typeBytes);
  return out;
}

function decode(bytes: Buffer): CacheEntry {
  const bodyAt = SHARED_ENTRY_HEADER_BYTES + bytes.readUInt32LE(12);
  return {
    status: bytes.readUInt16LE(8),
    contentType: bytes.toString("utf8", SHARED_ENTRY_HEADER_BYTES, bodyAt),
    // A view of the addon's copy, which nothing else holds.
    body: bytes.subarray(bodyAt),
    streamed: ((bytes[10] as number) & STREAMED) !== 0,
    storedAt: bytes.readDoubleLE(0),
    costMicros: bytes.readDoubleLE(16),
  };
}

/**
 * A CacheStore over the process-wide `cache`. `maxBytes` bounds the whole process's store (the last
 * store made sets it) and counts each entry as entryBytes + SHARED_ENTRY_HEADER_BYTES. counts() are this
 * store's own (one lane's), as with memoryStore; size() is the whole process's.
 */
export function sharedMemoryStore(cache: SharedCache, options: MemoryStoreOptions): CacheStore {
  const now = options.now ?? Date.now;
  const counts = newCounts();
  cache.configure(options.maxBytes, now());
  return {
    async get(key) {
      const found = cache.get(key, now());
      if (found === null) {
        counts.misses += 1;
        return undefined;
      }
      counts.hits += 1;
      return decode(found);
    },

    async set(key, entry, ttlMs) {
      if (!(ttlMs > 0)) return;
      const evicted = cache.set(key, encode(entry), ttlMs, now());
      if (evicted === null) return;
      counts.stores += 1;
      counts.evictions += evicted;
    },

    async delete(key) {
      cache.delete(key);
    },

    async size() {
      const { entries, bytes } = cache.stats(now());
      return { entries, bytes: bytes - entries * SHARED_ENTRY_HEADER_BYTES };
    },

    counts(): CacheStoreCounts {
      return { ...counts };
    },

    reachable: () => true,

    // The entries are every lane's: one lane closing its store leaves them to the others.
    async close() {},
  };
}

/** A memory CacheStore, and whether every lane of the process shares it. */
export type MemoryCacheStore = CacheStore & { readonly shared: boolean };

/** The process-wide store when the addon is loaded, else a store of this thread's own (memoryStore). */
export function createMemoryCacheStore(options: MemoryStoreOptions): MemoryCacheStore {
  return sharedCache === undefined
    ? { ...memoryStore(options), shared: false }
    : { ...sharedMemoryStore(sharedCache, options), shared: true };
}
