import type { RecordToStore, RequestLogRecord } from "../../observability/request-log/record.js";

// The request log's store: SQLite (its own file, logs.db, so pruning never touches the governance
// database) by default, PostgreSQL (time-partitioned) when configured. One log worker thread holds it: it
// writes the lanes' records in batches and answers the management API's queries.

/** Which records a query covers; every field narrows, absent ones do not. */
export interface LogFilter {
  /** Inclusive, ms since the epoch. */
  readonly from?: number;
  /** Exclusive, ms since the epoch. */
  readonly to?: number;
  readonly provider?: string;
  readonly model?: string;
  /** An exact status (429), a class ("2xx", "4xx", "5xx") or "error" (400 and above). */
  readonly status?: string;
  readonly virtualKey?: string;
  readonly team?: string;
  readonly customer?: string;
  /** Case-insensitive substring of the input, output, error message or metadata values. */
  readonly text?: string;
}

export interface LogQuery extends LogFilter {
  /** 1 to 1,000; 50 when absent. */
  readonly limit?: number;
  /** The page after the one that answered it (opaque, from LogPage.nextCursor). */
  readonly cursor?: string;
}

/** A record in a list: its content left out (fetch the record by id for it), its sizes kept. */
export type LogSummary = Omit<RequestLogRecord, "input" | "output"> & {
  readonly inputBytes: number;
  readonly outputBytes: number;
};

export interface LogPage {
  /** Newest first (time, then id). */
  readonly logs: readonly LogSummary[];
  /** null on the last page. */
  readonly nextCursor: string | null;
}

export type LogGroup = "model" | "provider" | "key" | "team" | "customer";

export interface StatsQuery extends LogFilter {
  readonly groupBy?: LogGroup;
  /** Bucket width of the time series in ms (>= 1,000); absent, no series. At most 1,000 buckets. */
  readonly interval?: number;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
}

export interface StatsRow {
  readonly requests: number;
  /** Status 400 and above. */
  readonly errors: number;
  /** errors ÷ requests; 0 with no requests. */
  readonly errorRate: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costMicros: number;
  /** Milliseconds; zeros with no requests. */
  readonly latency: LatencySummary;
}

export interface LogStats {
  readonly total: StatsRow;
  /** By the group asked for, most requests first, at most 100. */
  readonly groups: readonly (StatsRow & { readonly group: string })[];
  /** Every bucket from the range's start, empty ones included, oldest first. */
  readonly series: readonly (StatsRow & { readonly time: number })[];
}

export interface RetentionPolicy {
  /** Records older than this go; 0 keeps them whatever their age. */
  readonly maxAgeMs: number;
  /** The log's storage is brought under this many bytes, oldest records first; 0 for no bound. */
  readonly maxBytes: number;
}

export interface PruneResult {
  readonly deletedRecords: number;
  /** The log's storage after pruning, in bytes. */
  readonly sizeBytes: number;
}

export interface LogStore {
  migrate(): Promise<void>;
  /**
   * Writes the batch at once (one transaction, all or none); a record whose id is already stored is skipped.
   * An iterable is read once, as it is written: the log worker decodes each record as it is taken, so a
   * batch's records never all live at once.
   */
  insert(records: Iterable<RecordToStore>): Promise<void>;
  query(query: LogQuery): Promise<LogPage>;
  get(id: string): Promise<RequestLogRecord | undefined>;
  stats(query: StatsQuery): Promise<LogStats>;
  prune(policy: RetentionPolicy, now: number): Promise<PruneResult>;
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}
