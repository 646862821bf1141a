import Database from "better-sqlite3";
import type { RecordToStore, RequestLogRecord } from "../../observability/request-log/record.js";
import {
  ALL_COLUMNS,
  type LogRow,
  type RowShape,
  recordFromRow,
  rowValues,
  SUMMARY_COLUMNS,
  summaryFromRow,
} from "./columns.js";
import { encodeCursor } from "./cursor.js";
import { type Dialect, filterConditions, groupColumn, Parameters, pageSql, whereClause } from "./filter.js";
import { LOG_MIGRATIONS, LOG_MIGRATIONS_TABLE } from "./migrations.js";
import {
  type AggregateRow,
  bucketExpression,
  fillSeries,
  MAX_GROUPS,
  PERCENTILES,
  type SeriesPlan,
  seriesPlan,
  statsRow,
} from "./stats.js";
import type {
  LogPage,
  LogQuery,
  LogStats,
  LogStore,
  PruneResult,
  RetentionPolicy,
  StatsQuery,
} from "./types.js";

// The request log on SQLite: its own file (logs.db), so pruning never touches the governance database.
// auto_vacuum=INCREMENTAL (set before the first table) lets pruning give pages back to the file system;
// WAL and synchronous=NORMAL as the governance store. better-sqlite3 is synchronous: each call runs whole,
// except pruning, which works in chunks and lets the log worker's other work in between them.

/** Rows deleted per transaction while pruning: short enough that writes wait little behind it. */
export const PRUNE_CHUNK = 10_000;
/** Pages given back per incremental_vacuum step. */
const VACUUM_STEP = 4_096;

const dialect: Dialect = {
  placeholder: () => "?",
  // Content may be kept as the lane's bytes (a BLOB), which LIKE matches only once cast to text.
  like: (column, pattern) => `CAST(${column} AS TEXT) LIKE ${pattern} ESCAPE '\\'`,
  metadataLike: (pattern) =>
    `EXISTS (SELECT 1 FROM json_each(request_logs.metadata) WHERE json_each.value LIKE ${pattern} ESCAPE '\\')`,
  // better-sqlite3 binds every number as a REAL: arithmetic that must stay whole casts it.
  integer: (parameter) => `CAST(${parameter} AS INTEGER)`,
};

/** SQLite keeps `stream` as 0 or 1, and content bytes as they came (a BLOB; searches cast it to text). */
export const SQLITE_ROW: RowShape = { flag: Number, contentAsText: false };

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** How the log's file is set up, in this order. */
export const SQLITE_LOG_PRAGMAS = [
  // Records carry kilobytes of content: large pages halve what each insert writes (measured: 17 µs a
  // record with 4 KiB pages, 9 µs with 64 KiB). First: setting auto_vacuum writes the new file's header, after
  // which its page size is fixed (files made before this order was right have 4 KiB pages, and keep them).
  "page_size = 65536",
  // Only takes on a database without tables; on an existing file it is what the file was made with.
  "auto_vacuum = INCREMENTAL",
  "journal_mode = WAL",
  "synchronous = NORMAL",
  "cache_size = -32768",
  "busy_timeout = 5000",
] as const;

/** `path` is a file, or ":memory:". Call migrate() before use. */
export function openSqliteLogStore(path: string): LogStore {
  const db = new Database(path);
  for (const pragma of SQLITE_LOG_PRAGMAS) db.pragma(pragma);
  return new SqliteLogStore(db);
}

/** AggregateRow's columns over rows that carry their latency's position and count within their group. */
function aggregates(): string {
  const percentiles = PERCENTILES.map(
    (fraction) =>
      `MAX(CASE WHEN position = ceil(${fraction} * count) THEN latency_ms END) AS p${Math.round(fraction * 100)}`,
  );
  return [
    "COUNT(*) AS requests",
    "SUM(status >= 400) AS errors",
    "SUM(input_tokens) AS input_tokens",
    "SUM(output_tokens) AS output_tokens",
    "SUM(cost_micros) AS cost_micros",
    "AVG(latency_ms) AS mean",
    ...percentiles,
  ].join(", ");
}

