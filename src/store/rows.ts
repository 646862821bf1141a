import type { BudgetTemplate, Customer, SpendRecord, Team, VirtualKey } from "../governance/types.js";
import type { SecretCipher } from "./cipher.js";
import type { BudgetUsage, SpendGroup, SpendQuery, StoredProvider, StoredProviderKey } from "./types.js";

// How entities become table rows and back, the same for SQLite and PostgreSQL: the columns queried on are
// columns, everything else is one JSON document (`data`), and secrets are sealed before they reach either.

export interface KeyRow {
  readonly id: string;
  readonly hash: string;
  readonly name: string;
  readonly team_id: string | null;
  readonly customer_id: string | null;
  readonly data: string;
}

export interface NamedRow {
  readonly id: string;
  readonly name: string;
  readonly data: string;
}

export interface TemplateRow {
  readonly id: string;
  readonly data: string;
}

export interface ProviderRow {
  readonly name: string;
  readonly data: string;
}

export interface ProviderKeyRow {
  readonly id: string;
  readonly provider: string;
  readonly name: string;
  readonly secret_sealed: string;
  /** SQLite has no boolean: it binds and reads 0 or 1. */
  readonly enabled: boolean | number;
  readonly data: string;
}

/** A row as read back: PostgreSQL hands JSONB over parsed, SQLite as text. */
export type Stored<Row extends { data: string }> = Omit<Row, "data"> & { readonly data: unknown };

function document(data: unknown): Record<string, unknown> {
  return (typeof data === "string" ? JSON.parse(data) : data) as Record<string, unknown>;
}

export function keyToRow(key: VirtualKey, cipher: SecretCipher): KeyRow {
  const { id, hash, name, teamId, customerId, secretMetadata, ...rest } = key;
  const sealed: Record<string, string> = {};
  for (const [field, value] of Object.entries(secretMetadata)) sealed[field] = cipher.seal(value);
  return {
    id,
    hash,
    name,
    team_id: teamId ?? null,
    customer_id: customerId ?? null,
    data: JSON.stringify({ ...rest, secretMetadata: sealed }),
  };
}

export function keyFromRow(row: Stored<KeyRow>, cipher: SecretCipher): VirtualKey {
  const { secretMetadata, ...rest } = document(row.data) as Omit<VirtualKey, "id" | "hash" | "name">;
  const opened: Record<string, string> = {};
  for (const [field, value] of Object.entries(secretMetadata)) opened[field] = cipher.open(value);
  return {
    ...rest,
    id: row.id,
    hash: row.hash,
    name: row.name,
    ...(row.team_id === null ? {} : { teamId: row.team_id }),
    ...(row.customer_id === null ? {} : { customerId: row.customer_id }),
    secretMetadata: opened,
  };
}

export function namedToRow(entity: Team | Customer): NamedRow {
  const { id, name, ...rest } = entity;
  return { id, name, data: JSON.stringify(rest) };
}

export function teamFromRow(row: Stored<NamedRow>): Team {
  return { ...(document(row.data) as Omit<Team, "id" | "name">), id: row.id, name: row.name };
}

export function customerFromRow(row: Stored<NamedRow>): Customer {
  return { ...(document(row.data) as Omit<Customer, "id" | "name">), id: row.id, name: row.name };
}

export function templateToRow(template: BudgetTemplate): TemplateRow {
  const { id, ...rest } = template;
  return { id, data: JSON.stringify(rest) };
}

export function templateFromRow(row: Stored<TemplateRow>): BudgetTemplate {
  return { ...(document(row.data) as Omit<BudgetTemplate, "id">), id: row.id };
}

export function providerToRow(provider: StoredProvider): ProviderRow {
  const { name, ...rest } = provider;
  return { name, data: JSON.stringify(rest) };
}

export function providerFromRow(row: Stored<ProviderRow>): StoredProvider {
  return { ...(document(row.data) as Omit<StoredProvider, "name">), name: row.name };
}

export function providerKeyToRow(key: StoredProviderKey, cipher: SecretCipher): ProviderKeyRow {
  const { id, provider, name, secret, enabled, ...rest } = key;
  return { id, provider, name, secret_sealed: cipher.seal(secret), enabled, data: JSON.stringify(rest) };
}

export function providerKeyFromRow(row: Stored<ProviderKeyRow>, cipher: SecretCipher): StoredProviderKey {
  return {
    ...(document(row.data) as Omit<StoredProviderKey, "id" | "provider" | "name" | "secret" | "enabled">),
    id: row.id,
    provider: row.provider,
    name: row.name,
    secret: cipher.open(row.secret_sealed),
    enabled: Boolean(row.enabled),
  };
}

