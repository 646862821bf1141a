import { describe, expect, it } from "vitest";
import { toyEmbedding } from "./toy-embedding.js";

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

describe("toyEmbedding", () => {
  it("is deterministic", () => {
    const text = "How do I reverse a string in Python?";
    expect(toyEmbedding(text)).toEqual(toyEmbedding(text));
    expect(Array.from(toyEmbedding(text, 16))).toEqual(Array.from(toyEmbedding(text, 16)));
  });

  it("has unit length at any dimension, empty and stopword-only texts included", () => {
    for (const dimension of [8, 384, 1536])
      for (const text of ["How do I bake bread?", "", "the", "a b c", "日本の首都はどこですか"]) {
        const v = toyEmbedding(text, dimension);
        expect(v).toHaveLength(dimension);
        expect(dot(v, v)).toBeCloseTo(1, 5);
      }
  });

  it("defaults to 384 dimensions", () => {
    expect(toyEmbedding("hello")).toHaveLength(384);
  });

  it("scores a paraphrase above a near-miss above an unrelated text", () => {
    const a = toyEmbedding("How do I bake sourdough bread at home?");
    const paraphrase = toyEmbedding("How can I bake sourdough bread at home, please?");
    const nearMiss = toyEmbedding("How do I bake a chocolate cake at home?");
    const unrelated = toyEmbedding("What are the side effects of ibuprofen?");
    expect(dot(a, paraphrase)).toBeGreaterThan(0.95);
    expect(dot(a, nearMiss)).toBeLessThan(dot(a, paraphrase));
    expect(dot(a, unrelated)).toBeLessThan(0.2);
  });

  it("maps contractions, plurals and listed synonyms to the same words", () => {
    const similar = (a: string, b: string) => dot(toyEmbedding(a), toyEmbedding(b));
    expect(similar("Why doesn't it start?", "Why does it not start?")).toBeCloseTo(1, 5);
    expect(similar("I cannot log in", "I can't log in")).toBeCloseTo(1, 5);
    expect(similar("cheap flights", "cheap flight")).toBeCloseTo(1, 5);
    expect(similar("purchase an automobile", "buy a car")).toBeCloseTo(1, 5);
  });

  it("tells a direction from its reverse", () => {
    const forward = toyEmbedding("Convert 100 USD to EUR");
    expect(dot(forward, toyEmbedding("Convert 100 EUR to USD"))).toBeLessThan(0.85);
    // "How to" is not a direction: it matches "How do I".
    expect(dot(toyEmbedding("How to bake bread"), toyEmbedding("How do I bake bread"))).toBeCloseTo(1, 5);
  });

  it("keeps a typo close to its word", () => {
    const right = toyEmbedding("How much protein do I need per day?");
    expect(dot(right, toyEmbedding("How much protien do I need per day?"))).toBeGreaterThan(0.7);
  });

  it("takes under 50 µs for a sentence", () => {
    const text = "Could you please explain how I can bake sourdough bread at home without a starter?";
    for (let i = 0; i < 1_000; i++) toyEmbedding(text + i);
    const runs = 5_000;
    const start = performance.now();
    for (let i = 0; i < runs; i++) toyEmbedding(text + i);
    // Generous next to the ~7 µs measured, so a loaded CI machine does not flake.
    expect(((performance.now() - start) / runs) * 1000).toBeLessThan(50);
  });
});
