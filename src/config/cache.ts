import { ConfigError } from "./errors.js";
import type { CacheConfig, CacheOverride, SemanticCacheConfig } from "./types.js";

// The answer cache's settings and their defaults, from the environment, LiteLLM's `litellm_settings.cache`
// with `cache_params` (read in litellm.ts through readCacheParams) and Switchyard's own `switchyard_cache`.
//   SWITCHYARD_CACHE=memory|redis|off       the exact cache and where it keeps answers
//   SWITCHYARD_CACHE_REDIS_URL=redis://...  Redis, shared by every instance
//   SWITCHYARD_CACHE_TTL_SECONDS=N          how long an answer is kept
//   SWITCHYARD_CACHE_MAX_MB=N               the memory store's bound
//   SWITCHYARD_CACHE_MODE=default_on|default_off
//   SWITCHYARD_CACHE_NAMESPACE=name         entries shared by every key
//   SWITCHYARD_CACHE_EMBEDDING_MODEL=model  turns on the semantic cache with this embedding model
//   SWITCHYARD_CACHE_SIMILARITY=0.9         the semantic cache's threshold
//   SWITCHYARD_CACHE_MAX_TURNS=N            longer conversations are cached exactly only

const MIB = 1024 * 1024;

/**
 * A hit needs this cosine similarity and the same numbers, names and negations (src/cache/salient.ts).
 * With a model such as OpenAI's text-embedding-3-small, rewordings of a short question mostly score above
 * it and other questions below; the near-misses that score higher are the salient signature's to refuse.
 * test/cache/hit-quality.test.ts holds it to a precision of 0.98 on a labelled set.
 */
export const DEFAULT_SIMILARITY_THRESHOLD = 0.88;

export const DEFAULT_CACHE: Omit<CacheConfig, "semantic"> = {
  store: "memory",
  ttlMs: 60 * 60 * 1000,
  maxBytes: 256 * MIB,
  mode: "default_on",
  models: {},
  keys: {},
};

export const DEFAULT_SEMANTIC: Omit<SemanticCacheConfig, "embeddingModel"> = {
  threshold: DEFAULT_SIMILARITY_THRESHOLD,
  maxTurns: 3,
  maxBytes: 64 * MIB,
};

/** Bounds that keep a configured value sane: a week's TTL at most is the client's too (controls.ts). */
export const MAX_CACHE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const MAX_CACHE_MB = 64 * 1024;
const MAX_TURNS = 1000;
/** A namespace is part of every key and shown in the API: a short label. */
export const CACHE_NAMESPACE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The file's cache settings with the environment's over them; a malformed value is a configuration error. */
export function cacheFromEnvironment(
  base: CacheConfig | undefined,
  env: NodeJS.ProcessEnv,
): CacheConfig | undefined {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const number = (name: string, min: number, max: number, whole: boolean): number | undefined => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max || (whole && !Number.isInteger(value))) {
      problems.push(`${name}: must be a${whole ? " whole" : ""} number from ${min} to ${max}`);
      return undefined;
    }
    return value;
  };
  const kind = text("SWITCHYARD_CACHE")?.toLowerCase();
  if (kind !== undefined && !["memory", "redis", "off"].includes(kind))
    problems.push("SWITCHYARD_CACHE: must be memory, redis or off");
  const redisUrl = text("SWITCHYARD_CACHE_REDIS_URL");
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl))
    problems.push("SWITCHYARD_CACHE_REDIS_URL: must be a redis:// or rediss:// URL");
  const ttl = number("SWITCHYARD_CACHE_TTL_SECONDS", 1, MAX_CACHE_TTL_MS / 1000, true);
  const maxMb = number("SWITCHYARD_CACHE_MAX_MB", 1, MAX_CACHE_MB, true);
  const mode = text("SWITCHYARD_CACHE_MODE");
  if (mode !== undefined && mode !== "default_on" && mode !== "default_off")
    problems.push("SWITCHYARD_CACHE_MODE: must be default_on or default_off");
  const namespace = text("SWITCHYARD_CACHE_NAMESPACE");
  if (namespace !== undefined && !CACHE_NAMESPACE.test(namespace))
    problems.push("SWITCHYARD_CACHE_NAMESPACE: 1 to 64 letters, digits and _ . : -");
  const embeddingModel = text("SWITCHYARD_CACHE_EMBEDDING_MODEL");
  const similarity = number("SWITCHYARD_CACHE_SIMILARITY", 0, 1, false);
  const maxTurns = number("SWITCHYARD_CACHE_MAX_TURNS", 1, MAX_TURNS, true);
  if (problems.length > 0) throw new ConfigError("environment", problems);

  if (kind === "off") return undefined;
  const given =
    kind !== undefined ||
    redisUrl !== undefined ||
    ttl !== undefined ||
    maxMb !== undefined ||
    mode !== undefined ||
    namespace !== undefined ||
    embeddingModel !== undefined ||
    similarity !== undefined ||
    maxTurns !== undefined;
  if (!given) return base;
  const store =
    kind === "memory" || kind === "redis" ? kind : (base?.store ?? (redisUrl ? "redis" : "memory"));
  const url = redisUrl ?? base?.redisUrl;
  if (store === "redis" && url === undefined)
    throw new ConfigError("environment", ["SWITCHYARD_CACHE=redis: SWITCHYARD_CACHE_REDIS_URL is not set"]);
  const semanticModel = embeddingModel ?? base?.semantic?.embeddingModel;
  const semantic: SemanticCacheConfig | undefined =
    semanticModel === undefined
      ? undefined
      : {
          ...DEFAULT_SEMANTIC,
          ...base?.semantic,
          embeddingModel: semanticModel,
          ...(similarity === undefined ? {} : { threshold: similarity }),
          ...(maxTurns === undefined ? {} : { maxTurns }),
        };
  return {
    ...DEFAULT_CACHE,
    ...base,
    store,
    ...(url === undefined ? {} : { redisUrl: url }),
    ...(ttl === undefined ? {} : { ttlMs: ttl * 1000 }),
    ...(maxMb === undefined ? {} : { maxBytes: maxMb * MIB }),
    ...(mode === "default_on" || mode === "default_off" ? { mode } : {}),
    ...(namespace === undefined ? {} : { namespace }),
    ...(semantic === undefined ? {} : { semantic }),
  };
}

