import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startTestRedis, type TestRedis } from "../../test/helpers/redis.js";
import { decodeEntry, encodeEntry, redisStore } from "./redis-store.js";
import { type CacheEntry, type CacheStore, type CacheStoreCounts, entryBytes } from "./store.js";

const entry = (body: Uint8Array | string, streamed = false): CacheEntry => ({
  status: 200,
  costMicros: 1500,
  contentType: streamed ? "text/event-stream" : "application/json",
  body: typeof body === "string" ? Buffer.from(body) : body,
  streamed,
  storedAt: 1_700_000_000_000,
});
const key = (): string => randomBytes(32).toString("hex");
/** A prefix of each test's own, so tests never see each other's entries. */
const prefix = (): string => `test:${randomBytes(6).toString("hex")}:`;

let redis: TestRedis;
/** A plain client, to look at what the store wrote. */
let raw: ReturnType<typeof createClient>;
const stores: CacheStore[] = [];

function store(options: Partial<Parameters<typeof redisStore>[0]> = {}): CacheStore {
  const made = redisStore({ url: redis.url, prefix: prefix(), ...options });
  stores.push(made);
  return made;
}

/** The counts since `before`: what one test did, leaving out connected()'s attempts. */
function countsSince(target: CacheStore, before: CacheStoreCounts): Record<string, number> {
  const now = target.counts();
  return Object.fromEntries(
    Object.entries(now).map(([name, value]) => [name, value - before[name as keyof CacheStoreCounts]]),
  );
}

/** Sets until a write lands: the store connects in the background. */
async function connected(target: CacheStore): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const before = target.counts().stores;
    await target.set("connected", entry("x"), 60_000);
    if (target.counts().stores > before) {
      await target.delete("connected");
      return;
    }
    await sleep(50);
  }
  throw new Error("the store never connected");
}

beforeAll(async () => {
  redis = await startTestRedis();
  raw = createClient({ url: redis.url });
  raw.on("error", () => {});
  await raw.connect();
}, 60_000);

afterAll(async () => {
  for (const made of stores) await made.close();
  if (raw.isOpen) await raw.close();
  await redis?.stop();
});

