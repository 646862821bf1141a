import {
  type CacheEntry,
  type CacheStore,
  type CacheStoreCounts,
  type CacheStoreSize,
  entryBytes,
  newCounts,
} from "./store.js";

// The exact cache in this process: bounded by bytes, least recently used out first, each entry gone at its
// TTL. A Map iterates in insertion order, so re-inserting an entry on each hit keeps the least recently
// used first.

export interface MemoryStoreOptions {
  /** The most bytes the entries may take (entryBytes); an entry larger than this is not stored. */
  readonly maxBytes: number;
  /** The clock, in ms (tests set their own). */
  readonly now?: () => number;
}

interface Stored {
  readonly entry: CacheEntry;
  readonly expiresAt: number;
  readonly bytes: number;
}

export function memoryStore(options: MemoryStoreOptions): CacheStore {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Stored>();
  const counts = newCounts();
  let bytes = 0;

  const remove = (key: string, stored: Stored): void => {
    entries.delete(key);
    bytes -= stored.bytes;
  };

  const dropExpired = (): void => {
    const at = now();
    for (const [key, stored] of entries) if (stored.expiresAt <= at) remove(key, stored);
  };

  return {
    async get(key) {
      const stored = entries.get(key);
      if (stored === undefined || stored.expiresAt <= now()) {
        if (stored !== undefined) remove(key, stored);
        counts.misses += 1;
        return undefined;
      }
      entries.delete(key);
      entries.set(key, stored);
      counts.hits += 1;
      return stored.entry;
    },

    async set(key, entry, ttlMs) {
      const size = entryBytes(key, entry);
      if (!(ttlMs > 0) || size > options.maxBytes) return;
      const previous = entries.get(key);
      if (previous !== undefined) remove(key, previous);
      if (bytes + size > options.maxBytes) dropExpired();
      for (const [oldest, stored] of entries) {
        if (bytes + size <= options.maxBytes) break;
        remove(oldest, stored);
        counts.evictions += 1;
      }
      // A copy: the caller's bytes may be a view of a larger buffer it reuses.
      const owned: CacheEntry = { ...entry, body: Buffer.from(entry.body) };
      entries.set(key, { entry: owned, expiresAt: now() + ttlMs, bytes: size });
      bytes += size;
      counts.stores += 1;
    },

    async delete(key) {
      const stored = entries.get(key);
      if (stored !== undefined) remove(key, stored);
    },

    async size(): Promise<CacheStoreSize> {
      dropExpired();
      return { entries: entries.size, bytes };
    },

    counts(): CacheStoreCounts {
      return { ...counts };
    },

    reachable: () => true,

    async close() {
      entries.clear();
      bytes = 0;
    },
  };
}
