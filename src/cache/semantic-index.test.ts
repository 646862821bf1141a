import { Worker } from "node:worker_threads";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { clusteredVectors, nearCopy } from "../../bench/vector-data.js";
import { seededRandom } from "../../test/helpers/prng.js";
import {
  nativeStatus,
  SHARED_VECTORS_SCOPE_OVERHEAD,
  sharedVectors,
  VECTOR_ENTRY_OVERHEAD,
} from "../native/index.js";
import {
  createFallbackSemanticIndex,
  createNativeSemanticIndex,
  createSemanticIndex,
  type SemanticIndex,
  type SemanticIndexOptions,
} from "./semantic-index.js";

type Factory = (options: SemanticIndexOptions) => SemanticIndex;
const impls: [string, Factory][] = [["typescript", createFallbackSemanticIndex]];
if (createNativeSemanticIndex !== undefined) impls.push(["native", createNativeSemanticIndex]);

const DIM = 8;
const entry = (payload: number): number => DIM * 4 + VECTOR_ENTRY_OVERHEAD + payload;
const scope = (name: string): number => Buffer.byteLength(name) + SHARED_VECTORS_SCOPE_OVERHEAD;
const unit = (axis: number, dimension = DIM): Float32Array => {
  const v = new Float32Array(dimension);
  v[axis] = 1;
  return v;
};
const text = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString();
const payload = (s: string): Uint8Array => Buffer.from(s);

/** The message of the TypeError `f` throws. */
const thrown = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return e instanceof TypeError ? e.message : `not a TypeError: ${String(e)}`;
  }
  return "nothing thrown";
};

// The addon's registry is one per process: each test starts from an empty one.
beforeEach(() => sharedVectors?.clear());

describe("createSemanticIndex", () => {
  it("answers the process-wide registry whenever the addon is loaded", () => {
    expect(createSemanticIndex({ maxBytes: 1 << 20 }).shared).toBe(nativeStatus.loaded);
    expect(createNativeSemanticIndex !== undefined).toBe(nativeStatus.loaded);
  });

  it("answers this thread's own index under SWITCHYARD_NATIVE=0", async () => {
    const before = process.env.SWITCHYARD_NATIVE;
    process.env.SWITCHYARD_NATIVE = "0";
    vi.resetModules();
    try {
      const fresh = await import("./semantic-index.js");
      const index = fresh.createSemanticIndex({ maxBytes: 1 << 20 });
      expect(index.shared).toBe(false);
      index.add("s", unit(0), payload("a"));
      expect(text(index.search("s", unit(0), 0.9)?.payload)).toBe("a");
    } finally {
      if (before === undefined) delete process.env.SWITCHYARD_NATIVE;
      else process.env.SWITCHYARD_NATIVE = before;
      vi.resetModules();
    }
  });
});

