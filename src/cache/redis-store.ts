import { RESP_TYPES } from "redis";
import {
  boundedCommands,
  connectRedis,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_MAX_IN_FLIGHT,
} from "./redis-client.js";
import {
  type CacheEntry,
  type CacheStore,
  type CacheStoreCounts,
  type CacheStoreSize,
  entryBytes,
  newCounts,
} from "./store.js";

// The exact cache in Redis, shared by every gateway instance. Each entry is one string value under
// `<prefix><key>`, expiring by Redis's own TTL (PX), holding the entry's fields as a small JSON head and
// its body bytes after it. Redis is a cache here: when it is down or slow a read is a miss and a write is
// dropped, each counted, and the client reconnects in the background. Commands never queue up waiting
// for it: none are queued while disconnected, each has a deadline (node-redis's own timeout ends once a
// command is sent, so a Redis that stops answering would hold it for ever), and at most maxInFlight are
// outstanding at once.

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port[/db] (or rediss://). */
  readonly url: string;
  /** Prepended to every key, so the gateway's entries stay apart from other data in the database. */
  readonly prefix?: string;
  /** How long a command may take before it counts as failed. */
  readonly commandTimeoutMs?: number;
  /** Commands sent and not yet answered beyond which more fail at once (a Redis that stopped answering). */
  readonly maxInFlight?: number;
  /** An entry larger than this (entryBytes) is not stored. */
  readonly maxEntryBytes?: number;
  /** Told of the client's errors (connection lost, refused, ...), for the operator's log. */
  readonly onError?: (error: Error) => void;
}

export const DEFAULT_REDIS_PREFIX = "switchyard:cache:";
const DEFAULT_MAX_ENTRY_BYTES = 16 * 1024 * 1024;

/** A Redis-backed store; it connects in the background and answers misses until connected. */
export function redisStore(options: RedisStoreOptions): CacheStore {
  const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
  const maxEntryBytes = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  const timeout = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const onError = options.onError ?? (() => {});
  // The same connection, answering values as bytes (SCAN's cursor stays a string on `plain`).
  const plain = connectRedis(options.url, timeout, onError);
  const client = plain.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });

  const counts = newCounts();
  let closed = false;
  const command = boundedCommands(timeout, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);

  return {
    async get(key) {
      let value: Buffer | null;
      try {
        value = await command(() => client.get(prefix + key));
      } catch {
        counts.failedReads += 1;
        counts.misses += 1;
        return undefined;
      }
      const entry = value === null ? undefined : decodeEntry(value);
      if (entry === undefined) {
        if (value !== null) counts.failedReads += 1;
        counts.misses += 1;
        return undefined;
      }
      counts.hits += 1;
      return entry;
    },

    async set(key, entry, ttlMs) {
      if (!(ttlMs > 0) || entryBytes(key, entry) > maxEntryBytes) return;
      try {
        const value = encodeEntry(entry);
        const expiration = { type: "PX", value: Math.max(1, Math.ceil(ttlMs)) } as const;
        await command(() => client.set(prefix + key, value, { expiration }));
        counts.stores += 1;
      } catch {
        counts.failedWrites += 1;
      }
    },

    async delete(key) {
      try {
        await command(() => client.del(prefix + key));
      } catch {
        counts.failedWrites += 1;
      }
    },

    async size(): Promise<CacheStoreSize> {
      let entries = 0;
      let bytes = 0;
      for await (const keys of plain.scanIterator({ MATCH: `${escapeGlob(prefix)}*`, COUNT: 500 })) {
        if (keys.length === 0) continue;
        const lengths = await Promise.all(keys.map((name) => plain.strLen(name)));
        for (const [i, name] of keys.entries()) {
          entries += 1;
          bytes += name.length - prefix.length + (lengths[i] ?? 0);
        }
      }
      return { entries, bytes };
    },

    counts(): CacheStoreCounts {
      return { ...counts };
    },

    reachable: () => client.isReady,

    async close() {
      if (closed) return;
      closed = true;
      if (client.isOpen) await client.close().catch(() => client.destroy());
    },
  };
}

/** Redis's SCAN MATCH is a glob: the prefix's own *, ?, [ and \ match only themselves. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

interface EntryHead {
  readonly status: number;
  readonly contentType: string;
  readonly streamed: boolean;
  readonly storedAt: number;
  readonly costMicros?: number;
}

/** The head's length (4 bytes, big-endian), the head as JSON, then the body. */
export function encodeEntry(entry: CacheEntry): Buffer {
  const head: EntryHead = {
    status: entry.status,
    contentType: entry.contentType,
    streamed: entry.streamed,
    storedAt: entry.storedAt,
    costMicros: entry.costMicros ?? 0,
  };
  const headBytes = Buffer.from(JSON.stringify(head), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headBytes.length);
  return Buffer.concat([length, headBytes, entry.body]);
}

/** The entry in a stored value; undefined for a value this version did not write. */
export function decodeEntry(value: Buffer): CacheEntry | undefined {
  if (value.length < 4) return undefined;
  const headLength = value.readUInt32BE(0);
  if (4 + headLength > value.length) return undefined;
  let head: unknown;
  try {
    head = JSON.parse(value.subarray(4, 4 + headLength).toString("utf8"));
  } catch {
    return undefined;
  }
  if (!isEntryHead(head)) return undefined;
  const { status, contentType, streamed, storedAt } = head;
  const costMicros = typeof head.costMicros === "number" ? head.costMicros : 0;
  return { status, contentType, streamed, storedAt, costMicros, body: value.subarray(4 + headLength) };
}

function isEntryHead(head: unknown): head is EntryHead {
  if (typeof head !== "object" || head === null) return false;
  const { status, contentType, streamed, storedAt } = head as Record<string, unknown>;
  return (
    Number.isInteger(status) &&
    typeof contentType === "string" &&
    typeof streamed === "boolean" &&
    typeof storedAt === "number"
  );
}
