import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startTestRedis, type TestRedis } from "../../test/helpers/redis.js";
import {
  decodeRecord,
  encodeRecord,
  type RedisSemanticShare,
  type RedisSemanticShareOptions,
  redisSemanticShare,
  semanticKeys,
} from "./redis-semantic.js";
import { createFallbackSemanticIndex, type SemanticIndex } from "./semantic-index.js";

const DIMENSION = 8;
/** A distinct unit-ish vector per `n`, so each search finds the entry published with it. */
const vectorOf = (n: number): Float32Array =>
  Float32Array.from({ length: DIMENSION }, (_, i) => (i === n % DIMENSION ? 1 : 0.01 * (n + 1) * (i + 1)));
const payloadOf = (n: number): Buffer => Buffer.from(`answer-${n}`);
const scope = (): string => randomBytes(16).toString("hex");
const index = (): SemanticIndex => createFallbackSemanticIndex({ maxBytes: 16 * 1024 * 1024 });
const found = (target: SemanticIndex, at: string, n: number): string | undefined => {
  const hit = target.search(at, vectorOf(n), 0.9999);
  return hit === undefined ? undefined : Buffer.from(hit.payload).toString();
};

let redis: TestRedis;
/** The tests' own connection, shared by the shares given a client and used to look at what they wrote. */
let raw: ReturnType<typeof createClient>;
const shares: RedisSemanticShare[] = [];
let prefix: string;

/** A share ("an instance") on `raw`, under the test's prefix, with a clock that never holds a sync back. */
function share(options: Partial<RedisSemanticShareOptions> = {}): RedisSemanticShare {
  const made = redisSemanticShare({ client: raw, prefix, refreshMs: 0, ...options });
  shares.push(made);
  return made;
}

/** Publishes `n` into `own` as the recorder will: added locally, then shared. */
async function publish(from: RedisSemanticShare, own: SemanticIndex, at: string, n: number, ttlMs = 60_000) {
  own.add(at, vectorOf(n), payloadOf(n));
  await from.publish(at, vectorOf(n), payloadOf(n), ttlMs);
}

/** Tries `done` until it holds: a share made from a URL connects in the background. */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (await done()) return;
    await sleep(50);
  }
  throw new Error("never held");
}

beforeAll(async () => {
  redis = await startTestRedis();
  raw = createClient({ url: redis.url });
  raw.on("error", () => {});
  await raw.connect();
}, 60_000);

afterAll(async () => {
  for (const made of shares) await made.close();
  if (raw.isOpen) await raw.close();
  await redis?.stop();
});