describe.each(impls)("semantic index (%s)", (_name, create) => {
  it("answers the payload of the most similar entry at or above the threshold", () => {
    const index = create({ maxBytes: 1 << 20 });
    index.add("s", unit(0), payload("zero"));
    index.add("s", unit(1), payload("one"));
    const near = Float32Array.from([0.2, 1, 0, 0, 0, 0, 0, 0]);
    const hit = index.search("s", near, 0.9);
    expect(text(hit?.payload)).toBe("one");
    expect(hit?.similarity).toBeCloseTo(1 / Math.sqrt(1.04), 6);
    expect(index.search("s", near, 0.99)).toBeUndefined();
    expect(index.search("s", unit(2), -1)?.similarity).toBe(0);
    expect(index.search("nowhere", unit(0), 0.5)).toBeUndefined();
  });

  it("keeps scopes apart", () => {
    const index = create({ maxBytes: 1 << 20 });
    index.add("tenant-a/model", unit(0), payload("a"));
    index.add("tenant-b/model", unit(0), payload("b"));
    index.add("tenant-b/model", unit(1), payload("b1"));
    expect(text(index.search("tenant-a/model", unit(0), 0.9)?.payload)).toBe("a");
    expect(text(index.search("tenant-b/model", unit(0), 0.9)?.payload)).toBe("b");
    expect(index.search("tenant-a/model", unit(1), 0.9)).toBeUndefined();
    expect([index.scopeSize("tenant-a/model"), index.scopeSize("tenant-b/model")]).toEqual([1, 2]);
    expect(index.scopeSize("tenant-c/model")).toBe(0);
    // Each scope has its own dimension.
    index.add("tenant-c/model", unit(0, 16), payload("c"));
    expect(text(index.search("tenant-c/model", unit(0, 16), 0.9)?.payload)).toBe("c");
  });

  it("keeps its own copy of a payload and hands out copies", () => {
    const index = create({ maxBytes: 1 << 20 });
    const reused = Buffer.from("first");
    index.add("s", unit(0), reused);
    reused.write("XXXXX");
    const hit = index.search("s", unit(0), 0.9);
    expect(text(hit?.payload)).toBe("first");
    hit?.payload.fill(0);
    expect(text(index.search("s", unit(0), 0.9)?.payload)).toBe("first");
  });

  it("counts vectors, payloads and scopes against one bound, evicting the oldest entry of any scope", () => {
    // Room for two scopes and four entries with 4-byte payloads, and no more.
    const index = create({ maxBytes: scope("a") + scope("b") + 4 * entry(4) });
    index.add("a", unit(0), payload("a0a0"));
    index.add("b", unit(0), payload("b0b0"));
    index.add("a", unit(1), payload("a1a1"));
    index.add("b", unit(1), payload("b1b1"));
    expect(index.stats()).toEqual({ scopes: 2, entries: 4, bytes: scope("a") + scope("b") + 4 * entry(4) });
    index.add("b", unit(2), payload("b2b2"));
    expect(index.search("a", unit(0), 0.9)).toBeUndefined();
    expect(text(index.search("a", unit(1), 0.9)?.payload)).toBe("a1a1");
    index.add("b", unit(3), payload("b3b3"));
    expect(index.search("b", unit(0), 0.9)).toBeUndefined();
    expect(index.scopeSize("b")).toBe(3);
    // Evicting a's last entry drops scope a, and its bytes make room for two more of b's entries.
    index.add("b", unit(4), payload("b4b4"));
    expect(index.scopeSize("a")).toBe(0);
    expect(index.stats()).toEqual({ scopes: 1, entries: 4, bytes: scope("b") + 4 * entry(4) });
    index.add("b", unit(5), payload("b5b5"));
    index.add("b", unit(6), payload("b6b6"));
    expect(index.stats()).toEqual({ scopes: 1, entries: 6, bytes: scope("b") + 6 * entry(4) });
    expect(text(index.search("b", unit(1), 0.9)?.payload)).toBe("b1b1");
  });

  it("does not store an entry over the whole bound, nor evict others for it", () => {
    const index = create({ maxBytes: scope("s") + entry(100) });
    index.add("s", unit(0), payload("small"));
    index.add("s", unit(1), new Uint8Array(101));
    index.add("t", unit(1), new Uint8Array(101));
    expect(index.stats()).toEqual({ scopes: 1, entries: 1, bytes: scope("s") + entry(5) });
    // One that fills the bound alone is stored, evicting everything else.
    index.add("u", unit(1), new Uint8Array(100));
    expect(index.stats()).toEqual({ scopes: 1, entries: 1, bytes: scope("u") + entry(100) });
    expect(create({ maxBytes: 0 }).search("s", unit(0), 0.9)).toBeUndefined();
  });

  it("refuses bad input with a TypeError naming it, leaving the index as it was", () => {
    const index = create({ maxBytes: 1 << 20 });
    index.add("s", unit(0), payload("a"));
    const errors = [
      thrown(() => index.add("s", unit(0, 16), payload("x"))),
      thrown(() => index.add("t", unit(0, 4), payload("x"))),
      thrown(() => index.add("t", new Float32Array(DIM), payload("x"))),
      thrown(() => index.add("t", Float32Array.from([1, Number.NaN, 0, 0, 0, 0, 0, 0]), payload("x"))),
      thrown(() => index.add("t", [1, 0, 0, 0, 0, 0, 0, 0] as unknown as Float32Array, payload("x"))),
      thrown(() => index.add(7 as unknown as string, unit(0), payload("x"))),
      thrown(() => index.search("s", unit(0, 16), 0.5)),
      thrown(() => index.search("s", unit(0), 1.5)),
      thrown(() => index.search("nowhere", unit(0), Number.NaN)),
      thrown(() => create({ maxBytes: -1 })),
      thrown(() => create({ maxBytes: 1.5 })),
    ];
    expect(errors).toEqual([
      "vector must have 8 values, got 16 (the scope's dimension)",
      "dimension must be an integer from 8 to 4096",
      "vector must not be all zeros",
      "vector[1] is not a finite number",
      "vector must be a Float32Array",
      "scope must be a string",
      "vector must have 8 values, got 16",
      "threshold must be a number from -1 to 1",
      "threshold must be a number from -1 to 1",
      "maxBytes must be a non-negative integer",
      "maxBytes must be a non-negative integer",
    ]);
    expect(index.stats()).toEqual({ scopes: 1, entries: 1, bytes: scope("s") + entry(1) });
  });
});

