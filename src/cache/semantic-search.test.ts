import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { clusteredVectors, nearCopy } from "../../bench/vector-data.js";
import { seededRandom } from "../../test/helpers/prng.js";
import { sharedVectors } from "../native/index.js";
import {
  createFallbackSemanticIndex,
  createNativeSemanticIndex,
  type SemanticHit,
} from "./semantic-index.js";
import {
  addSemantic,
  closeSemanticSearch,
  OFF_LANE_ADD_MIN_ENTRIES,
  OFF_LANE_MIN_VALUES,
  searchSemantic,
  semanticSearchPoolOpen,
} from "./semantic-search.js";

// The off-lane thread runs the built worker (dist/workers/vector-search.js): `npm test` builds it first.

const unit = (axis: number, dimension: number): Float32Array => {
  const v = new Float32Array(dimension);
  v[axis] = 1;
  return v;
};
const text = (hit: SemanticHit | undefined): string | undefined =>
  hit === undefined ? undefined : Buffer.from(hit.payload).toString();

beforeEach(() => sharedVectors?.clear());
afterAll(() => closeSemanticSearch());

describe("searchSemantic", () => {
  it("searches an index of this thread's own inline, whatever its size", () => {
    const index = createFallbackSemanticIndex({ maxBytes: 1 << 20 });
    index.add("s", unit(0, 8), Buffer.from("a"));
    const hit = searchSemantic(index, "s", unit(0, 8), 0.9);
    expect(hit).not.toBeInstanceOf(Promise);
    expect(text(hit as SemanticHit | undefined)).toBe("a");
    expect(semanticSearchPoolOpen()).toBe(false);
  });

  it("refuses bad arguments on the caller's stack", () => {
    const index = createFallbackSemanticIndex({ maxBytes: 1 << 20 });
    expect(() => searchSemantic(index, "s", unit(0, 8), 2)).toThrow(TypeError);
    expect(() => searchSemantic(index, "s", [1] as unknown as Float32Array, 0.5)).toThrow(TypeError);
  });
});

const createNative = createNativeSemanticIndex;
if (createNative !== undefined) {
  describe("searchSemantic on the addon's registry", () => {
    it("searches a small scope inline", () => {
      const index = createNative({ maxBytes: 1 << 20 });
      index.add("s", unit(0, 8), Buffer.from("a"));
      const hit = searchSemantic(index, "s", unit(0, 8), 0.9);
      expect(hit).not.toBeInstanceOf(Promise);
      expect(text(hit as SemanticHit | undefined)).toBe("a");
      expect(semanticSearchPoolOpen()).toBe(false);
    });

    it("searches a large scope in the off-lane thread, finding what an inline search finds", async () => {
      const dimension = 4096;
      const entries = Math.ceil(OFF_LANE_MIN_VALUES / dimension);
      const index = createNative({ maxBytes: 2 ** 32 });
      const { random } = seededRandom(0x0ff_1a4e);
      const data = clusteredVectors(random, entries, dimension, 64, 1);
      for (let n = 0; n < entries; n++) {
        index.add("big", data.subarray(n * dimension, (n + 1) * dimension), Buffer.from(`answer ${n}`));
      }
      expect(index.scopeSize("big") * dimension).toBeGreaterThanOrEqual(OFF_LANE_MIN_VALUES);
      for (const source of [0, Math.floor(entries / 2), entries - 1]) {
        const query = nearCopy(random, data.subarray(source * dimension, (source + 1) * dimension), 0.1);
        const pending = searchSemantic(index, "big", query, 0.95);
        expect(pending).toBeInstanceOf(Promise);
        const hit = await pending;
        expect(text(hit)).toBe(`answer ${source}`);
        const inline = index.search("big", query, 0.95);
        expect(hit?.similarity).toBe(inline?.similarity);
      }
      expect(semanticSearchPoolOpen()).toBe(true);
      // A miss comes back as undefined, and a scope the registry lacks stays inline.
      expect(await searchSemantic(index, "big", unit(0, dimension), 0.99)).toBeUndefined();
      expect(searchSemantic(index, "other", unit(0, dimension), 0.5)).toBeUndefined();
      // A query of another dimension is small, so it is refused inline, on the caller's stack.
      expect(() => searchSemantic(index, "big", unit(0, 8), 0.5)).toThrow(
        "vector must have 4096 values, got 8",
      );
      await closeSemanticSearch();
      expect(semanticSearchPoolOpen()).toBe(false);
    });

    it("adds to a small scope inline and to one that may retrain in the off-lane thread", async () => {
      const index = createNative({ maxBytes: 2 ** 30 });
      const dimension = 8;
      const { random } = seededRandom(0xadd5);
      const data = clusteredVectors(random, OFF_LANE_ADD_MIN_ENTRIES + 1, dimension, 16, 1);
      const vector = (n: number) => data.subarray(n * dimension, (n + 1) * dimension);
      for (let n = 0; n < OFF_LANE_ADD_MIN_ENTRIES; n++)
        addSemantic(index, "grow", vector(n), Buffer.from(`a${n}`));
      expect(index.scopeSize("grow")).toBe(OFF_LANE_ADD_MIN_ENTRIES);
      expect(semanticSearchPoolOpen()).toBe(false);
      const last = OFF_LANE_ADD_MIN_ENTRIES;
      addSemantic(index, "grow", vector(last), Buffer.from(`a${last}`));
      expect(semanticSearchPoolOpen()).toBe(true);
      // The add is the thread's; the lane goes on at once and finds it once the thread is done.
      for (let tries = 0; index.scopeSize("grow") === last && tries < 200; tries++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(index.scopeSize("grow")).toBe(last + 1);
      expect(text(index.search("grow", vector(last), 0.999))).toBe(`a${last}`);
      await closeSemanticSearch();
    });
  });
}
