import { basename } from "node:path";
import { logSettings } from "../config/logs.js";
import type {
  CacheOverride,
  Deployment,
  GatewayConfig,
  PluginSpec,
  ProviderConfig,
  ProviderKey,
} from "../config/types.js";
import { redactSecrets } from "../upstream/redact.js";
import type { AdminContext } from "./context.js";
import { isoTime } from "./convert.js";
import { ISO_TIME, MASKED_MAP, NAME, nullable } from "./fields.js";
import type { AdminRoute } from "./route.js";
import type { ArraySchema, MapSchema, RecordSchema, Schema, StringSchema } from "./schema.js";
import { maskSecret } from "./secrets.js";

// GET /api/config: the configuration the lanes serve, as the web UI's Config page shows it. Every secret is
// masked or left out: provider keys as maskSecret shows them, header values masked, the master key and
// the database URL only as whether they are set, plugins by name only (their options may hold anything),
// OpenTelemetry headers by name. Beside it: where it came from, its warnings, and how the last reload went.

const TEXT: StringSchema = { type: "string", maxLength: 4096 };
const TEXTS: ArraySchema = { type: "array", items: TEXT, maxItems: 10_000 };
const SHORT: StringSchema = { type: "string", maxLength: 256 };
const SHORTS: ArraySchema = { type: "array", items: SHORT, maxItems: 10_000 };
const INT: Schema = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
const NUMBER: Schema = { type: "number", minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
const BOOL: Schema = { type: "boolean" };
const MASKED: StringSchema = {
  type: "string",
  maxLength: 16,
  description: 'Masked, e.g. "sk-…abcd" ("…" when short, "" for no key).',
};
const record = (properties: RecordSchema["properties"], description?: string): RecordSchema => ({
  type: "object",
  additionalProperties: false,
  properties,
  ...(description === undefined ? {} : { description }),
});
const map = (values: Schema, description?: string): MapSchema => ({
  type: "object",
  additionalProperties: values,
  maxProperties: 100_000,
  propertyNames: SHORT,
  ...(description === undefined ? {} : { description }),
});
const list = (items: Schema): ArraySchema => ({ type: "array", items, maxItems: 100_000 });

export const DEPLOYMENT_FIELDS: RecordSchema["properties"] = {
  provider: SHORT,
  model: SHORT,
  key: nullable({ ...SHORT, description: "The one key of the provider it uses, by name; null: any." }),
  weight: NUMBER,
  order: NUMBER,
  rpm: nullable(INT),
  tpm: nullable(INT),
  timeout_ms: nullable(INT),
};

export const FALLBACKS_VIEW = record({
  general: map(SHORTS, "Public model name → models tried in order when it fails."),
  context_window: map(SHORTS, "The same, when the prompt is too long for the model."),
  content_policy: map(SHORTS, "The same, when the provider refuses the content."),
});

export const ROUTING_SETTINGS_VIEW = record({
  strategy: {
    type: "string",
    maxLength: 16,
    enum: ["weighted", "round-robin", "least-busy", "lowest-latency", "adaptive", "priority"],
  },
  num_retries: INT,
  retry_backoff_initial_ms: INT,
  retry_backoff_max_ms: INT,
  timeout_ms: { ...INT, description: "All attempts of a request together; 0: the providers' own timeouts." },
  allowed_fails: { ...INT, description: "Consecutive failures that open a deployment's circuit." },
  cooldown_ms: { ...INT, description: "How long an open circuit waits before a half-open probe." },
  retry_policy: map(INT, "Retries per error class, over num_retries."),
});

const KEY_VIEW = record({
  name: NAME,
  secret: MASKED,
  models: SHORTS,
  weight: NUMBER,
  azure: nullable(record({ endpoint: TEXT, api_version: SHORT, deployments: map(SHORT) })),
  vertex: nullable(record({ project_id: SHORT, region: SHORT })),
  bedrock: nullable(record({ region: SHORT, access_key: MASKED, deployments: map(TEXT) })),
});

const PROVIDER_VIEW = record({
  name: SHORT,
  kind: SHORT,
  source: { type: "string", maxLength: 8, enum: ["config", "api"] },
  base_url: nullable(TEXT),
  extra_headers: { ...MASKED_MAP, description: "Header names with their values masked." },
  request_timeout_ms: INT,
  connect_timeout_ms: nullable(INT),
  first_byte_timeout_ms: nullable(INT),
  idle_timeout_ms: nullable(INT),
  max_retries: INT,
  retry_backoff_initial_ms: INT,
  retry_backoff_max_ms: INT,
  custom_ca: { ...BOOL, description: "Whether PEM certificates besides the system's are trusted." },
  concurrency: INT,
  buffer_size: INT,
  keys: list(KEY_VIEW),
});

/** A cache setting for one model or key; null where it takes the cache's own. */
const CACHE_OVERRIDE_VIEW = record({
  enabled: nullable(BOOL),
  ttl_ms: nullable(INT),
  semantic: nullable(BOOL),
  threshold: nullable(NUMBER),
  namespace: nullable(SHORT),
});

const CONFIG_VIEW = record({
  providers: list(PROVIDER_VIEW),
  client: record({
    max_request_body_bytes: INT,
    max_count_tokens_body_bytes: INT,
    max_converted_body_bytes: INT,
    allowed_origins: SHORTS,
    drop_excess_requests: BOOL,
  }),
  model_groups: map(list(record(DEPLOYMENT_FIELDS))),
  aliases: map(SHORT),
  routing: nullable(ROUTING_SETTINGS_VIEW),
  fallbacks: FALLBACKS_VIEW,
  drop_params: BOOL,
  master_key_set: { ...BOOL, description: "The key is never shown." },
  metrics_require_key: BOOL,
  bifrost_metrics: BOOL,
  plugins: list(record({ name: SHORT, enabled: BOOL })),
  governance: nullable(
    record({
      require_virtual_key: BOOL,
      virtual_keys: { ...INT, description: "How many the file defines." },
      teams: INT,
      customers: INT,
      database_url_set: {
        ...BOOL,
        description: "A PostgreSQL URL is set; never shown (it may hold a password).",
      },
    }),
  ),
  prices: map(map(NUMBER), '"provider/model" → rates that override the shipped price table.'),
  tracing: nullable(
    record({ endpoint: TEXT, header_names: SHORTS, service_name: SHORT }, "OpenTelemetry over OTLP/HTTP."),
  ),
  logs: record({
    enabled: BOOL,
    content: BOOL,
    max_content_bytes: INT,
    retention_ms: INT,
    max_bytes: INT,
    ring_bytes: INT,
    flush_ms: INT,
  }),
  cache: nullable(
    record(
      {
        store: SHORT,
        redis: nullable({ ...TEXT, description: "The Redis URL without its user and password." }),
        ttl_ms: INT,
        max_bytes: INT,
        mode: SHORT,
        namespace: nullable(SHORT),
        semantic: nullable(
          record({ embedding_model: SHORT, threshold: NUMBER, max_turns: INT, max_bytes: INT }),
        ),
        models: map(CACHE_OVERRIDE_VIEW, "Settings for one model."),
        keys: map(CACHE_OVERRIDE_VIEW, "Settings for one virtual key, by id or name."),
      },
      "The answer cache; null when it is off.",
    ),
  ),
});

export const CONFIG_RESPONSE: RecordSchema = record({
  source: { ...TEXT, description: 'The configuration file\'s path, or "environment".' },
  api_providers: {
    ...SHORTS,
    description: "Providers added through the management API, served beside the file's.",
  },
  config: CONFIG_VIEW,
  warnings: record({
    startup: { ...TEXTS, description: "What the load at start-up ignored (unsupported keys and the like)." },
    reload: { ...TEXTS, description: "The same, of the last reload that was served." },
    api: { ...TEXTS, description: "Why providers added through the API are not served." },
  }),
  reload: record({
    watching: { ...BOOL, description: "Whether the file is watched for changes." },
    last_at: nullable(ISO_TIME),
    ok: nullable({ ...BOOL, description: "Whether the last new version was served; null: none yet." }),
    error: nullable({
      ...TEXT,
      description: "Why the last new version was refused (the previous one stays).",
    }),
  }),
});

export const CONFIG_ROUTES: readonly AdminRoute[] = [
  {
    method: "GET",
    path: "/api/config",
    summary: "The configuration the gateway serves, secrets masked; its source, warnings and reload status.",
    response: CONFIG_RESPONSE,
    async handle(context) {
      return { status: 200, body: configView(context) };
    },
  },
];

export function configView(context: AdminContext): Record<string, unknown> {
  const served = context.config();
  const file = context.fileConfig();
  const status = context.configStatus();
  const secrets = knownSecrets(served);
  const clean = (text: string) => redactKnown(text, secrets);
  const last = status.lastReload;
  return {
    source: served.source,
    api_providers: Object.keys(served.providers).filter((name) => !Object.hasOwn(file.providers, name)),
    config: configBody(served, file),
    warnings: {
      startup: status.startupWarnings.map(clean),
      reload: status.reloadWarnings.map(clean),
      api: status.apiWarnings.map(clean),
    },
    reload: {
      watching: status.watching,
      last_at: last === undefined ? null : isoTime(last.at),
      ok: last === undefined ? null : last.ok,
      error: last?.error === undefined ? null : clean(last.error),
    },
  };
}

function configBody(config: GatewayConfig, file: GatewayConfig): Record<string, unknown> {
  const routing = config.routing;
  return {
    providers: Object.values(config.providers).map((provider) =>
      providerView(provider, Object.hasOwn(file.providers, provider.name) ? "config" : "api"),
    ),
    client: {
      max_request_body_bytes: config.client.maxRequestBodyBytes,
      max_count_tokens_body_bytes: config.client.maxCountTokensBodyBytes,
      max_converted_body_bytes: config.client.maxConvertedBodyBytes,
      allowed_origins: config.client.allowedOrigins,
      drop_excess_requests: config.client.dropExcessRequests,
    },
    model_groups: mapValues(config.modelGroups ?? {}, (deployments) => deployments.map(deploymentView)),
    aliases: { ...config.aliases },
    routing: routing === undefined ? null : routingSettingsView(config),
    fallbacks: fallbacksView(config),
    drop_params: config.dropParams === true,
    master_key_set: config.masterKey !== undefined && config.masterKey !== "",
    metrics_require_key: config.metricsRequireKey === true,
    bifrost_metrics: config.bifrostMetrics === true,
    plugins: (config.plugins ?? []).map((plugin) => ({ name: pluginName(plugin), enabled: plugin.enabled })),
    governance:
      config.governance === undefined
        ? null
        : {
            require_virtual_key: config.governance.requireVirtualKey,
            virtual_keys: config.governance.virtualKeys.length,
            teams: config.governance.teams.length,
            customers: config.governance.customers.length,
            database_url_set: config.governance.databaseUrl !== undefined,
          },
    prices: mapValues(config.prices ?? {}, (price) => ({ ...price })),
    tracing:
      config.tracing === undefined
        ? null
        : {
            endpoint: withoutCredentials(config.tracing.endpoint),
            header_names: Object.keys(config.tracing.headers),
            service_name: config.tracing.serviceName,
          },
    logs: logsView(config),
    cache: cacheView(config),
  };
}

function overrideView(override: CacheOverride): Record<string, unknown> {
  return {
    enabled: override.enabled ?? null,
    ttl_ms: override.ttlMs ?? null,
    semantic: override.semantic ?? null,
    threshold: override.threshold ?? null,
    namespace: override.namespace ?? null,
  };
}

function cacheView(config: GatewayConfig): Record<string, unknown> | null {
  const cache = config.cache;
  if (cache === undefined) return null;
  const semantic = cache.semantic;
  return {
    store: cache.store,
    redis: cache.redisUrl === undefined ? null : withoutCredentials(cache.redisUrl),
    ttl_ms: cache.ttlMs,
    max_bytes: cache.maxBytes,
    mode: cache.mode,
    namespace: cache.namespace ?? null,
    semantic:
      semantic === undefined
        ? null
        : {
            embedding_model: semantic.embeddingModel,
            threshold: semantic.threshold,
            max_turns: semantic.maxTurns,
            max_bytes: semantic.maxBytes,
          },
    models: mapValues(cache.models, overrideView),
    keys: mapValues(cache.keys, overrideView),
  };
}

function providerView(provider: ProviderConfig, source: "config" | "api"): Record<string, unknown> {
  const network = provider.network;
  return {
    name: provider.name,
    kind: provider.kind,
    source,
    base_url: network.baseUrl === "" ? null : withoutCredentials(network.baseUrl),
    extra_headers: mapValues(network.extraHeaders, maskSecret),
    request_timeout_ms: network.requestTimeoutMs,
    connect_timeout_ms: network.connectTimeoutMs ?? null,
    first_byte_timeout_ms: network.firstByteTimeoutMs ?? null,
    idle_timeout_ms: network.idleTimeoutMs ?? null,
    max_retries: network.maxRetries,
    retry_backoff_initial_ms: network.retryBackoffInitialMs,
    retry_backoff_max_ms: network.retryBackoffMaxMs,
    custom_ca: network.caCertPem !== undefined && network.caCertPem !== "",
    concurrency: provider.concurrency.concurrency,
    buffer_size: provider.concurrency.bufferSize,
    keys: provider.keys.map(keyView),
  };
}

function keyView(key: ProviderKey): Record<string, unknown> {
  return {
    name: key.name,
    secret: key.value === "" ? "" : maskSecret(key.value),
    models: key.models,
    weight: key.weight,
    azure:
      key.azure === undefined
        ? null
        : {
            endpoint: withoutCredentials(key.azure.endpoint),
            api_version: key.azure.apiVersion,
            deployments: { ...key.azure.deployments },
          },
    vertex: key.vertex === undefined ? null : { project_id: key.vertex.projectId, region: key.vertex.region },
    bedrock:
      key.bedrock === undefined
        ? null
        : {
            region: key.bedrock.region,
            access_key: maskSecret(key.bedrock.accessKey),
            deployments: { ...key.bedrock.deployments },
          },
  };
}

export function deploymentView(deployment: Deployment): Record<string, unknown> {
  return {
    provider: deployment.provider,
    model: deployment.model,
    key: deployment.key ?? null,
    weight: deployment.weight,
    order: deployment.order,
    rpm: deployment.rpm ?? null,
    tpm: deployment.tpm ?? null,
    timeout_ms: deployment.timeoutMs ?? null,
  };
}

/** The routing settings; absent in the configuration, the defaults the gateway routes with. */
export function routingSettingsView(config: GatewayConfig): Record<string, unknown> {
  const routing = config.routing;
  return {
    strategy: routing?.strategy ?? "weighted",
    num_retries: routing?.numRetries ?? 0,
    retry_backoff_initial_ms: routing?.retryBackoffInitialMs ?? 0,
    retry_backoff_max_ms: routing?.retryBackoffMaxMs ?? 0,
    timeout_ms: routing?.timeoutMs ?? 0,
    allowed_fails: routing?.allowedFails ?? 0,
    cooldown_ms: routing?.cooldownMs ?? 0,
    retry_policy: { ...routing?.retryPolicy },
  };
}

export function fallbacksView(config: GatewayConfig): Record<string, unknown> {
  return {
    general: { ...config.routing?.fallbacks },
    context_window: { ...config.routing?.contextWindowFallbacks },
    content_policy: { ...config.routing?.contentPolicyFallbacks },
  };
}

function logsView(config: GatewayConfig): Record<string, unknown> {
  const logs = logSettings(config);
  return {
    enabled: logs.enabled,
    content: logs.content,
    max_content_bytes: logs.maxContentBytes,
    retention_ms: logs.retentionMs,
    max_bytes: logs.maxBytes,
    ring_bytes: logs.ringBytes,
    flush_ms: logs.flushMs,
  };
}

function pluginName(plugin: PluginSpec): string {
  return plugin.name ?? plugin.builtin ?? (plugin.path === undefined ? "plugin" : basename(plugin.path));
}

/** A URL without the user and password it may carry (https://user:pass@host/...). */
function withoutCredentials(text: string): string {
  try {
    const url = new URL(text);
    if (url.username === "" && url.password === "") return text;
    url.username = "";
    url.password = "";
    return url.toString();
  } catch {
    return text;
  }
}

function mapValues<T, U>(from: Readonly<Record<string, T>>, view: (value: T) => U): Record<string, U> {
  const out: Record<string, U> = {};
  // defineProperty: a name such as "__proto__" from a file is a plain key here.
  for (const [name, value] of Object.entries(from))
    Object.defineProperty(out, name, { value: view(value), enumerable: true });
  return out;
}

/** Every secret the configuration holds, so that no message shown beside it can carry one. */
export function knownSecrets(config: GatewayConfig): string[] {
  const secrets: string[] = [];
  if (config.masterKey !== undefined) secrets.push(config.masterKey);
  if (config.governance?.databaseUrl !== undefined) secrets.push(config.governance.databaseUrl);
  if (config.cache?.redisUrl !== undefined) secrets.push(config.cache.redisUrl);
  for (const value of Object.values(config.tracing?.headers ?? {})) secrets.push(value);
  for (const provider of Object.values(config.providers)) {
    for (const value of Object.values(provider.network.extraHeaders)) secrets.push(value);
    for (const key of provider.keys) {
      secrets.push(key.value);
      if (key.vertex !== undefined) secrets.push(key.vertex.serviceAccountJson);
      if (key.bedrock !== undefined) {
        secrets.push(key.bedrock.accessKey, key.bedrock.secretKey);
        if (key.bedrock.sessionToken !== undefined) secrets.push(key.bedrock.sessionToken);
      }
    }
  }
  return secrets.filter((secret) => secret !== "");
}

/** `text` with each of `secrets` (those long enough to look for) and anything shaped like a key redacted. */
export function redactKnown(text: string, secrets: readonly string[]): string {
  return secrets.reduce(
    (out, secret) => redactSecrets(Buffer.from(out), secret).toString("utf8"),
    redactSecrets(Buffer.from(text), "").toString("utf8"),
  );
}
