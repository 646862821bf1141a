import { defaultBaseUrl, isKnownKind, KEY_CONFIG_KINDS } from "../config/kinds.js";
import type { ProviderConfig } from "../config/types.js";
import { normalizeBaseUrl } from "../config/url.js";
import { isPlainHeaderValue } from "../http/header-value.js";
import type { StoredProvider, StoredProviderKey } from "../store/types.js";
import type { AdminContext } from "./context.js";
import { isoTime } from "./convert.js";
import { conflict, invalidField, notFound } from "./errors.js";
import { ID, ISO_TIME, MASKED_MAP, MODELS, NAME, nullable } from "./fields.js";
import { requireNewId } from "./integrity.js";
import type { AdminRoute } from "./route.js";
import type { MapSchema, RecordSchema, StringSchema } from "./schema.js";
import { maskSecret, newId } from "./secrets.js";

// Providers and their keys under /api/providers. Key secrets are write-only: answers show them masked. A
// disabled key (enabled: false) is kept but never served. A provider the configuration file defines is
// shown (source "config") but changed only in that file.

interface ProviderInput {
  readonly name?: string;
  readonly kind?: string;
  readonly base_url?: string | null;
  readonly extra_headers?: Readonly<Record<string, string>>;
  readonly request_timeout_ms?: number | null;
  readonly max_retries?: number | null;
}

interface ProviderKeyInput {
  readonly id?: string;
  readonly name?: string;
  readonly secret?: string;
  readonly models?: readonly string[];
  readonly weight?: number;
  readonly enabled?: boolean;
}

/** Headers the gateway sets itself; a provider's extra headers may not replace them. */
const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "upgrade",
  "te",
  "trailer",
]);

const HEADERS: MapSchema = {
  type: "object",
  maxProperties: 64,
  propertyNames: { type: "string", minLength: 1, maxLength: 128, pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
  additionalProperties: { type: "string", maxLength: 8192 },
};

const KIND: StringSchema = {
  type: "string",
  minLength: 1,
  maxLength: 64,
  pattern: "^[a-z0-9_-]+$",
  description:
    'A provider kind ("openai", "anthropic", "groq", ...; "custom" for any OpenAI-compatible server).',
};

const PROVIDER_FIELDS: RecordSchema["properties"] = {
  kind: KIND,
  base_url: nullable({ type: "string", maxLength: 2048, format: "uri" }),
  extra_headers: HEADERS,
  request_timeout_ms: nullable({ type: "integer", minimum: 1, maximum: 3_600_000 }),
  max_retries: nullable({ type: "integer", minimum: 0, maximum: 10 }),
};

const PROVIDER_CREATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  required: ["name", "kind"],
  properties: { name: ID, ...PROVIDER_FIELDS },
};
const PROVIDER_UPDATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: PROVIDER_FIELDS,
};

const PROVIDER_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    name: ID,
    kind: KIND,
    source: { type: "string", maxLength: 8, enum: ["api", "config"] },
    base_url: nullable({ type: "string", maxLength: 2048 }),
    extra_headers: { ...MASKED_MAP, description: "Header names with their values masked." },
    request_timeout_ms: nullable({ type: "integer", minimum: 1, maximum: 3_600_000 }),
    max_retries: nullable({ type: "integer", minimum: 0, maximum: 10 }),
    created_at: nullable(ISO_TIME),
    updated_at: nullable(ISO_TIME),
  },
};

const SECRET: StringSchema = { type: "string", minLength: 1, maxLength: 16384, description: "Write-only." };
const WEIGHT = { type: "number", minimum: 0, maximum: 1e6 } as const;
const ENABLED = {
  type: "boolean",
  description:
    "A disabled key is kept but never used; a provider whose keys are all disabled refuses requests.",
} as const;

const PROVIDER_KEY_FIELDS: RecordSchema["properties"] = {
  name: { ...NAME, minLength: 1 },
  secret: SECRET,
  models: MODELS,
  weight: WEIGHT,
  enabled: ENABLED,
};

const PROVIDER_KEY_CREATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  required: ["name", "secret"],
  properties: { id: ID, ...PROVIDER_KEY_FIELDS },
};
const PROVIDER_KEY_UPDATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: PROVIDER_KEY_FIELDS,
};

