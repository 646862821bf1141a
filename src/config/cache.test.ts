import { describe, expect, it } from "vitest";
import { parseBifrostConfig } from "./bifrost.js";
import {
  cacheFromEnvironment,
  DEFAULT_CACHE,
  DEFAULT_SEMANTIC,
  DEFAULT_SIMILARITY_THRESHOLD,
} from "./cache.js";
import { ConfigError } from "./errors.js";
import { parseLiteLLMConfig } from "./litellm.js";

const MODEL =
  "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: sk-x\n";

function litellm(yaml: string, env: NodeJS.ProcessEnv = {}) {
  return parseLiteLLMConfig(`${MODEL}${yaml}`, "c.yaml", env);
}

describe("cache settings", () => {
  it("cache nothing unless asked", () => {
    expect(litellm("").config.cache).toBeUndefined();
    expect(cacheFromEnvironment(undefined, {})).toBeUndefined();
  });

  it("take LiteLLM's cache and cache_params as they are: local, redis and redis-semantic", () => {
    expect(
      litellm("litellm_settings:\n  cache: true\n  cache_params:\n    type: local\n    ttl: 600\n").config
        .cache,
    ).toEqual({
      ...DEFAULT_CACHE,
      store: "memory",
      ttlMs: 600_000,
    });
    const redis = litellm(
      "litellm_settings:\n  cache: true\n  cache_params:\n    type: redis\n    host: cache.internal\n    port: 6380\n    password: os.environ/REDIS_SECRET\n    namespace: prod\n",
      { REDIS_SECRET: "p@ss" },
    ).config.cache;
    expect(redis).toMatchObject({
      store: "redis",
      redisUrl: "redis://:p%40ss@cache.internal:6380",
      namespace: "prod",
    });
    const semantic = litellm(
      "litellm_settings:\n  cache: true\n  cache_params:\n    type: redis-semantic\n    similarity_threshold: 0.8\n    redis_semantic_cache_embedding_model: text-embedding-3-small\n",
      { REDIS_URL: "redis://127.0.0.1:6379" },
    ).config.cache;
    expect(semantic).toMatchObject({
      store: "redis",
      redisUrl: "redis://127.0.0.1:6379",
      semantic: { ...DEFAULT_SEMANTIC, embeddingModel: "text-embedding-3-small", threshold: 0.8 },
    });
  });

  it("take Switchyard's own bounds and overrides by model and key beside LiteLLM's", () => {
    const { config, warnings } = litellm(
      "litellm_settings:\n  cache: true\n  cache_params: {type: local}\nswitchyard_cache:\n  max_mb: 64\n  models:\n    gpt-4o: {ttl: 30, semantic: false}\n  keys:\n    team-a-key: {enabled: false}\n    other: {namespace: shared, colour: red}\n",
    );
    expect(config.cache).toMatchObject({
      maxBytes: 64 * 1024 * 1024,
      models: { "gpt-4o": { ttlMs: 30_000, semantic: false } },
      keys: { "team-a-key": { enabled: false }, other: { namespace: "shared" } },
    });
    expect(warnings).toContain("switchyard_cache.keys.other.colour: is not a cache setting; ignored");
  });

  it("refuse LiteLLM cache types it cannot serve, and malformed values, naming them", () => {
    const refused = (yaml: string) => () => litellm(yaml);
    expect(refused("litellm_settings:\n  cache: true\n  cache_params: {type: s3}\n")).toThrow(
      /"s3" is not supported/,
    );
    expect(refused("litellm_settings:\n  cache: true\n  cache_params: {type: redis}\n")).toThrow(
      /Redis needs host/,
    );
    expect(refused("litellm_settings:\n  cache: true\n  cache_params: {type: local, ttl: -5}\n")).toThrow(
      ConfigError,
    );
    expect(
      refused("litellm_settings:\n  cache: true\n  cache_params: {type: redis-semantic, host: h}\n"),
    ).toThrow(/needs an embedding model/);
  });

  it("take Bifrost's semantic_cache plugin and its Redis vector store as they are", () => {
    const bifrost = (json: object, env: NodeJS.ProcessEnv = {}) =>
      parseBifrostConfig({ providers: {}, ...json }, env, "config.json");
    const plugin = (config: object) => ({ plugins: [{ enabled: true, name: "semantic_cache", config }] });
    const { config, warnings } = bifrost(
      {
        ...plugin({
          provider: "openai",
          embedding_model: "text-embedding-3-small",
          dimension: 1536,
          ttl: "5m",
          threshold: 0.92,
          conversation_history_threshold: 2,
          exclude_system_prompt: true,
        }),
        vector_store: {
          enabled: true,
          type: "redis",
          config: { addr: "redis.internal:6379", password: "env.REDIS_PW" },
        },
      },
      { REDIS_PW: "s3cret" },
    );
    expect(config.cache).toMatchObject({
      store: "redis",
      redisUrl: "redis://:s3cret@redis.internal:6379",
      ttlMs: 300_000,
      semantic: { embeddingModel: "openai/text-embedding-3-small", threshold: 0.92, maxTurns: 2 },
    });
    expect(config.plugins).toBeUndefined();
    expect(warnings.filter((w) => !w.startsWith("providers:"))).toEqual([
      "plugins.semantic_cache.config.exclude_system_prompt: the system prompt always scopes a semantic match; ignored",
    ]);
    const exact = bifrost(plugin({ dimension: 1, ttl: 60 })).config.cache;
    expect(exact).toMatchObject({ store: "memory", ttlMs: 60_000 });
    expect(exact?.semantic).toBeUndefined();
    expect(bifrost({ plugins: [{ enabled: false, name: "semantic_cache" }] }).config.cache).toBeUndefined();
    expect(() => bifrost(plugin({ provider: "openai", embedding_model: "e", ttl: "forever" }))).toThrow(
      /ttl/,
    );
    expect(
      bifrost({ ...plugin({ dimension: 1 }), vector_store: { enabled: true, type: "qdrant" } }).warnings,
    ).toContain('vector_store.type: "qdrant" is not supported; answers are kept in memory');
  });

  it("take the environment over the file", () => {
    expect(cacheFromEnvironment(undefined, { SWITCHYARD_CACHE: "memory" })).toEqual(DEFAULT_CACHE);
    const base = litellm("litellm_settings:\n  cache: true\n  cache_params: {type: local, ttl: 60}\n").config
      .cache;
    expect(
      cacheFromEnvironment(base, {
        SWITCHYARD_CACHE_MAX_MB: "8",
        SWITCHYARD_CACHE_EMBEDDING_MODEL: "openai/text-embedding-3-small",
        SWITCHYARD_CACHE_MAX_TURNS: "1",
      }),
    ).toMatchObject({
      ttlMs: 60_000,
      maxBytes: 8 * 1024 * 1024,
      semantic: {
        embeddingModel: "openai/text-embedding-3-small",
        threshold: DEFAULT_SIMILARITY_THRESHOLD,
        maxTurns: 1,
      },
    });
    expect(cacheFromEnvironment(base, { SWITCHYARD_CACHE: "off" })).toBeUndefined();
    expect(() => cacheFromEnvironment(undefined, { SWITCHYARD_CACHE: "redis" })).toThrow(
      /SWITCHYARD_CACHE_REDIS_URL/,
    );
    expect(() => cacheFromEnvironment(undefined, { SWITCHYARD_CACHE_SIMILARITY: "2" })).toThrow(ConfigError);
    expect(() => cacheFromEnvironment(undefined, { SWITCHYARD_CACHE_NAMESPACE: "a b" })).toThrow(ConfigError);
  });
});
