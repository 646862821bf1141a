// LiteLLM's proxy config.yaml (https://docs.litellm.ai/docs/proxy/configs), read as LiteLLM reads it: the
// same section and key names, units (seconds), `os.environ/X` references and defaults. A model_list becomes
// providers (one per provider kind and api_base) and model groups (one per model_name); what Switchyard does
// not implement is named in a warning, never dropped silently. Messages name paths and variables, never values.

import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseDocument, type ScalarTag, type Tags } from "yaml";
import { isDurationError, parseDuration, windowMs } from "../governance/duration.js";
import { LITELLM_PRICE_FIELDS, type ModelPrice, PRICE_FIELDS } from "../governance/prices.js";
import { readLiteLLMCache } from "./cache.js";
import { readClusterSection } from "./cluster.js";
import { Collector, isObject, NOT_SUPPORTED, type Obj } from "./collect.js";
import {
  DEFAULT_CLIENT,
  DEFAULT_CONCURRENCY,
  DEFAULT_RETRY_BACKOFF_INITIAL_MS,
  DEFAULT_RETRY_BACKOFF_MAX_MS,
  MIB,
} from "./defaults.js";
import { ConfigError } from "./errors.js";
import { deepFreeze } from "./freeze.js";
import {
  AWS_REGION_RULE,
  AZURE_API_VERSION_RULE,
  AZURE_ENDPOINT_RULE,
  checkServiceAccount,
  DEFAULT_AZURE_API_VERSION,
  DEFAULT_VERTEX_REGION,
  GCP_PROJECT_RULE,
  GCP_REGION_RULE,
  isAwsRegion,
  isAzureApiVersion,
  isGcpProjectId,
  isGcpRegion,
  normalizeAzureEndpoint,
  readCredentialsFile,
} from "./key-configs.js";
import { defaultBaseUrl } from "./kinds.js";
import { parseLiteLLMGovernance } from "./litellm-governance.js";
import { HEADER_ALLOWLIST, headerAllowlistSpec, parseSwitchyardPlugins } from "./plugin-specs.js";
import { catalogEntry, PROVIDER_CATALOG } from "./provider-catalog.js";
import type {
  AzureKeyConfig,
  BedrockKeyConfig,
  CacheConfig,
  Deployment,
  GatewayConfig,
  LogsConfig,
  PluginSpec,
  ProviderConfig,
  ProviderKey,
  RetryClass,
  RoutingConfig,
  RoutingStrategy,
  VertexKeyConfig,
} from "./types.js";
import { normalizeBaseUrl } from "./url.js";

/** LiteLLM provider prefixes (the part of `model` before the first "/") → Switchyard provider kinds. */
export const LITELLM_PROVIDERS: Readonly<Record<string, string>> = {
  openai: "openai",
  custom_openai: "custom",
  litellm_proxy: "custom",
  azure: "azure",
  anthropic: "anthropic",
  gemini: "gemini",
  vertex_ai: "vertex",
  bedrock: "bedrock",
  cohere: "cohere",
  cohere_chat: "cohere",
  groq: "groq",
  mistral: "mistral",
  deepseek: "deepseek",
  xai: "xai",
  openrouter: "openrouter",
  together_ai: "together",
  fireworks_ai: "fireworks",
  cerebras: "cerebras",
  perplexity: "perplexity",
  ollama: "ollama",
  ollama_chat: "ollama",
  hosted_vllm: "vllm",
  lm_studio: "lmstudio",
};

/** LiteLLM's routing_strategy names → Switchyard strategies; absent names are not supported. */
const STRATEGIES: Readonly<Record<string, RoutingStrategy>> = {
  "simple-shuffle": "weighted",
  "least-busy": "least-busy",
  "latency-based-routing": "lowest-latency",
};

const UNSUPPORTED_STRATEGIES = new Set([
  "usage-based-routing",
  "usage-based-routing-v2",
  "cost-based-routing",
]);

const RETRY_CLASSES: readonly RetryClass[] = [
  "BadRequestError",
  "AuthenticationError",
  "TimeoutError",
  "RateLimitError",
  "ContentPolicyViolationError",
  "InternalServerError",
];

/** LiteLLM's defaults (docs: router configuration, reliability and config settings). */
export const LITELLM_DEFAULTS = {
  numRetries: 2,
  allowedFails: 3,
  cooldownSeconds: 5,
  requestTimeoutSeconds: 6000,
} as const;

export const MAX_INCLUDE_DEPTH = 8;

const OS_ENVIRON = "os.environ/";
const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** model_info fields that describe a deployment and change nothing about how it is called. */
const DESCRIPTIVE_MODEL_INFO = new Set(["id", "mode", "base_model", "description", "metadata", "db_model"]);

/** LiteLLM's custom pricing keys (litellm_params or model_info) → the rate each sets. */
const COST_KEYS: ReadonlyMap<string, keyof ModelPrice> = new Map(
  PRICE_FIELDS.filter((f) => f !== "maxOutputTokens" && f !== "contextWindow").map((f) => [
    LITELLM_PRICE_FIELDS[f],
    f,
  ]),
);

// ---------------------------------------------------------------------------------------------------------
// YAML and include

const BOOL = "tag:yaml.org,2002:bool";
const pyBool = (value: boolean, test: RegExp): ScalarTag => ({
  tag: BOOL,
  default: true,
  test,
  resolve: () => value,
  identify: (v) => v === value,
});
// PyYAML's YAML 1.1 booleans: yes/no/on/off but, unlike the 1.1 spec, not y/n (a model named "n" stays "n").
const PYYAML_BOOLEANS = [
  pyBool(true, /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/),
  pyBool(false, /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/),
];
const pyTags = (tags: Tags): Tags => [
  ...PYYAML_BOOLEANS,
  ...tags.filter((t) => typeof t === "string" || t.tag !== BOOL),
];

