import { formatDuration } from "../governance/duration.js";
import type { Budget, Team, VirtualKey } from "../governance/types.js";
import { allKeys, refuseConfigEntity } from "./configured.js";
import type { AdminContext } from "./context.js";
import { isoTime, type LimitsInput, toDollars, toTime } from "./convert.js";
import { createCustomer } from "./customers.js";
import { findEntity } from "./entity-routes.js";
import { AdminError, invalidField } from "./errors.js";
import { COUNT, DURATION, ID, METADATA, MODEL_PATTERN, MODELS, NAME, nullable } from "./fields.js";
import { createKey, type KeyInput, updateKey } from "./keys.js";
import { LITELLM_BUDGET_ROUTES } from "./litellm-budgets.js";
import {
  BUDGET_FIELDS,
  BUDGET_ID_FIELD,
  type Governed,
  governed,
  LIMIT_FIELDS,
  type LiteBudget,
  type LiteLimits,
  limitsInput,
  liteBudgets,
  liteLimits,
} from "./litellm-fields.js";
import { modelInfo } from "./model-info.js";
import type { AdminRoute } from "./route.js";
import type { MapSchema, RecordSchema, Schema, StringSchema } from "./schema.js";
import { hashSecret } from "./secrets.js";
import { createTeam } from "./teams.js";

// LiteLLM's management routes with LiteLLM's field names and answer shapes, for users moving from its proxy:
// dollars, duration strings, keys named by their secret or by their token (the secret's SHA-256). Fields
// LiteLLM has and Switchyard does not are accepted only empty; with a value they are refused, never ignored.

const UNSUPPORTED_KEY_FIELDS = [
  "user_id",
  "aliases",
  "config",
  "permissions",
  "allowed_cache_controls",
  "tags",
  "guardrails",
  "enforced_params",
  "send_invite_email",
  "key_type",
  "organization_id",
  "project_id",
  "spend",
  "model_max_budget",
  "allowed_routes",
  "object_permission",
  "auto_rotate",
  "rotation_interval",
  "prompts",
];
const UNSUPPORTED_TEAM_FIELDS = [
  "members_with_roles",
  "organization_id",
  "tags",
  "guardrails",
  "model_aliases",
  "team_member_permissions",
  "admins",
  "members",
  "model_max_budget",
  "team_member_budget",
  "object_permission",
  "prompts",
  "blocked",
];
const UNSUPPORTED_CUSTOMER_FIELDS = [
  "blocked",
  "allowed_model_region",
  "default_model",
  "spend",
  "model_max_budget",
  "object_permission",
];

const MODEL_COUNTS: MapSchema = {
  type: "object",
  maxProperties: 1000,
  propertyNames: MODEL_PATTERN,
  additionalProperties: COUNT,
};
/** A secret given for an imported key: LiteLLM's keys start with "sk-". */
const KEY_SECRET: StringSchema = {
  type: "string",
  minLength: 20,
  maxLength: 256,
  pattern: "^sk-[\\x21-\\x7e]+$",
};
/** A key as the routes name it: its secret or its token. */
const KEY_REF: StringSchema = { type: "string", minLength: 1, maxLength: 256, pattern: "^[\\x21-\\x7e]+$" };

const KEY_FIELDS: RecordSchema["properties"] = {
  key_alias: nullable(NAME),
  models: nullable(MODELS),
  metadata: nullable(METADATA),
  team_id: nullable(ID),
  duration: nullable(DURATION),
  expires: nullable({ type: "string", maxLength: 40 }),
  model_rpm_limit: nullable(MODEL_COUNTS),
  model_tpm_limit: nullable(MODEL_COUNTS),
  blocked: nullable({ type: "boolean" }),
  ...LIMIT_FIELDS,
  ...BUDGET_FIELDS,
  ...BUDGET_ID_FIELD,
};

