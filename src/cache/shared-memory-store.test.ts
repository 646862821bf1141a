import { Worker } from "node:worker_threads";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { nativeStatus, sharedCache } from "../native/index.js";
import {
  createMemoryCacheStore,
  SHARED_ENTRY_HEADER_BYTES,
  sharedMemoryStore,
} from "./shared-memory-store.js";
import { type CacheEntry, entryBytes } from "./store.js";

const KEY_LENGTH = 64;
const key = (n: number): string => n.toString(16).padStart(KEY_LENGTH, "0");
const entry = (text: string, streamed = false): CacheEntry => ({
  status: 200,
  costMicros: 1500,
  contentType: streamed ? "text/event-stream" : "application/json",
  body: Buffer.from(text),
  streamed,
  storedAt: 1_700_000_000_000,
});
const text = (found: CacheEntry | undefined): string | undefined =>
  found === undefined ? undefined : Buffer.from(found.body).toString();
/** What the shared store's bound counts for an entry: its entryBytes and the header. */
const stored = (n: number, e: CacheEntry): number => entryBytes(key(n), e) + SHARED_ENTRY_HEADER_BYTES;

/** A clock the test moves. */
function testClock() {
  let at = 1_000_000;
  return {
    now: () => at,
    advance: (ms: number) => {
      at += ms;
    },
  };
}

describe("createMemoryCacheStore", () => {
  it("shares the addon's store whenever the addon is loaded", () => {
    expect(createMemoryCacheStore({ maxBytes: 10_000 }).shared).toBe(nativeStatus.loaded);
    expect(sharedCache !== undefined).toBe(nativeStatus.loaded);
  });

  it("makes a store of the thread's own under SWITCHYARD_NATIVE=0", async () => {
    const before = process.env.SWITCHYARD_NATIVE;
    process.env.SWITCHYARD_NATIVE = "0";
    vi.resetModules();
    try {
      const fresh = await import("./shared-memory-store.js");
      const store = fresh.createMemoryCacheStore({ maxBytes: 10_000 });
      expect(store.shared).toBe(false);
      await store.set(key(1), entry("a"), 60_000);
      expect(text(await store.get(key(1)))).toBe("a");
      expect(store.counts()).toMatchObject({ hits: 1, stores: 1 });
    } finally {
      if (before === undefined) delete process.env.SWITCHYARD_NATIVE;
      else process.env.SWITCHYARD_NATIVE = before;
      vi.resetModules();
    }
  });
});

