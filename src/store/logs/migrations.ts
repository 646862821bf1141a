import type { Migration } from "../migrations.js";

// The request log's schema, versioned like the governance store's (src/store/migrations.ts) but recorded in
// its own table, so the two schemas can share a PostgreSQL database and move apart. A released migration is
// never edited: a change is a new version.

export const LOG_MIGRATIONS_TABLE = {
  sqlite:
    "CREATE TABLE IF NOT EXISTS request_log_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  postgres:
    "CREATE TABLE IF NOT EXISTS request_log_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
} as const;

// The list's keyset (time, id), and the virtual key followed by time (a key's own log, read newest first).
// Every index is paid for by every request's insert, so the other filters (model, provider, status, team,
// customer) read the time index newest first, stopping at a page's worth; stats read their range whole anyway.
const indexes = [
  "CREATE INDEX request_logs_time ON request_logs (time, id)",
  "CREATE INDEX request_logs_virtual_key_time ON request_logs (virtual_key, time)",
];

function columns(types: {
  integer: string;
  real: string;
  text: string;
  id: string;
  json: string;
  flag: string;
}) {
  return `id ${types.id} NOT NULL,
    request_id ${types.text} NOT NULL,
    time ${types.integer} NOT NULL,
    route ${types.text} NOT NULL,
    format ${types.text} NOT NULL,
    model ${types.text} NOT NULL,
    provider ${types.text} NOT NULL,
    provider_model ${types.text} NOT NULL,
    provider_key ${types.text} NOT NULL,
    virtual_key ${types.text} NOT NULL,
    team ${types.text} NOT NULL,
    customer ${types.text} NOT NULL,
    status INTEGER NOT NULL,
    error_code ${types.text} NOT NULL,
    error_class ${types.text} NOT NULL,
    error_message ${types.text} NOT NULL,
    latency_ms ${types.real} NOT NULL,
    ttft_ms ${types.real} NOT NULL,
    retries INTEGER NOT NULL,
    fallback_index INTEGER NOT NULL,
    cache ${types.text} NOT NULL,
    input_tokens ${types.integer} NOT NULL,
    output_tokens ${types.integer} NOT NULL,
    cached_tokens ${types.integer} NOT NULL,
    reasoning_tokens ${types.integer} NOT NULL,
    cost_micros ${types.integer} NOT NULL,
    stream ${types.flag} NOT NULL,
    metadata ${types.json},
    input_bytes ${types.integer} NOT NULL,
    output_bytes ${types.integer} NOT NULL,
    input ${types.text},
    output ${types.text}`;
}

// Later columns go at the table's end: SUMMARY_COLUMNS names columns, so their order is free.

export const LOG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "request logs: one row per request, content beside its size",
    sqlite: [
      `CREATE TABLE request_logs (
        ${columns({ integer: "INTEGER", real: "REAL", text: "TEXT", id: "TEXT", json: "TEXT", flag: "INTEGER" })},
        UNIQUE (id)
      )`,
      ...indexes,
    ],
    // Partitioned by UTC day (partitions made as records need them, see postgres.ts), so retention drops
    // whole days. A unique key must hold the partition key: (id, time), and a record keeps its time.
    // ids compare bytewise (COLLATE "C"), as SQLite's do, so both stores page equal times alike.
    postgres: [
      `CREATE TABLE request_logs (
        ${columns({ integer: "BIGINT", real: "DOUBLE PRECISION", text: "TEXT", id: 'TEXT COLLATE "C"', json: "JSONB", flag: "BOOLEAN" })},
        PRIMARY KEY (id, time)
      ) PARTITION BY RANGE (time)`,
      ...indexes,
    ],
  },
  {
    version: 2,
    name: "request logs: a cache hit's saving",
    sqlite: ["ALTER TABLE request_logs ADD COLUMN cache_saved_micros INTEGER NOT NULL DEFAULT 0"],
    postgres: ["ALTER TABLE request_logs ADD COLUMN cache_saved_micros BIGINT NOT NULL DEFAULT 0"],
  },
];