const PROVIDER_KEY_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: ID,
    provider: ID,
    name: NAME,
    secret: { type: "string", maxLength: 16, description: 'Masked, e.g. "sk-…abcd".' },
    models: MODELS,
    weight: WEIGHT,
    enabled: ENABLED,
    created_at: ISO_TIME,
    updated_at: ISO_TIME,
  },
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function maskedHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    Object.defineProperty(out, name, { value: maskSecret(value), enumerable: true });
  return out;
}

function storedView(provider: StoredProvider): Record<string, unknown> {
  return {
    name: provider.name,
    kind: provider.kind,
    source: "api",
    base_url: provider.baseUrl ?? null,
    extra_headers: maskedHeaders(provider.extraHeaders),
    request_timeout_ms: provider.requestTimeoutMs ?? null,
    max_retries: provider.maxRetries ?? null,
    created_at: isoTime(provider.createdAt),
    updated_at: isoTime(provider.updatedAt),
  };
}

function configView(provider: ProviderConfig): Record<string, unknown> {
  return {
    name: provider.name,
    kind: provider.kind,
    source: "config",
    base_url: provider.network.baseUrl === "" ? null : provider.network.baseUrl,
    extra_headers: maskedHeaders(provider.network.extraHeaders),
    request_timeout_ms: provider.network.requestTimeoutMs,
    max_retries: provider.network.maxRetries,
    created_at: null,
    updated_at: null,
  };
}

function keyView(key: StoredProviderKey): Record<string, unknown> {
  return {
    id: key.id,
    provider: key.provider,
    name: key.name,
    secret: maskSecret(key.secret),
    models: key.models,
    weight: key.weight,
    enabled: key.enabled,
    created_at: isoTime(key.createdAt),
    updated_at: isoTime(key.updatedAt),
  };
}

function configProvider(context: AdminContext, name: string): ProviderConfig | undefined {
  const providers = context.fileConfig().providers;
  return Object.hasOwn(providers, name) ? providers[name] : undefined;
}

function refuseConfigProvider(context: AdminContext, name: string): void {
  if (configProvider(context, name) !== undefined)
    throw conflict(`provider ${JSON.stringify(name)} is defined by the configuration file; change it there`);
}

async function storedProvider(context: AdminContext, name: string): Promise<StoredProvider> {
  refuseConfigProvider(context, name);
  const provider = (await context.store.listProviders()).find((p) => p.name === name);
  if (provider === undefined) throw notFound("provider", name);
  return provider;
}

function applyProviderInput(base: StoredProvider, input: ProviderInput, now: number): StoredProvider {
  const provider: Mutable<StoredProvider> = { ...base, updatedAt: now };
  if (input.kind !== undefined) provider.kind = input.kind;
  if (input.base_url === null) delete provider.baseUrl;
  else if (input.base_url !== undefined) {
    const url = normalizeBaseUrl(input.base_url);
    if (url === undefined)
      throw invalidField("base_url", "must be an absolute http(s) URL without query or fragment");
    provider.baseUrl = url;
  }
  if (input.extra_headers !== undefined) {
    for (const [name, value] of Object.entries(input.extra_headers)) {
      if (RESERVED_HEADERS.has(name.toLowerCase()))
        throw invalidField(`extra_headers.${name}`, "is set by the gateway itself");
      if (!isPlainHeaderValue(value))
        throw invalidField(`extra_headers.${name}`, "must be visible ASCII and spaces only");
    }
    provider.extraHeaders = input.extra_headers;
  }
  if (input.request_timeout_ms === null) delete provider.requestTimeoutMs;
  else if (input.request_timeout_ms !== undefined) provider.requestTimeoutMs = input.request_timeout_ms;
  if (input.max_retries === null) delete provider.maxRetries;
  else if (input.max_retries !== undefined) provider.maxRetries = input.max_retries;
  const known =
    provider.kind === "custom" || (isKnownKind(provider.kind) && !KEY_CONFIG_KINDS.has(provider.kind));
  if (!known)
    throw invalidField(
      "kind",
      KEY_CONFIG_KINDS.has(provider.kind)
        ? "azure, vertex and bedrock providers need per-key settings: define them in the configuration file"
        : "is not a provider kind the gateway knows",
    );
  if (provider.baseUrl === undefined && (provider.kind === "custom" || defaultBaseUrl(provider.kind) === ""))
    throw invalidField("base_url", `is required for a provider of kind ${JSON.stringify(provider.kind)}`);
  return provider;
}

