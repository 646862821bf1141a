import type { SpendRecord } from "../governance/types.js";
import type { SpendGroup, SpendQuery } from "../store/types.js";
import { budgetView, isoTime, toDollars, toTime } from "./convert.js";
import { invalidField } from "./errors.js";
import { DOLLARS, ID, ISO_TIME, MODEL_PATTERN, OWNED_BUDGET_VIEW } from "./fields.js";
import { allBudgets } from "./integrity.js";
import type { AdminRoute } from "./route.js";
import type { RecordSchema, StringSchema } from "./schema.js";

// Spend under /api: the records (/api/usage), totals by group (/api/spend), and every budget with its live
// state (/api/budgets). Counters and records still in memory are flushed to the store first.

const TIME_PARAM: StringSchema = {
  type: "string",
  maxLength: 40,
  description: "ISO 8601 or Unix milliseconds.",
};
const FILTERS: Readonly<Record<string, StringSchema>> = {
  key_id: ID,
  team_id: ID,
  customer_id: ID,
  provider: ID,
  model: MODEL_PATTERN,
  from: { ...TIME_PARAM, description: "From this time on (ISO 8601 or Unix milliseconds)." },
  to: { ...TIME_PARAM, description: "Before this time (ISO 8601 or Unix milliseconds)." },
};

export function spendQuery(query: ReadonlyMap<string, string>): SpendQuery {
  const out: { -readonly [K in keyof SpendQuery]: SpendQuery[K] } = {};
  const from = query.get("from");
  const to = query.get("to");
  if (from !== undefined) out.from = toTime(from, "from");
  if (to !== undefined) out.to = toTime(to, "to");
  if (out.from !== undefined && out.to !== undefined && out.from > out.to)
    throw invalidField("to", "is before from");
  const keyId = query.get("key_id");
  const teamId = query.get("team_id");
  const customerId = query.get("customer_id");
  const provider = query.get("provider");
  const model = query.get("model");
  if (keyId !== undefined) out.keyId = keyId;
  if (teamId !== undefined) out.teamId = teamId;
  if (customerId !== undefined) out.customerId = customerId;
  if (provider !== undefined) out.provider = provider;
  if (model !== undefined) out.model = model;
  return out;
}

export const MAX_RECORDS = 10_000;

export function limitParam(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > MAX_RECORDS)
    throw invalidField("limit", `must be an integer from 1 to ${MAX_RECORDS}`);
  return Number(text);
}

const RECORD_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    request_id: { type: "string", maxLength: 256 },
    at: ISO_TIME,
    key_id: { type: "string", maxLength: 128 },
    team_id: { type: "string", maxLength: 128 },
    customer_id: { type: "string", maxLength: 128 },
    provider: { type: "string", maxLength: 128 },
    model: { type: "string", maxLength: 256 },
    requested_model: { type: "string", maxLength: 256 },
    prompt_tokens: { type: "integer", minimum: 0, maximum: 1e15 },
    completion_tokens: { type: "integer", minimum: 0, maximum: 1e15 },
    cached_read_tokens: { type: "integer", minimum: 0, maximum: 1e15 },
    cache_write_tokens: { type: "integer", minimum: 0, maximum: 1e15 },
    reasoning_tokens: { type: "integer", minimum: 0, maximum: 1e15 },
    cost: { ...DOLLARS, description: "Dollars." },
    status: { type: "integer", minimum: 0, maximum: 999 },
    stream: { type: "boolean" },
    estimated: { type: "boolean" },
  },
};

function recordView(record: SpendRecord): Record<string, unknown> {
  return {
    request_id: record.requestId,
    at: isoTime(record.at),
    key_id: record.keyId,
    team_id: record.teamId,
    customer_id: record.customerId,
    provider: record.provider,
    model: record.model,
    requested_model: record.requestedModel,
    prompt_tokens: record.promptTokens,
    completion_tokens: record.completionTokens,
    cached_read_tokens: record.cachedReadTokens,
    cache_write_tokens: record.cacheWriteTokens,
    reasoning_tokens: record.reasoningTokens,
    cost: toDollars(record.costMicros),
    status: record.status,
    stream: record.stream,
    estimated: record.estimated,
  };
}

const GROUPS: readonly SpendGroup[] = ["key", "team", "customer", "provider", "model", "day"];

const TOTAL_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    group: { type: "string", maxLength: 256 },
    requests: { type: "integer", minimum: 0, maximum: 1e15 },
    prompt_tokens: { type: "integer", minimum: 0, maximum: 1e15 },
    completion_tokens: { type: "integer", minimum: 0, maximum: 1e15 },
    cost: DOLLARS,
  },
};

export const SPEND_ROUTES: readonly AdminRoute[] = [
  {
    method: "GET",
    path: "/api/usage",
    summary: "Spend records, newest first, filtered by entity, provider, model and time.",
    query: {
      ...FILTERS,
      limit: {
        type: "string",
        maxLength: 5,
        pattern: "^[0-9]+$",
        description: "At most this many (1 to 10000; 100).",
      },
    },
    response: {
      type: "object",
      additionalProperties: false,
      properties: { data: { type: "array", items: RECORD_VIEW, maxItems: MAX_RECORDS } },
    },
    async handle(context, { query }) {
      const filters = { ...spendQuery(query), limit: limitParam(query.get("limit"), 100) };
      await context.flushSpend();
      return { status: 200, body: { data: (await context.store.querySpend(filters)).map(recordView) } };
    },
  },
  {
    method: "GET",
    path: "/api/spend",
    summary: "Spend totals grouped by key, team, customer, provider, model or day (UTC) over a time range.",
    query: { ...FILTERS, group_by: { type: "string", maxLength: 8, enum: GROUPS } },
    response: {
      type: "object",
      additionalProperties: false,
      properties: {
        group_by: { type: "string", maxLength: 8, enum: GROUPS },
        from: { anyOf: [ISO_TIME, { type: "null" }] },
        to: { anyOf: [ISO_TIME, { type: "null" }] },
        total: DOLLARS,
        data: { type: "array", items: TOTAL_VIEW, maxItems: 1e9 },
      },
    },
    async handle(context, { query }) {
      const filters = spendQuery(query);
      const group = (query.get("group_by") ?? "day") as SpendGroup;
      await context.flushSpend();
      const totals = await context.store.totalSpend(filters, group);
      return {
        status: 200,
        body: {
          group_by: group,
          from: filters.from === undefined ? null : isoTime(filters.from),
          to: filters.to === undefined ? null : isoTime(filters.to),
          total: toDollars(totals.reduce((sum, t) => sum + t.costMicros, 0)),
          data: totals.map((t) => ({
            group: t.group,
            requests: t.requests,
            prompt_tokens: t.promptTokens,
            completion_tokens: t.completionTokens,
            cost: toDollars(t.costMicros),
          })),
        },
      };
    },
  },
  {
    method: "GET",
    path: "/api/budgets",
    summary:
      "Every budget of every key, team and customer, with its live state (spent and reserved this window).",
    response: {
      type: "object",
      additionalProperties: false,
      properties: { data: { type: "array", items: OWNED_BUDGET_VIEW, maxItems: 1e9 } },
    },
    async handle(context) {
      const budgets = await allBudgets(context);
      return {
        status: 200,
        body: {
          data: budgets.map(({ owner, budget }) => ({
            ...budgetView(context, budget),
            owner_type: owner.type,
            owner_id: owner.id,
          })),
        },
      };
    },
  },
];
