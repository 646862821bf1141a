import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { SecretCipher } from "./cipher.js";
import { openPostgresStore } from "./postgres.js";
import { openSqliteStore } from "./sqlite.js";
import type { GovernanceStore } from "./types.js";

// Which store a gateway runs on: PostgreSQL when a postgres:// URL is configured, else SQLite in the app
// directory, else SQLite in memory. The store comes back migrated.

export interface OpenStoreOptions {
  readonly appDir?: string;
  /** From a configuration file (e.g. LiteLLM's general_settings.database_url); wins over the environment. */
  readonly databaseUrl?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface OpenedStore {
  readonly store: GovernanceStore;
  /** For the start-up line: where the state lives, never a password. */
  readonly description: string;
  /** Start-up lines for the operator. */
  readonly warnings: string[];
  /** The PostgreSQL URL the store uses, for the request log's store beside it; absent on SQLite. Never log it. */
  readonly databaseUrl?: string;
}

export const SQLITE_FILE = "switchyard.db";

export async function openStore(options: OpenStoreOptions): Promise<OpenedStore> {
  const warnings: string[] = [];
  const url = databaseUrl(options, warnings);
  const { cipher, warning } = SecretCipher.fromEnv(options.env, options.appDir);
  if (warning !== undefined) warnings.push(warning);

  let store: GovernanceStore;
  let description: string;
  if (url !== undefined) {
    store = await openPostgresStore(url, cipher);
    description = `PostgreSQL at ${describePostgres(url)}`;
  } else if (options.appDir !== undefined) {
    mkdirSync(options.appDir, { recursive: true });
    const path = join(options.appDir, SQLITE_FILE);
    store = openSqliteStore(path, cipher);
    description = `SQLite at ${path}`;
  } else {
    store = openSqliteStore(":memory:", cipher);
    description = "SQLite in memory";
    warnings.push(
      "no app directory and no database URL: keys, teams, budgets and spend are kept in memory and lost at exit (set --app-dir or SWITCHYARD_DATABASE_URL)",
    );
  }
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return { store, description, warnings, ...(url === undefined ? {} : { databaseUrl: url }) };
}

function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

function databaseUrl(options: OpenStoreOptions, warnings: string[]): string | undefined {
  const explicit = options.databaseUrl ?? nonEmpty(options.env.SWITCHYARD_DATABASE_URL);
  if (explicit !== undefined) {
    // The URL may hold a password: the message names its scheme only.
    if (!isPostgresUrl(explicit)) {
      throw new Error(
        `the database URL must start with postgres:// or postgresql:// (got ${scheme(explicit)}); leave it unset for SQLite`,
      );
    }
    return explicit;
  }
  // LiteLLM's variable: honoured for its PostgreSQL, ignored (and said) for anything else.
  const litellm = nonEmpty(options.env.DATABASE_URL);
  if (litellm === undefined) return undefined;
  if (isPostgresUrl(litellm)) return litellm;
  warnings.push(`DATABASE_URL (${scheme(litellm)}) is not a PostgreSQL URL; ignored`);
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function scheme(url: string): string {
  const match = /^([a-z][a-z0-9+.-]{0,30}):/i.exec(url);
  return match?.[1] === undefined ? "no scheme" : `${match[1]}:`;
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
