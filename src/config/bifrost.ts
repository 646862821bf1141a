// Bifrost's config.json (https://www.getbifrost.ai/schema), read as Bifrost reads it: same key names, same
// units, same defaults. What Switchyard does not implement yet is named in a warning, never dropped silently.

import { parseBifrostGovernance } from "./bifrost-governance.js";
import {
  azureWantsEntra,
  type KeyConfigInput,
  parseAliases,
  parseAzureKeyConfig,
  parseBedrockKeyConfig,
  parseVertexKeyConfig,
} from "./bifrost-keys.js";
import { readBifrostCache } from "./cache.js";
import { readClusterSection } from "./cluster.js";
import { Collector, childPath, isObject, type Obj, resolveSecret } from "./collect.js";
import {
  DEFAULT_CLIENT,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_CONVERTED_BODY_MB,
  DEFAULT_MAX_COUNT_TOKENS_BODY_MB,
  DEFAULT_MAX_REQUEST_BODY_MB,
  DEFAULT_MAX_RETRIES,
  DEFAULT_REQUEST_TIMEOUT_SECONDS,
  DEFAULT_RETRY_BACKOFF_INITIAL_MS,
  DEFAULT_RETRY_BACKOFF_MAX_MS,
  MIB,
} from "./defaults.js";
import { ConfigError } from "./errors.js";
import { deepFreeze } from "./freeze.js";
import { defaultBaseUrl, isKnownKind, KEY_CONFIG_KINDS } from "./kinds.js";
import { retentionFromDays } from "./logs.js";
import { bifrostSemanticCacheConfig, bifrostTelemetryOn, parseBifrostPlugins } from "./plugin-specs.js";
import { CUSTOM_PROVIDER, catalogEntry } from "./provider-catalog.js";
import type {
  ClientConfig,
  ConcurrencyConfig,
  GatewayConfig,
  LogsConfig,
  NetworkConfig,
  ProviderConfig,
  ProviderKey,
} from "./types.js";
import { normalizeBaseUrl, normalizeOrigin } from "./url.js";

export { ConfigError } from "./errors.js";

// Top-level sections of Bifrost's schema that Switchyard does not read yet (plus `cache_config` from older
// Bifrost releases). Each produces one warning naming the section.
const UNSUPPORTED_SECTIONS = new Set([
  "server",
  "source_of_truth",
  "encryption_key",
  "env_label",
  "auth_config",
  "framework",
  "alerting",
  "webhooks",
  "mcp",
  "skills_registry",
  "websocket",
  "guardrails_config",
  "audit_logs",
  "cluster_config",
  "load_balancer_config",
  "large_payload_optimization",
  "scim_config",
  "access_profiles",
  "feature_flags",
  "circuit_breaker_config",
  "cache_config",
]);

const UNSUPPORTED_CLIENT_KEYS = new Set([
  "initial_pool_size",
  "prometheus_labels",
  "allow_per_request_content_storage_override",
  "allow_per_request_raw_override",
  "disable_db_pings_in_health",
  "dump_errors_in_console_logs",
  "webhook_config",
  "dual_credential_conflict_behavior",
  "enforce_scim_auth",
  "compat",
  "header_filter_config",
  "async_job_result_ttl",
  "required_headers",
  "logging_headers",
  "whitelisted_routes",
  "hide_deleted_virtual_keys_in_filters",
  "allowed_headers",
  "allow_direct_keys",
  "mcp_agent_depth",
  "mcp_tool_execution_timeout",
  "mcp_code_mode_binding_level",
  "mcp_tool_sync_interval",
  "mcp_disable_auto_tool_inject",
  "mcp_enable_temp_token_auth",
  "routing_chain_max_depth",
  "mcp_external_client_url",
  "mcp_server_auth_mode",
  "oauth2_server_config",
  "retain_content_in_object_storage",
]);

const UNSUPPORTED_PROVIDER_KEYS = new Set([
  "proxy_config",
  "send_back_raw_request",
  "send_back_raw_response",
  "store_raw_request_response",
  "openai_config",
]);

