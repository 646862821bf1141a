// The semantic cache's hit rule against hand-labelled pairs, with the toy embedding at the default
// threshold: near-misses must not hit, and enough paraphrases must, so a broken embedder fails too.
import { describe, expect, it } from "vitest";
import { DEFAULT_SIMILARITY_THRESHOLD } from "../../src/config/cache.js";
import { KINDS, PAIRS, predictsHit, quality, scorePairs } from "./hit-quality.js";

/** Precision the cache must hold: a wrong answer costs far more than a miss. */
const MIN_PRECISION = 0.98;
/** A little under the 0.665 measured (115 of 173), so a weaker embedder or guard fails. */
const MIN_RECALL = 0.63;

describe("semantic cache hit quality", () => {
  const scored = scorePairs();

  it("has at least 300 labelled pairs, of both labels and every kind", () => {
    expect(PAIRS.length).toBeGreaterThanOrEqual(300);
    const hits = PAIRS.filter((p) => p.expect === "hit").length;
    expect(hits).toBeGreaterThan(100);
    expect(PAIRS.length - hits).toBeGreaterThan(100);
    for (const kind of KINDS) expect(PAIRS.some((p) => p.kind === kind)).toBe(true);
    for (const pair of PAIRS) expect(KINDS, pair.a).toContain(pair.kind);
    // A paraphrase is a hit and every other kind a miss; a mislabelled pair would skew both figures.
    for (const pair of PAIRS) expect(pair.expect === "hit", pair.a).toBe(pair.kind === "paraphrase");
  });

  it(`holds precision >= ${MIN_PRECISION} and recall >= ${MIN_RECALL} at the default threshold`, () => {
    const { precision, recall } = quality(scored, DEFAULT_SIMILARITY_THRESHOLD, true);
    const wrongHits = scored
      .filter((p) => p.expect === "miss" && predictsHit(p, DEFAULT_SIMILARITY_THRESHOLD, true))
      .map((p) => `${p.kind} ${p.similarity.toFixed(3)}: ${p.a} | ${p.b}`);
    expect(precision, wrongHits.join("\n")).toBeGreaterThanOrEqual(MIN_PRECISION);
    expect(recall).toBeGreaterThanOrEqual(MIN_RECALL);
  });

  it("needs the salient guard: similarity alone lets near-misses through", () => {
    expect(quality(scored, DEFAULT_SIMILARITY_THRESHOLD, false).precision).toBeLessThan(MIN_PRECISION);
  });

  it("never hits an unrelated pair, whatever the guard", () => {
    for (const pair of scored.filter((p) => p.kind === "unrelated"))
      expect(pair.similarity).toBeLessThan(0.5);
  });
});
