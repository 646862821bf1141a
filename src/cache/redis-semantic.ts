import { createHash, randomBytes, randomUUID } from "node:crypto";
import { endianness } from "node:os";
import { type createClient, RESP_TYPES } from "redis";
import {
  boundedCommands,
  connectRedis,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_MAX_IN_FLIGHT,
} from "./redis-client.js";
import type { SemanticIndex } from "./semantic-index.js";

// The semantic index's entries shared between gateway instances through Redis. The search stays in each
// process (Debian's Redis 7.0 has no vector search); what travels is the entries: each instance publishes
// what it adds to its own index, and before searching a scope reads what the others published since it
// last looked. Per scope, two keys share one expiry: a list of records (newest last, trimmed to the cap)
// and a hash holding a counter of records ever pushed (`seq`) and the list's identity (`epoch`, set by
// whoever created it). Pushing and counting happen in one transaction, so the list's last record is
// always number `seq`: a reader that saw up to n needs the last seq - n records, whatever was trimmed,
// and a changed epoch means the list expired and started again. Redis is a cache here: a failure is
// counted and never thrown.

export interface RedisSemanticShareOptions {
  /** A client of the caller's, left open by close(); else `url` is connected to. */
  readonly client?: ReturnType<typeof createClient>;
  /** redis://[user:password@]host:port[/db] (or rediss://), when no client is given. */
  readonly url?: string;
  /** Prepended to every key, so these entries stay apart from other data in the database. */
  readonly prefix?: string;
  /** Records kept per scope, the newest; also the most one sync reads. */
  readonly maxEntriesPerScope?: number;
  /** How long a command may take before it counts as failed. */
  readonly commandTimeoutMs?: number;
  /** Commands sent and not yet answered beyond which more fail at once (a Redis that stopped answering). */
  readonly maxInFlight?: number;
  /** The least time between two reads of one scope: a hot scope costs one call per this, not per request. */
  readonly refreshMs?: number;
  /** Scopes whose reading position is remembered, the most recently synced. */
  readonly maxScopes?: number;
  /**
   * Told of the errors of the client made from `url` (connection lost, refused, ...), for the operator's
   * log; a failed command is only counted, so a Redis that is down is not logged once per request.
   */
  readonly onError?: (error: Error) => void;
  /** The clock refreshMs is measured on (tests). */
  readonly now?: () => number;
}

export interface RedisSemanticCounts {
  /** Records this instance published. */
  readonly published: number;
  /** Records of other instances added to the index by sync. */
  readonly synced: number;
  /** Records read that were not this version's, or that the index refused (wrong dimension, ...). */
  readonly malformed: number;
  /** Publishes and syncs that failed (Redis down, slow, ...). */
  readonly failed: number;
}

export interface RedisSemanticShare {
  /** Shares one entry the caller added to its own index; resolves once done or counted as failed. */
  publish(scope: string, vector: Float32Array, payload: Uint8Array, ttlMs: number): Promise<void>;
  /** Adds to `index` what other instances published for `scope` since the last sync (at most every refreshMs). */
  sync(scope: string, index: SemanticIndex): Promise<void>;
  counts(): RedisSemanticCounts;
  close(): Promise<void>;
}

export const DEFAULT_SEMANTIC_PREFIX = "switchyard:semantic:";
const DEFAULT_MAX_ENTRIES_PER_SCOPE = 10_000;
const DEFAULT_REFRESH_MS = 1000;
const DEFAULT_MAX_SCOPES = 10_000;

/** The scope's list and hash; the braces keep both in one slot of a Redis Cluster. */
export function semanticKeys(prefix: string, scope: string): { entries: string; meta: string } {
  return { entries: `${prefix}{${scope}}:entries`, meta: `${prefix}{${scope}}:meta` };
}

/**
 * The records after number ARGV[2] (the last `ARGV[3]` at most) if the list is still epoch ARGV[1], else
 * the newest; with the list's epoch and seq. A script, so that seq and the records' offsets are read at
 * one instant: between a GET and an LRANGE others could push and trim.
 */
