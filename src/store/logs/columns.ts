import type { RequestLogRecord } from "../../observability/request-log/record.js";
import type { LogSummary } from "./types.js";

// A record as a row of request_logs, the same columns on both stores: one column per field, the metadata as
// JSON, the content as nullable text beside its size in bytes (so a list can say how big it is unread).

type SummaryField = Exclude<keyof RequestLogRecord, "input" | "output" | "metadata">;

/** Column, field: every field but metadata and the content, in the tables' order. */
export const FIELD_COLUMNS: readonly (readonly [string, SummaryField])[] = [
  ["id", "id"],
  ["request_id", "requestId"],
  ["time", "time"],
  ["route", "route"],
  ["format", "format"],
  ["model", "model"],
  ["provider", "provider"],
  ["provider_model", "providerModel"],
  ["provider_key", "providerKey"],
  ["virtual_key", "virtualKey"],
  ["team", "team"],
  ["customer", "customer"],
  ["status", "status"],
  ["error_code", "errorCode"],
  ["error_class", "errorClass"],
  ["error_message", "errorMessage"],
  ["latency_ms", "latencyMs"],
  ["ttft_ms", "ttftMs"],
  ["retries", "retries"],
  ["fallback_index", "fallbackIndex"],
  ["cache", "cache"],
  ["input_tokens", "inputTokens"],
  ["output_tokens", "outputTokens"],
  ["cached_tokens", "cachedTokens"],
  ["reasoning_tokens", "reasoningTokens"],
  ["cost_micros", "costMicros"],
  ["stream", "stream"],
  ["cache_saved_micros", "cacheSavedMicros"],
];

export const SUMMARY_COLUMNS = [
  ...FIELD_COLUMNS.map(([column]) => column),
  "metadata",
  "input_bytes",
  "output_bytes",
] as const;

/** Every column, in the order rowValues() gives their values. */
export const ALL_COLUMNS: readonly string[] = [...SUMMARY_COLUMNS, "input", "output"];

/** The first day the log cannot hold: times are checked against it so every record has a UTC day to live in. */
export const TIME_LIMIT = Date.UTC(10_000, 0, 1);

// Neither store keeps U+0000 usefully (PostgreSQL refuses it in text and JSONB; SQLite's LIKE stops at it),
// so both keep the replacement character in its place, and a search for it is spelt the same way.
export function storable(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}

function storableMetadata(metadata: Readonly<Record<string, string>>): string {
  const entries = Object.entries(metadata).map(([key, value]) => [storable(key), storable(String(value))]);
  return JSON.stringify(Object.fromEntries(entries));
}

/** Refuses a record the tables cannot hold faithfully, naming the field. */
function checkIdAndTime(record: RequestLogRecord): void {
  if (typeof record.id !== "string" || record.id === "") throw new TypeError("a log record needs an id");
  if (!Number.isSafeInteger(record.time) || record.time < 0 || record.time >= TIME_LIMIT) {
    throw new RangeError(`log record ${record.id}: time must be an integer ms between 1970 and 9999`);
  }
}

/**
 * The row's values in ALL_COLUMNS order, checked as they are taken (one pass: the log worker makes one row
 * per request). `flag` is how the store keeps `stream`: SQLite as 0 or 1, PostgreSQL as a boolean.
 */
export function rowValues(record: RequestLogRecord, flag: (value: boolean) => unknown = Boolean): unknown[] {
  checkIdAndTime(record);
  const values: unknown[] = new Array(ALL_COLUMNS.length);
  let at = 0;
  for (const [, field] of FIELD_COLUMNS) {
    const value = record[field];
    if (typeof value === "string") values[at++] = storable(value);
    else if (typeof value === "boolean") values[at++] = flag(value);
    else if (typeof value === "number" && Number.isFinite(value)) values[at++] = value;
    else throw new TypeError(`log record ${record.id}: ${field} is not a finite number, string or boolean`);
  }
  const input = record.input === null ? null : storable(record.input);
  const output = record.output === null ? null : storable(record.output);
  values[at++] = record.metadata === null ? null : storableMetadata(record.metadata);
  values[at++] = input === null ? 0 : Buffer.byteLength(input, "utf8");
  values[at++] = output === null ? 0 : Buffer.byteLength(output, "utf8");
  values[at++] = input;
  values[at] = output;
  return values;
}

export type LogRow = Readonly<Record<string, unknown>>;

function metadataFromRow(value: unknown): Readonly<Record<string, string>> | null {
  if (value === null || value === undefined) return null;
  // SQLite hands back the JSON text, PostgreSQL the parsed JSONB.
  return (typeof value === "string" ? JSON.parse(value) : value) as Record<string, string>;
}

export function summaryFromRow(row: LogRow): LogSummary {
  const summary: Record<string, unknown> = {};
  for (const [column, field] of FIELD_COLUMNS) summary[field] = row[column];
  summary.stream = Boolean(row.stream);
  summary.metadata = metadataFromRow(row.metadata);
  summary.inputBytes = row.input_bytes;
  summary.outputBytes = row.output_bytes;
  return summary as unknown as LogSummary;
}

export function recordFromRow(row: LogRow): RequestLogRecord {
  const { inputBytes: _input, outputBytes: _output, ...fields } = summaryFromRow(row);
  return { ...fields, input: row.input as string | null, output: row.output as string | null };
}