async function providerKey(context: AdminContext, provider: string, id: string): Promise<StoredProviderKey> {
  await storedProvider(context, provider);
  const key = (await context.store.listProviderKeys(provider)).find((k) => k.id === id);
  if (key === undefined) throw notFound("provider key", id);
  return key;
}

async function saveProviderKey(context: AdminContext, key: StoredProviderKey, input: ProviderKeyInput) {
  const updated: Mutable<StoredProviderKey> = { ...key, updatedAt: context.now() };
  if (input.name !== undefined) updated.name = input.name;
  if (input.secret !== undefined) {
    if (!isPlainHeaderValue(input.secret))
      throw invalidField("secret", "must be visible ASCII and spaces only");
    updated.secret = input.secret;
  }
  if (input.models !== undefined) updated.models = [...input.models];
  if (input.weight !== undefined) updated.weight = input.weight;
  if (input.enabled !== undefined) updated.enabled = input.enabled;
  if (updated.secret === "") throw invalidField("secret", "is required");
  const sameName = (await context.store.listProviderKeys(key.provider)).find(
    (k) => k.name === updated.name && k.id !== updated.id,
  );
  if (sameName !== undefined)
    throw conflict(`provider ${key.provider} has a key named ${JSON.stringify(updated.name)}`, "name");
  await context.store.putProviderKey(updated);
  await context.changed();
  return updated;
}

function blankProvider(name: string, now: number): StoredProvider {
  return { name, kind: "", extraHeaders: {}, createdAt: now, updatedAt: now };
}

function blankProviderKey(id: string, provider: string, now: number): StoredProviderKey {
  return {
    id,
    provider,
    name: "",
    secret: "",
    models: [],
    weight: 1,
    enabled: true,
    createdAt: now,
    updatedAt: now,
  };
}

const DELETED = { type: "object", additionalProperties: false, properties: { deleted: ID } } as const;