const READ_SCRIPT = `
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'seq')
local epoch, seq = meta[1], tonumber(meta[2])
if not epoch or not seq then return {} end
local last = 0
if epoch == ARGV[1] then last = tonumber(ARGV[2]) end
local count = math.min(seq - last, tonumber(ARGV[3]))
if count <= 0 then return {epoch, seq, {}} end
return {epoch, seq, redis.call('LRANGE', KEYS[2], -count, -1)}
`;
const READ_SCRIPT_SHA = createHash("sha1").update(READ_SCRIPT).digest("hex");

/** Where a scope's reading stands. */
interface ScopeState {
  epoch: string;
  seq: number;
  nextAt: number;
  reading: boolean;
}

export function redisSemanticShare(options: RedisSemanticShareOptions): RedisSemanticShare {
  const prefix = options.prefix ?? DEFAULT_SEMANTIC_PREFIX;
  const cap = options.maxEntriesPerScope ?? DEFAULT_MAX_ENTRIES_PER_SCOPE;
  const timeout = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
  const maxScopes = options.maxScopes ?? DEFAULT_MAX_SCOPES;
  const now = options.now ?? (() => performance.now());
  const onError = options.onError ?? (() => {});
  if (!Number.isInteger(cap) || cap < 1) throw new TypeError("maxEntriesPerScope must be a positive integer");
  if (!Number.isInteger(maxScopes) || maxScopes < 1)
    throw new TypeError("maxScopes must be a positive integer");

  const owned = options.client === undefined;
  const plain = options.client ?? ownClient(options.url, timeout, onError);
  // Records are bytes: values come back as Buffers.
  const client = plain.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const instance = randomBytes(INSTANCE_BYTES);
  const scopes = new Map<string, ScopeState>();
  const counts = { published: 0, synced: 0, malformed: 0, failed: 0 };
  let closed = false;

  const command = boundedCommands(timeout, maxInFlight);

  /**
   * The scope's state, made the most recent; the least recent is forgotten past maxScopes (a forgotten
   * scope is read from its newest records again, which the index may then hold twice).
   */
  const stateOf = (scope: string): ScopeState => {
    const state = scopes.get(scope) ?? {
      epoch: "",
      seq: 0,
      nextAt: Number.NEGATIVE_INFINITY,
      reading: false,
    };
    scopes.delete(scope);
    scopes.set(scope, state);
    if (scopes.size > maxScopes) {
      const oldest = scopes.keys().next().value;
      if (oldest !== undefined) scopes.delete(oldest);
    }
    return state;
  };

  const read = async (scope: string, state: ScopeState): Promise<unknown> => {
    const keys = semanticKeys(prefix, scope);
    const script = {
      keys: [keys.meta, keys.entries],
      arguments: [state.epoch, String(state.seq), String(cap)],
    };
    try {
      return await command(() => client.evalSha(READ_SCRIPT_SHA, script));
    } catch (error) {
      // Redis loads a script once and may forget it (restart, SCRIPT FLUSH): then it is sent whole.
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return await command(() => client.eval(READ_SCRIPT, script));
    }
  };

  return {
    async publish(scope, vector, payload, ttlMs) {
      if (closed || !(ttlMs > 0)) return;
      const keys = semanticKeys(prefix, scope);
      const ms = Math.max(1, Math.ceil(ttlMs));
      try {
        const record = encodeRecord(instance, vector, payload);
        // NX gives a new key its expiry, GT only ever lengthens one: the list outlives its newest record.
        await command(() =>
          client
            .multi()
            .hSetNX(keys.meta, "epoch", randomUUID())
            .hIncrBy(keys.meta, "seq", 1)
            .rPush(keys.entries, record)
            .lTrim(keys.entries, -cap, -1)
            .pExpire(keys.meta, ms, "NX")
            .pExpire(keys.meta, ms, "GT")
            .pExpire(keys.entries, ms, "NX")
            .pExpire(keys.entries, ms, "GT")
            .exec(),
        );
        counts.published += 1;
      } catch {
        counts.failed += 1;
      }
    },

    async sync(scope, index) {
      if (closed) return;
      const state = stateOf(scope);
      const at = now();
      if (state.reading || at < state.nextAt) return;
      state.reading = true;
      state.nextAt = at + refreshMs;
      try {
        const reply = await read(scope, state);
        const answer = readAnswer(reply);
        if (answer === undefined) {
          // No list (expired, never published): whatever comes next is a new one.
          state.epoch = "";
          state.seq = 0;
          return;
        }
        state.epoch = answer.epoch;
        state.seq = answer.seq;
        for (const value of answer.records) {
          const record = decodeRecord(value);
          if (record === undefined) {
            counts.malformed += 1;
            continue;
          }
          if (instance.equals(record.instance)) continue;
          try {
            index.add(scope, record.vector, record.payload);
            counts.synced += 1;
          } catch {
            counts.malformed += 1;
          }
        }
      } catch {
        counts.failed += 1;
      } finally {
        state.reading = false;
      }
    },

    counts(): RedisSemanticCounts {
      return { ...counts };
    },

    async close() {
      if (closed) return;
      closed = true;
      if (owned && client.isOpen) await client.close().catch(() => client.destroy());
    },
  };
}