class SqliteLogStore implements LogStore {
  readonly #db: Database.Database;
  // Statements by their SQL: the filters present (never their values) make the shape, so there are few.
  readonly #statements = new Map<string, Database.Statement<unknown[], unknown>>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  #statement(sql: string): Database.Statement<unknown[], unknown> {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare<unknown[], unknown>(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  async migrate(): Promise<void> {
    const db = this.#db;
    db.exec(LOG_MIGRATIONS_TABLE.sqlite);
    const applied = db.prepare<[number], { version: number }>(
      "SELECT version FROM request_log_migrations WHERE version = ?",
    );
    const record = db.prepare<[number, string, number]>(
      "INSERT INTO request_log_migrations (version, name, applied_at) VALUES (?, ?, ?)",
    );
    for (const migration of LOG_MIGRATIONS) {
      db.transaction(() => {
        if (applied.get(migration.version) !== undefined) return;
        for (const sql of migration.sqlite) db.exec(sql);
        record.run(migration.version, migration.name, Date.now());
      }).immediate();
    }
  }

  async insert(records: Iterable<RecordToStore>): Promise<void> {
    const insert = this.#statement(
      // Not INSERT OR IGNORE, which would also skip a row breaking any other constraint, silently.
      `INSERT INTO request_logs (${ALL_COLUMNS.join(", ")}) VALUES (${ALL_COLUMNS.map(() => "?").join(", ")})
       ON CONFLICT (id) DO NOTHING`,
    );
    // A record that throws rolls the whole batch back.
    this.#db.transaction(() => {
      for (const record of records) insert.run(...rowValues(record, SQLITE_ROW));
    })();
  }

  async query(query: LogQuery): Promise<LogPage> {
    const { sql, values, limit } = pageSql(query, SUMMARY_COLUMNS, dialect);
    const rows = this.#statement(sql).all(...values) as LogRow[];
    const logs = rows.slice(0, limit).map(summaryFromRow);
    const last = logs.at(-1);
    return {
      logs,
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null,
    };
  }

  async get(id: string): Promise<RequestLogRecord | undefined> {
    const row = this.#statement(`SELECT ${ALL_COLUMNS.join(", ")} FROM request_logs WHERE id = ?`).get(id) as
      | LogRow
      | undefined;
    return row === undefined ? undefined : recordFromRow(row);
  }

  async stats(query: StatsQuery): Promise<LogStats> {
    const plan = seriesPlan(query, Date.now());
    const group = query.groupBy === undefined ? undefined : groupColumn(query.groupBy);
    const [total] = this.#aggregate(query, "''");
    const groups =
      group === undefined
        ? []
        : this.#aggregate(query, group, `ORDER BY requests DESC, grp LIMIT ${MAX_GROUPS}`).map((row) => ({
            group: String(row.grp),
            ...statsRow(row),
          }));
    return {
      total: statsRow(total),
      groups,
      series: plan === undefined ? [] : this.#series(query, plan),
    };
  }

  #series(query: StatsQuery, plan: SeriesPlan): LogStats["series"] {
    const rows = this.#aggregate({ ...query, to: plan.end }, (parameters) =>
      bucketExpression(plan, parameters, dialect),
    ).map((row) => ({
      bucket: Number(row.grp),
      ...row,
    }));
    return fillSeries(plan, rows);
  }

  /** Aggregate rows of the filtered records, one per value of `group` (an expression), with their ranks. */
  #aggregate(
    query: StatsQuery,
    group: string | ((parameters: Parameters) => string),
    tail = "",
  ): (AggregateRow & { grp: unknown })[] {
    const parameters = new Parameters(dialect);
    const expression = typeof group === "string" ? group : group(parameters);
    const where = whereClause(filterConditions(query, parameters, dialect));
    const sql = `WITH filtered AS (
        SELECT ${expression} AS grp, status, input_tokens, output_tokens, cost_micros, latency_ms
        FROM request_logs ${where}
      ), ranked AS (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY latency_ms) AS position,
          COUNT(*) OVER (PARTITION BY grp) AS count
        FROM filtered
      )
      SELECT grp, ${aggregates()} FROM ranked GROUP BY grp ${tail}`;
    return this.#statement(sql).all(...parameters.values) as (AggregateRow & { grp: unknown })[];
  }

  async prune(policy: RetentionPolicy, now: number): Promise<PruneResult> {
    let deletedRecords = 0;
    if (policy.maxAgeMs > 0) {
      const cutoff = now - policy.maxAgeMs;
      const chunk = this.#statement(
        "DELETE FROM request_logs WHERE rowid IN (SELECT rowid FROM request_logs WHERE time < ? ORDER BY time LIMIT ?)",
      );
      for (;;) {
        const { changes } = this.#db.transaction(() => chunk.run(cutoff, PRUNE_CHUNK))();
        deletedRecords += changes;
        if (changes < PRUNE_CHUNK) break;
        await nextTurn();
      }
    }
    if (policy.maxBytes > 0) deletedRecords += await this.#pruneToSize(policy.maxBytes);
    await this.#shrink();
    return { deletedRecords, sizeBytes: this.#usedBytes() };
  }

  /** Deletes the oldest records until what they occupy is under `maxBytes`; how many it deleted. */
  async #pruneToSize(maxBytes: number): Promise<number> {
    const oldest = this.#statement(
      "DELETE FROM request_logs WHERE rowid IN (SELECT rowid FROM request_logs ORDER BY time, id LIMIT ?)",
    );
    const count = this.#statement("SELECT COUNT(*) AS count FROM request_logs");
    let deleted = 0;
    for (;;) {
      const used = this.#usedBytes();
      if (used <= maxBytes) return deleted;
      const { count: rows } = count.get() as { count: number };
      if (rows === 0) return deleted;
      // As many rows as the excess holds at the average row's size, so a small excess costs few rows.
      const rowsOver = Math.ceil(((used - maxBytes) / used) * rows);
      const { changes } = this.#db.transaction(() =>
        oldest.run(Math.min(Math.max(rowsOver, 1), PRUNE_CHUNK)),
      )();
      deleted += changes;
      await nextTurn();
    }
  }

  /** Gives the free pages back to the file system and folds the WAL into the file, truncating it. */
  async #shrink(): Promise<void> {
    const freePages = () => this.#db.pragma("freelist_count", { simple: true }) as number;
    // Stops when a step gives nothing back too: a file made without auto_vacuum never shrinks this way.
    for (let free = freePages(); free > 0; ) {
      this.#db.pragma(`incremental_vacuum(${VACUUM_STEP})`);
      const left = freePages();
      if (left >= free) break;
      free = left;
      await nextTurn();
    }
    this.#db.pragma("wal_checkpoint(TRUNCATE)");
  }

  // The pages the records use, not the file's size: free pages are the file's slack, which pruning gives
  // back, and the WAL's size depends on when a checkpoint last ran; the size bound is about the records.
  #usedBytes(): number {
    const pages = this.#db.pragma("page_count", { simple: true }) as number;
    const free = this.#db.pragma("freelist_count", { simple: true }) as number;
    const pageSize = this.#db.pragma("page_size", { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  async sizeBytes(): Promise<number> {
    return this.#usedBytes();
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
