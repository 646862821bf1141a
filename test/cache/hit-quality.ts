// Scores the semantic cache's hit rule (similarity at or above a threshold, and, when guarded, an equal
// salient signature) against the hand-labelled pairs of hit-quality.json, with the toy embedding standing in
// for a real model. Shared by hit-quality.test.ts and bench/cache-quality.ts.
import { toyEmbedding } from "../../bench/mock/toy-embedding.js";
import { salientSignature } from "../../src/cache/salient.js";
import labelled from "./hit-quality.json" with { type: "json" };

export const KINDS = ["paraphrase", "number", "name", "negation", "other", "unrelated"] as const;
export type Kind = (typeof KINDS)[number];

export interface LabelledPair {
  a: string;
  b: string;
  expect: "hit" | "miss";
  kind: Kind;
}

export interface ScoredPair extends LabelledPair {
  similarity: number;
  sameSignature: boolean;
}

export interface Quality {
  /** True hits over predicted hits; 1 when nothing was predicted. */
  precision: number;
  /** True hits over expected hits; 1 when nothing was expected. */
  recall: number;
  predicted: number;
  truePositives: number;
  expected: number;
}

export const PAIRS = labelled.pairs as LabelledPair[];

/** Each pair with its similarity and whether the two signatures agree; the costly part, done once. */
export function scorePairs(pairs: readonly LabelledPair[] = PAIRS): ScoredPair[] {
  return pairs.map((pair) => ({
    ...pair,
    similarity: dot(toyEmbedding(pair.a), toyEmbedding(pair.b)),
    sameSignature: salientSignature(pair.a) === salientSignature(pair.b),
  }));
}

/** Whether the cache would answer b from a. */
export function predictsHit(pair: ScoredPair, threshold: number, guarded: boolean): boolean {
  return pair.similarity >= threshold && (!guarded || pair.sameSignature);
}

export function quality(pairs: readonly ScoredPair[], threshold: number, guarded: boolean): Quality {
  let predicted = 0;
  let truePositives = 0;
  let expected = 0;
  for (const pair of pairs) {
    const hit = predictsHit(pair, threshold, guarded);
    if (hit) predicted++;
    if (pair.expect === "hit") {
      expected++;
      if (hit) truePositives++;
    }
  }
  return {
    precision: predicted === 0 ? 1 : truePositives / predicted,
    recall: expected === 0 ? 1 : truePositives / expected,
    predicted,
    truePositives,
    expected,
  };
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}
