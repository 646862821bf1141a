import { describe, expect, it } from "vitest";
import { ConfigError, parseBifrostConfig } from "./bifrost.js";

const SECRET = "sk-test-do-not-print-4f9a";
const env = { OPENAI_API_KEY: SECRET, ANTHROPIC_API_KEY: "sk-ant-test" };

function parse(json: unknown, e: NodeJS.ProcessEnv = env) {
  return parseBifrostConfig(json, e, "config.json");
}

function problemsOf(json: unknown, e: NodeJS.ProcessEnv = env): string[] {
  try {
    parse(json, e);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}

const openai = (extra: Record<string, unknown> = {}) => ({
  keys: [{ name: "primary", value: "env.OPENAI_API_KEY", models: ["*"], weight: 1 }],
  ...extra,
});

describe("parseBifrostConfig: providers", () => {
  it("reads a minimal Bifrost config with Bifrost's defaults", () => {
    const { config, warnings } = parse({ providers: { openai: openai() } });
    expect(warnings).toEqual([]);
    expect(config.source).toBe("config.json");
    expect(config.providers.openai).toEqual({
      name: "openai",
      kind: "openai",
      keys: [{ name: "primary", value: SECRET, models: [], weight: 1 }],
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
    expect(config.client).toEqual({
      maxRequestBodyBytes: 100 * 1024 * 1024,
      maxCountTokensBodyBytes: 4 * 1024 * 1024,
      maxConvertedBodyBytes: 32 * 1024 * 1024,
      allowedOrigins: [],
      dropExcessRequests: false,
    });
  });

  it("reads network_config and concurrency_and_buffer_size in Bifrost's units", () => {
    const { config } = parse({
      providers: {
        openai: openai({
          network_config: {
            base_url: "http://localhost:4000/v1/",
            extra_headers: { "x-team": "search" },
            default_request_timeout_in_seconds: 12,
            max_retries: 3,
            retry_backoff_initial: 200,
            retry_backoff_max: 8000,
          },
          concurrency_and_buffer_size: { concurrency: 50, buffer_size: 200 },
        }),
      },
    });
    const p = config.providers.openai;
    expect(p?.network).toEqual({
      baseUrl: "http://localhost:4000/v1",
      extraHeaders: { "x-team": "search" },
      requestTimeoutMs: 12_000,
      maxRetries: 3,
      retryBackoffInitialMs: 200,
      retryBackoffMaxMs: 8000,
    });
    expect(p?.concurrency).toEqual({ concurrency: 50, bufferSize: 200 });
  });

  it("reads ca_cert_pem as certificates to trust beside the system's, and refuses what is not PEM", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const { config } = parse({ providers: { openai: openai({ network_config: { ca_cert_pem: pem } }) } });
    expect(config.providers.openai?.network.caCertPem).toBe(pem);
    const problems = problemsOf({
      providers: { openai: openai({ network_config: { ca_cert_pem: "not a cert" } }) },
    });
    expect(problems).toContain(
      "providers.openai.network_config.ca_cert_pem: must be PEM certificates (-----BEGIN CERTIFICATE-----)",
    );
  });

  it("defaults key name and weight, keeps literal values and model lists", () => {
    const { config } = parse({
      providers: {
        anthropic: { keys: [{ value: "literal-key", models: ["claude-3-5-haiku", "claude-3-5-haiku"] }] },
      },
    });
    expect(config.providers.anthropic?.keys).toEqual([
      { name: "anthropic-0", value: "literal-key", models: ["claude-3-5-haiku"], weight: 1 },
    ]);
  });

  it("names the key path and the variable when an env reference is missing, without any value", () => {
    const problems = problemsOf({
      providers: { openai: { keys: [{ name: "a", value: "env.MISSING_KEY", models: ["*"], weight: 1 }] } },
    });
    expect(problems).toEqual(["providers.openai.keys[0].value: environment variable MISSING_KEY is not set"]);
  });

  it("rejects an env reference to an empty variable", () => {
    expect(problemsOf({ providers: { openai: openai() } }, { OPENAI_API_KEY: "" })).toEqual([
      "providers.openai.keys[0].value: environment variable OPENAI_API_KEY is empty",
    ]);
  });

  it("reports every problem at once, each with its exact path", () => {
    let caught: unknown;
    try {
      parse({
        providers: {
          openai: {
            keys: [{ name: "a", value: "env.OPENAI_API_KEY", weight: "heavy" }],
            network_config: { max_retries: -1, default_request_timeout_in_seconds: 1.5 },
            concurrency_and_buffer_size: { concurrency: "many", buffer_size: 0 },
          },
        },
        client: { drop_excess_requests: "yes", max_request_body_size_mb: 0 },
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const err = caught as ConfigError;
    const expected = [
      "providers.openai.keys[0].weight: must be a number",
      "providers.openai.network_config.default_request_timeout_in_seconds: must be a whole number",
      "providers.openai.network_config.max_retries: must be at least 0",
      "providers.openai.concurrency_and_buffer_size.concurrency: must be a number",
      "providers.openai.concurrency_and_buffer_size.buffer_size: must be at least 1",
      "client.max_request_body_size_mb: must be at least 1",
      "client.drop_excess_requests: must be true or false",
    ];
    expect([...err.problems].sort()).toEqual([...expected].sort());
    for (const p of expected) expect(err.message).toContain(p);
    expect(err.message).toContain("config.json");
  });

  it("rejects retry backoffs below Bifrost's 100 ms floor and an initial above the max", () => {
    expect(
      problemsOf({ providers: { openai: openai({ network_config: { retry_backoff_initial: 50 } }) } }),
    ).toEqual(["providers.openai.network_config.retry_backoff_initial: must be at least 100"]);
    expect(
      problemsOf({
        providers: {
          openai: openai({ network_config: { retry_backoff_initial: 3000, retry_backoff_max: 1000 } }),
        },
      }),
    ).toEqual(["providers.openai.network_config.retry_backoff_initial: must not exceed retry_backoff_max"]);
  });

  it("rejects a base_url that is not an absolute http(s) URL", () => {
    expect(
      problemsOf({ providers: { openai: openai({ network_config: { base_url: "localhost:4000" } }) } }),
    ).toEqual([
      "providers.openai.network_config.base_url: must be an absolute http:// or https:// URL without query or fragment",
    ]);
  });

  it("requires a key for a catalog provider that authenticates", () => {
    expect(problemsOf({ providers: { openai: {} } })).toEqual([
      "providers.openai.keys: at least one usable key is required for openai",
    ]);
    expect(problemsOf({ providers: { openai: { keys: [] } } })).toEqual([
      "providers.openai.keys: at least one usable key is required for openai",
    ]);
    expect(problemsOf({ providers: { openai: { keys: [{ name: "a", models: ["*"] }] } } })).toEqual([
      "providers.openai.keys[0].value: is required",
    ]);
  });

  it("accepts keyless providers: ollama, a custom local server, and is_key_less", () => {
    const { config } = parse({
      providers: {
        ollama: {},
        "my-vllm": { network_config: { base_url: "http://10.0.0.5:8000/v1" } },
        groq: { custom_provider_config: { is_key_less: true } },
      },
    });
    expect(config.providers.ollama?.network.baseUrl).toBe("http://localhost:11434");
    expect(config.providers.ollama?.keys).toEqual([]);
    expect(config.providers["my-vllm"]).toMatchObject({
      kind: "custom",
      keys: [],
      network: { baseUrl: "http://10.0.0.5:8000/v1" },
    });
    expect(config.providers.groq?.keys).toEqual([]);
  });

  it("requires a base_url for a provider that is not in the catalog", () => {
    expect(problemsOf({ providers: { "my-vllm": {} } })).toEqual([
      'providers.my-vllm.network_config.base_url: is required: "my-vllm" is not a known provider, so it has no default URL',
    ]);
  });

  it("takes a custom provider's kind from base_provider_type and its default URL", () => {
    const { config } = parse({
      providers: {
        "openai-batch": {
          keys: [{ name: "b", value: "env.OPENAI_API_KEY", models: ["*"], weight: 1 }],
          custom_provider_config: { base_provider_type: "openai" },
        },
      },
    });
    expect(config.providers["openai-batch"]).toMatchObject({
      name: "openai-batch",
      kind: "openai",
      network: { baseUrl: "https://api.openai.com" },
    });
    // Falling back to a public endpoint, it needs a key like its base type.
    expect(
      problemsOf({
        providers: { "openai-batch": { custom_provider_config: { base_provider_type: "openai" } } },
      }),
    ).toEqual(["providers.openai-batch.keys: at least one usable key is required for openai-batch"]);
  });

  it("treats a base_provider_type without an adapter as an OpenAI-compatible custom provider, with a warning", () => {
    const { config, warnings } = parse({
      providers: {
        "my-hf": {
          network_config: { base_url: "https://proxy.internal" },
          custom_provider_config: { base_provider_type: "huggingface" },
        },
      },
    });
    expect(config.providers["my-hf"]?.kind).toBe("custom");
    expect(warnings).toEqual([
      'providers.my-hf.custom_provider_config.base_provider_type: "huggingface" has no adapter yet; treated as an OpenAI-compatible custom provider',
    ]);
  });

  it("rejects provider names that cannot be written as provider/model", () => {
    expect(problemsOf({ providers: { "a/b": openai() } })).toEqual([
      'providers.a/b: provider name must be non-empty, without "/" or spaces (clients write provider/model)',
    ]);
  });

  it("rejects duplicate key names within a provider", () => {
    expect(
      problemsOf({
        providers: {
          openai: {
            keys: [
              { name: "k", value: "a", models: ["*"], weight: 1 },
              { name: "k", value: "b", models: ["*"], weight: 1 },
            ],
          },
        },
      }),
    ).toEqual(['providers.openai.keys[1].name: duplicate key name "k"']);
  });

  it('reads models: [] as no model under "version": 2 and as any model under version 1', () => {
    const v2 = parse({
      version: 2,
      providers: {
        openai: {
          keys: [
            { name: "all", value: "a", models: ["*"], weight: 1 },
            { name: "none", value: "b", models: [], weight: 1 },
          ],
        },
      },
    });
    expect(v2.config.providers.openai?.keys.map((k) => k.name)).toEqual(["all"]);
    expect(v2.warnings).toEqual([
      'providers.openai.keys[1].models: an empty list serves no model (Bifrost config version 2); use ["*"] for all models; key unused',
    ]);

    const v1 = parse({
      version: 1,
      providers: { openai: { keys: [{ name: "k", value: "a", models: [], weight: 1 }] } },
    });
    expect(v1.config.providers.openai?.keys[0]?.models).toEqual([]);
    expect(v1.warnings).toEqual([]);

    expect(problemsOf({ version: 3, providers: { openai: openai() } })).toEqual(["version: must be 1 or 2"]);
  });

  it("starts a Bifrost v1.3 file (no version, a key with models: []) serving any model, and says why", () => {
    const { config, warnings } = parse({
      providers: { openai: { keys: [{ name: "k", value: "a", models: [], weight: 1 }] } },
    });
    expect(config.providers.openai?.keys[0]?.models).toEqual([]);
    expect(warnings).toEqual([
      'providers.openai.keys[0].models: [] read as every model, as Bifrost before v1.5 did, since the file has no "version"; write ["*"] to keep this reading, or set "version": 2 to read [] as no model',
    ]);
  });

  it("refuses a provider left without a usable key with the reason in the refusal itself", () => {
    expect(
      problemsOf({ version: 2, providers: { openai: { keys: [{ name: "k", value: "a", models: [] }] } } }),
    ).toEqual([
      'providers.openai.keys: at least one usable key is required for openai (providers.openai.keys[0].models: an empty list serves no model (Bifrost config version 2); use ["*"] for all models; key unused)',
    ]);
  });

  it("accepts weight 0 and rejects negative weights and bad model lists", () => {
    expect(
      parse({ providers: { openai: { keys: [{ name: "k", value: "a", weight: 0 }] } } }).config.providers
        .openai?.keys[0]?.weight,
    ).toBe(0);
    expect(
      problemsOf({
        providers: { openai: { keys: [{ name: "k", value: "a", weight: -1, models: ["ok", 3] }] } },
      }),
    ).toEqual([
      "providers.openai.keys[0].models: must be an array of model names",
      "providers.openai.keys[0].weight: must be at least 0",
    ]);
  });

  it("returns a frozen snapshot", () => {
    const { config } = parse({ providers: { openai: openai() } });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.providers.openai?.keys[0])).toBe(true);
    expect(Object.isFrozen(config.providers.openai?.network.extraHeaders)).toBe(true);
  });
});

describe("parseBifrostConfig: warnings", () => {
  it("warns once per unsupported top-level section, naming it", () => {
    const { warnings } = parse({
      $schema: "https://www.getbifrost.ai/schema",
      providers: { openai: openai() },
      plugins: [{ enabled: true, name: "logging", config: {} }],
      mcp: { client_configs: [], tool_manager_config: { max_agent_depth: 3 } },
      encryption_key: "env.BIFROST_ENCRYPTION_KEY",
    });
    expect(warnings).toEqual([
      "plugins[0]: Bifrost's logging plugin is not supported yet; ignored",
      "mcp: not supported yet; ignored",
      "encryption_key: not supported yet; ignored",
    ]);
  });

  it("takes an enabled telemetry plugin as Bifrost's metric names on /metrics, without a warning", () => {
    const on = parse({ providers: { openai: openai() }, plugins: [{ enabled: true, name: "telemetry" }] });
    expect(on.config.bifrostMetrics).toBe(true);
    expect(on.warnings).toEqual([]);
    const off = parse({ providers: { openai: openai() }, plugins: [{ enabled: false, name: "telemetry" }] });
    expect(off.config.bifrostMetrics).toBeUndefined();
  });

  it("says nothing about sections that are explicitly off or empty", () => {
    const { warnings } = parse({
      providers: { openai: openai() },
      config_store: { enabled: false },
      logs_store: { enabled: false },
      plugins: [],
    });
    expect(warnings).toEqual([]);
  });

  it("warns about unknown keys anywhere with the full path", () => {
    const { warnings } = parse({
      providers: {
        openai: {
          keys: [{ name: "a", value: "x", models: ["*"], weight: 1, colour: "red" }],
          network_config: { retry_backoff_initial_ms: 100 },
          concurrency_and_buffer_size: { concurrency: 5, buffer_size: 10, burst: 2 },
          custom_provider_config: { flavour: "x" },
          typo_field: true,
        },
      },
      client: { max_body: 5 },
      extras: {},
    });
    expect(warnings).toEqual([
      "providers.openai.custom_provider_config.flavour: unknown key; ignored",
      "providers.openai.network_config.retry_backoff_initial_ms: unknown key; ignored",
      "providers.openai.concurrency_and_buffer_size.burst: unknown key; ignored",
      "providers.openai.keys[0].colour: unknown key; ignored",
      "providers.openai.typo_field: unknown key; ignored",
      "client.max_body: unknown key; ignored",
      "extras: unknown key; ignored",
    ]);
  });

  it("accepts Bifrost's other provider, network, key and client fields with a warning each", () => {
    const { config, warnings } = parse({
      providers: {
        openai: {
          keys: [
            {
              name: "a",
              value: "x",
              models: ["*"],
              weight: 1,
              use_for_batch_api: true,
              azure_key_config: { endpoint: "https://x.openai.azure.com" },
            },
          ],
          network_config: { max_conns_per_host: 100, insecure_skip_verify: false },
          proxy_config: { type: "http", url: "http://proxy:3128" },
          send_back_raw_response: true,
          send_back_raw_request: false,
          custom_provider_config: { allowed_requests: { chat_completion: true } },
        },
      },
      client: {
        initial_pool_size: 300,
        enable_logging: true,
        prometheus_labels: ["team"],
        enforce_auth_on_inference: true,
        allowed_origins: ["https://app.example.com/", "http://localhost:3000"],
        drop_excess_requests: true,
        max_request_body_size_mb: 10,
      },
    });
    expect(warnings).toEqual([
      "providers.openai.custom_provider_config.allowed_requests: not supported yet; ignored",
      "providers.openai.network_config.max_conns_per_host: not supported yet; ignored",
      "providers.openai.keys[0].use_for_batch_api: not supported yet; ignored",
      "providers.openai.keys[0].azure_key_config: applies to azure providers only; ignored",
      "providers.openai.proxy_config: not supported yet; ignored",
      "providers.openai.send_back_raw_response: not supported yet; ignored",
      "client.initial_pool_size: not supported yet; ignored",
      "client.prometheus_labels: not supported yet; ignored",
    ]);
    expect(config.governance?.requireVirtualKey).toBe(true);
    expect(config.client).toEqual({
      maxRequestBodyBytes: 10 * 1024 * 1024,
      maxCountTokensBodyBytes: 4 * 1024 * 1024,
      maxConvertedBodyBytes: 32 * 1024 * 1024,
      allowedOrigins: ["https://app.example.com", "http://localhost:3000"],
      dropExcessRequests: true,
    });
  });

  it("warns for vertex and bedrock key configs on keys of another kind", () => {
    const { warnings } = parse({
      providers: {
        "my-proxy": {
          network_config: { base_url: "https://llm.internal" },
          keys: [
            { name: "v", value: "x", vertex_key_config: { project_id: "p", region: "us-central1" } },
            { name: "b", value: "y", bedrock_key_config: { region: "us-east-1" } },
          ],
        },
      },
    });
    expect(warnings).toEqual([
      "providers.my-proxy.keys[0].vertex_key_config: applies to vertex providers only; ignored",
      "providers.my-proxy.keys[1].bedrock_key_config: applies to bedrock providers only; ignored",
    ]);
  });

  it("rejects invalid CORS origins and collapses a list containing *", () => {
    expect(
      problemsOf({ providers: { openai: openai() }, client: { allowed_origins: ["app.example.com"] } }),
    ).toEqual(['client.allowed_origins[0]: must be "*" or an origin such as https://app.example.com']);
    const { config } = parse({
      providers: { openai: openai() },
      client: { allowed_origins: ["https://a.example", "*"] },
    });
    expect(config.client.allowedOrigins).toEqual(["*"]);
  });

  it("warns when no provider is configured", () => {
    expect(parse({}).warnings).toEqual([
      "providers: none configured; every model request will fail until one is added",
    ]);
  });

  it("rejects a document that is not an object", () => {
    expect(problemsOf([])).toEqual(["(root): must be a JSON object"]);
    expect(problemsOf({ providers: [] })).toEqual(["providers: must be an object"]);
  });

  it("never puts a key value into a problem or a warning", () => {
    const secretEnv = { OPENAI_API_KEY: SECRET };
    let err: ConfigError | undefined;
    try {
      parse(
        {
          providers: {
            openai: {
              keys: [{ name: "a", value: SECRET, weight: "x", extra: SECRET }],
              network_config: { base_url: `https://user:${SECRET}@host?key=${SECRET}` },
            },
          },
        },
        secretEnv,
      );
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).not.toContain(SECRET);
    const ok = parse(
      { providers: { openai: { keys: [{ name: "a", value: SECRET, extra: 1 }] } } },
      secretEnv,
    );
    expect(ok.warnings.join("\n")).not.toContain(SECRET);
  });
});