const UNSUPPORTED_NETWORK_KEYS = new Set([
  "enforce_http2",
  "insecure_skip_verify",
  "stream_idle_timeout_in_seconds",
  "keep_alive_timeout_in_seconds",
  "max_conns_per_host",
  "beta_header_overrides",
  "allow_private_network",
]);

/** Key configs of the kinds with native adapters; each applies to keys of its own kind only. */
const KIND_KEY_CONFIGS: Readonly<Record<string, string>> = {
  azure_key_config: "azure",
  vertex_key_config: "vertex",
  bedrock_key_config: "bedrock",
};

// Key configs of Bifrost providers Switchyard has no adapter for yet.
const LATER_KEY_CONFIGS = new Set([
  "bedrock_mantle_key_config",
  "vllm_key_config",
  "ollama_key_config",
  "sgl_key_config",
  "replicate_key_config",
]);

const UNSUPPORTED_KEY_FIELDS = new Set(["aliases", "use_for_batch_api", "enabled", "description"]);

function readInteger(
  c: Collector,
  obj: Obj,
  key: string,
  path: string,
  min: number,
  fallback: number,
): number {
  const v = obj[key];
  const p = childPath(path, key);
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    c.problem(p, "must be a number");
    return fallback;
  }
  if (!Number.isInteger(v)) {
    c.problem(p, "must be a whole number");
    return fallback;
  }
  if (v < min) {
    c.problem(p, `must be at least ${min}`);
    return fallback;
  }
  return v;
}

function readBoolean(c: Collector, obj: Obj, key: string, path: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean") {
    c.problem(childPath(path, key), "must be true or false");
    return fallback;
  }
  return v;
}

function readObject(c: Collector, obj: Obj, key: string, path: string): Obj | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) {
    c.problem(childPath(path, key), "must be an object");
    return undefined;
  }
  return v;
}

/**
 * Bifrost config `version`. 2 reads a key's `models: []` as no model (Bifrost v1.5 and later), 1 as any
 * model (earlier releases). A file without it was most likely written for a release before v1.5, so []
 * is read as any model then, with a start-up warning that says how to choose the other reading.
 */
type ConfigVersion = 1 | 2 | undefined;

interface KeyContext {
  readonly provider: string;
  /** The provider's kind: decides which key config a key needs and whether `value` is required. */
  readonly kind: string;
  readonly index: number;
  readonly path: string;
  /** Bifrost config `version`: see `ConfigVersion`. */
  readonly version: ConfigVersion;
  readonly keyless: boolean;
  /** Why keys were left unused, for the refusal when none is left. */
  readonly unused: string[];
}