export const PROVIDER_ROUTES: readonly AdminRoute[] = [
  {
    method: "GET",
    path: "/api/providers",
    summary: "List providers: those added through the API and those of the configuration file.",
    response: {
      type: "object",
      additionalProperties: false,
      properties: { data: { type: "array", items: PROVIDER_VIEW, maxItems: 1e9 } },
    },
    async handle(context) {
      const stored = (await context.store.listProviders()).map(storedView);
      const configured = Object.values(context.fileConfig().providers).map(configView);
      return { status: 200, body: { data: [...configured, ...stored] } };
    },
  },
  {
    method: "POST",
    path: "/api/providers",
    summary: "Add a provider.",
    body: PROVIDER_CREATE,
    status: 201,
    response: PROVIDER_VIEW,
    async handle(context, { body }) {
      const input = body as ProviderInput & { readonly name: string };
      refuseConfigProvider(context, input.name);
      if ((await context.store.listProviders()).some((p) => p.name === input.name))
        throw conflict(`a provider named ${JSON.stringify(input.name)} exists`, "name");
      const provider = applyProviderInput(blankProvider(input.name, context.now()), input, context.now());
      await context.store.putProvider(provider);
      await context.changed();
      return { status: 201, body: storedView(provider) };
    },
  },
  {
    method: "GET",
    path: "/api/providers/{name}",
    summary: "One provider.",
    response: PROVIDER_VIEW,
    async handle(context, { params }) {
      const name = params.name as string;
      const configured = configProvider(context, name);
      if (configured !== undefined) return { status: 200, body: configView(configured) };
      return { status: 200, body: storedView(await storedProvider(context, name)) };
    },
  },
  {
    method: "PATCH",
    path: "/api/providers/{name}",
    summary: "Change the fields given; null clears base_url, request_timeout_ms, max_retries.",
    body: PROVIDER_UPDATE,
    response: PROVIDER_VIEW,
    async handle(context, { params, body }) {
      const provider = applyProviderInput(
        await storedProvider(context, params.name as string),
        body as ProviderInput,
        context.now(),
      );
      await context.store.putProvider(provider);
      await context.changed();
      return { status: 200, body: storedView(provider) };
    },
  },
  {
    method: "PUT",
    path: "/api/providers/{name}",
    summary: "Replace the provider's settings (fields left out get their defaults); its keys stay.",
    body: { ...PROVIDER_UPDATE, required: ["kind"] },
    response: PROVIDER_VIEW,
    async handle(context, { params, body }) {
      const old = await storedProvider(context, params.name as string);
      const provider = applyProviderInput(
        blankProvider(old.name, old.createdAt),
        body as ProviderInput,
        context.now(),
      );
      await context.store.putProvider(provider);
      await context.changed();
      return { status: 200, body: storedView(provider) };
    },
  },
  {
    method: "DELETE",
    path: "/api/providers/{name}",
    summary: "Delete a provider and its keys.",
    response: DELETED,
    async handle(context, { params }) {
      const name = params.name as string;
      await storedProvider(context, name);
      await context.store.deleteProvider(name);
      await context.changed();
      return { status: 200, body: { deleted: name } };
    },
  },
  {
    method: "GET",
    path: "/api/providers/{name}/keys",
    summary: "List a provider's keys, secrets masked.",
    response: {
      type: "object",
      additionalProperties: false,
      properties: { data: { type: "array", items: PROVIDER_KEY_VIEW, maxItems: 1e9 } },
    },
    async handle(context, { params }) {
      const name = params.name as string;
      await storedProvider(context, name);
      return { status: 200, body: { data: (await context.store.listProviderKeys(name)).map(keyView) } };
    },
  },
  {
    method: "POST",
    path: "/api/providers/{name}/keys",
    summary: "Add a key to a provider; its secret is write-only.",
    body: PROVIDER_KEY_CREATE,
    status: 201,
    response: PROVIDER_KEY_VIEW,
    async handle(context, { params, body }) {
      const name = params.name as string;
      await storedProvider(context, name);
      const input = body as ProviderKeyInput;
      const id = input.id ?? newId("pkey");
      if (input.id !== undefined) {
        const exists = (await context.store.listProviderKeys()).find((k) => k.id === id);
        await requireNewId(Promise.resolve(exists), "provider key", id);
      }
      const key = await saveProviderKey(context, blankProviderKey(id, name, context.now()), input);
      return { status: 201, body: keyView(key) };
    },
  },
  {
    method: "GET",
    path: "/api/providers/{name}/keys/{id}",
    summary: "One provider key, secret masked.",
    response: PROVIDER_KEY_VIEW,
    async handle(context, { params }) {
      return {
        status: 200,
        body: keyView(await providerKey(context, params.name as string, params.id as string)),
      };
    },
  },
  {
    method: "PATCH",
    path: "/api/providers/{name}/keys/{id}",
    summary:
      "Change the fields given (a new secret replaces the old; enabled: false takes the key out of use).",
    body: PROVIDER_KEY_UPDATE,
    response: PROVIDER_KEY_VIEW,
    async handle(context, { params, body }) {
      const key = await providerKey(context, params.name as string, params.id as string);
      return { status: 200, body: keyView(await saveProviderKey(context, key, body as ProviderKeyInput)) };
    },
  },
  {
    method: "PUT",
    path: "/api/providers/{name}/keys/{id}",
    summary: "Replace the key's settings, secret included (left out, enabled is true).",
    body: { ...PROVIDER_KEY_UPDATE, required: ["name", "secret"] },
    response: PROVIDER_KEY_VIEW,
    async handle(context, { params, body }) {
      const old = await providerKey(context, params.name as string, params.id as string);
      const base = blankProviderKey(old.id, old.provider, old.createdAt);
      return { status: 200, body: keyView(await saveProviderKey(context, base, body as ProviderKeyInput)) };
    },
  },
  {
    method: "DELETE",
    path: "/api/providers/{name}/keys/{id}",
    summary: "Delete a provider key.",
    response: DELETED,
    async handle(context, { params }) {
      const key = await providerKey(context, params.name as string, params.id as string);
      await context.store.deleteProviderKey(key.id);
      await context.changed();
      return { status: 200, body: { deleted: key.id } };
    },
  },
];