/** What a configuration reader hands over: a value's checks report to it. */
export interface CacheReader {
  problem(path: string, what: string): void;
  warn(path: string, what: string): void;
}

/** A plain-object value as YAML or JSON gives it. */
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** One override (`switchyard_cache.models.<name>` or `.keys.<id>`): enabled, ttl, semantic, similarity_threshold, namespace. */
export function readOverride(c: CacheReader, raw: unknown, path: string): CacheOverride | undefined {
  if (!isObj(raw)) {
    c.problem(path, "must be a mapping");
    return undefined;
  }
  const out: { -readonly [K in keyof CacheOverride]?: CacheOverride[K] } = {};
  for (const [name, value] of Object.entries(raw)) {
    const at = `${path}.${name}`;
    if (name === "enabled" || name === "semantic") {
      if (typeof value === "boolean") out[name] = value;
      else c.problem(at, "must be true or false");
    } else if (name === "ttl") {
      const ttl = seconds(value);
      if (ttl === undefined) c.problem(at, `must be seconds from 1 to ${MAX_CACHE_TTL_MS / 1000}`);
      else out.ttlMs = ttl;
    } else if (name === "similarity_threshold") {
      if (typeof value === "number" && value >= 0 && value <= 1) out.threshold = value;
      else c.problem(at, "must be a number from 0 to 1");
    } else if (name === "namespace") {
      if (typeof value === "string" && CACHE_NAMESPACE.test(value)) out.namespace = value;
      else c.problem(at, "must be 1 to 64 letters, digits and _ . : -");
    } else c.warn(at, "is not a cache setting; ignored");
  }
  return out;
}

/** A TTL in seconds as a number or numeric string, in milliseconds; undefined when out of bounds. */
export function seconds(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0 || n * 1000 > MAX_CACHE_TTL_MS) return undefined;
  return Math.max(1, Math.round(n * 1000));
}

/** LiteLLM's `cache_params.type`: the ones Switchyard serves, and how. */
const LITELLM_TYPES: ReadonlyMap<string, { store: "memory" | "redis"; semantic: boolean }> = new Map([
  ["local", { store: "memory", semantic: false }],
  ["redis", { store: "redis", semantic: false }],
  ["redis-semantic", { store: "redis", semantic: true }],
]);