/** The last row for each budget: one statement may not upsert the same row twice (PostgreSQL refuses). */
export function lastUsagePerBudget(rows: readonly BudgetUsage[]): BudgetUsage[] {
  const byBudget = new Map<string, BudgetUsage>();
  for (const row of rows) {
    checkInteger("windowStart", row.windowStart);
    checkInteger("spentMicros", row.spentMicros);
    byBudget.set(row.budgetId, row);
  }
  return [...byBudget.values()];
}

/** spend_logs' columns in insert order, with the record field each holds. */
export const SPEND_COLUMNS = [
  ["request_id", "requestId"],
  ["at", "at"],
  ["key_id", "keyId"],
  ["team_id", "teamId"],
  ["customer_id", "customerId"],
  ["provider", "provider"],
  ["model", "model"],
  ["requested_model", "requestedModel"],
  ["prompt_tokens", "promptTokens"],
  ["completion_tokens", "completionTokens"],
  ["cached_read_tokens", "cachedReadTokens"],
  ["cache_write_tokens", "cacheWriteTokens"],
  ["reasoning_tokens", "reasoningTokens"],
  ["cost_micros", "costMicros"],
  ["status", "status"],
  ["stream", "stream"],
  ["estimated", "estimated"],
] as const satisfies ReadonlyArray<readonly [string, keyof SpendRecord]>;

const INTEGER_FIELDS = [
  "at",
  "promptTokens",
  "completionTokens",
  "cachedReadTokens",
  "cacheWriteTokens",
  "reasoningTokens",
  "costMicros",
  "status",
] as const satisfies ReadonlyArray<keyof SpendRecord>;

/** Both databases must hold the same thing: SQLite would keep a fraction PostgreSQL's BIGINT refuses. */
export function checkSpendRecord(record: SpendRecord): void {
  for (const field of INTEGER_FIELDS) checkInteger(field, record[field]);
}

function checkInteger(field: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${field} must be a safe integer, got ${value}`);
}

type SpendRow = { readonly [Column in (typeof SPEND_COLUMNS)[number][0]]: unknown };

export function spendFromRow(row: SpendRow): SpendRecord {
  return {
    requestId: String(row.request_id),
    at: Number(row.at),
    keyId: String(row.key_id),
    teamId: String(row.team_id),
    customerId: String(row.customer_id),
    provider: String(row.provider),
    model: String(row.model),
    requestedModel: String(row.requested_model),
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
    cachedReadTokens: Number(row.cached_read_tokens),
    cacheWriteTokens: Number(row.cache_write_tokens),
    reasoningTokens: Number(row.reasoning_tokens),
    costMicros: Number(row.cost_micros),
    status: Number(row.status),
    // SQLite has no boolean: 0 or 1.
    stream: Boolean(row.stream),
    estimated: Boolean(row.estimated),
  };
}

export const DEFAULT_SPEND_LIMIT = 100;
export const MAX_SPEND_LIMIT = 10_000;

export interface SpendCondition {
  readonly column: string;
  readonly operator: "=" | ">=" | "<";
  readonly value: string | number;
}

/**
 * A spend query's filters as conditions on fixed column names (values go in as parameters) and its row limit.
 * `from` is inclusive and `to` exclusive, so consecutive ranges never count a record twice.
 */
export function spendConditions(query: SpendQuery): { conditions: SpendCondition[]; limit: number } {
  const conditions: SpendCondition[] = [];
  if (query.from !== undefined) {
    checkInteger("from", query.from);
    conditions.push({ column: "at", operator: ">=", value: query.from });
  }
  if (query.to !== undefined) {
    checkInteger("to", query.to);
    conditions.push({ column: "at", operator: "<", value: query.to });
  }
  const equal = [
    ["key_id", query.keyId],
    ["team_id", query.teamId],
    ["customer_id", query.customerId],
    ["provider", query.provider],
    ["model", query.model],
  ] as const;
  for (const [column, value] of equal) {
    if (value !== undefined) conditions.push({ column, operator: "=", value });
  }
  const limit = query.limit ?? DEFAULT_SPEND_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError("limit must be a positive integer");
  return { conditions, limit: Math.min(limit, MAX_SPEND_LIMIT) };
}

/** What a total groups by: a fixed column, or the database's own spelling of the record's UTC day. */
export function spendGroupExpression(group: SpendGroup, dayExpression: string): string {
  switch (group) {
    case "key":
      return "key_id";
    case "team":
      return "team_id";
    case "customer":
      return "customer_id";
    case "provider":
      return "provider";
    case "model":
      return "model";
    case "day":
      return dayExpression;
    default:
      // A caller passing a request's text straight through must not reach the SQL.
      throw new RangeError(`unknown spend group ${JSON.stringify(String(group)).slice(0, 40)}`);
  }
}