describe("redisStore", () => {
  it("answers what was stored, bytes for bytes", async () => {
    const target = store();
    await connected(target);
    const before = target.counts();
    const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
    const k = key();
    await target.set(k, entry(everyByte, true), 60_000);
    const found = await target.get(k);
    expect(found).toEqual({ ...entry(everyByte, true), body: Buffer.from(everyByte) });
    expect(await target.get(key())).toBeUndefined();
    expect(countsSince(target, before)).toEqual({
      hits: 1,
      misses: 1,
      stores: 1,
      evictions: 0,
      failedReads: 0,
      failedWrites: 0,
    });
  });

  it("writes under its prefix with Redis's own expiry", async () => {
    const keyPrefix = prefix();
    const target = store({ prefix: keyPrefix });
    await connected(target);
    const k = key();
    await target.set(k, entry("{}"), 60_000);
    const ttl = await raw.pTTL(keyPrefix + k);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await raw.exists(k)).toBe(0);
  });

  it("never answers an entry past its TTL", async () => {
    const target = store();
    await connected(target);
    const k = key();
    await target.set(k, entry("{}"), 1);
    await sleep(20);
    expect(await target.get(k)).toBeUndefined();
  });

  it("stores nothing for a TTL that is not positive, or an entry over its bound", async () => {
    const target = store({ maxEntryBytes: 1000 });
    await connected(target);
    const before = target.counts();
    const [k1, k2] = [key(), key()];
    await target.set(k1, entry("{}"), 0);
    await target.set(k2, entry("x".repeat(1000)), 60_000);
    expect(await target.get(k1)).toBeUndefined();
    expect(await target.get(k2)).toBeUndefined();
    expect(countsSince(target, before)).toMatchObject({ stores: 0, failedWrites: 0 });
  });

  it("keeps stores with different prefixes apart, and shares one prefix between instances", async () => {
    const shared = prefix();
    const [a, b, other] = [store({ prefix: shared }), store({ prefix: shared }), store()];
    await Promise.all([connected(a), connected(b), connected(other)]);
    const k = key();
    await a.set(k, entry("from a"), 60_000);
    expect(Buffer.from((await b.get(k))?.body ?? []).toString()).toBe("from a");
    expect(await other.get(k)).toBeUndefined();
  });

  it("deletes, and sizes only its own entries", async () => {
    const target = store();
    const neighbour = store();
    await Promise.all([connected(target), connected(neighbour)]);
    const [k1, k2] = [key(), key()];
    await target.set(k1, entry("one"), 60_000);
    await target.set(k2, entry("two"), 60_000);
    await neighbour.set(key(), entry("elsewhere"), 60_000);
    await target.delete(k1);
    expect(await target.get(k1)).toBeUndefined();
    const size = await target.size();
    expect(size.entries).toBe(1);
    expect(size.bytes).toBe(k2.length + encodeEntry(entry("two")).length);
    expect(size.bytes).toBeGreaterThanOrEqual(entryBytes(k2, entry("two")));
  });

  it("treats a value it did not write as a miss", async () => {
    const keyPrefix = prefix();
    const target = store({ prefix: keyPrefix });
    await connected(target);
    const k = key();
    await raw.set(keyPrefix + k, "not an entry");
    expect(await target.get(k)).toBeUndefined();
    expect(target.counts()).toMatchObject({ misses: 1, failedReads: 1 });
  });

  it("treats a Redis that does not answer in time as a miss", async () => {
    const target = store({ commandTimeoutMs: 100 });
    await connected(target);
    const k = key();
    await target.set(k, entry("{}"), 60_000);
    const before = target.counts();
    // Redis answers nobody for the pause (CLIENT UNPAUSE itself would wait for its end).
    await raw.sendCommand(["CLIENT", "PAUSE", "1000", "ALL"]);
    expect(await target.get(k)).toBeUndefined();
    await target.set(key(), entry("{}"), 60_000);
    expect(countsSince(target, before)).toMatchObject({ misses: 1, failedReads: 1, failedWrites: 1 });
    await raw.ping();
    expect(await target.get(k)).toBeDefined();
  });

  it("fails at once beyond its commands in flight", async () => {
    const target = store({ commandTimeoutMs: 10_000, maxInFlight: 2 });
    await connected(target);
    const before = target.counts();
    const k = key();
    await target.set(k, entry("{}"), 60_000);
    await raw.sendCommand(["CLIENT", "PAUSE", "1000", "ALL"]);
    // Two reads wait for the paused server; the third is not sent.
    let waitingAnswered = false;
    const waiting = Promise.all([target.get(k), target.get(k)]).finally(() => {
      waitingAnswered = true;
    });
    expect(await target.get(k)).toBeUndefined();
    expect(waitingAnswered).toBe(false);
    expect((await waiting).every((found) => found !== undefined)).toBe(true);
    expect(countsSince(target, before)).toMatchObject({ hits: 2, misses: 1, failedReads: 1 });
    expect(await target.get(k)).toBeDefined();
  });

  it("misses and drops writes while no Redis listens, without throwing", async () => {
    const target = redisStore({ url: `redis://127.0.0.1:${await freePort()}`, prefix: prefix() });
    stores.push(target);
    await target.set(key(), entry("{}"), 60_000);
    expect(await target.get(key())).toBeUndefined();
    await target.delete(key());
    expect(target.counts()).toMatchObject({ hits: 0, misses: 1, stores: 0, failedReads: 1, failedWrites: 2 });
    await target.close();
  });
});

describe("redisStore when Redis goes away", () => {
  it("misses while it is down and serves again once it is back", async () => {
    const own = await startTestRedis({ throwaway: true });
    const errors: Error[] = [];
    const target = redisStore({ url: own.url, prefix: prefix(), onError: (error) => errors.push(error) });
    stores.push(target);
    try {
      await connected(target);
      const k = key();
      await target.set(k, entry("{}"), 60_000);
      const before = target.counts();
      await own.takeDown();
      expect(await target.get(k)).toBeUndefined();
      await target.set(key(), entry("{}"), 60_000);
      expect(countsSince(target, before)).toMatchObject({ misses: 1, failedReads: 1, failedWrites: 1 });
      expect(errors.length).toBeGreaterThan(0);
      await own.bringUp();
      await connected(target);
      await target.set(k, entry("again"), 60_000);
      expect(Buffer.from((await target.get(k))?.body ?? []).toString()).toBe("again");
    } finally {
      await target.close();
      await own.stop();
    }
  }, 30_000);
});

describe("the stored value", () => {
  it("round-trips every field and refuses values of another shape", () => {
    const stored = entry(Buffer.from([0, 1, 2, 255]), true);
    expect(decodeEntry(encodeEntry(stored))).toEqual({ ...stored, body: Buffer.from([0, 1, 2, 255]) });
    const head = Buffer.from(JSON.stringify({ status: 200 }));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(head.length);
    for (const value of [Buffer.alloc(0), Buffer.from([0, 0, 1, 0]), Buffer.concat([length, head])])
      expect(decodeEntry(value)).toBeUndefined();
  });
});