export interface LiteLLMCacheSource {
  /** `litellm_settings.cache`. */
  readonly enabled: boolean | undefined;
  /** `litellm_settings.cache_params`, its `os.environ/` values resolved. */
  readonly params: Obj | undefined;
  /** Switchyard's own `switchyard_cache` section. */
  readonly own: Obj | undefined;
  /** For REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_URL, as LiteLLM reads them. */
  readonly env: NodeJS.ProcessEnv;
}

const PARAMS_READ = new Set([
  "type",
  "host",
  "port",
  "password",
  "username",
  "url",
  "redis_url",
  "ttl",
  "similarity_threshold",
  "redis_semantic_cache_embedding_model",
  "namespace",
  "mode",
  "supported_call_types",
]);

/** The cache as a LiteLLM configuration sets it; undefined when `litellm_settings.cache` is not true. */
export function readLiteLLMCache(c: CacheReader, source: LiteLLMCacheSource): CacheConfig | undefined {
  const own = source.own === undefined ? undefined : readOwnSection(c, source.own);
  if (source.enabled !== true) {
    if (source.params !== undefined)
      c.warn("litellm_settings.cache_params", "litellm_settings.cache is not true; ignored");
    return undefined;
  }
  const params = source.params ?? {};
  const at = (name: string) => `litellm_settings.cache_params.${name}`;
  for (const name of Object.keys(params))
    if (!PARAMS_READ.has(name)) c.warn(at(name), "not supported; ignored");
  const typeName = typeof params.type === "string" ? params.type : "redis";
  const type = LITELLM_TYPES.get(typeName);
  if (type === undefined) {
    c.problem(at("type"), `"${typeName}" is not supported (local, redis or redis-semantic)`);
    return undefined;
  }
  let redisUrl: string | undefined;
  if (type.store === "redis") {
    redisUrl = redisUrlOf(params, source.env);
    if (redisUrl === undefined) c.problem(at("host"), "Redis needs host (or url, or REDIS_HOST / REDIS_URL)");
  }
  const ttlMs = params.ttl === undefined ? undefined : seconds(params.ttl);
  if (params.ttl !== undefined && ttlMs === undefined)
    c.problem(at("ttl"), `must be seconds from 1 to ${MAX_CACHE_TTL_MS / 1000}`);
  const namespace = typeof params.namespace === "string" ? params.namespace : undefined;
  if (params.namespace !== undefined && (namespace === undefined || !CACHE_NAMESPACE.test(namespace)))
    c.problem(at("namespace"), "must be 1 to 64 letters, digits and _ . : -");
  const mode = params.mode;
  if (mode !== undefined && mode !== "default_on" && mode !== "default_off")
    c.problem(at("mode"), "must be default_on or default_off");
  if (params.supported_call_types !== undefined)
    c.warn(at("supported_call_types"), "chat, completions and embeddings are cached; ignored");
  let semantic: SemanticCacheConfig | undefined;
  if (type.semantic) {
    const model = params.redis_semantic_cache_embedding_model;
    const threshold = params.similarity_threshold;
    if (typeof model !== "string" || model === "")
      c.problem(at("redis_semantic_cache_embedding_model"), "redis-semantic needs an embedding model");
    else if (threshold !== undefined && (typeof threshold !== "number" || threshold < 0 || threshold > 1))
      c.problem(at("similarity_threshold"), "must be a number from 0 to 1");
    else
      semantic = {
        ...DEFAULT_SEMANTIC,
        ...(own?.maxTurns === undefined ? {} : { maxTurns: own.maxTurns }),
        ...(own?.semanticMaxBytes === undefined ? {} : { maxBytes: own.semanticMaxBytes }),
        embeddingModel: model,
        ...(typeof threshold === "number" ? { threshold } : {}),
      };
  }
  return {
    ...DEFAULT_CACHE,
    store: type.store,
    ...(redisUrl === undefined ? {} : { redisUrl }),
    ...(ttlMs === undefined ? {} : { ttlMs }),
    ...(own?.maxBytes === undefined ? {} : { maxBytes: own.maxBytes }),
    ...(mode === "default_on" || mode === "default_off" ? { mode } : {}),
    ...(namespace === undefined || !CACHE_NAMESPACE.test(namespace) ? {} : { namespace }),
    ...(semantic === undefined ? {} : { semantic }),
    models: own?.models ?? {},
    keys: own?.keys ?? {},
  };
}