// Everything below needs the addon; `npm install` builds it (CI requires it).
const cache = sharedCache;
if (cache !== undefined) {
  describe("sharedMemoryStore", () => {
    beforeEach(() => cache.clear());

    it("answers what was stored, with its status, content type, stream flag and time", async () => {
      const store = sharedMemoryStore(cache, { maxBytes: 10_000 });
      const answer = { ...entry('data: {"x":1}\n\n', true), status: 203, storedAt: 1_700_000_000_123.5 };
      await store.set(key(1), answer, 60_000);
      expect(await store.get(key(1))).toEqual(answer);
      expect(await store.get(key(2))).toBeUndefined();
      expect(store.counts()).toMatchObject({ hits: 1, misses: 1, stores: 1 });
    });

    it("keeps an empty body and a non-ASCII content type", async () => {
      const store = sharedMemoryStore(cache, { maxBytes: 10_000 });
      const answer = { ...entry(""), contentType: "text/plain; charset=ütf" };
      await store.set(key(1), answer, 60_000);
      expect(await store.get(key(1))).toEqual(answer);
    });

    it("keeps its own copy of the body", async () => {
      const store = sharedMemoryStore(cache, { maxBytes: 10_000 });
      const reused = Buffer.from("first answer");
      await store.set(key(1), { ...entry(""), body: reused }, 60_000);
      reused.write("XXXXX");
      const found = await store.get(key(1));
      expect(text(found)).toBe("first answer");
      Buffer.from((found as CacheEntry).body.buffer).fill(0);
      expect(text(await store.get(key(1)))).toBe("first answer");
    });

    it("never answers an expired entry, and forgets it", async () => {
      const clock = testClock();
      const store = sharedMemoryStore(cache, { maxBytes: 10_000, now: clock.now });
      await store.set(key(1), entry("a"), 1_000);
      clock.advance(999);
      expect(text(await store.get(key(1)))).toBe("a");
      clock.advance(1);
      expect(await store.get(key(1))).toBeUndefined();
      expect(await store.size()).toEqual({ entries: 0, bytes: 0 });
    });

    it("does not count expired entries it has not touched since", async () => {
      const clock = testClock();
      const store = sharedMemoryStore(cache, { maxBytes: 10_000, now: clock.now });
      await store.set(key(1), entry("short"), 1_000);
      await store.set(key(2), entry("long"), 5_000);
      clock.advance(2_000);
      expect(await store.size()).toEqual({ entries: 1, bytes: entryBytes(key(2), entry("long")) });
    });

    it("stores nothing for a TTL that is not positive", async () => {
      const store = sharedMemoryStore(cache, { maxBytes: 10_000 });
      for (const ttl of [0, -1, Number.NaN]) await store.set(key(1), entry("a"), ttl);
      expect(await store.get(key(1))).toBeUndefined();
      expect(store.counts().stores).toBe(0);
    });

    it("stays within its byte bound, dropping the least recently used first", async () => {
      const one = stored(1, entry("0123456789"));
      const store = sharedMemoryStore(cache, { maxBytes: one * 3 });
      for (const n of [1, 2, 3]) await store.set(key(n), entry("0123456789"), 60_000);
      // Reading 1 makes 2 the least recently used.
      await store.get(key(1));
      await store.set(key(4), entry("0123456789"), 60_000);
      expect(await store.get(key(2))).toBeUndefined();
      for (const n of [1, 3, 4]) expect(await store.get(key(n))).toBeDefined();
      expect(await store.size()).toEqual({ entries: 3, bytes: entryBytes(key(1), entry("0123456789")) * 3 });
      expect(store.counts().evictions).toBe(1);
    });

    it("drops as many entries as a large one needs", async () => {
      const small = stored(1, entry("x"));
      const store = sharedMemoryStore(cache, { maxBytes: small * 4 });
      for (const n of [1, 2, 3, 4]) await store.set(key(n), entry("x"), 60_000);
      await store.set(key(5), entry("x".repeat(small * 2)), 60_000);
      expect(cache.stats(Date.now()).bytes).toBeLessThanOrEqual(small * 4);
      expect(await store.get(key(5))).toBeDefined();
      expect(await store.get(key(1))).toBeUndefined();
      expect(await store.get(key(4))).toBeDefined();
      expect(store.counts().evictions).toBe(3);
    });

    it("makes room by dropping expired entries before live ones", async () => {
      const clock = testClock();
      const one = stored(1, entry("a"));
      const store = sharedMemoryStore(cache, { maxBytes: one * 2, now: clock.now });
      await store.set(key(1), entry("a"), 60_000);
      await store.set(key(2), entry("b"), 1_000);
      clock.advance(1_000);
      await store.set(key(3), entry("c"), 60_000);
      expect(text(await store.get(key(1)))).toBe("a");
      expect(store.counts().evictions).toBe(0);
    });

    it("does not store an entry larger than the whole bound, nor drop others for it", async () => {
      const store = sharedMemoryStore(cache, { maxBytes: 200 });
      await store.set(key(1), entry("small"), 60_000);
      await store.set(key(2), entry("x".repeat(500)), 60_000);
      expect(await store.get(key(2))).toBeUndefined();
      expect(text(await store.get(key(1)))).toBe("small");
      expect(store.counts().stores).toBe(1);
    });

    it("replaces an entry under the same key, counting its bytes once", async () => {
      const store = sharedMemoryStore(cache, { maxBytes: 10_000 });
      await store.set(key(1), entry("old answer"), 60_000);
      await store.set(key(1), entry("new"), 60_000);
      expect(text(await store.get(key(1)))).toBe("new");
      expect(await store.size()).toEqual({ entries: 1, bytes: entryBytes(key(1), entry("new")) });
    });

    it("shrinks to a smaller bound set by a later store, least recently used out first", async () => {
      const one = stored(1, entry("0123456789"));
      const first = sharedMemoryStore(cache, { maxBytes: one * 3 });
      for (const n of [1, 2, 3]) await first.set(key(n), entry("0123456789"), 60_000);
      await first.get(key(1));
      sharedMemoryStore(cache, { maxBytes: one * 2 });
      expect(await first.get(key(2))).toBeUndefined();
      expect(await first.get(key(3))).toBeDefined();
      expect(await first.get(key(1))).toBeDefined();
    });

    it("deletes; closing one store leaves the entries to the others", async () => {
      const store = sharedMemoryStore(cache, { maxBytes: 10_000 });
      const other = sharedMemoryStore(cache, { maxBytes: 10_000 });
      await store.set(key(1), entry("a"), 60_000);
      await store.set(key(2), entry("b"), 60_000);
      await other.delete(key(1));
      await store.delete(key(3));
      expect(await store.get(key(1))).toBeUndefined();
      await store.close();
      expect(text(await other.get(key(2)))).toBe("b");
      expect(await other.size()).toMatchObject({ entries: 1 });
    });

    it("is one store for every thread of the process", async () => {
      const store = sharedMemoryStore(cache, { maxBytes: 10_000 });
      await store.set(key(1), entry("from the main thread"), 60_000);
      // A lane stand-in: loads the same addon, reads the main thread's entry and stores its own.
      const source = `
        const { workerData, parentPort } = require("node:worker_threads");
        const addon = require(workerData.path);
        const seen = addon.sharedCacheGet(workerData.read, Date.now());
        addon.sharedCacheSet(workerData.write, seen, 60000, Date.now());
        parentPort.postMessage(seen === null ? null : seen.length);`;
      const seenLength = await new Promise((resolve, reject) => {
        const worker = new Worker(source, {
          eval: true,
          workerData: { path: nativeStatus.detail, read: key(1), write: key(2) },
        });
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      expect(seenLength).toBe(stored(1, entry("from the main thread")) - KEY_LENGTH);
      expect(await store.get(key(2))).toEqual(entry("from the main thread"));
    });
  });
}
