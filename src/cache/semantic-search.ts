import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { VECTOR_APPROXIMATE_FROM } from "../native/index.js";
import { checkThreshold } from "../native/vector.js";
import type { SemanticHit, SemanticIndex } from "./semantic-index.js";

// A search of a large scope would hold a lane's event loop for milliseconds; such a search goes to a
// thread of its own (a piscina pool), which sees the same process-wide registry. A small one costs less
// than the round trip to that thread, so it runs inline. So do adds: an add that retrains a scope's
// inverted file takes 30 ms at 8k entries and 0.56 s at 100k (bench/results/vector-micro.json).

/**
 * Values (scope entries × dimension) from which a search goes off-lane: where an inline search costs more
 * than 0.2 ms, above the pool's round trip (88 µs for a one-entry scope). Measured by
 * bench/semantic-search-micro.ts (bench/results/semantic-search-micro.json; 2 shared cores, 384 dims,
 * fastest of 5 rounds; the inverted file from 2048 entries): inline 26 µs at 1k entries, 56 µs at 10k,
 * 143 µs at 20k, 208 µs at 25k, 630 µs at 100k; through the pool 121, 200, 295, 364 and 779 µs. Of
 * three earlier runs, two crossed 0.2 ms between 20k and 50k entries (25k where measured), one on a
 * loaded machine (medians) between 4k and 10k. 25k × 384 = 9.6M values.
 */
export const OFF_LANE_MIN_VALUES = 9_600_000;

export type VectorTask =
  | {
      readonly op: "search";
      readonly scope: string;
      readonly vector: Float32Array;
      readonly threshold: number;
    }
  | {
      readonly op: "add";
      readonly scope: string;
      readonly vector: Float32Array;
      readonly payload: Uint8Array;
    };

export interface VectorSearchResult {
  readonly similarity: number;
  readonly payload: Uint8Array;
}

/** The built worker beside the built module (dist/), else dist/'s when running from the sources. */
const WORKER_FILE = [
  new URL("../../workers/vector-search.js", import.meta.url),
  new URL("../../dist/workers/vector-search.js", import.meta.url),
]
  .map((url) => fileURLToPath(url))
  .find((path) => existsSync(path));

let pool: Piscina<VectorTask, VectorSearchResult | null> | undefined;

function offLane(): Piscina<VectorTask, VectorSearchResult | null> | undefined {
  if (WORKER_FILE === undefined) return undefined;
  // One thread, kept: starting one costs more than many searches.
  pool ??= new Piscina({
    filename: WORKER_FILE,
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  return pool;
}

/**
 * Entries from which an add goes off-lane: from here on an add may (re)train the scope's inverted file.
 * Below it an add is a copy of one vector.
 */
export const OFF_LANE_ADD_MIN_ENTRIES = (VECTOR_APPROXIMATE_FROM ?? 2048) - 1;

/**
 * `index.add(scope, vector, payload)`, inline for a scope too small to train, in the off-lane thread
 * otherwise (its end is not waited for: a failed add is a later miss). Inline always for an index of this
 * thread's own.
 */
export function addSemantic(
  index: SemanticIndex,
  scope: string,
  vector: Float32Array,
  payload: Uint8Array,
): void {
  const thread = index.shared && index.scopeSize(scope) >= OFF_LANE_ADD_MIN_ENTRIES ? offLane() : undefined;
  if (thread === undefined) index.add(scope, vector, payload);
  else thread.run({ op: "add", scope, vector, payload }).catch(() => undefined);
}

/**
 * `index.search(scope, vector, threshold)`, inline for a small scope and in the off-lane thread for one of
 * OFF_LANE_MIN_VALUES values or more. Inline always for an index of this thread's own (the thread could not
 * see it) or when the worker is not built.
 */
export function searchSemantic(
  index: SemanticIndex,
  scope: string,
  vector: Float32Array,
  threshold: number,
): SemanticHit | undefined | Promise<SemanticHit | undefined> {
  // Checked before either path, so bad arguments throw on the caller's stack whichever it takes.
  if (typeof scope !== "string") throw new TypeError("scope must be a string");
  if (!(vector instanceof Float32Array)) throw new TypeError("vector must be a Float32Array");
  checkThreshold(threshold);
  if (!index.shared || index.scopeSize(scope) * vector.length < OFF_LANE_MIN_VALUES) {
    return index.search(scope, vector, threshold);
  }
  const thread = offLane();
  if (thread === undefined) return index.search(scope, vector, threshold);
  return thread.run({ op: "search", scope, vector, threshold }).then((hit) => hit ?? undefined);
}

/** Whether a search has started the off-lane thread (and closeSemanticSearch has not ended it). */
export const semanticSearchPoolOpen = (): boolean => pool !== undefined;

/** Ends the off-lane thread, after the searches queued on it; the next large search starts another. */
export async function closeSemanticSearch(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.close();
}
