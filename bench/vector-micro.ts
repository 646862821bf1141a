// Micro-benchmark of the semantic cache's vector index: search time against index size, the addon's brute
// force against its inverted file against the TypeScript twin, with the inverted file's recall against
// brute force. Usage: node dist/bench/vector-micro.js [--smoke]
import {
  createFallbackVectorIndex,
  createNativeVectorIndex,
  type NativeVectorIndex,
  nativeStatus,
  VECTOR_APPROXIMATE_FROM,
  type VectorHit,
  type VectorIndex,
} from "../src/native/index.js";
import { seededRandom } from "../test/helpers/prng.js";
import { formatNs, measure, median, ROUND_MS, ROUNDS, sink, smoke, writeMicroResult } from "./micro.js";
import { clusteredVectors, nearCopy } from "./vector-data.js";

const DIMENSIONS = [384, 1536];
/** Sizes measured; the powers of two locate the crossover, 1k/10k/100k are the issue's table. */
const SIZES = smoke
  ? [256, 1_000, 2_048]
  : [256, 512, 1_000, 2_048, 4_096, 8_192, 10_000, 16_384, 32_768, 100_000];
const TABLE_SIZES = new Set([1_000, 10_000, 100_000]);
const QUERIES = 64;
/** Cosine of a query to its source ≈ 0.96; other entries of its cluster ≈ 0.5. */
const QUERY_NOISE = 0.3;
const THRESHOLD = 0.9;

type Row = {
  dimension: number;
  size: number;
  nativeExactNs: number | null;
  nativeApproximateNs: number | null;
  typescriptNs: number;
  recall: number | null;
  /** The slowest single add so far: the latest (re)training of the inverted file, which grows with size. */
  slowestAddMs: number | null;
};

function timeSearch(search: (q: Float32Array) => VectorHit | undefined, queries: Float32Array[]): number {
  let i = 0;
  const run = (): number => {
    const hit = search(queries[i++ % queries.length] as Float32Array);
    return hit === undefined ? 0 : 1;
  };
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(measure(run));
  return Math.round(median(rounds));
}

function grow(index: VectorIndex, data: Float32Array, dim: number, from: number, to: number): number {
  let slowest = 0;
  for (let n = from; n < to; n++) {
    const t0 = performance.now();
    index.add(n, data.subarray(n * dim, (n + 1) * dim));
    slowest = Math.max(slowest, performance.now() - t0);
  }
  return slowest;
}

const rows: Row[] = [];
for (const dim of DIMENSIONS) {
  const random = seededRandom(0x5eed_0000 + dim).random;
  const max = SIZES[SIZES.length - 1] as number;
  const data = clusteredVectors(random, max, dim, Math.max(16, Math.floor(max / 100)), 1);
  const maxBytes = 2 ** 40;
  // The addon's index searches approximately from 256 entries so every size has both paths to compare.
  const nat: NativeVectorIndex | undefined = createNativeVectorIndex?.({
    dimension: dim,
    maxBytes,
    approximateFrom: 256,
  });
  const ts = createFallbackVectorIndex({ dimension: dim, maxBytes });
  let size = 0;
  let slowestAddMs = 0;
  for (const target of SIZES) {
    if (nat !== undefined) slowestAddMs = Math.max(slowestAddMs, grow(nat, data, dim, size, target));
    grow(ts, data, dim, size, target);
    size = target;
    const queries: Float32Array[] = [];
    for (let q = 0; q < QUERIES; q++) {
      const source = Math.floor(random() * size);
      queries.push(nearCopy(random, data.subarray(source * dim, (source + 1) * dim), QUERY_NOISE));
    }
    let recall: number | null = null;
    if (nat !== undefined) {
      let found = 0;
      let same = 0;
      for (const q of queries) {
        const exact = nat.searchExact(q, THRESHOLD);
        if (exact === undefined) continue;
        found++;
        if (nat.search(q, THRESHOLD)?.id === exact.id) same++;
      }
      recall = found === 0 ? null : Number((same / found).toFixed(4));
    }
    const row: Row = {
      dimension: dim,
      size,
      nativeExactNs: nat === undefined ? null : timeSearch((q) => nat.searchExact(q, THRESHOLD), queries),
      nativeApproximateNs: nat === undefined ? null : timeSearch((q) => nat.search(q, THRESHOLD), queries),
      typescriptNs: timeSearch((q) => ts.search(q, THRESHOLD), queries),
      recall,
      slowestAddMs: nat === undefined ? null : Number(slowestAddMs.toFixed(1)),
    };
    rows.push(row);
    console.log(
      `dim ${dim} size ${size}: exact ${formatNs(row.nativeExactNs)} ivf ${formatNs(row.nativeApproximateNs)} ts ${formatNs(row.typescriptNs)} recall ${recall} slowest add ${row.slowestAddMs} ms`,
    );
  }
}

const speedup = (a: number | null, b: number | null): string =>
  a === null || b === null ? "—" : `${(a / b).toFixed(1)}×`;
const table = [
  "| dimension | entries | addon brute force | addon inverted file | TypeScript | recall | slowest add (training) |",
  "|---:|---:|---:|---:|---:|---:|---:|",
  ...rows
    .filter((r) => smoke || TABLE_SIZES.has(r.size))
    .map(
      (r) =>
        `| ${r.dimension} | ${r.size} | ${formatNs(r.nativeExactNs)} | ${formatNs(r.nativeApproximateNs)} | ${formatNs(r.typescriptNs)} | ${r.recall ?? "—"} | ${r.slowestAddMs === null ? "—" : `${r.slowestAddMs} ms`} |`,
    ),
].join("\n");
const crossover = [
  "| dimension | entries | brute force | inverted file | inverted file speed-up |",
  "|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.dimension} | ${r.size} | ${formatNs(r.nativeExactNs)} | ${formatNs(r.nativeApproximateNs)} | ${speedup(r.nativeExactNs, r.nativeApproximateNs)} |`,
  ),
].join("\n");

const figures = {
  native: nativeStatus,
  approximateFrom: VECTOR_APPROXIMATE_FROM ?? null,
  data: {
    clustersPerEntry: 0.01,
    spread: 1,
    queries: QUERIES,
    queryNoise: QUERY_NOISE,
    threshold: THRESHOLD,
  },
  rounds: ROUNDS,
  roundMs: ROUND_MS,
  unit: "ns per search (median of rounds)",
  rows,
  sink: sink(),
};

const file = writeMicroResult("vector-micro", figures);
console.log(`${table}\n\n${crossover}`);
console.log(
  `\nnative: ${nativeStatus.loaded ? "loaded" : `not loaded (${nativeStatus.detail})`}; wrote ${file}`,
);