function parseKey(
  c: Collector,
  raw: unknown,
  k: KeyContext,
  env: NodeJS.ProcessEnv,
): ProviderKey | undefined {
  if (!isObject(raw)) {
    c.problem(k.path, "must be an object");
    return undefined;
  }
  const before = c.problems.length;

  let name = `${k.provider}-${k.index}`;
  if (raw.name !== undefined && raw.name !== null) {
    if (typeof raw.name !== "string" || raw.name.trim() === "")
      c.problem(`${k.path}.name`, "must be a non-empty string");
    else name = raw.name;
  }

  // Vertex and Bedrock keys may authenticate with their key config alone (service account, IAM keys).
  const valueOptional = k.keyless || k.kind === "vertex" || k.kind === "bedrock";
  let value = "";
  const valuePath = `${k.path}.value`;
  if (raw.value === undefined || raw.value === null || raw.value === "") {
    if (!valueOptional)
      c.problem(
        valuePath,
        k.kind === "azure" && azureWantsEntra(raw.azure_key_config)
          ? "is required (the Azure API key; Entra ID authentication is not supported yet)"
          : "is required",
      );
  } else if (typeof raw.value !== "string") {
    c.problem(valuePath, 'must be a string (a literal key or "env.VAR_NAME")');
  } else {
    value = resolveSecret(c, raw.value, valuePath, env) ?? "";
  }

  let models: string[] = [];
  let servesNothing = false;
  const modelsPath = `${k.path}.models`;
  if (raw.models !== undefined && raw.models !== null) {
    if (!Array.isArray(raw.models) || raw.models.some((m) => typeof m !== "string" || m.trim() === "")) {
      c.problem(modelsPath, "must be an array of model names");
    } else {
      const list = raw.models as string[];
      if (list.includes("*")) models = [];
      else if (list.length === 0 && k.version === 2) servesNothing = true;
      else if (list.length === 0 && k.version === undefined)
        c.warn(
          modelsPath,
          '[] read as every model, as Bifrost before v1.5 did, since the file has no "version"; write ["*"] to keep this reading, or set "version": 2 to read [] as no model',
        );
      else models = [...new Set(list)];
    }
  }

  let weight = 1;
  const weightPath = `${k.path}.weight`;
  if (raw.weight !== undefined && raw.weight !== null) {
    if (typeof raw.weight !== "number" || !Number.isFinite(raw.weight))
      c.problem(weightPath, "must be a number");
    else if (raw.weight < 0) c.problem(weightPath, "must be at least 0");
    else weight = raw.weight;
  }

  // Model → deployment / inference-profile maps are read for the kinds that use them.
  const mapsModels = k.kind === "azure" || k.kind === "bedrock";
  let aliases: Record<string, string> = {};
  if (mapsModels && raw.aliases !== undefined && raw.aliases !== null)
    aliases = parseAliases(c, raw.aliases, `${k.path}.aliases`, k.kind, env);

  for (const key of Object.keys(raw)) {
    if (key === "name" || key === "value" || key === "models" || key === "weight") continue;
    // Virtual keys' key_ids name keys by it (bifrost-governance.ts).
    if (key === "id") continue;
    if (key === "aliases" && mapsModels) continue;
    const p = `${k.path}.${key}`;
    const owner = KIND_KEY_CONFIGS[key];
    if (owner !== undefined) {
      if (owner !== k.kind) c.unsupported(p, raw[key], `applies to ${owner} providers only; ignored`);
    } else if (LATER_KEY_CONFIGS.has(key)) c.warn(p, "takes effect with a later provider adapter; ignored");
    else if (UNSUPPORTED_KEY_FIELDS.has(key)) c.unsupported(p, raw[key]);
    else c.warn(p, "unknown key; ignored");
  }

  let keyConfig: Pick<ProviderKey, "azure" | "vertex" | "bedrock"> = {};
  if (KEY_CONFIG_KINDS.has(k.kind)) {
    const field = `${k.kind}_key_config`;
    const configPath = `${k.path}.${field}`;
    const rawConfig = raw[field];
    if (rawConfig === undefined || rawConfig === null)
      c.problem(configPath, `is required for ${k.kind} keys`);
    else if (!isObject(rawConfig)) c.problem(configPath, "must be an object");
    else {
      const input: KeyConfigInput = { c, keyPath: k.path, env, value, models, aliases };
      if (k.kind === "azure") keyConfig = { azure: parseAzureKeyConfig(rawConfig, configPath, input) };
      else if (k.kind === "vertex")
        keyConfig = { vertex: parseVertexKeyConfig(rawConfig, configPath, input) };
      else keyConfig = { bedrock: parseBedrockKeyConfig(rawConfig, configPath, input) };
    }
  }

  if (c.problems.length > before) return undefined;
  if (servesNothing) {
    const reason =
      'an empty list serves no model (Bifrost config version 2); use ["*"] for all models; key unused';
    c.warn(modelsPath, reason);
    k.unused.push(`${modelsPath}: ${reason}`);
    return undefined;
  }
  return { name, value, models, weight, ...keyConfig };
}