const KEY_GENERATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: { key: KEY_SECRET, ...KEY_FIELDS },
};
const KEY_UPDATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  required: ["key"],
  properties: { key: KEY_REF, ...KEY_FIELDS },
};
const KEY_DELETE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    keys: nullable({ type: "array", items: KEY_REF, maxItems: 1000 }),
    key_aliases: nullable({ type: "array", items: NAME, maxItems: 1000 }),
  },
};
const TEAM_NEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    team_id: nullable(ID),
    team_alias: nullable(NAME),
    models: nullable(MODELS),
    metadata: nullable(METADATA),
    ...LIMIT_FIELDS,
    ...BUDGET_FIELDS,
    ...BUDGET_ID_FIELD,
  },
};
const CUSTOMER_NEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  required: ["user_id"],
  properties: {
    user_id: ID,
    alias: nullable(NAME),
    metadata: nullable(METADATA),
    ...LIMIT_FIELDS,
    ...BUDGET_FIELDS,
    ...BUDGET_ID_FIELD,
  },
};

interface LiteKey extends LiteLimits, LiteBudget {
  readonly key?: string;
  readonly key_alias?: string | null;
  readonly models?: readonly string[] | null;
  readonly metadata?: Readonly<Record<string, unknown>> | null;
  readonly team_id?: string | null;
  readonly duration?: string | null;
  readonly expires?: string | null;
  readonly model_rpm_limit?: Readonly<Record<string, number>> | null;
  readonly model_tpm_limit?: Readonly<Record<string, number>> | null;
  readonly blocked?: boolean | null;
  readonly budget_id?: string | null;
}

function liteKeyInput(existing: VirtualKey | undefined, body: LiteKey, change: Governed): KeyInput {
  const input: { -readonly [K in keyof KeyInput]: KeyInput[K] } = {};
  if (body.key_alias !== undefined) input.name = body.key_alias ?? "";
  if (body.models !== undefined) input.models = body.models ?? [];
  if (body.metadata !== undefined) input.metadata = body.metadata ?? {};
  if (body.team_id !== undefined) input.team_id = body.team_id;
  if (body.blocked !== undefined && body.blocked !== null) input.active = !body.blocked;
  if (
    body.duration !== undefined &&
    body.expires !== undefined &&
    body.expires !== null &&
    body.duration !== null
  )
    throw invalidField("duration", "give duration or expires, not both");
  if (body.duration !== undefined) {
    if (body.duration === null) input.expires_at = null;
    else input.duration = body.duration;
  }
  if (body.expires !== undefined)
    input.expires_at = body.expires === null ? null : toTime(body.expires, "expires");
  const limits = liteLimits(existing?.limits, change.limits);
  if (limits !== undefined) input.limits = limits;
  const budgets = liteBudgets(existing?.budgets ?? [], change.budget);
  if (budgets !== undefined) input.budgets = budgets;
  if (body.model_rpm_limit !== undefined || body.model_tpm_limit !== undefined) {
    const perModel = new Map<string, { -readonly [K in keyof LimitsInput]: LimitsInput[K] }>();
    for (const [model, limits] of Object.entries(existing?.modelLimits ?? {}))
      perModel.set(model, limitsInput(limits));
    const set = (
      counts: Readonly<Record<string, number>> | null | undefined,
      field: "requests" | "tokens",
    ) => {
      if (counts === undefined) return;
      for (const entry of perModel.values()) delete entry[field];
      for (const [model, count] of Object.entries(counts ?? {})) {
        const entry = perModel.get(model) ?? {};
        entry[field] = count;
        perModel.set(model, entry);
      }
    };
    set(body.model_rpm_limit, "requests");
    set(body.model_tpm_limit, "tokens");
    const modelLimits: Record<string, LimitsInput> = {};
    for (const [model, entry] of perModel)
      if (entry.requests !== undefined || entry.tokens !== undefined || entry.parallel !== undefined)
        Object.defineProperty(modelLimits, model, { value: entry, enumerable: true });
    input.model_limits = modelLimits;
  }
  return input;
}

function liteBudgetFields(budgets: readonly Budget[]): Record<string, unknown> {
  const first = budgets[0];
  return {
    max_budget: first === undefined ? null : toDollars(first.maxMicros),
    soft_budget: first?.softMicros === undefined ? null : toDollars(first.softMicros),
    budget_duration: first?.window === undefined ? null : formatDuration(first.window),
    budget_id: first?.id ?? null,
    budget_reset_at: null,
  };
}

