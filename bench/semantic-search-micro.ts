// Micro-benchmark behind src/cache/semantic-search.ts's OFF_LANE_MIN_VALUES: a search of the addon's
// process-wide vector registry inline (on the calling thread) against scope size, and the round trip of
// the same search through the one-thread piscina pool (workers/vector-search.js). A search goes off-lane
// from the size where inline costs more than OFF_LANE_BUDGET_NS or the round trip, whichever is larger.
// Usage: npm run build && node dist/bench/semantic-search-micro.js [--smoke]
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import type { VectorSearchResult, VectorTask } from "../src/cache/semantic-search.js";
import { nativeStatus, sharedVectors } from "../src/native/index.js";
import { seededRandom } from "../test/helpers/prng.js";
import { formatNs, measure, median, ROUNDS, sink, smoke, writeMicroResult } from "./micro.js";
import { clusteredVectors, nearCopy } from "./vector-data.js";

const DIMENSION = 384;
const SIZES = smoke
  ? [1, 256, 1_000, 2_048]
  : [1, 256, 1_000, 2_048, 4_096, 10_000, 20_000, 25_000, 30_000, 50_000, 100_000];
const QUERIES = 64;
const QUERY_NOISE = 0.3;
const THRESHOLD = 0.9;
/** What a lane may spend on one search before the round trip to another thread is worth it. */
const OFF_LANE_BUDGET_NS = 200_000;
/** Round trips per round: sequential, as one lane's request would wait for its own. */
const TRIPS = smoke ? 50 : 2_000;
const SCOPE = "bench/model/params";

const vectors = sharedVectors;
if (vectors === undefined) {
  console.error(`the addon is not loaded (${nativeStatus.detail}); nothing to measure`);
  process.exit(1);
}

/** Medians of the rounds, and their fastest: on a shared machine the fastest is the cost uncontended. */
type Row = {
  size: number;
  inlineNs: number;
  inlineFastestNs: number;
  roundTripNs: number;
  roundTripFastestNs: number;
};
type Timing = { median: number; fastest: number };
const timing = (rounds: number[]): Timing => ({
  median: Math.round(median(rounds)),
  fastest: Math.round(Math.min(...rounds)),
});

const pool = new Piscina<VectorTask, VectorSearchResult | null>({
  filename: fileURLToPath(new URL("../workers/vector-search.js", import.meta.url)),
  minThreads: 1,
  maxThreads: 1,
  idleTimeout: Number.POSITIVE_INFINITY,
});

async function timeRoundTrip(queries: Float32Array[]): Promise<Timing> {
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Warm-up, then the round.
    for (let i = 0; i < 20; i++)
      await pool.run({
        op: "search",
        scope: SCOPE,
        vector: queries[i % QUERIES] as Float32Array,
        threshold: THRESHOLD,
      });
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < TRIPS; i++) {
      const vector = queries[i % QUERIES] as Float32Array;
      await pool.run({ op: "search", scope: SCOPE, vector, threshold: THRESHOLD });
    }
    rounds.push(Number(process.hrtime.bigint() - t0) / TRIPS);
  }
  return timing(rounds);
}

const random = seededRandom(0x5e_a2c4_0384).random;
const max = SIZES[SIZES.length - 1] as number;
const data = clusteredVectors(random, max, DIMENSION, Math.max(16, Math.floor(max / 100)), 1);
vectors.clear();
vectors.configure(2 ** 40);
const payload = Buffer.alloc(64, 1);
const out = new Float64Array(2);
const rows: Row[] = [];
let size = 0;
for (const target of SIZES) {
  for (; size < target; size++)
    vectors.add(SCOPE, data.subarray(size * DIMENSION, (size + 1) * DIMENSION), payload);
  const queries: Float32Array[] = [];
  for (let q = 0; q < QUERIES; q++) {
    const source = Math.floor(random() * size);
    queries.push(nearCopy(random, data.subarray(source * DIMENSION, (source + 1) * DIMENSION), QUERY_NOISE));
  }
  let i = 0;
  const inline = (): number =>
    vectors.search(SCOPE, queries[i++ % QUERIES] as Float32Array, THRESHOLD, out) === null ? 0 : 1;
  const inlineRounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) inlineRounds.push(measure(inline));
  const inlineTime = timing(inlineRounds);
  const tripTime = await timeRoundTrip(queries);
  const row: Row = {
    size,
    inlineNs: inlineTime.median,
    inlineFastestNs: inlineTime.fastest,
    roundTripNs: tripTime.median,
    roundTripFastestNs: tripTime.fastest,
  };
  rows.push(row);
  console.log(
    `${size} entries × ${DIMENSION}: inline ${formatNs(row.inlineNs)} (fastest ${formatNs(row.inlineFastestNs)}), piscina round trip ${formatNs(row.roundTripNs)} (fastest ${formatNs(row.roundTripFastestNs)})`,
  );
}
await pool.close();
vectors.clear();

// The pure round trip: a scope of one entry, whose search costs next to nothing. Decided on the fastest
// rounds, the costs without other processes' contention.
const overheadNs = (rows[0] as Row).roundTripFastestNs;
const bar = Math.max(OFF_LANE_BUDGET_NS, overheadNs);
const first = rows.find((r) => r.inlineFastestNs > bar);
const offLaneMinValues = first === undefined ? null : first.size * DIMENSION;
const table = [
  `| entries (× ${DIMENSION}) | inline median | inline fastest | round trip median | round trip fastest |`,
  "|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.size} | ${formatNs(r.inlineNs)} | ${formatNs(r.inlineFastestNs)} | ${formatNs(r.roundTripNs)} | ${formatNs(r.roundTripFastestNs)} |`,
  ),
].join("\n");

const figures = {
  native: nativeStatus,
  dimension: DIMENSION,
  data: {
    clustersPerEntry: 0.01,
    spread: 1,
    queries: QUERIES,
    queryNoise: QUERY_NOISE,
    threshold: THRESHOLD,
  },
  rounds: ROUNDS,
  tripsPerRound: TRIPS,
  unit: "ns per search (median of rounds; the *FastestNs figures: the fastest round)",
  rows,
  offLaneBudgetNs: OFF_LANE_BUDGET_NS,
  /** The fastest round of a search of a one-entry scope through the pool. */
  roundTripOverheadNs: overheadNs,
  /** The first measured size whose fastest inline round costs more than the budget and the round trip. */
  offLaneMinValues,
  sink: sink(),
};
const file = writeMicroResult("semantic-search-micro", figures);
console.log(
  `${table}\n\noff-lane from ${offLaneMinValues ?? "—"} values (entries × dimension); wrote ${file}`,
);