function parseNetwork(
  c: Collector,
  raw: Obj | undefined,
  path: string,
): Omit<NetworkConfig, "baseUrl"> & { baseUrl: string | undefined; baseUrlGiven: boolean } {
  const net = raw ?? {};
  let baseUrl: string | undefined;
  const baseUrlGiven = net.base_url !== undefined && net.base_url !== null && net.base_url !== "";
  if (baseUrlGiven) {
    if (typeof net.base_url !== "string") c.problem(`${path}.base_url`, "must be a string");
    else {
      baseUrl = normalizeBaseUrl(net.base_url);
      if (baseUrl === undefined)
        c.problem(
          `${path}.base_url`,
          "must be an absolute http:// or https:// URL without query or fragment",
        );
    }
  }

  const extraHeaders: Record<string, string> = {};
  const headers = readObject(c, net, "extra_headers", path);
  if (headers) {
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== "string") c.problem(`${path}.extra_headers.${name}`, "must be a string");
      else extraHeaders[name] = value;
    }
  }

  const timeoutSeconds = readInteger(
    c,
    net,
    "default_request_timeout_in_seconds",
    path,
    1,
    DEFAULT_REQUEST_TIMEOUT_SECONDS,
  );
  const maxRetries = readInteger(c, net, "max_retries", path, 0, DEFAULT_MAX_RETRIES);
  // Bifrost's schema sets 100 ms as the floor for both backoffs.
  const backoffInitial = readInteger(
    c,
    net,
    "retry_backoff_initial",
    path,
    100,
    DEFAULT_RETRY_BACKOFF_INITIAL_MS,
  );
  const backoffMax = readInteger(c, net, "retry_backoff_max", path, 100, DEFAULT_RETRY_BACKOFF_MAX_MS);
  if (backoffInitial > backoffMax)
    c.problem(`${path}.retry_backoff_initial`, "must not exceed retry_backoff_max");

  let caCertPem: string | undefined;
  if (net.ca_cert_pem !== undefined) {
    if (typeof net.ca_cert_pem !== "string" || !net.ca_cert_pem.includes("-----BEGIN CERTIFICATE-----"))
      c.problem(`${path}.ca_cert_pem`, "must be PEM certificates (-----BEGIN CERTIFICATE-----)");
    else caCertPem = net.ca_cert_pem;
  }

  for (const key of Object.keys(net)) {
    if (
      key === "base_url" ||
      key === "ca_cert_pem" ||
      key === "extra_headers" ||
      key === "default_request_timeout_in_seconds" ||
      key === "max_retries" ||
      key === "retry_backoff_initial" ||
      key === "retry_backoff_max"
    )
      continue;
    if (UNSUPPORTED_NETWORK_KEYS.has(key)) c.unsupported(`${path}.${key}`, net[key]);
    else c.warn(`${path}.${key}`, "unknown key; ignored");
  }

  return {
    baseUrl,
    baseUrlGiven,
    extraHeaders,
    requestTimeoutMs: timeoutSeconds * 1000,
    maxRetries,
    retryBackoffInitialMs: backoffInitial,
    retryBackoffMaxMs: backoffMax,
    ...(caCertPem === undefined ? {} : { caCertPem }),
  };
}

function parseConcurrency(c: Collector, raw: Obj | undefined, path: string): ConcurrencyConfig {
  if (!raw) return DEFAULT_CONCURRENCY;
  for (const key of Object.keys(raw)) {
    if (key !== "concurrency" && key !== "buffer_size") c.warn(`${path}.${key}`, "unknown key; ignored");
  }
  return {
    concurrency: readInteger(c, raw, "concurrency", path, 1, DEFAULT_CONCURRENCY.concurrency),
    bufferSize: readInteger(c, raw, "buffer_size", path, 1, DEFAULT_CONCURRENCY.bufferSize),
  };
}

interface CustomSettings {
  readonly baseType: string | undefined;
  readonly keyless: boolean;
}