interface OwnSection {
  readonly maxBytes?: number;
  readonly semanticMaxBytes?: number;
  readonly maxTurns?: number;
  readonly models?: Record<string, CacheOverride>;
  readonly keys?: Record<string, CacheOverride>;
}

/** `switchyard_cache`: max_mb, semantic_max_mb, max_turns, and overrides under models and keys. */
function readOwnSection(c: CacheReader, own: Obj): OwnSection {
  const out: { -readonly [K in keyof OwnSection]?: OwnSection[K] } = {};
  for (const [name, value] of Object.entries(own)) {
    const at = `switchyard_cache.${name}`;
    if (name === "max_mb" || name === "semantic_max_mb" || name === "max_turns") {
      const limit = name === "max_turns" ? MAX_TURNS : MAX_CACHE_MB;
      if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > limit) {
        c.problem(at, `must be a whole number from 1 to ${limit}`);
        continue;
      }
      if (name === "max_mb") out.maxBytes = value * MIB;
      else if (name === "semantic_max_mb") out.semanticMaxBytes = value * MIB;
      else out.maxTurns = value;
    } else if (name === "models" || name === "keys") {
      if (!isObj(value)) {
        c.problem(at, "must be a mapping");
        continue;
      }
      const overrides: Record<string, CacheOverride> = {};
      for (const [target, raw] of Object.entries(value)) {
        const override = readOverride(c, raw, `${at}.${target}`);
        if (override !== undefined) overrides[target] = override;
      }
      out[name] = overrides;
    } else c.warn(at, "is not a cache setting; ignored");
  }
  return out;
}

const BIFROST_READ = new Set([
  "provider",
  "keys",
  "embedding_model",
  "dimension",
  "ttl",
  "threshold",
  "conversation_history_threshold",
  "exclude_system_prompt",
  "cache_by_model",
  "cache_by_provider",
  "cleanup_on_shutdown",
  "vector_store_namespace",
]);

/**
 * The cache as Bifrost's semantic_cache plugin and its `vector_store` set it: the embedding model from
 * provider and embedding_model (a dimension of 1 is Bifrost's exact-only mode), ttl, threshold,
 * conversation_history_threshold; a Redis vector store keeps the answers in that Redis. The similarity
 * search itself stays in the gateway (Debian's Redis has no vector search).
 */
export function readBifrostCache(
  c: CacheReader,
  plugin: Obj | undefined,
  vectorStore: unknown,
  /** A value with Bifrost's "env.VAR" resolved; undefined (the problem recorded) when it cannot be. */
  resolve: (raw: string, path: string) => string | undefined,
): CacheConfig | undefined {
  if (plugin === undefined) return undefined;
  const at = (name: string) => `plugins.semantic_cache.config.${name}`;
  for (const name of Object.keys(plugin))
    if (!BIFROST_READ.has(name)) c.warn(at(name), "not supported; ignored");
  if (plugin.keys !== undefined)
    c.warn(at("keys"), "the embedding model's keys are the provider's, as configured in providers; ignored");
  if (plugin.exclude_system_prompt === true)
    c.warn(at("exclude_system_prompt"), "the system prompt always scopes a semantic match; ignored");
  if (plugin.cache_by_model === false || plugin.cache_by_provider === false)
    c.warn(at("cache_by_model"), "answers are always kept apart by model; ignored");
  const ttlMs = plugin.ttl === undefined ? undefined : goDurationMs(plugin.ttl);
  if (plugin.ttl !== undefined && ttlMs === undefined)
    c.problem(at("ttl"), `must be seconds or a duration such as "5m", up to ${MAX_CACHE_TTL_MS / 1000} s`);
  const threshold = plugin.threshold;
  if (threshold !== undefined && (typeof threshold !== "number" || threshold < 0 || threshold > 1))
    c.problem(at("threshold"), "must be a number from 0 to 1");
  const turns = plugin.conversation_history_threshold;
  if (
    turns !== undefined &&
    (typeof turns !== "number" || !Number.isInteger(turns) || turns < 1 || turns > MAX_TURNS)
  )
    c.problem(at("conversation_history_threshold"), `must be a whole number from 1 to ${MAX_TURNS}`);
  const provider = typeof plugin.provider === "string" ? plugin.provider : "";
  const model = typeof plugin.embedding_model === "string" ? plugin.embedding_model : "";
  const exactOnly = plugin.dimension === 1;
  if (!exactOnly && (provider === "" || model === ""))
    c.problem(
      at("embedding_model"),
      "a semantic cache needs provider and embedding_model (or dimension 1 for exact only)",
    );
  const namespace = plugin.vector_store_namespace;
  if (namespace !== undefined && (typeof namespace !== "string" || !CACHE_NAMESPACE.test(namespace)))
    c.problem(at("vector_store_namespace"), "must be 1 to 64 letters, digits and _ . : -");
  const redisUrl = bifrostRedisUrl(c, vectorStore, resolve);
  return {
    ...DEFAULT_CACHE,
    store: redisUrl === undefined ? "memory" : "redis",
    ...(redisUrl === undefined ? {} : { redisUrl }),
    ...(ttlMs === undefined ? {} : { ttlMs }),
    ...(typeof namespace === "string" && CACHE_NAMESPACE.test(namespace) ? { namespace } : {}),
    ...(exactOnly || provider === "" || model === ""
      ? {}
      : {
          semantic: {
            ...DEFAULT_SEMANTIC,
            embeddingModel: `${provider}/${model}`,
            ...(typeof threshold === "number" && threshold >= 0 && threshold <= 1 ? { threshold } : {}),
            ...(typeof turns === "number" && Number.isInteger(turns) && turns >= 1 && turns <= MAX_TURNS
              ? { maxTurns: turns }
              : {}),
          },
        }),
  };
}