function modelCounts(key: VirtualKey, field: "requests" | "tokens"): Record<string, number> | null {
  const out: Record<string, number> = {};
  for (const [model, limits] of Object.entries(key.modelLimits))
    if (limits[field] !== undefined)
      Object.defineProperty(out, model, { value: limits[field], enumerable: true });
  return Object.keys(out).length === 0 ? null : out;
}

function liteKeyView(key: VirtualKey, spendMicros: number): Record<string, unknown> {
  return {
    token: key.hash,
    key_name: key.masked,
    key_alias: key.name === "" ? null : key.name,
    spend: toDollars(spendMicros),
    expires: key.expiresAt === undefined ? null : isoTime(key.expiresAt),
    models: key.models,
    aliases: {},
    config: {},
    permissions: {},
    user_id: null,
    team_id: key.teamId ?? null,
    max_parallel_requests: key.limits?.parallel ?? null,
    tpm_limit: key.limits?.tokens ?? null,
    rpm_limit: key.limits?.requests ?? null,
    model_rpm_limit: modelCounts(key, "requests"),
    model_tpm_limit: modelCounts(key, "tokens"),
    model_max_budget: {},
    metadata: key.metadata,
    blocked: !key.active,
    ...liteBudgetFields(key.budgets),
    created_at: isoTime(key.createdAt),
    updated_at: isoTime(key.updatedAt),
  };
}

async function spendByKey(context: AdminContext): Promise<Map<string, number>> {
  await context.flushSpend();
  return new Map((await context.store.totalSpend({}, "key")).map((t) => [t.group, t.costMicros]));
}

/** The key a route names by its secret ("sk-...") or its token. */
async function keyByRef(context: AdminContext, ref: string, param: string): Promise<VirtualKey> {
  const hash = /^[0-9a-f]{64}$/.test(ref) ? ref : hashSecret(ref);
  const key = (await allKeys(context)).find((k) => k.hash === hash);
  if (key === undefined)
    throw new AdminError(404, "not_found_error", "not_found", `${param}: no such key`, param);
  return key;
}

function queryKey(query: ReadonlyMap<string, string>, name: string): string {
  const value = query.get(name);
  if (value === undefined || value === "") throw invalidField(name, "is required");
  return value;
}

function count(text: string | undefined, name: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1 || Number(text) > max)
    throw invalidField(name, `must be an integer from 1 to ${max}`);
  return Number(text);
}

const ANY: Schema = { type: "object", "x-maxJsonBytes": 1 << 24 };
const PAGE: StringSchema = { type: "string", maxLength: 7, pattern: "^[0-9]+$" };
const BOOL: StringSchema = { type: "string", maxLength: 5, enum: ["true", "false"] };
const DATE: StringSchema = { type: "string", maxLength: 10, pattern: "^\\d{4}-\\d{2}-\\d{2}$" };

function liteTeamView(team: Team, spendMicros: number): Record<string, unknown> {
  return {
    team_id: team.id,
    team_alias: team.name === "" ? null : team.name,
    organization_id: null,
    admins: [],
    members: [],
    members_with_roles: [],
    metadata: team.metadata,
    tpm_limit: team.limits?.tokens ?? null,
    rpm_limit: team.limits?.requests ?? null,
    max_parallel_requests: team.limits?.parallel ?? null,
    models: team.models,
    blocked: false,
    spend: toDollars(spendMicros),
    ...liteBudgetFields(team.budgets),
    created_at: isoTime(team.createdAt),
    updated_at: isoTime(team.updatedAt),
  };
}

const DAY_MS = 86_400_000;

function dayOf(text: string, name: string): number {
  const ms = Date.parse(`${text}T00:00:00Z`);
  if (!Number.isFinite(ms)) throw invalidField(name, "must be a date YYYY-MM-DD");
  return ms;
}