/** Parses YAML as LiteLLM's PyYAML (safe_load, YAML 1.1) does. Errors give positions only. */
function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, {
    version: "1.1",
    customTags: pyTags,
    prettyErrors: false,
    uniqueKeys: true,
  });
  const err = doc.errors[0];
  if (err !== undefined) {
    // yaml's own message may quote the text around the error, which can hold a literal key.
    const { line, column } = lineAndColumn(text, err.pos[0]);
    throw new ConfigError(file, [
      `malformed YAML at line ${line}, column ${column}: ${err.code.toLowerCase().replace(/_/g, " ")}`,
    ]);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch {
    throw new ConfigError(file, ["(root): too many YAML aliases (anchors expanding without bound)"]);
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Merges the files named by `include` into `root`: lists are concatenated (the including file's entries
 * first), mappings merged key by key, and a value set in both keeps the including file's (with a warning).
 * Paths are relative to the including file's directory; a cycle or more than MAX_INCLUDE_DEPTH levels is an
 * error.
 */
function applyIncludes(
  c: Collector,
  root: Obj,
  file: string,
  chain: readonly string[],
  seen: Set<string>,
): Obj {
  const raw = root.include;
  if (raw === undefined || raw === null) return root;
  const { include: _, ...rest } = root;
  const label = chain.length === 1 ? "include" : `${file}: include`;
  const list = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(list)) {
    c.problem(label, "must be a file name or a list of file names");
    return rest;
  }
  let merged: Obj = rest;
  list.forEach((entry, i) => {
    const p = `${label}[${i}]`;
    if (typeof entry !== "string" || entry.trim() === "") {
      c.problem(p, "must be a file name");
      return;
    }
    const target = isAbsolute(entry) ? entry : resolve(dirname(file), entry);
    if (chain.includes(target)) {
      c.problem(p, `includes itself (${[...chain, target].join(" → ")})`);
      return;
    }
    if (chain.length > MAX_INCLUDE_DEPTH) {
      c.problem(p, `includes nest deeper than ${MAX_INCLUDE_DEPTH} levels`);
      return;
    }
    seen.add(target);
    let text: string;
    try {
      text = readFileSync(target, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      c.problem(p, `cannot read ${target}: ${code === "ENOENT" ? "file not found" : (code ?? "unreadable")}`);
      return;
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text, target);
    } catch (err) {
      for (const problem of (err as ConfigError).problems) c.problem(p, `${target}: ${problem}`);
      return;
    }
    if (parsed === null || parsed === undefined) return;
    if (!isObject(parsed)) {
      c.problem(p, `${target} must hold a YAML mapping`);
      return;
    }
    merged = mergeInto(c, merged, applyIncludes(c, parsed, target, [...chain, target], seen), "", target);
  });
  return merged;
}

function mergeInto(c: Collector, into: Obj, from: Obj, path: string, file: string): Obj {
  const out: Obj = { ...into };
  for (const [key, value] of Object.entries(from)) {
    const p = path === "" ? key : `${path}.${key}`;
    const existing = out[key];
    if (existing === undefined || existing === null) out[key] = value;
    else if (Array.isArray(existing) && Array.isArray(value)) out[key] = [...existing, ...value];
    else if (isObject(existing) && isObject(value)) out[key] = mergeInto(c, existing, value, p, file);
    else if (JSON.stringify(existing) !== JSON.stringify(value))
      c.warn(p, `also set in ${file}; the including file's setting is kept`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Values

/**
 * The request log as LiteLLM's spend logs are set: on unless disable_spend_logs, prompts and replies kept
 * only with store_prompts_in_spend_logs (LiteLLM's default is without) and never with turn_off_message_logging,
 * pruned after maximum_spend_logs_retention_period.
 */
function readLogs(r: Reader, litellm: Obj, general: Obj): Partial<LogsConfig> {
  const logs: { -readonly [K in keyof LogsConfig]?: LogsConfig[K] } = {
    content:
      r.boolean(general, "store_prompts_in_spend_logs", "general_settings") === true &&
      r.boolean(litellm, "turn_off_message_logging", "litellm_settings") !== true,
  };
  if (r.boolean(general, "disable_spend_logs", "general_settings") === true) logs.enabled = false;
  const retention = r.text(general, "maximum_spend_logs_retention_period", "general_settings");
  if (retention !== undefined) {
    const window = parseDuration(retention);
    if (isDurationError(window))
      r.c.problem("general_settings.maximum_spend_logs_retention_period", window.error);
    else logs.retentionMs = windowMs(window);
  }
  return logs;
}

/** litellm_settings.cache and cache_params, with Switchyard's own switchyard_cache (src/config/cache.ts). */
function readCache(r: Reader, root: Obj, litellm: Obj): CacheConfig | undefined {
  const rawParams = r.section(litellm, "cache_params", "litellm_settings");
  const params =
    rawParams === undefined
      ? undefined
      : Object.fromEntries(
          Object.keys(rawParams).map((name) => [
            name,
            r.value(rawParams, name, "litellm_settings.cache_params"),
          ]),
        );
  return readLiteLLMCache(r.c, {
    enabled: r.boolean(litellm, "cache", "litellm_settings"),
    params,
    own: r.section(root, "switchyard_cache"),
    env: r.env,
  });
}

export class Reader {
  constructor(
    readonly c: Collector,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  /** A value with `os.environ/X` resolved; undefined when absent or unresolvable (the problem recorded). */
  value(obj: Obj, key: string, path: string): unknown {
    const v = obj[key];
    if (typeof v !== "string" || !v.startsWith(OS_ENVIRON)) return v === null ? undefined : v;
    const name = v.slice(OS_ENVIRON.length);
    const p = `${path}.${key}`;
    if (!ENV_VAR_NAME.test(name)) {
      this.c.problem(p, `"${OS_ENVIRON}" must be followed by a valid environment variable name`);
      return undefined;
    }
    const resolved = this.env[name];
    if (resolved === undefined || resolved === "") {
      this.c.problem(p, `environment variable ${name} is ${resolved === undefined ? "not set" : "empty"}`);
      return undefined;
    }
    return resolved;
  }

  text(obj: Obj, key: string, path: string): string | undefined {
    const v = this.value(obj, key, path);
    if (v === undefined || v === "") return undefined;
    if (typeof v !== "string") {
      this.c.problem(`${path}.${key}`, `must be a string (a literal value or "${OS_ENVIRON}VAR_NAME")`);
      return undefined;
    }
    const trimmed = v.trim();
    if (trimmed === "") this.c.problem(`${path}.${key}`, "must not be blank");
    return trimmed === "" ? undefined : trimmed;
  }

  /** A number (YAML or a numeric string, as Python's float() takes it); `whole` demands an integer. */
  number(obj: Obj, key: string, path: string, min: number, whole: boolean): number | undefined {
    const v = this.value(obj, key, path);
    if (v === undefined || v === "") return undefined;
    const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
    const p = `${path}.${key}`;
    if (!Number.isFinite(n)) this.c.problem(p, "must be a number");
    else if (whole && !Number.isInteger(n)) this.c.problem(p, "must be a whole number");
    else if (n < min) this.c.problem(p, `must be at least ${min}`);
    else return n;
    return undefined;
  }

  boolean(obj: Obj, key: string, path: string): boolean | undefined {
    const v = this.value(obj, key, path);
    if (v === undefined) return undefined;
    if (typeof v === "boolean") return v;
    if (v === "true" || v === "True") return true;
    if (v === "false" || v === "False") return false;
    this.c.problem(`${path}.${key}`, "must be true or false");
    return undefined;
  }

  section(obj: Obj, key: string, path = ""): Obj | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) {
      this.c.problem(path === "" ? key : `${path}.${key}`, "must be a mapping");
      return undefined;
    }
    return v;
  }
}

function unread(
  c: Collector,
  obj: Obj,
  path: string,
  known: ReadonlySet<string>,
  what = NOT_SUPPORTED,
): void {
  for (const key of Object.keys(obj)) if (!known.has(key)) c.unsupported(`${path}.${key}`, obj[key], what);
}

// ---------------------------------------------------------------------------------------------------------
// model_list

interface ProviderDraft {
  readonly name: string;
  readonly kind: string;
  readonly baseUrl: string;
  readonly keys: KeyDraft[];
}

interface KeyDraft {
  /** Identity within the provider: the credentials (never logged) and, for Azure, the API version. */
  readonly identity: string;
  readonly key: Omit<ProviderKey, "models">;
  /** Upstream models its deployments use; undefined: any model (a wildcard entry). */
  models: Set<string> | undefined;
}

interface Parsed {
  readonly kind: string;
  readonly model: string;
  readonly wildcard: boolean;
}

const LITELLM_PARAMS_READ = new Set([
  "model",
  "api_base",
  "base_url",
  "api_key",
  "api_version",
  "rpm",
  "tpm",
  "weight",
  "order",
  "timeout",
  "stream_timeout",
  "aws_access_key_id",
  "aws_secret_access_key",
  "aws_session_token",
  "aws_region_name",
  "aws_bedrock_runtime_endpoint",
  "vertex_project",
  "vertex_location",
  "vertex_credentials",
]);

/** The kind and upstream model named by `litellm_params.model`, or undefined (the problem recorded). */
function parseModel(
  c: Collector,
  raw: string,
  path: string,
  apiBase: string | undefined,
): Parsed | undefined {
  const slash = raw.indexOf("/");
  if (slash <= 0) {
    // LiteLLM infers the provider of a bare well-known name (gpt-4o → openai, claude-... → anthropic).
    const entry = PROVIDER_CATALOG.find((e) => e.modelFamilies.some((f) => f.test(raw)));
    if (entry === undefined) {
      c.problem(
        path,
        'must be "provider/model" (e.g. openai/gpt-4o); the provider of this name is not known',
      );
      return undefined;
    }
    return {
      kind: apiBase !== undefined && entry.name === "openai" ? "custom" : entry.name,
      model: raw,
      wildcard: false,
    };
  }
  const prefix = raw.slice(0, slash);
  let model = raw.slice(slash + 1);
  let kind = LITELLM_PROVIDERS[prefix];
  if (kind === undefined) {
    c.problem(
      path,
      `provider "${prefix}" is not supported (supported: ${Object.keys(LITELLM_PROVIDERS).join(", ")})`,
    );
    return undefined;
  }
  // An OpenAI-compatible server elsewhere (LiteLLM's openai/ with api_base).
  if (kind === "openai" && apiBase !== undefined && new URL(apiBase).hostname !== "api.openai.com")
    kind = "custom";
  if (kind === "bedrock") {
    const route = /^(converse|invoke)\//.exec(model);
    if (route !== null) {
      model = model.slice(route[0].length);
      c.warn(path, `the "${route[1]}/" route hint is ignored; Switchyard's Bedrock adapter picks the API`);
    }
  }
  if (model === "") {
    c.problem(path, 'must be "provider/model"; the model after the "/" is missing');
    return undefined;
  }
  return { kind, model, wildcard: model === "*" };
}

interface DeploymentDraft {
  readonly deployment: Omit<Deployment, "weight"> & { weight?: number };
  readonly group: string;
}

class ModelList {
  /** Custom pricing by "provider/model", the provider as this configuration names it. */
  readonly prices: Record<string, Partial<ModelPrice>> = {};
  readonly providers: ProviderDraft[] = [];
  readonly drafts: DeploymentDraft[] = [];
  readonly groupOrder: string[] = [];

  constructor(
    private readonly r: Reader,
    private readonly configDir: string,
  ) {}

  private provider(kind: string, baseUrl: string): ProviderDraft {
    const found = this.providers.find((p) => p.kind === kind && p.baseUrl === baseUrl);
    if (found !== undefined) return found;
    const same = this.providers.filter((p) => p.kind === kind).length;
    const draft: ProviderDraft = { name: same === 0 ? kind : `${kind}-${same + 1}`, kind, baseUrl, keys: [] };
    this.providers.push(draft);
    return draft;
  }

  entry(raw: unknown, index: number): void {
    const { c } = this.r;
    const path = `model_list[${index}]`;
    if (!isObject(raw)) {
      c.problem(path, "must be a mapping with model_name and litellm_params");
      return;
    }
    const before = c.problems.length;
    const modelName = typeof raw.model_name === "string" ? raw.model_name.trim() : "";
    if (modelName === "") c.problem(`${path}.model_name`, "must be a non-empty string");
    const pp = `${path}.litellm_params`;
    const params = raw.litellm_params;
    if (!isObject(params)) {
      c.problem(pp, "must be a mapping with at least model");
      return;
    }
    for (const key of Object.keys(raw)) {
      if (
        key === "model_name" ||
        key === "litellm_params" ||
        key === "model_info" ||
        key === "rpm" ||
        key === "tpm"
      )
        continue;
      c.unsupported(`${path}.${key}`, raw[key]);
    }
    this.modelInfo(raw.model_info, `${path}.model_info`);

    const rawModel = this.r.text(params, "model", pp);
    const apiBaseRaw = this.r.text(params, "api_base", pp) ?? this.r.text(params, "base_url", pp);
    let apiBase: string | undefined;
    if (apiBaseRaw !== undefined) {
      apiBase = normalizeBaseUrl(apiBaseRaw);
      if (apiBase === undefined)
        c.problem(`${pp}.api_base`, "must be an absolute http:// or https:// URL without query or fragment");
    }
    if (rawModel === undefined) {
      if (params.model === undefined || params.model === null)
        c.problem(`${pp}.model`, 'is required ("provider/model")');
      return;
    }
    const parsed = parseModel(c, rawModel, `${pp}.model`, apiBase);
    if (parsed === undefined || (apiBaseRaw !== undefined && apiBase === undefined)) return;

    const weight = this.r.number(params, "weight", pp, 0, false);
    const order = this.r.number(params, "order", pp, 0, true);
    // LiteLLM accepted rpm and tpm beside litellm_params in older configs.
    const rpm = this.r.number(params, "rpm", pp, 0, false) ?? this.r.number(raw, "rpm", path, 0, false);
    const tpm = this.r.number(params, "tpm", pp, 0, false) ?? this.r.number(raw, "tpm", path, 0, false);
    const timeout = this.r.number(params, "timeout", pp, 0, false);
    if (params.stream_timeout !== undefined && params.stream_timeout !== null)
      c.warn(`${pp}.stream_timeout`, "not supported yet; ignored (timeout applies to streams too)");
    if (params.litellm_credential_name !== undefined)
      c.problem(`${pp}.litellm_credential_name`, "credential_list is not supported yet; set api_key here");
    for (const key of Object.keys(params)) {
      if (LITELLM_PARAMS_READ.has(key) || COST_KEYS.has(key) || key === "litellm_credential_name") continue;
      c.unsupported(
        `${pp}.${key}`,
        params[key],
        key === "max_retries"
          ? "not supported per deployment; router_settings.num_retries applies"
          : NOT_SUPPORTED,
      );
    }

    // Keys are named after the first entry using them, never after the secret.
    const keyDraft = this.key(parsed.kind, params, pp, apiBase, `${modelName}#${index}`);
    if (c.problems.length > before || keyDraft === undefined || modelName === "") return;
    const { provider, key } = keyDraft;

    // model_info's pricing, then litellm_params' over it.
    const price = { ...this.costs(raw.model_info, `${path}.model_info`), ...this.costs(params, pp) };
    const priced = Object.keys(price).length > 0;
    if (parsed.wildcard || modelName.includes("*")) {
      if (priced) c.warn(path, "pricing of a wildcard entry is not supported; ignored");
      if (key !== undefined) key.models = undefined;
      if (modelName !== `${provider.name}/*`)
        c.warn(
          `${path}.model_name`,
          `wildcard "${modelName}" routes as Switchyard's "provider/model": clients write ${provider.name}/<model>`,
        );
      return;
    }
    key?.models?.add(parsed.model);
    if (priced) {
      const priceKey = `${provider.name}/${parsed.model}`;
      this.prices[priceKey] = { ...this.prices[priceKey], ...price };
    }
    if (!this.groupOrder.includes(modelName)) this.groupOrder.push(modelName);
    this.drafts.push({
      group: modelName,
      deployment: {
        provider: provider.name,
        model: parsed.model,
        ...(key !== undefined ? { key: key.key.name } : {}),
        ...(weight !== undefined ? { weight } : {}),
        order: order ?? 0,
        ...(rpm !== undefined ? { rpm } : {}),
        ...(tpm !== undefined ? { tpm } : {}),
        ...(timeout !== undefined ? { timeoutMs: Math.round(timeout * 1000) } : {}),
      },
    });
  }

  /** The custom pricing keys `raw` sets, as rates; bad values are problems. */
  private costs(raw: unknown, path: string): Partial<ModelPrice> {
    const rates: Partial<Record<keyof ModelPrice, number>> = {};
    if (!isObject(raw)) return rates;
    for (const [name, field] of COST_KEYS) {
      const value = this.r.number(raw, name, path, 0, false);
      if (value !== undefined) rates[field] = value;
    }
    return rates;
  }

  private modelInfo(raw: unknown, path: string): void {
    if (raw === undefined || raw === null) return;
    if (!isObject(raw)) {
      this.r.c.problem(path, "must be a mapping");
      return;
    }
    for (const key of Object.keys(raw)) {
      if (
        DESCRIPTIVE_MODEL_INFO.has(key) ||
        COST_KEYS.has(key) ||
        key.startsWith("supports_") ||
        /^max_(input_|output_)?tokens$/.test(key)
      )
        continue;
      this.r.c.unsupported(
        `${path}.${key}`,
        raw[key],
        key.includes("cost")
          ? `this pricing is not supported yet; ignored (supported: ${[...COST_KEYS.keys()].join(", ")})`
          : NOT_SUPPORTED,
      );
    }
  }

  /** Finds or adds the provider and key this entry's credentials describe. */
  private key(
    kind: string,
    params: Obj,
    pp: string,
    apiBase: string | undefined,
    baseName: string,
  ): { provider: ProviderDraft; key: KeyDraft | undefined } | undefined {
    const { c } = this.r;
    const entry = catalogEntry(kind);
    const given = params.api_key !== undefined && params.api_key !== null && params.api_key !== "";
    const apiKey = given ? this.r.text(params, "api_key", pp) : firstEnv(this.r.env, entry.keyEnv);
    // Already reported (an unset os.environ/ variable); "is required" would say it twice.
    if (given && apiKey === undefined) return undefined;
    const keyName = (suffix: string) => `${baseName}${suffix}`;

    if (kind === "azure") {
      const endpointRaw = apiBase ?? firstEnv(this.r.env, ["AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT"]);
      const endpoint = endpointRaw === undefined ? undefined : normalizeAzureEndpoint(endpointRaw);
      if (endpointRaw === undefined)
        c.problem(`${pp}.api_base`, "is required for azure (or set AZURE_API_BASE)");
      else if (endpoint === undefined) c.problem(`${pp}.api_base`, AZURE_ENDPOINT_RULE);
      const version = this.r.text(params, "api_version", pp) ?? firstEnv(this.r.env, ["AZURE_API_VERSION"]);
      if (version !== undefined && !isAzureApiVersion(version))
        c.problem(`${pp}.api_version`, AZURE_API_VERSION_RULE);
      for (const entra of ["azure_ad_token", "tenant_id", "client_id", "client_secret", "azure_username"])
        if (params[entra] !== undefined && params[entra] !== null)
          c.problem(`${pp}.${entra}`, "Entra ID authentication is not supported yet; use api_key");
      if (apiKey === undefined) c.problem(`${pp}.api_key`, "is required for azure (or set AZURE_API_KEY)");
      if (endpoint === undefined || apiKey === undefined) return undefined;
      const azure: AzureKeyConfig = {
        endpoint,
        apiVersion: version ?? DEFAULT_AZURE_API_VERSION,
        deployments: {},
      };
      const provider = this.provider(kind, endpoint);
      return {
        provider,
        key: this.addKey(provider, `${apiKey}\0${azure.apiVersion}`, keyName, { value: apiKey, azure }),
      };
    }

    if (kind === "bedrock") {
      const endpoint = apiBase ?? this.r.text(params, "aws_bedrock_runtime_endpoint", pp);
      const bedrock = this.bedrock(params, pp, apiKey);
      if (bedrock === undefined) return undefined;
      const provider = this.provider(kind, endpoint === undefined ? "" : (normalizeBaseUrl(endpoint) ?? ""));
      const identity = [
        apiKey ?? "",
        bedrock.accessKey,
        bedrock.secretKey,
        bedrock.sessionToken ?? "",
        bedrock.region,
      ].join("\0");
      return { provider, key: this.addKey(provider, identity, keyName, { value: apiKey ?? "", bedrock }) };
    }

    if (kind === "vertex") {
      const vertex = this.vertex(params, pp, apiKey);
      if (vertex === undefined) return undefined;
      const provider = this.provider(kind, apiBase ?? "");
      const identity = [apiKey ?? "", vertex.projectId, vertex.region, vertex.serviceAccountJson].join("\0");
      return { provider, key: this.addKey(provider, identity, keyName, { value: apiKey ?? "", vertex }) };
    }

    for (const key of [
      "aws_access_key_id",
      "aws_secret_access_key",
      "aws_session_token",
      "aws_region_name",
      "aws_bedrock_runtime_endpoint",
    ])
      if (params[key] !== undefined) c.warn(`${pp}.${key}`, "applies to bedrock models only; ignored");
    for (const key of ["vertex_project", "vertex_location", "vertex_credentials"])
      if (params[key] !== undefined) c.warn(`${pp}.${key}`, "applies to vertex_ai models only; ignored");
    if (params.api_version !== undefined && params.api_version !== null)
      c.warn(`${pp}.api_version`, "applies to azure models only; ignored");

    const baseUrl = apiBase ?? defaultBaseUrl(kind);
    if (baseUrl === "") {
      c.problem(
        `${pp}.api_base`,
        `is required for ${kind === "custom" ? "an OpenAI-compatible server" : kind}`,
      );
      return undefined;
    }
    // Local servers and OpenAI-compatible endpoints of one's own may run without a key; public APIs may not.
    const keyless = entry.auth === "none" || kind === "custom" || kind === "vllm";
    if (apiKey === undefined && !keyless) {
      const hint = entry.keyEnv.length > 0 ? ` (or set ${entry.keyEnv.join(" or ")})` : "";
      c.problem(`${pp}.api_key`, `is required for ${kind}${hint}`);
      return undefined;
    }
    const provider = this.provider(kind, baseUrl);
    if (apiKey === undefined) return { provider, key: undefined };
    return { provider, key: this.addKey(provider, apiKey, keyName, { value: apiKey }) };
  }

  private addKey(
    provider: ProviderDraft,
    identity: string,
    keyName: (suffix: string) => string,
    fields: Omit<ProviderKey, "name" | "models" | "weight">,
  ): KeyDraft {
    const found = provider.keys.find((k) => k.identity === identity);
    if (found !== undefined) return found;
    let name = keyName("");
    for (let n = 2; provider.keys.some((k) => k.key.name === name); n++) name = keyName(`-${n}`);
    const draft: KeyDraft = { identity, key: { name, weight: 1, ...fields }, models: new Set() };
    provider.keys.push(draft);
    return draft;
  }

  private bedrock(params: Obj, pp: string, apiKey: string | undefined): BedrockKeyConfig | undefined {
    const { c, env } = this.r;
    const before = c.problems.length;
    for (const key of ["aws_role_name", "aws_profile_name", "aws_web_identity_token", "aws_sts_endpoint"])
      if (params[key] !== undefined && params[key] !== null)
        c.problem(
          `${pp}.${key}`,
          "not supported yet; use aws_access_key_id and aws_secret_access_key, or api_key",
        );
    const region =
      this.r.text(params, "aws_region_name", pp) ??
      firstEnv(env, ["AWS_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"]);
    if (region === undefined)
      c.problem(`${pp}.aws_region_name`, "is required for bedrock (or set AWS_REGION_NAME)");
    else if (!isAwsRegion(region)) c.problem(`${pp}.aws_region_name`, AWS_REGION_RULE);
    let accessKey = this.r.text(params, "aws_access_key_id", pp) ?? "";
    let secretKey = this.r.text(params, "aws_secret_access_key", pp) ?? "";
    let sessionToken = this.r.text(params, "aws_session_token", pp);
    if ((accessKey === "") !== (secretKey === ""))
      c.problem(
        `${pp}.${accessKey === "" ? "aws_access_key_id" : "aws_secret_access_key"}`,
        "is required with the other AWS key",
      );
    if (accessKey === "" && apiKey === undefined) {
      accessKey = firstEnv(env, ["AWS_ACCESS_KEY_ID"]) ?? "";
      secretKey = firstEnv(env, ["AWS_SECRET_ACCESS_KEY"]) ?? "";
      sessionToken ??= firstEnv(env, ["AWS_SESSION_TOKEN"]);
      if (accessKey === "" || secretKey === "")
        c.problem(
          pp,
          "no bedrock credentials: set aws_access_key_id and aws_secret_access_key, api_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        );
    }
    if (c.problems.length > before || region === undefined) return undefined;
    return {
      accessKey,
      secretKey,
      region,
      deployments: {},
      ...(sessionToken !== undefined ? { sessionToken } : {}),
    };
  }

  private vertex(params: Obj, pp: string, apiKey: string | undefined): VertexKeyConfig | undefined {
    const { c, env } = this.r;
    const before = c.problems.length;
    let serviceAccountJson = "";
    let saProject: string | undefined;
    const credsPath = `${pp}.vertex_credentials`;
    const creds = this.r.text(params, "vertex_credentials", pp);
    // LiteLLM takes the service-account JSON itself or the path of its file.
    const fromFile = creds !== undefined && !creds.startsWith("{");
    const source =
      creds ?? (apiKey === undefined ? firstEnv(env, ["GOOGLE_APPLICATION_CREDENTIALS"]) : undefined);
    if (source !== undefined) {
      let text = source;
      if (fromFile || creds === undefined) {
        const file = isAbsolute(source) ? source : resolve(this.configDir, source);
        const read = readCredentialsFile(file);
        if ("why" in read) {
          c.problem(credsPath, `cannot read the credentials file ${file}: ${read.why}`);
          return undefined;
        }
        text = read.text;
      }
      const check = checkServiceAccount(text);
      if (!check.ok) c.problem(credsPath, check.why);
      else {
        serviceAccountJson = text;
        saProject = check.projectId;
      }
    } else if (apiKey === undefined) {
      c.problem(credsPath, "is required for vertex_ai (or api_key, or GOOGLE_APPLICATION_CREDENTIALS)");
    }
    const projectId =
      this.r.text(params, "vertex_project", pp) ??
      firstEnv(env, ["VERTEXAI_PROJECT", "VERTEX_PROJECT"]) ??
      saProject;
    if (projectId === undefined)
      c.problem(`${pp}.vertex_project`, "is required for vertex_ai (or set VERTEXAI_PROJECT)");
    else if (!isGcpProjectId(projectId)) c.problem(`${pp}.vertex_project`, GCP_PROJECT_RULE);
    const region =
      this.r.text(params, "vertex_location", pp) ??
      firstEnv(env, ["VERTEXAI_LOCATION", "VERTEX_LOCATION"]) ??
      DEFAULT_VERTEX_REGION;
    if (!isGcpRegion(region)) c.problem(`${pp}.vertex_location`, GCP_REGION_RULE);
    if (c.problems.length > before || projectId === undefined) return undefined;
    return { projectId, region, serviceAccountJson };
  }

  /** Providers and model groups; weights follow LiteLLM's simple-shuffle (weight, else rpm, else tpm). */
  build(requestTimeoutMs: number): {
    providers: Record<string, ProviderConfig>;
    modelGroups: Record<string, Deployment[]>;
  } {
    const providers: Record<string, ProviderConfig> = {};
    for (const p of this.providers) {
      providers[p.name] = {
        name: p.name,
        kind: p.kind,
        keys: p.keys.map((k) => ({ ...k.key, models: k.models === undefined ? [] : [...k.models] })),
        network: {
          // Azure keys carry their resource endpoint; the provider has no URL of its own.
          baseUrl: p.kind === "azure" ? "" : p.baseUrl,
          extraHeaders: {},
          requestTimeoutMs,
          // The router retries across deployments; a provider-level retry would multiply attempts.
          maxRetries: 0,
          retryBackoffInitialMs: DEFAULT_RETRY_BACKOFF_INITIAL_MS,
          retryBackoffMaxMs: DEFAULT_RETRY_BACKOFF_MAX_MS,
        },
        concurrency: DEFAULT_CONCURRENCY,
      };
    }
    const modelGroups: Record<string, Deployment[]> = {};
    for (const group of this.groupOrder) {
      const members = this.drafts.filter((d) => d.group === group).map((d) => d.deployment);
      const by = members.every((m) => m.weight !== undefined)
        ? undefined
        : members.every((m) => m.rpm !== undefined)
          ? "rpm"
          : members.every((m) => m.tpm !== undefined)
            ? "tpm"
            : undefined;
      modelGroups[group] = members.map((m) => ({
        ...m,
        weight: m.weight ?? (by !== undefined ? (m[by] ?? 1) : 1),
      }));
    }
    return { providers, modelGroups };
  }
}

function firstEnv(env: NodeJS.ProcessEnv, names: readonly string[]): string | undefined {
  for (const name of names) {
    const v = env[name]?.trim();
    if (v) return v;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Settings

/** LiteLLM's fallbacks shape: a list of single-key mappings, `[{"gpt-4o": ["claude", "gpt-4o-mini"]}]`. */
function readFallbacks(c: Collector, raw: unknown, path: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (raw === undefined || raw === null) return out;
  if (!Array.isArray(raw)) {
    c.problem(path, 'must be a list of mappings such as [{"gpt-4o": ["claude-sonnet"]}]');
    return out;
  }
  raw.forEach((item, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(item) || Object.keys(item).length === 0) {
      c.problem(p, 'must be a mapping such as {"gpt-4o": ["claude-sonnet"]}');
      return;
    }
    for (const [model, targets] of Object.entries(item)) {
      const list = typeof targets === "string" ? [targets] : targets;
      if (!Array.isArray(list) || list.some((t) => typeof t !== "string" || t.trim() === "")) {
        c.problem(`${p}.${model}`, "must be a list of model names");
        continue;
      }
      out[model] = [...(out[model] ?? []), ...(list as string[])];
    }
  });
  return out;
}

function readRetryPolicy(
  c: Collector,
  r: Reader,
  raw: Obj | undefined,
  path: string,
): Partial<Record<RetryClass, number>> {
  const out: Partial<Record<RetryClass, number>> = {};
  if (raw === undefined) return out;
  for (const key of Object.keys(raw)) {
    const cls = RETRY_CLASSES.find((k) => `${k}Retries` === key);
    if (cls === undefined) {
      c.warn(
        `${path}.${key}`,
        `unknown error class; ignored (known: ${RETRY_CLASSES.map((k) => `${k}Retries`).join(", ")})`,
      );
      continue;
    }
    const n = r.number(raw, key, path, 0, true);
    if (n !== undefined) out[cls] = n;
  }
  return out;
}

function readAliases(c: Collector, raw: Obj | undefined, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const [alias, target] of Object.entries(raw)) {
    const p = `${path}.${alias}`;
    if (typeof target === "string" && target.trim() !== "") out[alias] = target.trim();
    else if (isObject(target) && typeof target.model === "string" && target.model.trim() !== "") {
      out[alias] = target.model.trim();
      for (const key of Object.keys(target)) {
        if (key === "model") continue;
        if (key === "hidden") {
          if (target.hidden === true)
            c.warn(
              `${p}.hidden`,
              "not supported yet; ignored (/v1/models lists provider models, not aliases)",
            );
        } else c.warn(`${p}.${key}`, "unknown key; ignored");
      }
    } else c.problem(p, "must be a model_name or a mapping {model: <model_name>, hidden: true}");
  }
  return out;
}

const ROUTER_READ = new Set([
  "routing_strategy",
  "num_retries",
  "timeout",
  "allowed_fails",
  "cooldown_time",
  "fallbacks",
  "context_window_fallbacks",
  "content_policy_fallbacks",
  "retry_policy",
  "model_group_alias",
  "retry_after",
]);

const LITELLM_SETTINGS_READ = new Set([
  "drop_params",
  "turn_off_message_logging",
  "num_retries",
  "request_timeout",
  "fallbacks",
  "context_window_fallbacks",
  "content_policy_fallbacks",
  "allowed_fails",
  "cooldown_time",
  "require_auth_for_metrics_endpoint",
  "default_key_generate_params",
  "upperbound_key_generate_params",
  "cache",
  "cache_params",
]);

const GENERAL_READ = new Set([
  "master_key",
  "disable_spend_logs",
  "store_prompts_in_spend_logs",
  "maximum_spend_logs_retention_period",
  "database_url",
  "max_request_size_mb",
  "forward_openai_org_id",
  "forward_client_headers_to_llm_api",
]);

const TOP_LEVEL_READ = new Set([
  "model_list",
  "router_settings",
  "litellm_settings",
  "general_settings",
  "environment_variables",
  "include",
  "switchyard_plugins",
  "switchyard_cache",
  "cluster",
]);

/**
 * `environment_variables` as LiteLLM applies them: set before the rest is read, winning over the process's
 * own. Switchyard keeps them private to this configuration (os.environ/ references and provider key
 * fallbacks) instead of changing the process environment, and never logs them.
 */
function overlayEnvironment(c: Collector, raw: unknown, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (raw === undefined || raw === null) return env;
  if (!isObject(raw)) {
    c.problem("environment_variables", "must be a mapping of variable names to values");
    return env;
  }
  const overlay: NodeJS.ProcessEnv = { ...env };
  const r = new Reader(c, env);
  for (const [name, value] of Object.entries(raw)) {
    const p = "environment_variables";
    if (!ENV_VAR_NAME.test(name)) c.problem(`${p}.${name}`, "is not a valid environment variable name");
    else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
      const resolved = r.value(raw, name, p);
      if (resolved !== undefined) overlay[name] = String(resolved);
    } else if (value !== null) c.problem(`${p}.${name}`, "must be a string, number or boolean");
  }
  return overlay;
}

function mergeFallbacks(
  c: Collector,
  fromSettings: Record<string, string[]>,
  fromRouter: Record<string, string[]>,
  name: string,
): Record<string, string[]> {
  for (const model of Object.keys(fromRouter))
    if (fromSettings[model] !== undefined)
      c.warn(`litellm_settings.${name}`, `"${model}" is also set in router_settings.${name}, which is kept`);
  return { ...fromSettings, ...fromRouter };
}

/**
 * Switchyard's `switchyard_plugins`, and LiteLLM's header forwarding where it names its headers:
 * `forward_openai_org_id` forwards OpenAI-Organization (header_allowlist). LiteLLM's
 * `forward_client_headers_to_llm_api` forwards every x- header, which a list of names cannot say.
 */
function readPlugins(c: Collector, r: Reader, root: Obj, general: Obj): PluginSpec[] {
  const plugins = parseSwitchyardPlugins(c, root.switchyard_plugins, "switchyard_plugins");
  if (r.boolean(general, "forward_openai_org_id", "general_settings") === true) {
    if (plugins.some((p) => p.builtin === HEADER_ALLOWLIST && p.enabled))
      c.problem(
        "general_settings.forward_openai_org_id",
        `switchyard_plugins has a ${HEADER_ALLOWLIST} already: add openai-organization to its headers instead`,
      );
    else plugins.unshift(headerAllowlistSpec(["openai-organization"]));
  }
  const forwardAll = general.forward_client_headers_to_llm_api;
  if (forwardAll !== undefined && forwardAll !== null && forwardAll !== false)
    c.warn(
      "general_settings.forward_client_headers_to_llm_api",
      `LiteLLM forwards every x- header; Switchyard forwards only headers it is given by name: list them under switchyard_plugins with builtin: ${HEADER_ALLOWLIST}; ignored`,
    );
  return plugins;
}

/**
 * Reads a LiteLLM proxy config.yaml. Resolves `os.environ/X` references, merges `include` files, and throws
 * ConfigError listing every problem; warnings name each setting that has no effect in Switchyard.
 */
export function parseLiteLLMConfig(
  text: string,
  source: string,
  processEnv: NodeJS.ProcessEnv,
): { config: GatewayConfig; warnings: string[]; includes: string[] } {
  const file = resolve(source);
  const c = new Collector();
  const parsed = parseYaml(text, source);
  if (parsed !== null && parsed !== undefined && !isObject(parsed))
    throw new ConfigError(source, ["(root): must be a YAML mapping (model_list, router_settings, ...)"]);
  const includes = new Set<string>();
  const root = applyIncludes(c, isObject(parsed) ? parsed : {}, file, [file], includes);
  const env = overlayEnvironment(c, root.environment_variables, processEnv);
  const r = new Reader(c, env);

  for (const key of Object.keys(root)) if (!TOP_LEVEL_READ.has(key)) c.unsupported(key, root[key]);

  const litellm = r.section(root, "litellm_settings") ?? {};
  const router = r.section(root, "router_settings") ?? {};
  const general = r.section(root, "general_settings") ?? {};

  const requestTimeout =
    r.number(litellm, "request_timeout", "litellm_settings", 0, false) ??
    LITELLM_DEFAULTS.requestTimeoutSeconds;

  const list = new ModelList(r, dirname(file));
  const rawList = root.model_list;
  if (rawList !== undefined && rawList !== null && !Array.isArray(rawList))
    c.problem("model_list", "must be a list");
  else if (Array.isArray(rawList))
    rawList.forEach((entry, i) => {
      list.entry(entry, i);
    });
  if (!Array.isArray(rawList) || rawList.length === 0)
    c.warn("model_list", "no models configured; every model request will fail until one is added");

  // Routing: router_settings wins over litellm_settings where both may set a value, as in LiteLLM.
  const strategyRaw = r.text(router, "routing_strategy", "router_settings");
  let strategy: RoutingStrategy = "weighted";
  if (strategyRaw !== undefined) {
    const mapped = STRATEGIES[strategyRaw];
    if (mapped !== undefined) strategy = mapped;
    else if (UNSUPPORTED_STRATEGIES.has(strategyRaw))
      c.warn(
        "router_settings.routing_strategy",
        `${strategyRaw} is not supported yet; simple-shuffle (weighted) is used`,
      );
    else
      c.problem(
        "router_settings.routing_strategy",
        `must be one of ${[...Object.keys(STRATEGIES), ...UNSUPPORTED_STRATEGIES].join(", ")}`,
      );
  }
  const num = (section: Obj, name: string, key: string, whole = true) =>
    r.number(section, key, name, 0, whole);
  const numRetries =
    num(router, "router_settings", "num_retries") ??
    num(litellm, "litellm_settings", "num_retries") ??
    LITELLM_DEFAULTS.numRetries;
  const allowedFails =
    num(router, "router_settings", "allowed_fails") ??
    num(litellm, "litellm_settings", "allowed_fails") ??
    LITELLM_DEFAULTS.allowedFails;
  const cooldown =
    num(router, "router_settings", "cooldown_time", false) ??
    num(litellm, "litellm_settings", "cooldown_time", false) ??
    LITELLM_DEFAULTS.cooldownSeconds;
  const timeout = num(router, "router_settings", "timeout", false) ?? 0;
  const retryAfter = num(router, "router_settings", "retry_after", false) ?? 0;
  const backoffInitial = retryAfter > 0 ? Math.round(retryAfter * 1000) : DEFAULT_RETRY_BACKOFF_INITIAL_MS;

  const fallbackKinds = ["fallbacks", "context_window_fallbacks", "content_policy_fallbacks"] as const;
  const [fallbacks, contextWindowFallbacks, contentPolicyFallbacks] = fallbackKinds.map((name) =>
    mergeFallbacks(
      c,
      readFallbacks(c, litellm[name], `litellm_settings.${name}`),
      readFallbacks(c, router[name], `router_settings.${name}`),
      name,
    ),
  ) as [Record<string, string[]>, Record<string, string[]>, Record<string, string[]>];
  const retryPolicy = readRetryPolicy(
    c,
    r,
    r.section(router, "retry_policy", "router_settings"),
    "router_settings.retry_policy",
  );
  const aliases = readAliases(
    c,
    r.section(router, "model_group_alias", "router_settings"),
    "router_settings.model_group_alias",
  );

  unread(c, router, "router_settings", ROUTER_READ);
  unread(c, litellm, "litellm_settings", LITELLM_SETTINGS_READ);
  unread(c, general, "general_settings", GENERAL_READ);

  const dropParams = r.boolean(litellm, "drop_params", "litellm_settings");
  const masterKey = r.text(general, "master_key", "general_settings");
  const metricsRequireKey = r.boolean(litellm, "require_auth_for_metrics_endpoint", "litellm_settings");
  const bodyMb = r.number(general, "max_request_size_mb", "general_settings", 1, false);
  const plugins = readPlugins(c, r, root, general);
  const governance = parseLiteLLMGovernance(c, r, litellm, general, env);
  const logs = readLogs(r, litellm, general);
  const cache = readCache(r, root, litellm);
  const cluster = readClusterSection(
    c,
    r.section(root, "cluster"),
    (raw, path) => {
      const dot = path.lastIndexOf(".");
      const key = path.slice(dot + 1);
      return r.value({ [key]: raw }, key, path.slice(0, dot));
    },
    env,
  );

  const { providers, modelGroups } = list.build(Math.round(requestTimeout * 1000));

  // Priority tiers (LiteLLM's `order`) take effect under simple-shuffle; other strategies ignore them.
  const ordered = Object.values(modelGroups).some((g) => g.some((d) => d.order > 0));
  if (ordered && strategy === "weighted") strategy = "priority";
  else if (ordered) c.warn("model_list", `order is ignored under routing_strategy ${strategyRaw}`);

  const names = new Set([...Object.keys(modelGroups), ...Object.keys(aliases)]);
  const known = (m: string) =>
    names.has(m) || (m.includes("/") && providers[m.slice(0, m.indexOf("/"))] !== undefined);
  for (const [alias, target] of Object.entries(aliases)) {
    if (modelGroups[alias] !== undefined)
      c.warn(
        `router_settings.model_group_alias.${alias}`,
        "is also a model_name; the model_name's deployments serve it",
      );
    if (modelGroups[target] === undefined)
      c.warn(`router_settings.model_group_alias.${alias}`, `"${target}" is not a model_name in model_list`);
  }
  for (const [name, table] of [
    ["fallbacks", fallbacks],
    ["context_window_fallbacks", contextWindowFallbacks],
    ["content_policy_fallbacks", contentPolicyFallbacks],
  ] as const) {
    for (const [model, targets] of Object.entries(table)) {
      if (model !== "*" && !known(model))
        c.warn(`${name}.${model}`, "is not a model_name in model_list; never used");
      for (const t of targets)
        if (!known(t))
          c.warn(`${name}.${model}`, `"${t}" is not a model_name in model_list; that fallback will fail`);
    }
  }

  if (c.problems.length > 0) throw new ConfigError(source, c.problems);

  const routing: RoutingConfig = {
    strategy,
    numRetries,
    retryBackoffInitialMs: backoffInitial,
    retryBackoffMaxMs: Math.max(DEFAULT_RETRY_BACKOFF_MAX_MS, backoffInitial),
    timeoutMs: Math.round(timeout * 1000),
    allowedFails,
    cooldownMs: Math.round(cooldown * 1000),
    fallbacks,
    contextWindowFallbacks,
    contentPolicyFallbacks,
    retryPolicy,
  };
  const config: GatewayConfig = {
    providers,
    client:
      bodyMb === undefined
        ? DEFAULT_CLIENT
        : { ...DEFAULT_CLIENT, maxRequestBodyBytes: Math.round(bodyMb * MIB) },
    modelGroups,
    aliases,
    routing,
    ...(dropParams !== undefined ? { dropParams } : {}),
    ...(masterKey !== undefined ? { masterKey } : {}),
    ...(metricsRequireKey !== undefined ? { metricsRequireKey } : {}),
    ...(plugins.length > 0 ? { plugins } : {}),
    ...(governance === undefined ? {} : { governance }),
    logs,
    ...(cache === undefined ? {} : { cache }),
    ...(cluster === undefined ? {} : { cluster }),
    ...(Object.keys(list.prices).length > 0 ? { prices: list.prices } : {}),
    source,
  };
  return { config: deepFreeze(config), warnings: c.warnings, includes: [...includes] };
}
