import { describe, expect, it } from "vitest";
import { configFromEnvironment } from "./env.js";
import { ConfigError } from "./errors.js";

describe("configFromEnvironment", () => {
  it("configures each provider whose key variable is set, with Bifrost's defaults", () => {
    const { config, warnings } = configFromEnvironment({ OPENAI_API_KEY: "sk-o", ANTHROPIC_API_KEY: "sk-a" });
    expect(warnings).toEqual([]);
    expect(config.source).toBe("environment");
    expect(Object.keys(config.providers)).toEqual(["openai", "anthropic"]);
    expect(config.providers.openai).toEqual({
      name: "openai",
      kind: "openai",
      keys: [{ name: "OPENAI_API_KEY", value: "sk-o", models: [], weight: 1 }],
      network: {
        baseUrl: "https://api.openai.com",
        extraHeaders: {},
        requestTimeoutMs: 30_000,
        maxRetries: 0,
        retryBackoffInitialMs: 500,
        retryBackoffMaxMs: 5_000,
      },
      concurrency: { concurrency: 1000, bufferSize: 5000 },
    });
  });

  it("takes the first key variable found and ignores blank ones", () => {
    const { config } = configFromEnvironment({ GEMINI_API_KEY: "  ", GOOGLE_API_KEY: "g-key" });
    expect(config.providers.gemini?.keys).toEqual([
      { name: "GOOGLE_API_KEY", value: "g-key", models: [], weight: 1 },
    ]);
    const both = configFromEnvironment({ GEMINI_API_KEY: "first", GOOGLE_API_KEY: "second" });
    expect(both.config.providers.gemini?.keys[0]?.value).toBe("first");
  });

  it("uses *_BASE_URL when set, without its trailing slash", () => {
    const { config } = configFromEnvironment({
      OPENAI_API_KEY: "k",
      OPENAI_BASE_URL: "http://localhost:4000/v1/",
    });
    expect(config.providers.openai?.network.baseUrl).toBe("http://localhost:4000/v1");
  });

  it("configures ollama from OLLAMA_BASE_URL alone, with no key", () => {
    const { config } = configFromEnvironment({ OLLAMA_BASE_URL: "http://gpu-box:11434" });
    expect(config.providers.ollama).toMatchObject({
      kind: "ollama",
      keys: [],
      network: { baseUrl: "http://gpu-box:11434" },
    });
    expect(configFromEnvironment({}).config.providers.ollama).toBeUndefined();
  });

  it("warns when a base URL is set without the key that would enable it", () => {
    const { config, warnings } = configFromEnvironment({
      OPENAI_BASE_URL: "http://localhost:8000/v1",
      XAI_API_KEY: "x",
    });
    expect(config.providers.openai).toBeUndefined();
    expect(warnings).toEqual(["OPENAI_BASE_URL: set, but OPENAI_API_KEY is not; openai is not configured"]);
  });

  it("rejects a malformed base URL instead of falling back to the public endpoint", () => {
    const err = (() => {
      try {
        configFromEnvironment({ OPENAI_API_KEY: "k", OPENAI_BASE_URL: "localhost:4000" });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      "OPENAI_BASE_URL: must be an absolute http:// or https:// URL without query or fragment",
    ]);
  });

  it("leaves CORS off and queues excess requests by default", () => {
    const { config } = configFromEnvironment({ OPENAI_API_KEY: "k" });
    expect(config.client).toEqual({
      maxRequestBodyBytes: 100 * 1024 * 1024,
      maxCountTokensBodyBytes: 4 * 1024 * 1024,
      maxConvertedBodyBytes: 32 * 1024 * 1024,
      allowedOrigins: [],
      dropExcessRequests: false,
    });
  });

  it("reads the client overrides", () => {
    const { config } = configFromEnvironment({
      OPENAI_API_KEY: "k",
      SWITCHYARD_MAX_BODY_MB: "8",
      SWITCHYARD_COUNT_TOKENS_MAX_BODY_MB: "2",
      SWITCHYARD_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:3000/",
      SWITCHYARD_DROP_EXCESS_REQUESTS: "true",
    });
    expect(config.client).toEqual({
      maxRequestBodyBytes: 8 * 1024 * 1024,
      maxCountTokensBodyBytes: 2 * 1024 * 1024,
      maxConvertedBodyBytes: 32 * 1024 * 1024,
      allowedOrigins: ["https://app.example.com", "http://localhost:3000"],
      dropExcessRequests: true,
    });
  });

  it("rejects unusable client overrides, listing each", () => {
    let err: ConfigError | undefined;
    try {
      configFromEnvironment({
        SWITCHYARD_MAX_BODY_MB: "1.5",
        SWITCHYARD_ALLOWED_ORIGINS: "example.com",
        SWITCHYARD_DROP_EXCESS_REQUESTS: "maybe",
      });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.problems).toEqual([
      "SWITCHYARD_MAX_BODY_MB: must be a whole number of MiB, at least 1",
      'SWITCHYARD_ALLOWED_ORIGINS: "example.com" must be "*" or an origin such as https://app.example.com',
      "SWITCHYARD_DROP_EXCESS_REQUESTS: must be true or false",
    ]);
  });

  it("warns when nothing is configured", () => {
    const { config, warnings } = configFromEnvironment({});
    expect(config.providers).toEqual({});
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^environment: no provider configured; set one of OPENAI_API_KEY, /);
  });
});

describe("configFromEnvironment: governance", () => {
  it("sets none unless asked", () => {
    expect(configFromEnvironment({ OPENAI_API_KEY: "k" }).config.governance).toBeUndefined();
  });

  it("reads SWITCHYARD_REQUIRE_VIRTUAL_KEY and SWITCHYARD_DATABASE_URL", () => {
    const { config } = configFromEnvironment({
      SWITCHYARD_REQUIRE_VIRTUAL_KEY: "true",
      SWITCHYARD_DATABASE_URL: " postgres://sy:pw@db:5432/switchyard ",
    });
    expect(config.governance).toEqual({
      requireVirtualKey: true,
      virtualKeys: [],
      teams: [],
      customers: [],
      databaseUrl: "postgres://sy:pw@db:5432/switchyard",
    });
    expect(
      configFromEnvironment({ SWITCHYARD_REQUIRE_VIRTUAL_KEY: "0" }).config.governance?.requireVirtualKey,
    ).toBe(false);
  });

  it("refuses unusable values without quoting the URL", () => {
    let err: ConfigError | undefined;
    try {
      configFromEnvironment({
        SWITCHYARD_REQUIRE_VIRTUAL_KEY: "yes please",
        SWITCHYARD_DATABASE_URL: "mysql://root:hunter2@db/x",
      });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.problems).toEqual([
      "SWITCHYARD_REQUIRE_VIRTUAL_KEY: must be true or false",
      "SWITCHYARD_DATABASE_URL: must be a postgres:// or postgresql:// URL (the store is SQLite unless PostgreSQL is named)",
    ]);
    expect(err?.message).not.toContain("hunter2");
  });
});
