import type { Budget, Limits, VirtualKey } from "../governance/types.js";
import type { AdminContext } from "./context.js";
import { type BudgetInput, isoTime, type LimitsInput, toDollars, toTime } from "./convert.js";
import { createCustomer } from "./customers.js";
import { formatDuration } from "./duration.js";
import { AdminError, invalidField } from "./errors.js";
import { COUNT, DOLLARS, DURATION, ID, METADATA, MODEL_PATTERN, MODELS, NAME, nullable } from "./fields.js";
import { createKey, type KeyInput, updateKey } from "./keys.js";
import { modelInfo } from "./model-info.js";
import type { AdminRoute } from "./route.js";
import type { MapSchema, RecordSchema, Schema, StringSchema } from "./schema.js";
import { hashSecret } from "./secrets.js";
import { createTeam, existingTeam } from "./teams.js";

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
  "budget_id",
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
  "budget_id",
  "allowed_model_region",
  "default_model",
  "spend",
  "model_max_budget",
  "object_permission",
];

const LIMIT_FIELDS: RecordSchema["properties"] = {
  rpm_limit: nullable(COUNT),
  tpm_limit: nullable(COUNT),
  max_parallel_requests: nullable({ type: "integer", minimum: 1, maximum: 1e6 }),
};
const BUDGET_FIELDS: RecordSchema["properties"] = {
  max_budget: nullable(DOLLARS),
  soft_budget: nullable(DOLLARS),
  budget_duration: nullable(DURATION),
};
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
  },
};

interface LiteLimits {
  readonly rpm_limit?: number | null;
  readonly tpm_limit?: number | null;
  readonly max_parallel_requests?: number | null;
}
interface LiteBudget {
  readonly max_budget?: number | null;
  readonly soft_budget?: number | null;
  readonly budget_duration?: string | null;
}
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
}

function budgetInput(budget: Budget): BudgetInput {
  const input: { -readonly [K in keyof BudgetInput]: BudgetInput[K] } = {
    id: budget.id,
    max_budget: toDollars(budget.maxMicros),
  };
  if (budget.softMicros !== undefined) input.soft_budget = toDollars(budget.softMicros);
  if (budget.window !== undefined) {
    input.budget_duration = formatDuration(budget.window);
    input.alignment = budget.window.alignment;
  }
  return input;
}

/**
 * LiteLLM's one budget per entity is the entity's first: the fields given change it (null max_budget removes
 * it), the others stay. Undefined when the body touches no budget field.
 */
function liteBudgets(existing: readonly Budget[], body: LiteBudget): BudgetInput[] | undefined {
  if (body.max_budget === undefined && body.soft_budget === undefined && body.budget_duration === undefined)
    return undefined;
  const first = existing[0] === undefined ? undefined : budgetInput(existing[0]);
  const rest = existing.slice(1).map(budgetInput);
  const max = body.max_budget !== undefined ? body.max_budget : (first?.max_budget ?? null);
  if (max === null) {
    if ((body.soft_budget ?? null) !== null || (body.budget_duration ?? null) !== null)
      throw invalidField("max_budget", "is needed with soft_budget or budget_duration");
    return rest;
  }
  const budget: { -readonly [K in keyof BudgetInput]: BudgetInput[K] } = { max_budget: max };
  if (first?.id !== undefined) budget.id = first.id;
  const soft = body.soft_budget !== undefined ? body.soft_budget : first?.soft_budget;
  if (soft !== undefined && soft !== null) budget.soft_budget = soft;
  const duration = body.budget_duration !== undefined ? body.budget_duration : first?.budget_duration;
  if (duration !== undefined && duration !== null) {
    budget.budget_duration = duration;
    if (body.budget_duration === undefined && first?.alignment !== undefined)
      budget.alignment = first.alignment;
  }
  return [budget, ...rest];
}

function limitsInput(limits: Limits | undefined): LimitsInput {
  const input: { -readonly [K in keyof LimitsInput]: LimitsInput[K] } = {};
  if (limits?.requests !== undefined) input.requests = limits.requests;
  if (limits?.tokens !== undefined) input.tokens = limits.tokens;
  if (limits?.parallel !== undefined) input.parallel = limits.parallel;
  if (limits?.window !== undefined) input.window = formatDuration(limits.window);
  return input;
}

/** rpm_limit, tpm_limit, max_parallel_requests over the existing limits (null clears one). */
function liteLimits(existing: Limits | undefined, body: LiteLimits): LimitsInput | undefined {
  if (
    body.rpm_limit === undefined &&
    body.tpm_limit === undefined &&
    body.max_parallel_requests === undefined
  )
    return undefined;
  const input: { -readonly [K in keyof LimitsInput]: LimitsInput[K] } = limitsInput(existing);
  if (body.rpm_limit === null) delete input.requests;
  else if (body.rpm_limit !== undefined) input.requests = body.rpm_limit;
  if (body.tpm_limit === null) delete input.tokens;
  else if (body.tpm_limit !== undefined) input.tokens = body.tpm_limit;
  if (body.max_parallel_requests === null) delete input.parallel;
  else if (body.max_parallel_requests !== undefined) input.parallel = body.max_parallel_requests;
  return input;
}

function liteKeyInput(existing: VirtualKey | undefined, body: LiteKey): KeyInput {
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
  const limits = liteLimits(existing?.limits, body);
  if (limits !== undefined) input.limits = limits;
  const budgets = liteBudgets(existing?.budgets ?? [], body);
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
  const key = (await context.store.listKeys()).find((k) => k.hash === hash);
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

function liteTeamView(
  team: Awaited<ReturnType<typeof existingTeam>>,
  spendMicros: number,
): Record<string, unknown> {
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
      const { key, secret } = await createKey(context, liteKeyInput(undefined, lite), lite.key);
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
      const updated = await updateKey(context, key, liteKeyInput(key, lite));
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
      const all = await context.store.listKeys();
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
      const keys = (await context.store.listKeys())
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
        };
      const limits = liteLimits(undefined, lite);
      const budgets = liteBudgets([], lite);
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
      const team = await existingTeam(context, queryKey(query, "team_id"));
      await context.flushSpend();
      const teamSpend = (await context.store.totalSpend({ teamId: team.id }, "team")).reduce(
        (s, t) => s + t.costMicros,
        0,
      );
      const spend = await spendByKey(context);
      const keys = (await context.store.listKeys()).filter((k) => k.teamId === team.id);
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
        LiteBudget & { user_id: string; alias?: string | null; metadata?: Record<string, unknown> | null };
      const limits = liteLimits(undefined, lite);
      const budgets = liteBudgets([], lite);
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
    method: "POST",
    path: "/budget/new",
    summary: "LiteLLM: a budget on its own, to attach later by budget_id. Not kept by Switchyard (501).",
    response: ANY,
    async handle() {
      throw new AdminError(
        501,
        "not_implemented",
        "not_implemented",
        "Switchyard keeps budgets on their key, team or customer: give max_budget and budget_duration to /key/generate, /team/new or /customer/new (or budgets to /api/keys, /api/teams, /api/customers)",
      );
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
      const keys = await context.store.listKeys();
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
];

/** /v1/model/info answers as /model/info. */
export const LITELLM_ALIASES: Readonly<Record<string, string>> = { "/v1/model/info": "/model/info" };
