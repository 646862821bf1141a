import { openPostgresLogStore } from "./postgres.js";
import { openSqliteLogStore } from "./sqlite.js";
import type { LogStore } from "./types.js";

// Which store the request log runs on: PostgreSQL when a database URL is given (the governance store's),
// else SQLite at the path given (logs.db in the app directory), else SQLite in memory. It comes back migrated.

export interface OpenLogStoreOptions {
  /** A SQLite file, or ":memory:" (the default). */
  readonly path?: string;
  /** A postgres:// URL; wins over the path. */
  readonly databaseUrl?: string;
}

export interface OpenedLogStore {
  readonly store: LogStore;
  /** For the start-up line: where the log lives, never a password. */
  readonly description: string;
}

export async function openLogStore(options: OpenLogStoreOptions): Promise<OpenedLogStore> {
  let store: LogStore;
  let description: string;
  if (options.databaseUrl !== undefined) {
    if (!/^postgres(ql)?:\/\//i.test(options.databaseUrl)) {
      throw new Error("the request log's database URL must start with postgres:// or postgresql://");
    }
    store = await openPostgresLogStore(options.databaseUrl);
    description = `PostgreSQL at ${describePostgres(options.databaseUrl)}`;
  } else {
    const path = options.path ?? ":memory:";
    store = openSqliteLogStore(path);
    description = path === ":memory:" ? "SQLite in memory" : `SQLite at ${path}`;
  }
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return { store, description };
}

/** host:port/database, without user or password. */
function describePostgres(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || "localhost"}:${parsed.port || "5432"}${parsed.pathname}`;
  } catch {
    return "the configured URL";
  }
}
