import type pg from "pg";
import type { RecordToStore, RequestLogRecord } from "../../observability/request-log/record.js";
import { inTransaction, migratePostgres, openPool } from "../pg-common.js";
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

// The request log on PostgreSQL, beside the governance store's tables in the same database. request_logs is
// partitioned by UTC day of its time column, one partition per day, made before the first insert that
// needs it; no default partition, so a record never lands where retention cannot drop it whole.

const DAY_MS = 86_400_000;
// Advisory locks: migrations, and making partitions (two writers making the same day would otherwise
// race in the catalog, which CREATE ... IF NOT EXISTS does not prevent).
const MIGRATION_LOCK = 7_370_012;
const PARTITION_LOCK = 7_370_013;
/** PostgreSQL's limit on a statement's parameters. */
const MAX_PARAMETERS = 65_535;
/** Where a row's time is among its values (ALL_COLUMNS order). */
const TIME_COLUMN = ALL_COLUMNS.indexOf("time");
const ROWS_PER_INSERT = Math.floor(MAX_PARAMETERS / ALL_COLUMNS.length);
const PARTITION_NAME = /^request_logs_p(\d{4})(\d{2})(\d{2})$/;
// "no partition of relation ... found for row": the day was dropped (by this store or another) since cached.
const CHECK_VIOLATION = "23514";
/** PostgreSQL keeps `stream` as a boolean, and content as text (it refuses bytes that are not UTF-8). */
const POSTGRES_ROW: RowShape = { flag: Boolean, contentAsText: true };

const dialect: Dialect = {
  placeholder: (index) => `$${index}`,
  like: (column, pattern) => `${column} ILIKE ${pattern} ESCAPE '\\'`,
  metadataLike: (pattern) =>
    `EXISTS (SELECT 1 FROM jsonb_each_text(request_logs.metadata) AS entry WHERE entry.value ILIKE ${pattern} ESCAPE '\\')`,
  integer: (parameter) => `${parameter}::bigint`,
};

/** The UTC day (days since the epoch) of a time in ms. */
export function dayOf(time: number): number {
  return Math.floor(time / DAY_MS);
}

/** The partition holding `day`; made of digits only, so it can be spelt into DDL. */
export function partitionName(day: number): string {
  return `request_logs_p${new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "")}`;
}