describe("redisSemanticShare", () => {
  it("gives one instance's entries to another, and never adds an instance's own twice", async () => {
    prefix = `test:${randomBytes(6).toString("hex")}:`;
    const [a, b] = [share(), share()];
    const [indexA, indexB] = [index(), index()];
    const at = scope();
    await publish(a, indexA, at, 1);
    await publish(a, indexA, at, 2);
    await b.sync(at, indexB);
    expect(found(indexB, at, 1)).toBe("answer-1");
    expect(found(indexB, at, 2)).toBe("answer-2");
    expect(indexB.scopeSize(at)).toBe(2);

    await publish(b, indexB, at, 3);
    await a.sync(at, indexA);
    await b.sync(at, indexB);
    expect(indexA.scopeSize(at)).toBe(3);
    expect(found(indexA, at, 3)).toBe("answer-3");
    expect(indexB.scopeSize(at)).toBe(3);
    expect(a.counts()).toEqual({ published: 2, synced: 1, malformed: 0, failed: 0 });
    expect(b.counts()).toEqual({ published: 1, synced: 2, malformed: 0, failed: 0 });
    // Another scope is apart.
    const other = scope();
    await b.sync(other, indexB);
    expect(indexB.scopeSize(other)).toBe(0);
  });

  it("reads a scope at most once per refreshMs", async () => {
    prefix = `test:${randomBytes(6).toString("hex")}:`;
    let clock = 1_000_000;
    const a = share();
    const b = share({ refreshMs: 1000, now: () => clock });
    const [indexA, indexB] = [index(), index()];
    const at = scope();
    await b.sync(at, indexB);
    await publish(a, indexA, at, 1);
    clock += 999;
    await b.sync(at, indexB);
    expect(indexB.scopeSize(at)).toBe(0);
    clock += 1;
    await b.sync(at, indexB);
    expect(found(indexB, at, 1)).toBe("answer-1");
    // Each scope has its own interval.
    const second = scope();
    await publish(a, indexA, second, 2);
    await b.sync(second, indexB);
    expect(found(indexB, second, 2)).toBe("answer-2");
  });

  it("reads a scope once at a time, and forgets the least recently synced scope past maxScopes", async () => {
    prefix = `test:${randomBytes(6).toString("hex")}:`;
    const a = share();
    const b = share({ maxScopes: 1 });
    const [indexA, indexB] = [index(), index()];
    const [first, second] = [scope(), scope()];
    await publish(a, indexA, first, 1);
    await publish(a, indexA, second, 2);
    // Concurrent syncs of one scope: one read, each entry added once.
    await Promise.all([b.sync(first, indexB), b.sync(first, indexB)]);
    expect(indexB.scopeSize(first)).toBe(1);
    await b.sync(second, indexB);
    // `first`'s place was forgotten: read from the start again (the index then holds the entry twice).
    await b.sync(first, indexB);
    expect(indexB.scopeSize(first)).toBe(2);
    expect(b.counts()).toMatchObject({ synced: 3, failed: 0 });
  });

  it("keeps the newest maxEntriesPerScope, which a reader that fell behind still reads", async () => {
    prefix = `test:${randomBytes(6).toString("hex")}:`;
    const a = share({ maxEntriesPerScope: 5 });
    const b = share({ maxEntriesPerScope: 5 });
    const [indexA, indexB, late] = [index(), index(), index()];
    const at = scope();
    for (let n = 0; n < 12; n++) await publish(a, indexA, at, n);
    expect(await raw.lLen(semanticKeys(prefix, at).entries)).toBe(5);
    // A reader new to the scope: the newest five.
    await share({ maxEntriesPerScope: 5 }).sync(at, late);
    expect(late.scopeSize(at)).toBe(5);
    expect(found(late, at, 7)).toBe("answer-7");
    expect(found(late, at, 6)).toBeUndefined();

    await b.sync(at, indexB);
    expect(indexB.scopeSize(at)).toBe(5);
    // Two more: only they are read, though the list was trimmed past where b was.
    for (let n = 12; n < 14; n++) await publish(a, indexA, at, n);
    await b.sync(at, indexB);
    expect(indexB.scopeSize(at)).toBe(7);
    expect(found(indexB, at, 13)).toBe("answer-13");
    // Fallen behind by more than the list holds: the newest five, none older.
    for (let n = 14; n < 30; n++) await publish(a, indexA, at, n);
    await b.sync(at, indexB);
    expect(indexB.scopeSize(at)).toBe(12);
    expect(found(indexB, at, 25)).toBe("answer-25");
    expect(found(indexB, at, 24)).toBeUndefined();
    expect(b.counts()).toMatchObject({ synced: 12, failed: 0 });
  });

  it("expires a scope's keys after the longest TTL published, and reads a list that started again", async () => {
    prefix = `test:${randomBytes(6).toString("hex")}:`;
    const [a, b] = [share(), share()];
    const [indexA, indexB] = [index(), index()];
    const at = scope();
    const keys = semanticKeys(prefix, at);
    await publish(a, indexA, at, 1, 60_000);
    await publish(a, indexA, at, 2, 1_000);
    for (const key of [keys.entries, keys.meta]) {
      const ttl = await raw.pTTL(key);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    await b.sync(at, indexB);
    expect(indexB.scopeSize(at)).toBe(2);

    // Expired (the TTL shortened by hand), then more published than b had read: all of them are new.
    await raw.pExpire(keys.entries, 1);
    await raw.pExpire(keys.meta, 1);
    await sleep(20);
    expect(await raw.exists([keys.entries, keys.meta])).toBe(0);
    for (let n = 3; n < 6; n++) await publish(a, indexA, at, n, 200);
    await b.sync(at, indexB);
    expect(indexB.scopeSize(at)).toBe(5);
    expect(found(indexB, at, 3)).toBe("answer-3");

    await sleep(300);
    expect(await raw.exists([keys.entries, keys.meta])).toBe(0);
    await b.sync(at, indexB);
    await publish(a, indexA, at, 6);
    await b.sync(at, indexB);
    expect(found(indexB, at, 6)).toBe("answer-6");
    expect(b.counts()).toMatchObject({ synced: 6, failed: 0 });
  });

  it("counts a Redis that is down as failures, never throws, and says why", async () => {
    prefix = `test:${randomBytes(6).toString("hex")}:`;
    const errors: Error[] = [];
    const down = share({
      client: undefined,
      url: `redis://127.0.0.1:${await freePort()}`,
      commandTimeoutMs: 100,
      onError: (error) => errors.push(error),
    });
    const at = scope();
    await down.publish(at, vectorOf(1), payloadOf(1), 60_000);
    await down.sync(at, index());
    expect(down.counts()).toEqual({ published: 0, synced: 0, malformed: 0, failed: 2 });
    expect(errors.length).toBeGreaterThan(0);
  });

  it("carries on once a Redis that went away is back", async () => {
    prefix = `test:${randomBytes(6).toString("hex")}:`;
    const own = await startTestRedis({ throwaway: true });
    try {
      const [a, b] = [share({ client: undefined, url: own.url }), share({ client: undefined, url: own.url })];
      const [indexA, indexB] = [index(), index()];
      const at = scope();
      await until(async () => {
        await publish(a, indexA, at, 1);
        await b.sync(at, indexB);
        return indexB.scopeSize(at) > 0;
      });
      await own.takeDown();
      const before = a.counts().failed + b.counts().failed;
      await publish(a, indexA, at, 2);
      await b.sync(at, indexB);
      expect(a.counts().failed + b.counts().failed).toBe(before + 2);
      // Back, empty and without the read script loaded.
      await own.bringUp();
      await until(async () => {
        await publish(a, indexA, at, 3);
        await b.sync(at, indexB);
        return found(indexB, at, 3) !== undefined;
      });
    } finally {
      await own.stop();
    }
  }, 30_000);

  it("fails a command past its deadline", async () => {
    prefix = `test:${randomBytes(6).toString("hex")}:`;
    const slow = share({ commandTimeoutMs: 50 });
    // Redis answers nobody for the pause.
    await raw.sendCommand(["CLIENT", "PAUSE", "300", "ALL"]);
    const at = scope();
    await slow.publish(at, vectorOf(1), payloadOf(1), 60_000);
    await slow.sync(at, index());
    expect(slow.counts()).toMatchObject({ published: 0, failed: 2 });
    await sleep(300);
  });

  it("skips records it cannot read, and the rest still arrive", async () => {
    prefix = `test:${randomBytes(6).toString("hex")}:`;
    const [a, b] = [share(), share()];
    const [indexA, indexB] = [index(), index()];
    const at = scope();
    const keys = semanticKeys(prefix, at);
    await publish(a, indexA, at, 1);
    const wrongDimension = encodeRecord(randomBytes(16), new Float32Array(16).fill(1), payloadOf(9));
    for (const bad of [Buffer.from("not a record"), Buffer.alloc(0), wrongDimension]) {
      // As a writer of this format would: counted and pushed together.
      await raw.multi().hIncrBy(keys.meta, "seq", 1).rPush(keys.entries, bad).exec();
    }
    await publish(a, indexA, at, 2);
    await b.sync(at, indexB);
    expect(indexB.scopeSize(at)).toBe(2);
    expect(found(indexB, at, 2)).toBe("answer-2");
    expect(b.counts()).toEqual({ published: 0, synced: 2, malformed: 3, failed: 0 });
  });
});

describe("records", () => {
  it("round-trip with the instance, every vector value and every payload byte", () => {
    const instance = randomBytes(16);
    const vector = Float32Array.from([0.5, -1.25, 3e-8, 1e30, -0, 7, 8, 9]);
    const payload = Uint8Array.from({ length: 256 }, (_, i) => i);
    const record = decodeRecord(encodeRecord(instance, vector, payload));
    expect(record?.instance.equals(instance)).toBe(true);
    expect(record?.vector).toEqual(vector);
    expect(Buffer.from(payload).equals(record?.payload ?? Buffer.alloc(0))).toBe(true);
  });

  it("are little-endian f32 after a 21-byte header", () => {
    const record = encodeRecord(Buffer.alloc(16), Float32Array.from([1]), Buffer.from("p"));
    expect(record.subarray(17).toString("hex")).toBe(`01000000${"0000803f"}70`);
  });

  it("are refused when truncated, of another version or of an impossible dimension", () => {
    const good = encodeRecord(randomBytes(16), vectorOf(1), payloadOf(1));
    expect(decodeRecord(good.subarray(0, good.length - payloadOf(1).length - 1))).toBeUndefined();
    expect(decodeRecord(Buffer.concat([Buffer.from([2]), good.subarray(1)]))).toBeUndefined();
    const huge = Buffer.from(good);
    huge.writeUInt32LE(5000, 17);
    expect(decodeRecord(huge)).toBeUndefined();
    expect(decodeRecord("text")).toBeUndefined();
  });
});