function parseCustom(c: Collector, raw: Obj | undefined, path: string): CustomSettings {
  if (!raw) return { baseType: undefined, keyless: false };
  let baseType: string | undefined;
  if (raw.base_provider_type !== undefined && raw.base_provider_type !== null) {
    if (typeof raw.base_provider_type !== "string" || raw.base_provider_type === "")
      c.problem(`${path}.base_provider_type`, "must be a non-empty string");
    else baseType = raw.base_provider_type;
  }
  const keyless = readBoolean(c, raw, "is_key_less", path, false);
  for (const key of Object.keys(raw)) {
    if (key === "base_provider_type" || key === "is_key_less") continue;
    if (key === "allowed_requests" || key === "request_path_overrides")
      c.unsupported(`${path}.${key}`, raw[key]);
    else c.warn(`${path}.${key}`, "unknown key; ignored");
  }
  return { baseType, keyless };
}

function parseProvider(
  c: Collector,
  name: string,
  raw: unknown,
  version: ConfigVersion,
  env: NodeJS.ProcessEnv,
): ProviderConfig | undefined {
  const path = `providers.${name}`;
  if (name.trim() === "" || /[/\s]/.test(name)) {
    c.problem(path, 'provider name must be non-empty, without "/" or spaces (clients write provider/model)');
    return undefined;
  }
  if (!isObject(raw)) {
    c.problem(path, "must be an object");
    return undefined;
  }
  const before = c.problems.length;

  const custom = parseCustom(
    c,
    readObject(c, raw, "custom_provider_config", path),
    `${path}.custom_provider_config`,
  );
  const known = isKnownKind(name);
  let kind = known ? name : CUSTOM_PROVIDER.name;
  if (custom.baseType !== undefined) {
    if (isKnownKind(custom.baseType)) kind = custom.baseType;
    else {
      kind = CUSTOM_PROVIDER.name;
      c.warn(
        `${path}.custom_provider_config.base_provider_type`,
        `"${custom.baseType}" has no adapter yet; treated as an OpenAI-compatible custom provider`,
      );
    }
  }
  const entry = catalogEntry(kind);
  const locatedByKey = KEY_CONFIG_KINDS.has(kind);

  const netPath = `${path}.network_config`;
  const network = parseNetwork(c, readObject(c, raw, "network_config", path), netPath);
  const { baseUrlGiven, ...networkConfig } = network;
  // Azure, Vertex and Bedrock keep "" unless configured: each key's own config locates the upstream.
  const baseUrl = baseUrlGiven ? network.baseUrl : locatedByKey ? "" : defaultBaseUrl(kind) || undefined;
  if (!baseUrlGiven && baseUrl === undefined) {
    c.problem(
      `${netPath}.base_url`,
      `is required: "${name}" is not a known provider, so it has no default URL`,
    );
  }

  const concurrency = parseConcurrency(
    c,
    readObject(c, raw, "concurrency_and_buffer_size", path),
    `${path}.concurrency_and_buffer_size`,
  );

  // A key is required where the provider authenticates and the URL is its public endpoint: every catalog
  // name, and a custom name that falls back to its base type's default URL. A custom name pointed at its own
  // base_url (a local vLLM, a proxy) may run without keys, as may anything marked is_key_less.
  // Azure, Vertex and Bedrock always need a key: it carries the endpoint or region and the credentials.
  const needsKey =
    locatedByKey ||
    (entry.auth !== "none" && !custom.keyless && (known || (!baseUrlGiven && kind !== "custom")));
  const keyless = !needsKey;

  const keys: ProviderKey[] = [];
  const unused: string[] = [];
  const keysPath = `${path}.keys`;
  const beforeKeys = c.problems.length;
  if (raw.keys !== undefined && raw.keys !== null) {
    if (!Array.isArray(raw.keys)) {
      c.problem(keysPath, "must be an array");
    } else {
      const seen = new Set<string>();
      raw.keys.forEach((rawKey, index) => {
        const key = parseKey(
          c,
          rawKey,
          { provider: name, kind, index, path: `${keysPath}[${index}]`, version, keyless, unused },
          env,
        );
        if (!key) return;
        if (seen.has(key.name)) c.problem(`${keysPath}[${index}].name`, `duplicate key name "${key.name}"`);
        seen.add(key.name);
        keys.push(key);
      });
    }
  }
  if (needsKey && keys.length === 0 && c.problems.length === beforeKeys) {
    // The refusal carries its reason: warnings are not printed when the file is refused.
    const why = unused.length === 0 ? "" : ` (${unused.join("; ")})`;
    c.problem(keysPath, `at least one usable key is required for ${name}${why}`);
  }

  for (const key of Object.keys(raw)) {
    if (
      key === "keys" ||
      key === "network_config" ||
      key === "concurrency_and_buffer_size" ||
      key === "custom_provider_config"
    )
      continue;
    if (UNSUPPORTED_PROVIDER_KEYS.has(key)) c.unsupported(`${path}.${key}`, raw[key]);
    else c.warn(`${path}.${key}`, "unknown key; ignored");
  }

  if (c.problems.length > before || baseUrl === undefined) return undefined;
  return {
    name,
    kind,
    keys,
    network: { ...networkConfig, baseUrl },
    concurrency,
  };
}

