import type { KeyProviderConfig, Limits, VirtualKey } from "../governance/types.js";
import { refuseConfigEntity, type Source } from "./configured.js";
import type { AdminContext, Reply } from "./context.js";
import {
  type BudgetInput,
  budgetView,
  expiryAfter,
  isoTime,
  type LimitsInput,
  limitsView,
  toBudgets,
  toLimits,
  toTime,
} from "./convert.js";
import {
  entityRoutes,
  type ManagedEntity,
  newEntityId,
  storedEntity,
  updateEntity,
} from "./entity-routes.js";
import { invalidField, notFound } from "./errors.js";
import {
  BUDGET_VIEW,
  BUDGETS_INPUT,
  DURATION,
  ID,
  ISO_TIME,
  LIMITS_INPUT,
  LIMITS_VIEW,
  MASKED_MAP,
  METADATA,
  MODEL_LIMITS_INPUT,
  MODELS,
  NAME,
  nullable,
  PROVIDER_CONFIG_INPUT,
  PROVIDER_CONFIG_VIEW,
  SECRET_METADATA_INPUT,
  SOURCE,
  TIME_INPUT,
} from "./fields.js";
import { requireCustomer, requireFreeBudgetIds, requireFreeHash, requireTeam } from "./integrity.js";
import type { AdminRoute } from "./route.js";
import type { MapSchema, RecordSchema } from "./schema.js";
import { hashSecret, maskKey, maskSecret, newKeySecret } from "./secrets.js";

// Virtual keys under /api/keys: the secret is made here, answered once by the create (and regenerate)
// call, and kept only as its hash.

export interface KeyInput {
  readonly id?: string;
  readonly name?: string;
  readonly active?: boolean;
  readonly expires_at?: string | number | null;
  readonly duration?: string;
  readonly team_id?: string | null;
  readonly customer_id?: string | null;
  readonly models?: readonly string[];
  readonly providers?: readonly string[];
  readonly provider_configs?: ReadonlyArray<{
    readonly provider: string;
    readonly weight?: number;
    readonly allowed_models?: readonly string[];
    readonly key_names?: readonly string[];
  }>;
  readonly limits?: LimitsInput | null;
  readonly model_limits?: Readonly<Record<string, LimitsInput>>;
  readonly budgets?: readonly BudgetInput[];
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly secret_metadata?: Readonly<Record<string, string>>;
  readonly log_content?: boolean;
}

const KEY_FIELDS: RecordSchema["properties"] = {
  name: NAME,
  active: { type: "boolean" },
  expires_at: { ...nullable(TIME_INPUT), description: "When the key stops working; null never." },
  duration: { ...DURATION, description: 'Lifetime from now (sets expires_at), e.g. "30d".' },
  team_id: nullable(ID),
  customer_id: nullable(ID),
  models: MODELS,
  providers: { type: "array", items: ID, maxItems: 100 },
  provider_configs: { type: "array", items: PROVIDER_CONFIG_INPUT, maxItems: 100 },
  limits: nullable(LIMITS_INPUT),
  model_limits: MODEL_LIMITS_INPUT,
  budgets: BUDGETS_INPUT,
  metadata: METADATA,
  secret_metadata: SECRET_METADATA_INPUT,
  log_content: { type: "boolean" },
};

export const KEY_CREATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: { id: ID, ...KEY_FIELDS },
};

export const KEY_UPDATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: KEY_FIELDS,
};

export const KEY_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: ID,
    name: NAME,
    source: SOURCE,
    hash: { type: "string", maxLength: 64, description: "SHA-256 of the secret, hex (LiteLLM's token)." },
    masked: { type: "string", maxLength: 16 },
    active: { type: "boolean" },
    expires_at: nullable(ISO_TIME),
    team_id: nullable(ID),
    customer_id: nullable(ID),
    models: MODELS,
    providers: { type: "array", items: ID, maxItems: 100 },
    provider_configs: { type: "array", items: PROVIDER_CONFIG_VIEW, maxItems: 100 },
    limits: nullable(LIMITS_VIEW),
    model_limits: { ...MODEL_LIMITS_INPUT, additionalProperties: LIMITS_VIEW } satisfies MapSchema,
    budgets: { type: "array", items: BUDGET_VIEW, maxItems: 16 },
    metadata: METADATA,
    secret_metadata: MASKED_MAP,
    log_content: { type: "boolean" },
    created_at: ISO_TIME,
    updated_at: ISO_TIME,
  },
};

