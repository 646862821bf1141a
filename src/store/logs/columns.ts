import type {
  LoggedContent,
  RecordToStore,
  RequestLogRecord,
} from "../../observability/request-log/record.js";
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

const REPLACEMENT = Buffer.from("\uFFFD");
const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Content as a store keeps it: text as storable() makes it, bytes with each NUL byte as U+FFFD's. */
function storableContent(content: LoggedContent): LoggedContent {
  if (typeof content === "string") return storable(content);
  if (content.indexOf(0) < 0) return content;
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (let nul = content.indexOf(0); nul >= 0; nul = content.indexOf(0, from)) {
    pieces.push(content.subarray(from, nul), REPLACEMENT);
    from = nul + 1;
  }
  pieces.push(content.subarray(from));
  return Buffer.concat(pieces);
}

/** Content's text: bytes a cut left with half a character, or that were never UTF-8, get U+FFFD there. */
export function contentText(content: LoggedContent): string {
  return typeof content === "string" ? content : utf8.decode(content);
}

/** Content's size in UTF-8 bytes. */
export const contentBytes = (content: LoggedContent): number =>
  typeof content === "string" ? Buffer.byteLength(content, "utf8") : content.length;

function storableMetadata(metadata: Readonly<Record<string, string>>): string {
  const entries = Object.entries(metadata).map(([key, value]) => [storable(key), storable(String(value))]);
  return JSON.stringify(Object.fromEntries(entries));
}

/** Refuses a record the tables cannot hold faithfully, naming the field. */
function checkIdAndTime(record: RecordToStore): void {
  if (typeof record.id !== "string" || record.id === "") throw new TypeError("a log record needs an id");
  if (!Number.isSafeInteger(record.time) || record.time < 0 || record.time >= TIME_LIMIT) {
    throw new RangeError(`log record ${record.id}: time must be an integer ms between 1970 and 9999`);
  }
}

/** How a store keeps what is not plain text or number. */
export interface RowShape {
  /** `stream`: SQLite as 0 or 1, PostgreSQL as a boolean. */
  readonly flag: (value: boolean) => unknown;
  /** Content bytes kept as bytes (SQLite, whose searches cast them to text) or made text (PostgreSQL). */
  readonly contentAsText: boolean;
}

/**
 * The row's values in ALL_COLUMNS order, checked as they are taken (one pass: the log worker makes one row
 * per request).
 */
export function rowValues(record: RecordToStore, shape: RowShape): unknown[] {
  checkIdAndTime(record);
  const values: unknown[] = new Array(ALL_COLUMNS.length);
  let at = 0;
  for (const [, field] of FIELD_COLUMNS) {
    const value = record[field];
    if (typeof value === "string") values[at++] = storable(value);
    else if (typeof value === "boolean") values[at++] = shape.flag(value);
    else if (typeof value === "number" && Number.isFinite(value)) values[at++] = value;
    else throw new TypeError(`log record ${record.id}: ${field} is not a finite number, string or boolean`);
  }
  const input = record.input === null ? null : storableContent(record.input);
  const output = record.output === null ? null : storableContent(record.output);
  values[at++] = record.metadata === null ? null : storableMetadata(record.metadata);
  values[at++] = input === null ? 0 : contentBytes(input);
  values[at++] = output === null ? 0 : contentBytes(output);
  values[at++] = input === null || !shape.contentAsText ? input : contentText(input);
  values[at] = output === null || !shape.contentAsText ? output : contentText(output);
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

/** A content column's value: SQLite hands back the bytes it kept as a Buffer, text as text. */
function textOrNull(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Uint8Array ? contentText(value) : String(value);
}

export function recordFromRow(row: LogRow): RequestLogRecord {
  const { inputBytes: _input, outputBytes: _output, ...fields } = summaryFromRow(row);
  return { ...fields, input: textOrNull(row.input), output: textOrNull(row.output) };
}
