import { describe, expect, it, vi } from "vitest";
import { clusteredVectors, nearCopy } from "../../bench/vector-data.js";
import { seededRandom } from "../../test/helpers/prng.js";
import {
  createFallbackVectorIndex,
  createNativeVectorIndex,
  createVectorIndex,
  NativeVectorIndex,
  nativeStatus,
  VECTOR_APPROXIMATE_FROM,
  VECTOR_ENTRY_OVERHEAD,
  type VectorIndex,
  type VectorIndexOptions,
} from "./index.js";

type Factory = (options: VectorIndexOptions) => VectorIndex;
const impls: [string, Factory][] = [["typescript", createFallbackVectorIndex]];
if (createNativeVectorIndex !== undefined) impls.push(["native", createNativeVectorIndex]);

const BIG = 2 ** 40;

function randomVector(random: () => number, dimension: number): Float32Array {
  const v = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) v[i] = random() - 0.5;
  return v;
}

/** Cosine similarity in f64, independent of both implementations. */
function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / Math.sqrt(aa * bb);
}

/** The message of the TypeError `f` throws. */
const thrown = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return e instanceof TypeError ? e.message : `not a TypeError: ${String(e)}`;
  }
  return "nothing thrown";
};

describe("vector index loader", () => {
  it("creates the addon's index whenever the addon is loaded", () => {
    expect(createNativeVectorIndex !== undefined).toBe(nativeStatus.loaded);
    expect(createVectorIndex({ dimension: 8, maxBytes: 4096 }) instanceof NativeVectorIndex).toBe(
      nativeStatus.loaded,
    );
    expect(VECTOR_APPROXIMATE_FROM !== undefined).toBe(nativeStatus.loaded);
  });

  it("creates the TypeScript twin under SWITCHYARD_NATIVE=0", async () => {
    const before = process.env.SWITCHYARD_NATIVE;
    process.env.SWITCHYARD_NATIVE = "0";
    vi.resetModules();
    try {
      const loader = await import("./index.js");
      // The same module instance the fresh loader imported.
      const twin = await import("./vector.js");
      expect(loader.nativeStatus.loaded).toBe(false);
      expect(loader.createVectorIndex({ dimension: 8, maxBytes: 4096 })).toBeInstanceOf(twin.VectorIndexTs);
    } finally {
      if (before === undefined) delete process.env.SWITCHYARD_NATIVE;
      else process.env.SWITCHYARD_NATIVE = before;
      vi.resetModules();
    }
  });
});