export const KEY_CREATED: RecordSchema = {
  ...KEY_VIEW,
  properties: {
    ...KEY_VIEW.properties,
    key: { type: "string", maxLength: 256, description: "The secret. Shown in this answer only." },
  },
};

/** A fresh key's fields before its secret is set; every field the input leaves out has its default. */
function blankKey(id: string, now: number): VirtualKey {
  return {
    id,
    name: "",
    hash: "",
    masked: "",
    active: true,
    models: [],
    providers: [],
    providerConfigs: [],
    modelLimits: {},
    budgets: [],
    metadata: {},
    secretMetadata: {},
    logContent: true,
    createdAt: now,
    updatedAt: now,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * `base` with the input's fields applied, checked against the store (team and customer exist, budget ids
 * are free). The hash is the base's; the caller sets a new one for a new secret.
 */
export async function applyKeyInput(
  context: AdminContext,
  base: VirtualKey,
  input: KeyInput,
): Promise<VirtualKey> {
  const now = context.now();
  const key: Mutable<VirtualKey> = { ...base, updatedAt: now };
  if (input.name !== undefined) key.name = input.name;
  if (input.active !== undefined) key.active = input.active;
  if (input.expires_at !== undefined && input.duration !== undefined)
    throw invalidField("duration", "give expires_at or duration, not both");
  if (input.expires_at === null) delete key.expiresAt;
  else if (input.expires_at !== undefined) key.expiresAt = toTime(input.expires_at, "expires_at");
  if (input.duration !== undefined) {
    key.expiresAt = expiryAfter(input.duration, now, "duration");
  }
  if (input.team_id === null) delete key.teamId;
  else if (input.team_id !== undefined) key.teamId = input.team_id;
  if (input.customer_id === null) delete key.customerId;
  else if (input.customer_id !== undefined) key.customerId = input.customer_id;
  if (input.models !== undefined) key.models = [...input.models];
  if (input.providers !== undefined) key.providers = [...input.providers];
  if (input.provider_configs !== undefined)
    key.providerConfigs = input.provider_configs.map((c) => {
      const config: Mutable<KeyProviderConfig> = {
        provider: c.provider,
        allowedModels: [...(c.allowed_models ?? [])],
        keyNames: [...(c.key_names ?? [])],
      };
      if (c.weight !== undefined) config.weight = c.weight;
      return config;
    });
  if (input.limits !== undefined) {
    const limits = toLimits(input.limits, "limits");
    if (limits === undefined) delete key.limits;
    else key.limits = limits;
  }
  if (input.model_limits !== undefined) {
    const modelLimits: Record<string, Limits> = {};
    for (const [model, given] of Object.entries(input.model_limits)) {
      const limits = toLimits(given, `model_limits.${model}`);
      if (limits !== undefined)
        Object.defineProperty(modelLimits, model, { value: limits, enumerable: true });
    }
    key.modelLimits = modelLimits;
  }
  if (input.budgets !== undefined) key.budgets = toBudgets(input.budgets, base.budgets, now, "budgets");
  if (input.metadata !== undefined) key.metadata = input.metadata;
  if (input.secret_metadata !== undefined) key.secretMetadata = input.secret_metadata;
  if (input.log_content !== undefined) key.logContent = input.log_content;

  if (key.teamId !== undefined && key.teamId !== base.teamId) {
    const team = await requireTeam(context, key.teamId, "team_id");
    if (key.customerId !== undefined && team.customerId !== undefined && team.customerId !== key.customerId)
      throw invalidField("customer_id", `team ${JSON.stringify(team.id)} belongs to another customer`);
  }
  if (key.customerId !== undefined && key.customerId !== base.customerId)
    await requireCustomer(context, key.customerId, "customer_id");
  await requireFreeBudgetIds(context, key.budgets, { type: "key", id: key.id }, "budgets");
  return key;
}

export function keyView(context: AdminContext, key: VirtualKey, source: Source): Record<string, unknown> {
  const modelLimits: Record<string, unknown> = {};
  for (const [model, limits] of Object.entries(key.modelLimits))
    Object.defineProperty(modelLimits, model, { value: limitsView(limits), enumerable: true });
  const secrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(key.secretMetadata))
    Object.defineProperty(secrets, name, { value: maskSecret(value), enumerable: true });
  return {
    id: key.id,
    name: key.name,
    source,
    hash: key.hash,
    masked: key.masked,
    active: key.active,
    expires_at: key.expiresAt === undefined ? null : isoTime(key.expiresAt),
    team_id: key.teamId ?? null,
    customer_id: key.customerId ?? null,
    models: key.models,
    providers: key.providers,
    provider_configs: key.providerConfigs.map((c) => ({
      provider: c.provider,
      weight: c.weight ?? null,
      allowed_models: c.allowedModels,
      key_names: c.keyNames,
    })),
    limits: limitsView(key.limits),
    model_limits: modelLimits,
    budgets: key.budgets.map((b) => budgetView(context, b)),
    metadata: key.metadata,
    secret_metadata: secrets,
    log_content: key.logContent,
    created_at: isoTime(key.createdAt),
    updated_at: isoTime(key.updatedAt),
  };
}