function ownClient(
  url: string | undefined,
  timeout: number,
  onError: (error: Error) => void,
): ReturnType<typeof createClient> {
  if (url === undefined) throw new TypeError("a client or a url is needed");
  return connectRedis(url, timeout, onError);
}

/** The read script's answer: undefined for no list, else its identity, count and the new records. */
function readAnswer(reply: unknown): { epoch: string; seq: number; records: unknown[] } | undefined {
  if (!Array.isArray(reply) || reply.length === 0) return undefined;
  const [epoch, seq, records] = reply as unknown[];
  if (!Buffer.isBuffer(epoch) || typeof seq !== "number" || !Array.isArray(records)) {
    throw new Error("unexpected answer to the semantic read script");
  }
  return { epoch: epoch.toString(), seq, records };
}

const RECORD_VERSION = 1;
const INSTANCE_BYTES = 16;
/** Version (1 byte), publishing instance, dimension (uint32). */
const HEADER_BYTES = 1 + INSTANCE_BYTES + 4;
/** The index's own bound on a vector's dimension. */
const MAX_DIMENSION = 4096;
/** Vectors are copied whole (value by value, decoding cost as much as adding to the index), swapped on such a host. */
const BIG_ENDIAN = endianness() === "BE";

export interface SemanticRecord {
  readonly instance: Buffer;
  readonly vector: Float32Array;
  readonly payload: Buffer;
}

/** The header, the vector as little-endian f32, then the payload: one value, whatever the host's order. */
export function encodeRecord(instance: Uint8Array, vector: Float32Array, payload: Uint8Array): Buffer {
  if (instance.length !== INSTANCE_BYTES) throw new TypeError(`instance must be ${INSTANCE_BYTES} bytes`);
  const record = Buffer.alloc(HEADER_BYTES + 4 * vector.length + payload.length);
  record.writeUInt8(RECORD_VERSION, 0);
  record.set(instance, 1);
  record.writeUInt32LE(vector.length, 1 + INSTANCE_BYTES);
  record.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), HEADER_BYTES);
  if (BIG_ENDIAN) record.subarray(HEADER_BYTES, HEADER_BYTES + vector.byteLength).swap32();
  record.set(payload, HEADER_BYTES + 4 * vector.length);
  return record;
}

/** The record in a list value; undefined for one this version did not write. */
export function decodeRecord(value: unknown): SemanticRecord | undefined {
  if (!Buffer.isBuffer(value) || value.length < HEADER_BYTES) return undefined;
  if (value.readUInt8(0) !== RECORD_VERSION) return undefined;
  const dimension = value.readUInt32LE(1 + INSTANCE_BYTES);
  if (dimension === 0 || dimension > MAX_DIMENSION || HEADER_BYTES + 4 * dimension > value.length) {
    return undefined;
  }
  const vector = new Float32Array(dimension);
  new Uint8Array(vector.buffer).set(value.subarray(HEADER_BYTES, HEADER_BYTES + 4 * dimension));
  if (BIG_ENDIAN) Buffer.from(vector.buffer).swap32();
  return {
    instance: value.subarray(1, 1 + INSTANCE_BYTES),
    vector,
    payload: value.subarray(HEADER_BYTES + 4 * dimension),
  };
}
