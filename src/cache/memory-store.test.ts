import { describe, expect, it } from "vitest";
import { entry, key, memoryStoreCases } from "../../test/helpers/memory-store-cases.js";
import { memoryStore } from "./memory-store.js";

describe("memoryStore", () => {
  memoryStoreCases(memoryStore, 0);

  it("deletes, and empties on close", async () => {
    const store = memoryStore({ maxBytes: 10_000 });
    await store.set(key(1), entry("a"), 60_000);
    await store.set(key(2), entry("b"), 60_000);
    await store.delete(key(1));
    await store.delete(key(3));
    expect(await store.get(key(1))).toBeUndefined();
    expect(await store.size()).toMatchObject({ entries: 1 });
    await store.close();
    expect(await store.size()).toEqual({ entries: 0, bytes: 0 });
  });
});
