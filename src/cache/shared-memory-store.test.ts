import { Worker } from "node:worker_threads";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { entry, key, memoryStoreCases, text } from "../../test/helpers/memory-store-cases.js";
import { nativeStatus, sharedCache } from "../native/index.js";
import {
  createMemoryCacheStore,
  SHARED_ENTRY_HEADER_BYTES,
  sharedMemoryStore,
} from "./shared-memory-store.js";
import { entryBytes } from "./store.js";

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

    memoryStoreCases((options) => sharedMemoryStore(cache, options), SHARED_ENTRY_HEADER_BYTES);

    it("keeps an empty body and a non-ASCII content type", async () => {
      const store = sharedMemoryStore(cache, { maxBytes: 10_000 });
      const answer = { ...entry(""), contentType: "text/plain; charset=ütf" };
      await store.set(key(1), answer, 60_000);
      expect(await store.get(key(1))).toEqual(answer);
    });

    it("shrinks to a smaller bound set by a later store, least recently used out first", async () => {
      const one = entryBytes(key(1), entry("0123456789")) + SHARED_ENTRY_HEADER_BYTES;
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
      // The value the addon holds: the header, the content type and the body (the key is apart).
      const written = entry("from the main thread");
      expect(seenLength).toBe(entryBytes(key(1), written) + SHARED_ENTRY_HEADER_BYTES - key(1).length);
      expect(await store.get(key(2))).toEqual(entry("from the main thread"));
    });
  });
}
