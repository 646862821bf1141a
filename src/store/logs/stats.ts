import { LogQueryError } from "./errors.js";
import { checkTime, type Dialect, type Parameters } from "./filter.js";
import type { LogStats, StatsQuery, StatsRow } from "./types.js";

// What both stores' stats share: the series' buckets, the percentiles asked for, and turning the
// aggregate rows they read into StatsRows.

export const MAX_GROUPS = 100;
export const MAX_BUCKETS = 1_000;
export const MIN_INTERVAL = 1_000;
/** Nearest-rank percentiles: the value at rank ceil(fraction × count) of the sorted latencies. */
export const PERCENTILES = [0.5, 0.9, 0.99] as const;

export interface SeriesPlan {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
  readonly interval: number;
  readonly buckets: number;
}

/** The series' buckets, or undefined when no interval is asked; `now` ends a range without `to`. */
export function seriesPlan(query: StatsQuery, now: number): SeriesPlan | undefined {
  const { interval } = query;
  if (interval === undefined) return undefined;
  if (!Number.isSafeInteger(interval) || interval < MIN_INTERVAL) {
    throw new LogQueryError(`interval must be an integer of at least ${MIN_INTERVAL} ms`);
  }
  checkTime("from", query.from);
  checkTime("to", query.to);
  if (query.from === undefined) throw new LogQueryError("a series needs the range's start (from)");
  const start = query.from;
  const end = query.to ?? now;
  if (end <= start) throw new LogQueryError("a series needs a range that ends after it starts");
  const buckets = Math.ceil((end - start) / interval);
  if (buckets > MAX_BUCKETS) {
    throw new LogQueryError(`a series has at most ${MAX_BUCKETS} buckets; this one would have ${buckets}`);
  }
  return { start, end, interval, buckets };
}

/** One aggregate row as both stores' SQL names its columns. */
export interface AggregateRow {
  readonly requests: number;
  readonly errors: number | null;
  readonly input_tokens: number | null;
  readonly output_tokens: number | null;
  readonly cost_micros: number | null;
  readonly mean: number | null;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
}

export const EMPTY_ROW: StatsRow = {
  requests: 0,
  errors: 0,
  errorRate: 0,
  inputTokens: 0,
  outputTokens: 0,
  costMicros: 0,
  latency: { p50: 0, p90: 0, p99: 0, mean: 0 },
};

export function statsRow(row: AggregateRow | undefined): StatsRow {
  if (row === undefined || row.requests === 0) return EMPTY_ROW;
  const errors = row.errors ?? 0;
  return {
    requests: row.requests,
    errors,
    errorRate: errors / row.requests,
    inputTokens: row.input_tokens ?? 0,
    outputTokens: row.output_tokens ?? 0,
    costMicros: row.cost_micros ?? 0,
    latency: { p50: row.p50 ?? 0, p90: row.p90 ?? 0, p99: row.p99 ?? 0, mean: row.mean ?? 0 },
  };
}

/** Every bucket of the plan, oldest first; those without rows empty. Rows are keyed by bucket start. */
export function fillSeries(
  plan: SeriesPlan,
  rows: readonly (AggregateRow & { readonly bucket: number })[],
): LogStats["series"] {
  const byBucket = new Map(rows.map((row) => [Number(row.bucket), row]));
  return Array.from({ length: plan.buckets }, (_, index) => {
    const time = plan.start + index * plan.interval;
    return { time, ...statsRow(byBucket.get(time)) };
  });
}

/** The start of the bucket a record's time falls in (time is at or after the plan's start). */
export function bucketExpression(plan: SeriesPlan, parameters: Parameters, dialect: Dialect): string {
  // A parameter per use: SQLite's placeholders are positional.
  const start = () => dialect.integer(parameters.add(plan.start));
  const interval = () => dialect.integer(parameters.add(plan.interval));
  return `${start()} + (time - ${start()}) / ${interval()} * ${interval()}`;
}