/** Bifrost's `vector_store` of type redis as a URL; another type keeps the answers in memory, said in a warning. */
function bifrostRedisUrl(
  c: CacheReader,
  vectorStore: unknown,
  resolve: (raw: string, path: string) => string | undefined,
): string | undefined {
  if (!isObj(vectorStore) || vectorStore.enabled === false) return undefined;
  if (vectorStore.type !== "redis") {
    c.warn("vector_store.type", `"${String(vectorStore.type)}" is not supported; answers are kept in memory`);
    return undefined;
  }
  const config = isObj(vectorStore.config) ? vectorStore.config : {};
  const text = (name: string, fallback: string): string =>
    typeof config[name] === "string" && config[name] !== ""
      ? (resolve(config[name] as string, `vector_store.config.${name}`) ?? fallback)
      : fallback;
  const addr = text("addr", "localhost:6379");
  const password = text("password", "");
  const username = text("username", "");
  const db =
    typeof config.db === "number" && Number.isInteger(config.db) && config.db > 0 ? `/${config.db}` : "";
  const auth = password === "" ? "" : `${encodeURIComponent(username)}:${encodeURIComponent(password)}@`;
  return `redis://${auth}${addr}${db}`;
}

/** A Go duration ("30s", "5m", "1h30m") or seconds, in milliseconds, within the cache's TTL bound. */
function goDurationMs(value: unknown): number | undefined {
  if (typeof value === "number") return seconds(value);
  if (typeof value !== "string") return undefined;
  const parts = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value.trim());
  if (parts === null || value.trim() === "") return seconds(value);
  const ms = (Number(parts[1] ?? 0) * 3600 + Number(parts[2] ?? 0) * 60 + Number(parts[3] ?? 0)) * 1000;
  return ms > 0 && ms <= MAX_CACHE_TTL_MS ? ms : undefined;
}

/** LiteLLM's Redis: url (or redis_url), else host/port/username/password, else REDIS_URL, else REDIS_HOST/PORT/PASSWORD. */
function redisUrlOf(params: Obj, env: NodeJS.ProcessEnv): string | undefined {
  const url = params.url ?? params.redis_url ?? env.REDIS_URL;
  if (typeof url === "string" && url !== "") return url;
  const host = params.host ?? env.REDIS_HOST;
  if (typeof host !== "string" || host === "") return undefined;
  const port = params.port ?? env.REDIS_PORT ?? 6379;
  const password = params.password ?? env.REDIS_PASSWORD;
  const username = params.username ?? env.REDIS_USERNAME;
  const auth =
    typeof password === "string" && password !== ""
      ? `${typeof username === "string" ? encodeURIComponent(username) : ""}:${encodeURIComponent(password)}@`
      : "";
  return `redis://${auth}${host}:${String(port)}`;
}