function parseClient(c: Collector, raw: Obj | undefined): ClientConfig {
  if (!raw) return DEFAULT_CLIENT;
  const path = "client";
  const bodyMb = readInteger(c, raw, "max_request_body_size_mb", path, 1, DEFAULT_MAX_REQUEST_BODY_MB);
  // Switchyard's own key: Bifrost serves no count_tokens route.
  const countTokensMb = readInteger(
    c,
    raw,
    "max_count_tokens_body_size_mb",
    path,
    1,
    DEFAULT_MAX_COUNT_TOKENS_BODY_MB,
  );
  const convertedMb = readInteger(
    c,
    raw,
    "max_converted_body_size_mb",
    path,
    1,
    DEFAULT_MAX_CONVERTED_BODY_MB,
  );
  const dropExcessRequests = readBoolean(
    c,
    raw,
    "drop_excess_requests",
    path,
    DEFAULT_CLIENT.dropExcessRequests,
  );

  let allowedOrigins: string[] = [];
  const origins = raw.allowed_origins;
  if (origins !== undefined && origins !== null) {
    if (!Array.isArray(origins)) c.problem(`${path}.allowed_origins`, "must be an array");
    else {
      origins.forEach((o, i) => {
        const normalized = typeof o === "string" ? normalizeOrigin(o) : undefined;
        if (normalized === undefined)
          c.problem(
            `${path}.allowed_origins[${i}]`,
            'must be "*" or an origin such as https://app.example.com',
          );
        else if (!allowedOrigins.includes(normalized)) allowedOrigins.push(normalized);
      });
      if (allowedOrigins.includes("*")) allowedOrigins = ["*"];
    }
  }

  for (const key of Object.keys(raw)) {
    if (
      key === "max_request_body_size_mb" ||
      key === "max_count_tokens_body_size_mb" ||
      key === "max_converted_body_size_mb" ||
      key === "drop_excess_requests" ||
      key === "allowed_origins" ||
      // Governance's: see bifrost-governance.ts.
      key === "enforce_auth_on_inference" ||
      key === "enforce_governance_header" ||
      key === "enable_governance" ||
      // The request log's: see parseBifrostLogs.
      LOG_CLIENT_KEYS.has(key)
    )
      continue;
    if (UNSUPPORTED_CLIENT_KEYS.has(key)) c.unsupported(`${path}.${key}`, raw[key]);
    else c.warn(`${path}.${key}`, "unknown key; ignored");
  }
  return {
    maxRequestBodyBytes: bodyMb * MIB,
    maxCountTokensBodyBytes: countTokensMb * MIB,
    maxConvertedBodyBytes: convertedMb * MIB,
    allowedOrigins,
    dropExcessRequests,
  };
}

const LOG_CLIENT_KEYS = new Set(["enable_logging", "disable_content_logging", "log_retention_days"]);

