import { storable } from "./columns.js";
import { decodeCursor } from "./cursor.js";
import { LogQueryError } from "./errors.js";
import type { LogFilter, LogGroup, LogQuery } from "./types.js";

// A LogFilter as SQL conditions over request_logs, checked first (it comes from the management API's query
// string). Every value is a bound parameter; only fixed column names and operators are spliced.

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1_000;
export const MAX_TEXT_LENGTH = 200;
const MAX_VALUE_LENGTH = 1_000;

/** What differs between the stores' SQL: how a parameter is written, and case-insensitive matching. */
export interface Dialect {
  /** The SQL for the nth parameter (1-based). */
  placeholder(index: number): string;
  /** A case-insensitive LIKE (backslash escapes) of `column` against the pattern parameter. */
  like(column: string, pattern: string): string;
  /** Whether some value of the metadata column matches, as like() does. */
  metadataLike(pattern: string): string;
  /** A parameter as a 64-bit integer in arithmetic. */
  integer(parameter: string): string;
}

/** Values in placeholder order: add() as the SQL is written, left to right. */
export class Parameters {
  readonly values: unknown[] = [];
  readonly #dialect: Dialect;

  constructor(dialect: Dialect) {
    this.#dialect = dialect;
  }

  add(value: unknown): string {
    this.values.push(value);
    return this.#dialect.placeholder(this.values.length);
  }
}

const GROUP_COLUMNS: Readonly<Record<LogGroup, string>> = {
  model: "model",
  provider: "provider",
  key: "virtual_key",
  team: "team",
  customer: "customer",
};

export function groupColumn(group: LogGroup): string {
  const column = Object.hasOwn(GROUP_COLUMNS, group) ? GROUP_COLUMNS[group] : undefined;
  if (column === undefined) {
    throw new LogQueryError(`groupBy must be one of ${Object.keys(GROUP_COLUMNS).join(", ")}`);
  }
  return column;
}

export function checkTime(name: string, value: number | undefined): void {
  if (value !== undefined && !Number.isSafeInteger(value)) {
    throw new LogQueryError(`${name} must be a time in ms since the epoch`);
  }
}

function checkValue(name: string, value: string | undefined): void {
  if (value === undefined) return;
  if (typeof value !== "string") throw new LogQueryError(`${name} must be text`);
  if (value.length > MAX_VALUE_LENGTH) throw new LogQueryError(`${name} is longer than ${MAX_VALUE_LENGTH}`);
}

/** A status filter as the range of statuses it covers: [low, high). */
export function statusRange(status: string): readonly [number, number] {
  if (typeof status === "string") {
    if (/^[1-5]\d\d$/.test(status)) return [Number(status), Number(status) + 1];
    const statusClass = /^([1-5])xx$/i.exec(status)?.[1];
    if (statusClass !== undefined) return [Number(statusClass) * 100, Number(statusClass) * 100 + 100];
    if (status === "error") return [400, 1_000];
  }
  throw new LogQueryError(
    `status must be a status (429), a class (2xx, 4xx, 5xx) or "error"; got ${JSON.stringify(String(status).slice(0, 20))}`,
  );
}

/** `text` as a LIKE pattern for a substring: its own %, _ and \ match themselves. */
export function substringPattern(text: string): string {
  return `%${storable(text).replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/** The WHERE conditions of `filter` (joined with AND by the caller), its values added to `parameters`. */
export function filterConditions(filter: LogFilter, parameters: Parameters, dialect: Dialect): string[] {
  checkTime("from", filter.from);
  checkTime("to", filter.to);
  const conditions: string[] = [];
  if (filter.from !== undefined) conditions.push(`time >= ${parameters.add(filter.from)}`);
  if (filter.to !== undefined) conditions.push(`time < ${parameters.add(filter.to)}`);
  const equal = [
    ["provider", "provider", filter.provider],
    ["model", "model", filter.model],
    ["virtualKey", "virtual_key", filter.virtualKey],
    ["team", "team", filter.team],
    ["customer", "customer", filter.customer],
  ] as const;
  for (const [name, column, value] of equal) {
    checkValue(name, value);
    if (value !== undefined) conditions.push(`${column} = ${parameters.add(storable(value))}`);
  }
  if (filter.status !== undefined) {
    const [low, high] = statusRange(filter.status);
    conditions.push(
      high - low === 1
        ? `status = ${parameters.add(low)}`
        : `status >= ${parameters.add(low)} AND status < ${parameters.add(high)}`,
    );
  }
  if (filter.text !== undefined && filter.text !== "") {
    if (typeof filter.text !== "string") throw new LogQueryError("text must be text");
    if (filter.text.length > MAX_TEXT_LENGTH) {
      throw new LogQueryError(`the search text is longer than ${MAX_TEXT_LENGTH} characters`);
    }
    const pattern = substringPattern(filter.text);
    const matches = ["input", "output", "error_message"].map((column) =>
      dialect.like(column, parameters.add(pattern)),
    );
    matches.push(dialect.metadataLike(parameters.add(pattern)));
    conditions.push(`(${matches.join(" OR ")})`);
  }
  return conditions;
}

export function whereClause(conditions: readonly string[]): string {
  return conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
}

export function pageLimit(query: LogQuery): number {
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new LogQueryError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  return limit;
}

/** The SQL of one page: the filter, the cursor's position, newest first; one row more than the page. */
export function pageSql(
  query: LogQuery,
  columns: readonly string[],
  dialect: Dialect,
): { sql: string; values: unknown[]; limit: number } {
  const limit = pageLimit(query);
  const parameters = new Parameters(dialect);
  const conditions = filterConditions(query, parameters, dialect);
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    conditions.push(`(time, id) < (${parameters.add(after.time)}, ${parameters.add(after.id)})`);
  }
  const sql = `SELECT ${columns.join(", ")} FROM request_logs ${whereClause(conditions)}
    ORDER BY time DESC, id DESC LIMIT ${parameters.add(limit + 1)}`;
  return { sql, values: parameters.values, limit };
}