describe.each(impls)("vector index (%s)", (_name, create) => {
  it("finds a stored vector by a scaled copy with similarity 1, and nothing above an unreachable threshold", () => {
    const random = seededRandom(11).random;
    const index = create({ dimension: 16, maxBytes: BIG });
    const stored = Array.from({ length: 20 }, () => randomVector(random, 16));
    for (const [id, v] of stored.entries()) index.add(id * 7, v);
    const query = (stored[5] as Float32Array).map((x) => x * 3.5);
    const hit = index.search(query, 0.99);
    expect(hit?.id).toBe(35);
    expect(hit?.similarity).toBeCloseTo(1, 5);
    const other = randomVector(random, 16);
    const best = index.search(other, -1);
    expect(best).toBeDefined();
    expect(index.search(other, Math.min(1, (best?.similarity as number) + 1e-3))).toBeUndefined();
  });

  it("never answers below the threshold, and always answers the best entry when one reaches it", () => {
    const random = seededRandom(12).random;
    const index = create({ dimension: 32, maxBytes: BIG });
    const stored = Array.from({ length: 300 }, () => randomVector(random, 32));
    for (const [id, v] of stored.entries()) index.add(id, v);
    for (let q = 0; q < 200; q++) {
      const query = randomVector(random, 32);
      const threshold = random() * 0.8 - 0.2;
      const best = Math.max(...stored.map((v) => cosine(query, v)));
      const hit = index.search(query, threshold);
      if (best >= threshold + 1e-5) {
        expect(hit).toBeDefined();
        expect(Math.abs((hit?.similarity as number) - best)).toBeLessThan(1e-5);
        expect(cosine(query, stored[hit?.id as number] as Float32Array)).toBeCloseTo(best, 5);
      }
      if (best < threshold - 1e-5) expect(hit).toBeUndefined();
      if (hit !== undefined) expect(hit.similarity).toBeGreaterThanOrEqual(threshold);
    }
  });

  it("evicts the oldest entries when the byte bound is reached, and reports them", () => {
    const random = seededRandom(13).random;
    const one = 8 * 4 + VECTOR_ENTRY_OVERHEAD;
    const index = create({ dimension: 8, maxBytes: 3 * one + one - 1 });
    const v = (): Float32Array => randomVector(random, 8);
    expect([index.add(1, v()), index.add(2, v()), index.add(3, v())]).toEqual([[], [], []]);
    expect(index.bytes).toBe(3 * one);
    expect(index.add(4, v())).toEqual([1]);
    // Re-adding an id replaces its entry and makes it the newest.
    const two = v();
    expect(index.add(2, two)).toEqual([]);
    expect(index.add(5, v())).toEqual([3]);
    expect(index.add(6, v())).toEqual([4]);
    expect(index.size).toBe(3);
    expect(index.bytes).toBe(3 * one);
    expect(index.search(two, 0.999)?.id).toBe(2);
    expect(index.remove(2)).toBe(true);
    expect(index.remove(2)).toBe(false);
    expect(index.search(two, 0.999)).toBeUndefined();
    expect(index.add(7, v())).toEqual([]);
    expect(index.add(8, v())).toEqual([5]);
  });

  it("refuses bad input with a message naming the problem, and keeps its entries", () => {
    const random = seededRandom(14).random;
    expect(thrown(() => create({ dimension: 7, maxBytes: BIG }))).toBe(
      "dimension must be an integer from 8 to 4096",
    );
    expect(thrown(() => create({ dimension: 4097, maxBytes: BIG }))).toBe(
      "dimension must be an integer from 8 to 4096",
    );
    expect(thrown(() => create({ dimension: 8.5, maxBytes: BIG }))).toBe(
      "dimension must be an integer from 8 to 4096",
    );
    expect(thrown(() => create({ dimension: 8, maxBytes: 95 }))).toBe(
      "maxBytes must be an integer of at least one entry's size (96 bytes)",
    );
    expect(thrown(() => create({ dimension: 8, maxBytes: BIG, approximateFrom: -1 }))).toBe(
      "approximateFrom must be an integer from 0 to 4294967295",
    );
    const index = create({ dimension: 8, maxBytes: BIG });
    const kept = randomVector(random, 8);
    index.add(1, kept);
    const bad: [string, () => unknown, string][] = [
      ["short", () => index.add(1, new Float32Array(7).fill(1)), "vector must have 8 values, got 7"],
      ["long", () => index.search(new Float32Array(9).fill(1), 0), "vector must have 8 values, got 9"],
      [
        "NaN",
        () => index.add(1, new Float32Array([1, 1, 1, Number.NaN, 1, 1, 1, 1])),
        "vector[3] is not a finite number",
      ],
      [
        "infinite",
        () => index.search(new Float32Array([1, 1, 1, 1, 1, 1, 1, -Infinity]), 0),
        "vector[7] is not a finite number",
      ],
      ["zeros", () => index.add(1, new Float32Array(8)), "vector must not be all zeros"],
      [
        "not f32",
        () => index.add(1, new Float64Array(8).fill(1) as unknown as Float32Array),
        "vector must be a Float32Array",
      ],
      ["negative id", () => index.add(-1, kept), "id must be an integer from 0 to 4294967295"],
      ["fractional id", () => index.remove(1.5), "id must be an integer from 0 to 4294967295"],
      ["id past u32", () => index.add(2 ** 32, kept), "id must be an integer from 0 to 4294967295"],
      ["threshold > 1", () => index.search(kept, 1.5), "threshold must be a number from -1 to 1"],
      ["threshold NaN", () => index.search(kept, Number.NaN), "threshold must be a number from -1 to 1"],
    ];
    for (const [name, f, message] of bad) expect(thrown(f), name).toBe(message);
    expect(index.size).toBe(1);
    expect(index.search(kept, 0.999)?.id).toBe(1);
  });

  it("keeps answering correctly through churn of adds, replacements and removals", () => {
    const random = seededRandom(15).random;
    const index = create({ dimension: 24, maxBytes: 400 * (24 * 4 + VECTOR_ENTRY_OVERHEAD) });
    const live = new Map<number, Float32Array>();
    for (let step = 0; step < 3000; step++) {
      const id = Math.floor(random() * 600);
      if (random() < 0.3) {
        expect(index.remove(id)).toBe(live.delete(id));
      } else {
        const v = randomVector(random, 24);
        for (const gone of index.add(id, v)) live.delete(gone);
        live.set(id, v);
      }
      expect(index.size).toBe(live.size);
    }
    for (const [id, v] of live) expect(index.search(v, 0.9999)?.id).toBe(id);
  });
});

