// Where the exact cache keeps answers: in this process (memory-store.ts) or in Redis, shared by every
// gateway instance (redis-store.ts). A store is a cache, never a source of truth: any failure of it is a
// miss or a write not made, counted, and never an error of the request.

export interface CacheEntry {
  /** The answer's HTTP status. */
  readonly status: number;
  /** The answer's Content-Type. */
  readonly contentType: string;
  /**
   * The answer's body as the client was sent it. When `streamed`, the stream's bytes (SSE events or a JSON
   * array) in the format the key was made for, to be replayed.
   */
  readonly body: Uint8Array;
  readonly streamed: boolean;
  /** When the answer was stored (ms since the epoch), for an Age header. */
  readonly storedAt: number;
  /** What the provider charged for the answer, in millionths of a dollar: what each hit saves (0: unknown). */
  readonly costMicros: number;
}

export interface CacheStoreCounts {
  /** get() answers that found an entry. */
  readonly hits: number;
  /** get() answers that found none (absent, expired, or the store failed). */
  readonly misses: number;
  /** Entries written. */
  readonly stores: number;
  /** Entries dropped to stay within the store's byte bound. */
  readonly evictions: number;
  /** Reads the store could not make (Redis down or slow): answered as misses. */
  readonly failedReads: number;
  /** Writes and deletes the store could not make: dropped. */
  readonly failedWrites: number;
}

export interface CacheStoreSize {
  readonly entries: number;
  /** The bytes the entries take: bodies, content types and keys. */
  readonly bytes: number;
}

export interface CacheStore {
  /** The entry stored under `key` and not expired; undefined when there is none or the store failed. */
  get(key: string): Promise<CacheEntry | undefined>;
  /** Stores `entry` for `ttlMs` milliseconds; no-op for ttlMs <= 0, an entry over the store's bound, or a failure. */
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** What the store holds now (for the management API: it may walk every entry). */
  size(): Promise<CacheStoreSize>;
  counts(): CacheStoreCounts;
  /** Whether the store can serve now (Redis connected); an in-process store always can. For /ready. */
  reachable(): boolean;
  close(): Promise<void>;
}

/** The bytes an entry takes in a store, counted the same way by every store. */
export function entryBytes(key: string, entry: CacheEntry): number {
  return key.length + entry.contentType.length + entry.body.length;
}

/** Mutable counters behind a store's counts(). */
export function newCounts(): { -readonly [name in keyof CacheStoreCounts]: number } {
  return { hits: 0, misses: 0, stores: 0, evictions: 0, failedReads: 0, failedWrites: 0 };
}