function dayOfPartition(name: string): number | undefined {
  const match = PARTITION_NAME.exec(name);
  return match === null
    ? undefined
    : dayOf(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
}

/** Connects (and checks the connection) to `url`. Call migrate() before use. */
export async function openPostgresLogStore(url: string): Promise<LogStore> {
  const pool = await openPool(url);
  return new PostgresLogStore(pool);
}

interface Partition {
  readonly name: string;
  readonly day: number;
}

class PostgresLogStore implements LogStore {
  readonly #pool: pg.Pool;
  /** Days whose partition this store made or found; forgotten when it drops them or an insert misses. */
  readonly #days = new Set<number>();

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, work);
  }

  migrate(): Promise<void> {
    return migratePostgres(this.#pool, {
      lock: MIGRATION_LOCK,
      table: "request_log_migrations",
      createTable: LOG_MIGRATIONS_TABLE.postgres,
      migrations: LOG_MIGRATIONS,
    });
  }

  /**
   * Makes the partitions of the days of `times`, and of each next day, that are not known to exist. The next
   * day's is made ahead because making a partition locks the whole table: better before midnight's rush.
   */
  async #ensurePartitions(times: Iterable<number>): Promise<void> {
    const missing = new Set<number>();
    for (const time of times) {
      for (const day of [dayOf(time), dayOf(time) + 1]) if (!this.#days.has(day)) missing.add(day);
    }
    if (missing.size === 0) return;
    await this.#transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [PARTITION_LOCK]);
      for (const day of missing) {
        // DDL takes no parameters: the name and bounds are numbers this store computed.
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF request_logs
           FOR VALUES FROM (${day * DAY_MS}) TO (${(day + 1) * DAY_MS})`,
        );
      }
    });
    for (const day of missing) this.#days.add(day);
  }

  async insert(records: Iterable<RecordToStore>): Promise<void> {
    const rows = Array.from(records, (record) => rowValues(record, POSTGRES_ROW));
    if (rows.length === 0) return;
    try {
      await this.#insertRows(rows);
    } catch (error) {
      if ((error as { code?: string }).code !== CHECK_VIOLATION) throw error;
      this.#days.clear();
      await this.#insertRows(rows);
    }
  }

  async #insertRows(rows: readonly unknown[][]): Promise<void> {
    await this.#ensurePartitions(rows.map((row) => row[TIME_COLUMN] as number));
    await this.#transaction(async (client) => {
      for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
        const chunk = rows.slice(start, start + ROWS_PER_INSERT);
        const parameters = new Parameters(dialect);
        const tuples = chunk.map((row) => `(${row.map((value) => parameters.add(value)).join(", ")})`);
        await client.query(
          `INSERT INTO request_logs (${ALL_COLUMNS.join(", ")}) VALUES ${tuples.join(", ")}
           ON CONFLICT (id, time) DO NOTHING`,
          parameters.values,
        );
      }
    });
  }

  async query(query: LogQuery): Promise<LogPage> {
    const { sql, values, limit } = pageSql(query, SUMMARY_COLUMNS, dialect);
    const { rows } = await this.#pool.query<LogRow>(sql, values);
    const logs = rows.slice(0, limit).map(summaryFromRow);
    const last = logs.at(-1);
    return {
      logs,
      nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null,
    };
  }

  async get(id: string): Promise<RequestLogRecord | undefined> {
    const { rows } = await this.#pool.query<LogRow>(
      `SELECT ${ALL_COLUMNS.join(", ")} FROM request_logs WHERE id = $1 LIMIT 1`,
      [id],
    );
    return rows[0] === undefined ? undefined : recordFromRow(rows[0]);
  }

  async stats(query: StatsQuery): Promise<LogStats> {
    const plan = seriesPlan(query, Date.now());
    const group = query.groupBy === undefined ? undefined : groupColumn(query.groupBy);
    const [total] = await this.#aggregate(query, "''");
    const groups =
      group === undefined
        ? []
        : (
            await this.#aggregate(
              query,
              group,
              `ORDER BY requests DESC, ${group} COLLATE "C" LIMIT ${MAX_GROUPS}`,
            )
          ).map((row) => ({ group: String(row.grp), ...statsRow(row) }));
    return {
      total: statsRow(total),
      groups,
      series: plan === undefined ? [] : await this.#series(query, plan),
    };
  }

  async #series(query: StatsQuery, plan: SeriesPlan): Promise<LogStats["series"]> {
    const rows = await this.#aggregate({ ...query, to: plan.end }, (parameters) =>
      bucketExpression(plan, parameters, dialect),
    );
    return fillSeries(
      plan,
      rows.map((row) => ({ ...row, bucket: Number(row.grp) })),
    );
  }

  /** Aggregate rows of the filtered records, one per value of `group` (an expression). */
  async #aggregate(
    query: StatsQuery,
    group: string | ((parameters: Parameters) => string),
    tail = "",
  ): Promise<(AggregateRow & { grp: unknown })[]> {
    const parameters = new Parameters(dialect);
    const expression = typeof group === "string" ? group : group(parameters);
    const where = whereClause(filterConditions(query, parameters, dialect));
    const sql = `SELECT ${expression} AS grp, COUNT(*) AS requests,
        COUNT(*) FILTER (WHERE status >= 400) AS errors,
        SUM(input_tokens)::bigint AS input_tokens, SUM(output_tokens)::bigint AS output_tokens,
        SUM(cost_micros)::bigint AS cost_micros, AVG(latency_ms) AS mean,
        percentile_disc(ARRAY[${PERCENTILES.join(", ")}]::double precision[]) WITHIN GROUP (ORDER BY latency_ms)
          AS percentiles
      FROM request_logs ${where} GROUP BY 1 ${tail}`;
    const { rows } = await this.#pool.query<{ grp: unknown; percentiles: number[] } & AggregateRow>(
      sql,
      parameters.values,
    );
    return rows.map(({ percentiles, ...row }) => ({
      ...row,
      p50: percentiles[0] ?? null,
      p90: percentiles[1] ?? null,
      p99: percentiles[2] ?? null,
    }));
  }

  /** request_logs' partitions, oldest first, with their size on disk (table, indexes, TOAST). */
  async #partitions(): Promise<(Partition & { readonly bytes: number })[]> {
    const { rows } = await this.#pool.query<{ name: string; bytes: number }>(
      `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'request_logs'::regclass`,
    );
    return rows
      .flatMap((row) => {
        const day = dayOfPartition(row.name);
        return day === undefined ? [] : [{ name: row.name, day, bytes: row.bytes }];
      })
      .sort((a, b) => a.day - b.day);
  }

  /** Drops a day's partition whole; how many records it held. */
  async #drop(partition: Partition): Promise<number> {
    this.#days.delete(partition.day);
    // The name is one #partitions() read from the catalog and matched against PARTITION_NAME.
    const { rows } = await this.#pool.query<{ count: number }>(
      `SELECT COUNT(*) AS count FROM ${partition.name}`,
    );
    await this.#pool.query(`DROP TABLE IF EXISTS ${partition.name}`);
    return rows[0]?.count ?? 0;
  }

  // Both bounds work in whole days here: a partition goes once all of its day is older than the age
  // bound, and the size bound drops the oldest days (never today's, nor later ones) while the total is
  // above it, so the log may stay up to a day's records above either.
  async prune(policy: RetentionPolicy, now: number): Promise<PruneResult> {
    let deletedRecords = 0;
    let partitions = await this.#partitions();
    if (policy.maxAgeMs > 0) {
      const cutoff = now - policy.maxAgeMs;
      const expired = partitions.filter((partition) => (partition.day + 1) * DAY_MS <= cutoff);
      for (const partition of expired) deletedRecords += await this.#drop(partition);
      partitions = partitions.filter((partition) => !expired.includes(partition));
    }
    let total = partitions.reduce((sum, partition) => sum + partition.bytes, 0);
    if (policy.maxBytes > 0) {
      const today = dayOf(now);
      for (const partition of partitions) {
        if (total <= policy.maxBytes || partition.day >= today) break;
        deletedRecords += await this.#drop(partition);
        total -= partition.bytes;
      }
    }
    return { deletedRecords, sizeBytes: await this.sizeBytes() };
  }

  async sizeBytes(): Promise<number> {
    const { rows } = await this.#pool.query<{ bytes: number }>(
      `SELECT COALESCE(SUM(pg_total_relation_size(inhrelid)), 0)::bigint AS bytes
       FROM pg_inherits WHERE inhparent = 'request_logs'::regclass`,
    );
    return rows[0]?.bytes ?? 0;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