/** The request log's settings: the client's logging switches and logs_store.enabled. */
function parseBifrostLogs(
  c: Collector,
  client: Obj | undefined,
  store: unknown,
): Partial<LogsConfig> | undefined {
  const logs: { -readonly [K in keyof LogsConfig]?: LogsConfig[K] } = {};
  if (client !== undefined) {
    if (client.enable_logging !== undefined && client.enable_logging !== null)
      logs.enabled = readBoolean(c, client, "enable_logging", "client", true);
    if (client.disable_content_logging !== undefined && client.disable_content_logging !== null)
      logs.content = !readBoolean(c, client, "disable_content_logging", "client", false);
    if (client.log_retention_days !== undefined && client.log_retention_days !== null)
      logs.retentionMs = retentionFromDays(readInteger(c, client, "log_retention_days", "client", 0, 0));
  }
  if (isObject(store) && store.enabled === false) logs.enabled = false;
  return Object.keys(logs).length === 0 ? undefined : logs;
}

/**
 * Reads a parsed Bifrost config.json. Resolves "env.VAR" key values from `env`, applies Bifrost's defaults,
 * and throws ConfigError listing every problem. The warnings name settings that are accepted but have no
 * effect yet, and unknown keys, each with its full path.
 */
export function parseBifrostConfig(
  json: unknown,
  env: NodeJS.ProcessEnv,
  source: string,
): { config: GatewayConfig; warnings: string[] } {
  const c = new Collector();
  if (!isObject(json)) throw new ConfigError(source, ["(root): must be a JSON object"]);

  let version: ConfigVersion;
  if (json.version !== undefined && json.version !== null) {
    if (json.version === 1 || json.version === 2) version = json.version;
    else c.problem("version", "must be 1 or 2");
  }

  const providers: Record<string, ProviderConfig> = {};
  const rawProviders = readObject(c, json, "providers", "");
  if (rawProviders) {
    for (const [name, raw] of Object.entries(rawProviders)) {
      const provider = parseProvider(c, name, raw, version, env);
      if (provider) providers[name] = provider;
    }
  }
  if (rawProviders === undefined || Object.keys(rawProviders).length === 0) {
    c.warn("providers", "none configured; every model request will fail until one is added");
  }

  const rawClient = readObject(c, json, "client", "");
  const client = parseClient(c, rawClient);
  const logs = parseBifrostLogs(c, rawClient, json.logs_store);
  const plugins = parseBifrostPlugins(c, json.plugins);
  const cache = readBifrostCache(
    c,
    bifrostSemanticCacheConfig(json.plugins),
    json.vector_store,
    (raw, path) => resolveSecret(c, raw, path, env),
  );
  const governance = parseBifrostGovernance(c, json, env, version);
  const cluster = readClusterSection(
    c,
    json.cluster,
    (raw, path) => (typeof raw === "string" ? resolveSecret(c, raw, path, env) : raw),
    env,
  );

  const read = new Set([
    "cluster",
    "providers",
    "client",
    "version",
    "plugins",
    "governance",
    "config_store",
    "logs_store",
    "vector_store",
  ]);
  for (const key of Object.keys(json)) {
    if (read.has(key)) continue;
    // An editor hint only; it changes nothing.
    if (key === "$schema") continue;
    if (UNSUPPORTED_SECTIONS.has(key)) c.unsupported(key, json[key]);
    else c.warn(key, "unknown key; ignored");
  }

  if (c.problems.length > 0) throw new ConfigError(source, c.problems);
  return {
    config: deepFreeze({
      providers,
      client,
      ...(plugins.length > 0 ? { plugins } : {}),
      ...(bifrostTelemetryOn(json.plugins) ? { bifrostMetrics: true } : {}),
      ...(governance === undefined ? {} : { governance }),
      ...(logs === undefined ? {} : { logs }),
      ...(cache === undefined ? {} : { cache }),
      ...(cluster === undefined ? {} : { cluster }),
      source,
    }),
    warnings: c.warnings,
  };
}
