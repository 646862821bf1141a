import { expect, it } from "vitest";
import type { MemoryStoreOptions } from "../../src/cache/memory-store.js";
import { type CacheEntry, type CacheStore, entryBytes } from "../../src/cache/store.js";

// What every in-process cache store does alike (src/cache/memory-store.ts, a thread's own, and
// src/cache/shared-memory-store.ts, the process's): answers, copies, TTL, the byte bound and its LRU order.
// The bound counts `headerBytes` more per entry than entryBytes in a store that keeps a header.

const KEY_LENGTH = 64;
export const key = (n: number): string => n.toString(16).padStart(KEY_LENGTH, "0");
export const entry = (text: string, streamed = false): CacheEntry => ({
  status: 200,
  costMicros: 1500,
  contentType: streamed ? "text/event-stream" : "application/json",
  body: Buffer.from(text),
  streamed,
  storedAt: 1_700_000_000_000,
});
export const text = (found: CacheEntry | undefined): string | undefined =>
  found === undefined ? undefined : Buffer.from(found.body).toString();

/** A clock the test moves. */
export function testClock() {
  let at = 1_000_000;
  return {
    now: () => at,
    advance: (ms: number) => {
      at += ms;
    },
  };
}

/** The shared cases, as `it`s in the caller's describe. */
export function memoryStoreCases(
  make: (options: MemoryStoreOptions) => CacheStore,
  headerBytes: number,
): void {
  const bound = (n: number, e: CacheEntry): number => entryBytes(key(n), e) + headerBytes;

  it("answers what was stored, with its status, content type, stream flag, time and cost", async () => {
    const store = make({ maxBytes: 10_000 });
    const answer = { ...entry('data: {"x":1}\n\n', true), status: 203, storedAt: 1_700_000_000_123.5 };
    await store.set(key(1), answer, 60_000);
    expect(await store.get(key(1))).toEqual(answer);
    expect(await store.get(key(2))).toBeUndefined();
    expect(store.counts()).toMatchObject({ hits: 1, misses: 1, stores: 1 });
  });

  it("keeps its own copy of the body", async () => {
    const store = make({ maxBytes: 10_000 });
    const reused = Buffer.from("first answer");
    await store.set(key(1), { ...entry(""), body: reused }, 60_000);
    reused.write("XXXXX");
    expect(text(await store.get(key(1)))).toBe("first answer");
  });

  it("never answers an expired entry, and forgets it", async () => {
    const clock = testClock();
    const store = make({ maxBytes: 10_000, now: clock.now });
    await store.set(key(1), entry("a"), 1_000);
    clock.advance(999);
    expect(text(await store.get(key(1)))).toBe("a");
    clock.advance(1);
    expect(await store.get(key(1))).toBeUndefined();
    expect(await store.size()).toEqual({ entries: 0, bytes: 0 });
  });

  it("does not count expired entries it has not touched since", async () => {
    const clock = testClock();
    const store = make({ maxBytes: 10_000, now: clock.now });
    await store.set(key(1), entry("short"), 1_000);
    await store.set(key(2), entry("long"), 5_000);
    clock.advance(2_000);
    expect(await store.size()).toEqual({ entries: 1, bytes: entryBytes(key(2), entry("long")) });
  });

  it("stores nothing for a TTL that is not positive", async () => {
    const store = make({ maxBytes: 10_000 });
    for (const ttl of [0, -1, Number.NaN]) await store.set(key(1), entry("a"), ttl);
    expect(await store.get(key(1))).toBeUndefined();
    expect(store.counts().stores).toBe(0);
  });

  it("stays within its byte bound, dropping the least recently used first", async () => {
    const store = make({ maxBytes: bound(1, entry("0123456789")) * 3 });
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
    const small = bound(1, entry("x"));
    const store = make({ maxBytes: small * 4 });
    for (const n of [1, 2, 3, 4]) await store.set(key(n), entry("x"), 60_000);
    await store.set(key(5), entry("x".repeat(small * 2)), 60_000);
    expect((await store.size()).bytes).toBeLessThanOrEqual(small * 4);
    expect(await store.get(key(5))).toBeDefined();
    expect(await store.get(key(1))).toBeUndefined();
    expect(await store.get(key(4))).toBeDefined();
    expect(store.counts().evictions).toBe(3);
  });

  it("makes room by dropping expired entries before live ones", async () => {
    const clock = testClock();
    const store = make({ maxBytes: bound(1, entry("a")) * 2, now: clock.now });
    await store.set(key(1), entry("a"), 60_000);
    await store.set(key(2), entry("b"), 1_000);
    clock.advance(1_000);
    await store.set(key(3), entry("c"), 60_000);
    expect(text(await store.get(key(1)))).toBe("a");
    expect(store.counts().evictions).toBe(0);
  });

  it("does not store an entry larger than the whole bound, nor drop others for it", async () => {
    const store = make({ maxBytes: 200 });
    await store.set(key(1), entry("small"), 60_000);
    await store.set(key(2), entry("x".repeat(500)), 60_000);
    expect(await store.get(key(2))).toBeUndefined();
    expect(text(await store.get(key(1)))).toBe("small");
    expect(store.counts().stores).toBe(1);
  });

  it("replaces an entry under the same key, counting its bytes once", async () => {
    const store = make({ maxBytes: 10_000 });
    await store.set(key(1), entry("old answer"), 60_000);
    await store.set(key(1), entry("new"), 60_000);
    expect(text(await store.get(key(1)))).toBe("new");
    expect(await store.size()).toEqual({ entries: 1, bytes: entryBytes(key(1), entry("new")) });
  });
}
