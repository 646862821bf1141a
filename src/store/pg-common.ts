import pg from "pg";
import type { Migration } from "./migrations.js";

// What both PostgreSQL stores (governance and the request log) share: BIGINTs read as numbers, a transaction
// that never returns a broken connection to the pool, and versioned migrations under an advisory lock.

const INT8_OID = 20;

/** BIGINT as a number: times, tokens and micro-dollars all stay below 2^53. */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`a BIGINT beyond 2^53 (${text}) cannot be a number`);
  return value;
}

export const PG_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? parseInt8
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
};

/** Connections per store: the control plane's (or the log worker's) queries are few and short. */
const POOL_SIZE = 4;

/** A pool on `url`, its connection checked once; a server that cannot be reached throws here. */
export async function openPool(url: string): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    types: PG_TYPES,
  });
  // An idle connection the server dropped: the pool discards it and opens another on the next query.
  pool.on("error", () => {});
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end();
    throw error;
  }
  return pool;
}

export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    client.release();
    return result;
  } catch (error) {
    // A connection whose rollback fails is in an unknown state: destroy it rather than reuse it.
    await client.query("ROLLBACK").then(
      () => client.release(),
      (rollbackError: Error) => client.release(rollbackError),
    );
    throw error;
  }
}

export interface MigrationSet {
  /** The advisory lock every gateway migrating this set takes, so that two starting at once do not race. */
  readonly lock: number;
  /** Where applied versions are recorded, and the statement that makes it. */
  readonly table: string;
  readonly createTable: string;
  readonly migrations: readonly Migration[];
}

/** Applies the set's migrations not yet recorded, each in its own transaction under the lock. */
export async function migratePostgres(pool: pg.Pool, set: MigrationSet): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1)", [set.lock]);
    await client.query(set.createTable);
  });
  for (const migration of set.migrations) {
    await inTransaction(pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [set.lock]);
      const applied = await client.query(`SELECT 1 FROM ${set.table} WHERE version = $1`, [
        migration.version,
      ]);
      if (applied.rowCount !== 0) return;
      for (const sql of migration.postgres) await client.query(sql);
      await client.query(`INSERT INTO ${set.table} (version, name, applied_at) VALUES ($1, $2, $3)`, [
        migration.version,
        migration.name,
        Date.now(),
      ]);
    });
  }
}
