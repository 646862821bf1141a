import { describe, expect, it } from "vitest";
import { BoundedCache } from "./bounded-cache.js";

describe("BoundedCache", () => {
  it("keeps at most maxEntries, dropping the oldest first", () => {
    const cache = new BoundedCache<number>(3, 1000);
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(3);
    expect(cache.get("k6")).toBeUndefined();
    expect([cache.get("k7"), cache.get("k8"), cache.get("k9")]).toEqual([7, 8, 9]);
  });

  it("keeps the summed key length within maxKeyChars", () => {
    const cache = new BoundedCache<number>(1000, 100);
    for (let i = 0; i < 50; i++) cache.set(`${i}`.padStart(30, "x"), i);
    expect(cache.keyLength).toBeLessThanOrEqual(100);
    expect(cache.size).toBe(3);
    expect(cache.get(`${49}`.padStart(30, "x"))).toBe(49);
  });

  it("does not keep a key longer than the whole bound", () => {
    const cache = new BoundedCache<number>(10, 100);
    cache.set("a", 1);
    cache.set("x".repeat(101), 2);
    expect(cache.get("x".repeat(101))).toBeUndefined();
    expect(cache.get("a")).toBe(1);
  });

  it("replaces a value in place without counting its key twice", () => {
    const cache = new BoundedCache<number>(2, 100);
    cache.set("a", 1);
    cache.set("a", 2);
    expect(cache.size).toBe(1);
    expect(cache.keyLength).toBe(1);
    expect(cache.get("a")).toBe(2);
  });

  it("stays bounded under a flood of long one-off keys", () => {
    const cache = new BoundedCache<object>(4096, 256 * 1024);
    for (let i = 0; i < 20_000; i++) cache.set(`${i}-${"m".repeat(250)}`, {});
    expect(cache.size).toBeLessThanOrEqual(4096);
    expect(cache.keyLength).toBeLessThanOrEqual(256 * 1024);
  });
});
