// Precision and recall of the semantic cache's hit rule on the hand-labelled pairs of
// test/cache/hit-quality.json, with the toy embedding standing in for a real model: by threshold, with
// and without the salient guard, and by kind of pair. Usage: node dist/bench/cache-quality.js
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { salientSignature } from "../src/cache/salient.js";
import { DEFAULT_SIMILARITY_THRESHOLD } from "../src/config/cache.js";
import {
  KINDS,
  PAIRS,
  predictsHit,
  quality,
  type ScoredPair,
  scorePairs,
} from "../test/cache/hit-quality.js";

const THRESHOLDS = [0.75, 0.8, 0.85, 0.9, 0.95];

const scored = scorePairs();
const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

function overall(): string {
  const lines = [
    "| threshold | precision, guarded | recall, guarded | precision, similarity only | recall, similarity only |",
    "| --- | --- | --- | --- | --- |",
  ];
  const thresholds = [...new Set([...THRESHOLDS, DEFAULT_SIMILARITY_THRESHOLD])].sort((a, b) => a - b);
  for (const threshold of thresholds) {
    const guarded = quality(scored, threshold, true);
    const bare = quality(scored, threshold, false);
    const label =
      threshold === DEFAULT_SIMILARITY_THRESHOLD ? `**${threshold}** (default)` : String(threshold);
    lines.push(
      `| ${label} | ${percent(guarded.precision)} (${guarded.truePositives}/${guarded.predicted}) | ` +
        `${percent(guarded.recall)} | ${percent(bare.precision)} (${bare.truePositives}/${bare.predicted}) | ` +
        `${percent(bare.recall)} |`,
    );
  }
  return lines.join("\n");
}

/** Per kind, the share of pairs answered from the cache: wanted for paraphrases, wrong for the rest. */
function byKind(): string {
  const lines = [
    `| kind | pairs | ${THRESHOLDS.map((t) => `${t} guarded / bare`).join(" | ")} |`,
    `| --- | --- | ${THRESHOLDS.map(() => "---").join(" | ")} |`,
  ];
  for (const kind of KINDS) {
    const pairs = scored.filter((p) => p.kind === kind);
    const rate = (threshold: number, guarded: boolean) =>
      percent(pairs.filter((p) => predictsHit(p, threshold, guarded)).length / pairs.length);
    const cells = THRESHOLDS.map((t) => `${rate(t, true)} / ${rate(t, false)}`);
    lines.push(`| ${kind} | ${pairs.length} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

function listed(pairs: readonly ScoredPair[], describe: (p: ScoredPair) => string): string {
  return pairs.length === 0 ? "none" : pairs.map((p) => `- ${describe(p)}`).join("\n");
}

const threshold = DEFAULT_SIMILARITY_THRESHOLD;
const wrongHits = scored.filter((p) => p.expect === "miss" && predictsHit(p, threshold, true));
const guardSaves = scored.filter(
  (p) => p.expect === "miss" && p.similarity >= threshold && !predictsHit(p, threshold, true),
);
const guardRefusals = scored.filter((p) => p.expect === "hit" && !p.sameSignature);
const hitCount = PAIRS.filter((p) => p.expect === "hit").length;

const report = `# Semantic cache hit quality

${PAIRS.length} hand-labelled pairs (${hitCount} paraphrases that should hit, ${PAIRS.length - hitCount} near-misses and
unrelated pairs that should not) from test/cache/hit-quality.json, embedded with the toy embedding
(bench/mock/toy-embedding.ts, 384 dimensions). A pair hits when its cosine similarity reaches the threshold and,
guarded, when both texts have the same salient signature (src/cache/salient.ts). The toy is a bag of words with
a few synonyms; a real model's recall of paraphrases is higher, its similarities of near-misses too.

## By threshold

${overall()}

## Share of pairs answered from the cache, by kind (paraphrase: should be high; the rest: should be 0)

${byKind()}

## Near-misses that still hit at ${threshold}

${listed(wrongHits, (p) => `${p.kind}, ${p.similarity.toFixed(3)}: "${p.a}" / "${p.b}"`)}

## Near-misses at or above ${threshold} stopped only by the salient guard

${listed(guardSaves, (p) => `${p.kind}, ${p.similarity.toFixed(3)}: "${p.a}" / "${p.b}"`)}

## Paraphrases whose salient signatures differ

${listed(
  guardRefusals,
  (p) =>
    `${p.similarity.toFixed(3)}: "${p.a}" \`${salientSignature(p.a)}\` / "${p.b}" \`${salientSignature(p.b)}\``,
)}
`;

const outDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "results");
mkdirSync(outDir, { recursive: true });
const file = join(outDir, "cache-quality.md");
writeFileSync(file, report);
console.log(`${report}\nwrote ${file}`);