describe("vector index: addon against TypeScript", () => {
  it.each([8, 100, 384, 1536])(
    "answers the same id and similarity (within 1e-5) at dimension %i",
    (dimension) => {
      if (createNativeVectorIndex === undefined) {
        expect(nativeStatus.loaded).toBe(false);
        return;
      }
      const random = seededRandom(0x5eed + dimension).random;
      const options = { dimension, maxBytes: 300 * (dimension * 4 + VECTOR_ENTRY_OVERHEAD) };
      const nat = createNativeVectorIndex(options);
      const ts = createFallbackVectorIndex(options);
      const stored: Float32Array[] = [];
      for (let i = 0; i < 400; i++) {
        const v = randomVector(random, dimension);
        stored.push(v);
        const id = Math.floor(random() * 500);
        expect(nat.add(id, v)).toEqual(ts.add(id, v));
        if (random() < 0.1) {
          const gone = Math.floor(random() * 500);
          expect(nat.remove(gone)).toBe(ts.remove(gone));
        }
      }
      expect(nat.approximate).toBe(false);
      expect([nat.size, nat.bytes]).toEqual([ts.size, ts.bytes]);
      let hits = 0;
      for (let q = 0; q < 150; q++) {
        const query =
          random() < 0.5
            ? nearCopy(random, stored[Math.floor(random() * stored.length)] as Float32Array, random())
            : randomVector(random, dimension);
        const threshold = random() * 1.2 - 0.2;
        const a = nat.search(query, threshold);
        const b = ts.search(query, threshold);
        expect(a?.id).toBe(b?.id);
        if (a !== undefined && b !== undefined) {
          hits++;
          expect(Math.abs(a.similarity - b.similarity)).toBeLessThan(1e-5);
        }
      }
      expect(hits).toBeGreaterThan(30);
    },
  );
});

describe("vector index: the addon's inverted file", () => {
  const dimension = 96;

  it("switches on at approximateFrom entries and off again when the index shrinks well below it", () => {
    if (createNativeVectorIndex === undefined) {
      expect(nativeStatus.loaded).toBe(false);
      return;
    }
    const random = seededRandom(21).random;
    const index = createNativeVectorIndex({ dimension, maxBytes: BIG, approximateFrom: 500 });
    for (let id = 0; id < 499; id++) index.add(id, randomVector(random, dimension));
    expect(index.approximate).toBe(false);
    index.add(499, randomVector(random, dimension));
    expect(index.approximate).toBe(true);
    for (let id = 0; id < 400; id++) index.remove(id);
    expect(index.approximate).toBe(false);
    expect(index.size).toBe(100);
  });

  it("finds a near copy's source with recall >= 0.95 on clustered vectors, never answering below the threshold", () => {
    if (createNativeVectorIndex === undefined) {
      expect(nativeStatus.loaded).toBe(false);
      return;
    }
    const random = seededRandom(22).random;
    const count = 20_000;
    const data = clusteredVectors(random, count, dimension, 200, 2);
    const index = createNativeVectorIndex({ dimension, maxBytes: BIG, approximateFrom: 2048 });
    for (let id = 0; id < count; id++) index.add(id, data.subarray(id * dimension, (id + 1) * dimension));
    expect(index.approximate).toBe(true);
    // Churn after training: entries filed into existing lists, others taken out.
    for (let id = 0; id < count; id += 5) index.remove(id);
    const threshold = 0.9;
    let found = 0;
    let same = 0;
    for (let q = 0; q < 400; q++) {
      const source = Math.floor(random() * count);
      const query = nearCopy(random, data.subarray(source * dimension, (source + 1) * dimension), 0.3);
      const exact = index.searchExact(query, threshold);
      const approximate = index.search(query, threshold);
      if (approximate !== undefined) {
        expect(approximate.similarity).toBeGreaterThanOrEqual(threshold);
        expect(approximate.id % 5).not.toBe(0);
      }
      if (exact === undefined) continue;
      found++;
      if (approximate?.id === exact.id) same++;
    }
    expect(found).toBeGreaterThan(250);
    expect(same / found).toBeGreaterThanOrEqual(0.95);
  });
});
