// The store's schema, as versioned migrations applied once each, in order, each in its own transaction,
// recorded in schema_migrations. A released migration is never edited: a change is a new version.

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sqlite: readonly string[];
  readonly postgres: readonly string[];
}

export const SCHEMA_MIGRATIONS_TABLE = {
  sqlite:
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  postgres:
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
} as const;

const spendIndexes = ["at", "key_id", "team_id", "customer_id", "model"].map(
  (column) => `CREATE INDEX spend_logs_${column} ON spend_logs (${column})`,
);

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "governance: keys, teams, customers, providers, budget usage, spend logs",
    sqlite: [
      `CREATE TABLE virtual_keys (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        team_id TEXT,
        customer_id TEXT,
        data TEXT NOT NULL
      )`,
      "CREATE INDEX virtual_keys_team_id ON virtual_keys (team_id)",
      "CREATE INDEX virtual_keys_customer_id ON virtual_keys (customer_id)",
      "CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL)",
      "CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL)",
      "CREATE TABLE providers (name TEXT PRIMARY KEY, data TEXT NOT NULL)",
      `CREATE TABLE provider_keys (
        id TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        name TEXT NOT NULL,
        secret_sealed TEXT NOT NULL,
        data TEXT NOT NULL
      )`,
      "CREATE INDEX provider_keys_provider ON provider_keys (provider)",
      `CREATE TABLE budget_usage (
        budget_id TEXT PRIMARY KEY,
        window_start INTEGER NOT NULL,
        spent_micros INTEGER NOT NULL
      )`,
      `CREATE TABLE spend_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        key_id TEXT NOT NULL,
        team_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        requested_model TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cached_read_tokens INTEGER NOT NULL,
        cache_write_tokens INTEGER NOT NULL,
        reasoning_tokens INTEGER NOT NULL,
        cost_micros INTEGER NOT NULL,
        status INTEGER NOT NULL,
        stream INTEGER NOT NULL,
        estimated INTEGER NOT NULL
      )`,
      ...spendIndexes,
    ],
    postgres: [
      `CREATE TABLE virtual_keys (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        team_id TEXT,
        customer_id TEXT,
        data JSONB NOT NULL
      )`,
      "CREATE INDEX virtual_keys_team_id ON virtual_keys (team_id)",
      "CREATE INDEX virtual_keys_customer_id ON virtual_keys (customer_id)",
      "CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL, data JSONB NOT NULL)",
      "CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, data JSONB NOT NULL)",
      "CREATE TABLE providers (name TEXT PRIMARY KEY, data JSONB NOT NULL)",
      `CREATE TABLE provider_keys (
        id TEXT PRIMARY KEY,
        provider TEXT NOT NULL,
        name TEXT NOT NULL,
        secret_sealed TEXT NOT NULL,
        data JSONB NOT NULL
      )`,
      "CREATE INDEX provider_keys_provider ON provider_keys (provider)",
      `CREATE TABLE budget_usage (
        budget_id TEXT PRIMARY KEY,
        window_start BIGINT NOT NULL,
        spent_micros BIGINT NOT NULL
      )`,
      `CREATE TABLE spend_logs (
        id BIGSERIAL PRIMARY KEY,
        request_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        key_id TEXT NOT NULL,
        team_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        requested_model TEXT NOT NULL,
        prompt_tokens BIGINT NOT NULL,
        completion_tokens BIGINT NOT NULL,
        cached_read_tokens BIGINT NOT NULL,
        cache_write_tokens BIGINT NOT NULL,
        reasoning_tokens BIGINT NOT NULL,
        cost_micros BIGINT NOT NULL,
        status INTEGER NOT NULL,
        stream BOOLEAN NOT NULL,
        estimated BOOLEAN NOT NULL
      )`,
      ...spendIndexes,
    ],
  },
  {
    version: 2,
    name: "budget templates: budgets owned by no entity (LiteLLM's /budget/new)",
    sqlite: ["CREATE TABLE budget_templates (id TEXT PRIMARY KEY, data TEXT NOT NULL)"],
    postgres: ["CREATE TABLE budget_templates (id TEXT PRIMARY KEY, data JSONB NOT NULL)"],
  },
  {
    version: 3,
    name: "provider keys: enabled, so a key can be taken out of service and kept",
    sqlite: ["ALTER TABLE provider_keys ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1"],
    postgres: ["ALTER TABLE provider_keys ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE"],
  },
];