const KEYS: ManagedEntity<"key", KeyInput> = {
  kind: "key",
  path: "/api/keys",
  updateBody: KEY_UPDATE,
  view: KEY_VIEW,
  blank: blankKey,
  apply: applyKeyInput,
  keptOnReplace: (old) => ({ hash: old.hash, masked: old.masked }),
  render: keyView,
};

/** Makes a key from the input with `secret` (a new one when absent), stores it, publishes; answers the secret. */
export async function createKey(
  context: AdminContext,
  input: KeyInput,
  secret: string = newKeySecret(),
): Promise<{ readonly key: VirtualKey; readonly secret: string }> {
  const id = await newEntityId(context, "key", input.id);
  const hash = hashSecret(secret);
  await requireFreeHash(context, hash, id);
  const key = {
    ...(await applyKeyInput(context, blankKey(id, context.now()), input)),
    hash,
    masked: maskKey(secret),
  };
  await context.store.putKey(key);
  await context.changed();
  return { key, secret };
}

export function updateKey(context: AdminContext, key: VirtualKey, input: KeyInput): Promise<VirtualKey> {
  return updateEntity(context, KEYS, key, input);
}

function ok(body: unknown, status = 200): Reply {
  return { status, body };
}

const routes = entityRoutes(KEYS);

export const KEY_ROUTES: readonly AdminRoute[] = [
  routes.list("List virtual keys (never their secrets)."),
  {
    method: "POST",
    path: "/api/keys",
    summary: "Create a virtual key; the answer holds its secret, once.",
    body: KEY_CREATE,
    status: 201,
    response: KEY_CREATED,
    async handle(context, { body }) {
      const { key, secret } = await createKey(context, body as KeyInput);
      return ok({ ...keyView(context, key, "api"), key: secret }, 201);
    },
  },
  routes.get("One virtual key (never its secret)."),
  routes.patch("Change the fields given; null clears expires_at, team_id, customer_id, limits."),
  routes.put("Replace the key's settings (fields left out get their defaults); the secret stays."),
  routes.delete("Delete a virtual key.", async (context, id) => {
    refuseConfigEntity(context, "key", id);
    if (!(await context.store.deleteKey(id))) throw notFound("key", id);
  }),
  {
    method: "POST",
    path: "/api/keys/{id}/regenerate",
    summary: "Give the key a new secret (the old one stops working); the answer holds it, once.",
    response: KEY_CREATED,
    async handle(context, { params }) {
      const key = await storedEntity(context, "key", params.id as string);
      const secret = newKeySecret();
      const updated = { ...key, hash: hashSecret(secret), masked: maskKey(secret), updatedAt: context.now() };
      await context.store.putKey(updated);
      await context.changed();
      return ok({ ...keyView(context, updated, "api"), key: secret });
    },
  },
];