export const LITELLM_ROUTES: readonly AdminRoute[] = [
  {
    method: "POST",
    path: "/key/generate",
    summary: "LiteLLM: make a key; the answer holds its secret (`key`), once.",
    tolerated: UNSUPPORTED_KEY_FIELDS,
    body: KEY_GENERATE,
    response: ANY,
    async handle(context, { body }) {
      const lite = body as LiteKey;
      const input = liteKeyInput(undefined, lite, await governed(context, lite));
      const { key, secret } = await createKey(context, input, lite.key);
      return {
        status: 200,
        body: { ...liteKeyView(key, 0), key: secret, token_id: key.hash, duration: lite.duration ?? null },
      };
    },
  },
  {
    method: "GET",
    path: "/key/info",
    summary: "LiteLLM: one key, by secret or token.",
    query: { key: KEY_REF },
    response: ANY,
    async handle(context, { query }) {
      const ref = queryKey(query, "key");
      const key = await keyByRef(context, ref, "key");
      const spend = (await spendByKey(context)).get(key.id) ?? 0;
      return { status: 200, body: { key: ref, info: liteKeyView(key, spend) } };
    },
  },
  {
    method: "POST",
    path: "/key/update",
    summary: "LiteLLM: change a key's fields, by secret or token.",
    tolerated: UNSUPPORTED_KEY_FIELDS,
    body: KEY_UPDATE,
    response: ANY,
    async handle(context, { body }) {
      const lite = body as LiteKey & { readonly key: string };
      const key = await keyByRef(context, lite.key, "key");
      refuseConfigEntity(context, "key", key.id);
      const updated = await updateKey(context, key, liteKeyInput(key, lite, await governed(context, lite)));
      const spend = (await spendByKey(context)).get(key.id) ?? 0;
      return { status: 200, body: { ...liteKeyView(updated, spend), key: lite.key } };
    },
  },
  {
    method: "POST",
    path: "/key/delete",
    summary: "LiteLLM: delete keys by secret, token or alias; none is deleted unless all are found.",
    body: KEY_DELETE,
    response: ANY,
    async handle(context, { body }) {
      const { keys, key_aliases } = body as { keys?: string[] | null; key_aliases?: string[] | null };
      if ((keys ?? []).length === 0 && (key_aliases ?? []).length === 0)
        throw invalidField("keys", "give keys or key_aliases");
      const found: VirtualKey[] = [];
      for (const [i, ref] of (keys ?? []).entries()) found.push(await keyByRef(context, ref, `keys[${i}]`));
      const all = await allKeys(context);
      for (const [i, alias] of (key_aliases ?? []).entries()) {
        const matching = all.filter((k) => k.name === alias);
        if (matching.length === 0)
          throw new AdminError(
            404,
            "not_found_error",
            "not_found",
            `key_aliases[${i}]: no such key`,
            `key_aliases[${i}]`,
          );
        found.push(...matching);
      }
      for (const key of found) refuseConfigEntity(context, "key", key.id);
      for (const key of found) await context.store.deleteKey(key.id);
      await context.changed();
      return { status: 200, body: { deleted_keys: [...(keys ?? []), ...(key_aliases ?? [])] } };
    },
  },
  {
    method: "GET",
    path: "/key/list",
    summary: "LiteLLM: keys by page: tokens, or whole keys with return_full_object=true.",
    query: { page: PAGE, size: PAGE, team_id: ID, key_alias: NAME, return_full_object: BOOL },
    response: ANY,
    async handle(context, { query }) {
      const page = count(query.get("page"), "page", 1, 1_000_000);
      const size = count(query.get("size"), "size", 10, 100);
      const teamId = query.get("team_id");
      const alias = query.get("key_alias");
      const keys = (await allKeys(context))
        .filter(
          (k) => (teamId === undefined || k.teamId === teamId) && (alias === undefined || k.name === alias),
        )
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
      const slice = keys.slice((page - 1) * size, page * size);
      const full = query.get("return_full_object") === "true";
      const spend = full ? await spendByKey(context) : new Map<string, number>();
      return {
        status: 200,
        body: {
          keys: slice.map((k) => (full ? liteKeyView(k, spend.get(k.id) ?? 0) : k.hash)),
          total_count: keys.length,
          current_page: page,
          total_pages: Math.ceil(keys.length / size),
        },
      };
    },
  },
  {
    method: "POST",
    path: "/team/new",
    summary: "LiteLLM: make a team.",
    tolerated: UNSUPPORTED_TEAM_FIELDS,
    body: TEAM_NEW,
    response: ANY,
    async handle(context, { body }) {
      const lite = body as LiteLimits &
        LiteBudget & {
          team_id?: string | null;
          team_alias?: string | null;
          models?: string[] | null;
          metadata?: Record<string, unknown> | null;
          budget_id?: string | null;
        };
      const change = await governed(context, lite);
      const limits = liteLimits(undefined, change.limits);
      const budgets = liteBudgets([], change.budget);
      const team = await createTeam(context, {
        ...(lite.team_id !== undefined && lite.team_id !== null ? { id: lite.team_id } : {}),
        name: lite.team_alias ?? "",
        models: lite.models ?? [],
        metadata: lite.metadata ?? {},
        ...(limits !== undefined ? { limits } : {}),
        ...(budgets !== undefined ? { budgets } : {}),
      });
      return { status: 200, body: liteTeamView(team, 0) };
    },
  },
  {
    method: "GET",
    path: "/team/info",
    summary: "LiteLLM: a team with its keys.",
    query: { team_id: ID },
    response: ANY,
    async handle(context, { query }) {
      const { entity: team } = await findEntity(context, "team", queryKey(query, "team_id"));
      await context.flushSpend();
      const teamSpend = (await context.store.totalSpend({ teamId: team.id }, "team")).reduce(
        (s, t) => s + t.costMicros,
        0,
      );
      const spend = await spendByKey(context);
      const keys = (await allKeys(context)).filter((k) => k.teamId === team.id);
      return {
        status: 200,
        body: {
          team_id: team.id,
          team_info: liteTeamView(team, teamSpend),
          keys: keys.map((k) => liteKeyView(k, spend.get(k.id) ?? 0)),
          team_memberships: [],
        },
      };
    },
  },
  {
    method: "POST",
    path: "/customer/new",
    summary: "LiteLLM: make a customer (an end user), with its budget and limits.",
    tolerated: UNSUPPORTED_CUSTOMER_FIELDS,
    body: CUSTOMER_NEW,
    response: ANY,
    async handle(context, { body }) {
      const lite = body as LiteLimits &
        LiteBudget & {
          user_id: string;
          alias?: string | null;
          metadata?: Record<string, unknown> | null;
          budget_id?: string | null;
        };
      const change = await governed(context, lite);
      const limits = liteLimits(undefined, change.limits);
      const budgets = liteBudgets([], change.budget);
      const customer = await createCustomer(context, {
        id: lite.user_id,
        name: lite.alias ?? "",
        metadata: lite.metadata ?? {},
        ...(limits !== undefined ? { limits } : {}),
        ...(budgets !== undefined ? { budgets } : {}),
      });
      const first = customer.budgets[0];
      const hasTable = first !== undefined || customer.limits !== undefined;
      return {
        status: 200,
        body: {
          user_id: customer.id,
          alias: customer.name === "" ? null : customer.name,
          spend: 0,
          blocked: false,
          allowed_model_region: null,
          default_model: null,
          litellm_budget_table: hasTable
            ? {
                ...liteBudgetFields(customer.budgets),
                tpm_limit: customer.limits?.tokens ?? null,
                rpm_limit: customer.limits?.requests ?? null,
                max_parallel_requests: customer.limits?.parallel ?? null,
              }
            : null,
        },
      };
    },
  },
  {
    method: "GET",
    path: "/spend/logs",
    summary:
      "LiteLLM: spend logs by key, customer (user_id) or request; by day with start_date and end_date.",
    query: {
      api_key: KEY_REF,
      user_id: ID,
      request_id: { type: "string", maxLength: 256 },
      start_date: DATE,
      end_date: DATE,
      summarize: BOOL,
    },
    response: ANY,
    async handle(context, { query }) {
      await context.flushSpend();
      const keys = await allKeys(context);
      const hashOf = new Map(keys.map((k) => [k.id, k.hash]));
      const apiKey = query.get("api_key");
      const filter: { keyId?: string; customerId?: string; from?: number; to?: number } = {};
      if (apiKey !== undefined) {
        const hash = /^[0-9a-f]{64}$/.test(apiKey) ? apiKey : hashSecret(apiKey);
        // No key id has a "#": an unknown key matches no record.
        filter.keyId = keys.find((k) => k.hash === hash)?.id ?? `#${hash}`;
      }
      const userId = query.get("user_id");
      if (userId !== undefined) filter.customerId = userId;
      const start = query.get("start_date");
      const end = query.get("end_date");
      if (start !== undefined) filter.from = dayOf(start, "start_date");
      if (end !== undefined) filter.to = dayOf(end, "end_date") + DAY_MS;
      if (filter.from !== undefined && filter.to !== undefined && filter.from >= filter.to)
        throw invalidField("end_date", "is before start_date");
      const summarize = start !== undefined && end !== undefined && query.get("summarize") !== "false";
      if (summarize) {
        const first = filter.from as number;
        const days = Math.round(((filter.to as number) - first) / DAY_MS);
        if (days > 366) throw invalidField("end_date", "at most 366 days after start_date");
        const out: Record<string, unknown>[] = [];
        for (let d = 0; d < days; d++) {
          const day = { ...filter, from: first + d * DAY_MS, to: first + (d + 1) * DAY_MS };
          const byModel = await context.store.totalSpend(day, "model");
          const byCustomer = await context.store.totalSpend(day, "customer");
          const byKey = await context.store.totalSpend(day, "key");
          const entry: Record<string, unknown> = {};
          for (const t of byKey)
            Object.defineProperty(entry, hashOf.get(t.group) ?? t.group, {
              value: toDollars(t.costMicros),
              enumerable: true,
              writable: true,
            });
          entry.startTime = isoTime(day.from).slice(0, 10);
          entry.spend = toDollars(byModel.reduce((s, t) => s + t.costMicros, 0));
          entry.models = Object.fromEntries(byModel.map((t) => [t.group, toDollars(t.costMicros)]));
          entry.users = Object.fromEntries(byCustomer.map((t) => [t.group, toDollars(t.costMicros)]));
          out.push(entry);
        }
        return { status: 200, body: out };
      }
      const requestId = query.get("request_id");
      const records = (await context.store.querySpend({ ...filter, limit: 10_000 })).filter(
        (r) => requestId === undefined || r.requestId === requestId,
      );
      return {
        status: 200,
        body: records.map((r) => ({
          request_id: r.requestId,
          call_type: "",
          api_key: hashOf.get(r.keyId) ?? "",
          spend: toDollars(r.costMicros),
          total_tokens: r.promptTokens + r.completionTokens,
          prompt_tokens: r.promptTokens,
          completion_tokens: r.completionTokens,
          startTime: isoTime(r.at),
          endTime: isoTime(r.at),
          model: r.model,
          model_group: r.requestedModel,
          custom_llm_provider: r.provider,
          user: "",
          team_id: r.teamId,
          end_user: r.customerId,
          status: r.status < 400 ? "success" : "failure",
          metadata: {},
        })),
      };
    },
  },
  {
    method: "GET",
    path: "/global/spend",
    summary: "LiteLLM: total spend across all keys.",
    response: ANY,
    async handle(context) {
      await context.flushSpend();
      const totals = await context.store.totalSpend({}, "provider");
      return {
        status: 200,
        body: { spend: toDollars(totals.reduce((s, t) => s + t.costMicros, 0)), max_budget: 0 },
      };
    },
  },
  {
    method: "GET",
    path: "/model/info",
    summary: "LiteLLM: the models the configuration serves, without secrets.",
    query: { litellm_model_id: { type: "string", maxLength: 256 } },
    response: ANY,
    async handle(context, { query }) {
      return { status: 200, body: { data: modelInfo(context.config(), query.get("litellm_model_id")) } };
    },
  },
  ...LITELLM_BUDGET_ROUTES,
];

/** /v1/model/info answers as /model/info. */
export const LITELLM_ALIASES: Readonly<Record<string, string>> = { "/v1/model/info": "/model/info" };