if (createNativeSemanticIndex !== undefined) {
  const createNative = createNativeSemanticIndex;
  describe("semantic index parity", () => {
    it("answers the same hits as the TypeScript twin through adds, evictions and searches", () => {
      const { random } = seededRandom(0x5e_a2c4);
      const dimension = 64;
      const scopes = ["t1/m", "t1/m2", "t2/m"];
      const data = clusteredVectors(random, 900, dimension, 30, 0.6);
      // Room for about 600 of the 900 entries, so the oldest third goes.
      const maxBytes = 3 * scope("t1/m2") + 600 * (dimension * 4 + VECTOR_ENTRY_OVERHEAD + 8);
      const ts = createFallbackSemanticIndex({ maxBytes });
      const nat = createNative({ maxBytes });
      for (let n = 0; n < 900; n++) {
        const v = data.subarray(n * dimension, (n + 1) * dimension);
        const s = scopes[n % 3] as string;
        const p = payload(n.toString().padStart(8, "0"));
        ts.add(s, v, p);
        nat.add(s, v, p);
      }
      expect(nat.stats()).toEqual(ts.stats());
      expect(nat.stats().entries).toBeLessThan(900);
      let hits = 0;
      for (let q = 0; q < 300; q++) {
        const source = Math.floor(random() * 900);
        const query = nearCopy(random, data.subarray(source * dimension, (source + 1) * dimension), 0.3);
        const s = scopes[q % 3] as string;
        const a = ts.search(s, query, 0.8);
        const b = nat.search(s, query, 0.8);
        expect(text(b?.payload)).toBe(text(a?.payload));
        if (a !== undefined && b !== undefined) {
          hits++;
          expect(b.similarity).toBeCloseTo(a.similarity, 5);
        }
        expect(nat.scopeSize(s)).toBe(ts.scopeSize(s));
      }
      expect(hits).toBeGreaterThan(50);
    });

    it("is one registry for every thread of the process, numbering entries across them", async () => {
      const index = createNative({ maxBytes: 1 << 20 });
      index.add("s", unit(0), payload("main"));
      // A lane stand-in: loads the same addon, finds the main thread's entry and adds its own.
      const source = `
        const { workerData, parentPort } = require("node:worker_threads");
        const addon = require(workerData.path);
        const axis = (i) => { const v = new Float32Array(8); v[i] = 1; return v; };
        const out = new Float64Array(2);
        const seen = addon.sharedVectorsSearch("s", axis(0), 0.9, out);
        addon.sharedVectorsAdd("s", axis(1), Buffer.from("worker"));
        parentPort.postMessage(seen === null ? null : seen.toString());`;
      const seen = await new Promise((resolve, reject) => {
        const worker = new Worker(source, { eval: true, workerData: { path: nativeStatus.detail } });
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      expect(seen).toBe("main");
      expect(text(index.search("s", unit(1), 0.9)?.payload)).toBe("worker");
      const out = new Float64Array(2);
      sharedVectors?.search("s", unit(0), 0.9, out);
      const mainId = out[1];
      sharedVectors?.search("s", unit(1), 0.9, out);
      expect(out[1]).not.toBe(mainId);
    });
  });
}
