import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { describeConfig, describeModelGroups } from "./describe.js";
import { ConfigError } from "./errors.js";
import { LITELLM_DEFAULTS, LITELLM_PROVIDERS, MAX_INCLUDE_DEPTH, parseLiteLLMConfig } from "./litellm.js";
import { parseConfigText } from "./load.js";
import { watchConfig } from "./watch.js";

const FIXTURE = join(import.meta.dirname, "../../test/fixtures/litellm/config.yaml");

const SECRETS = {
  OPENAI_API_KEY: "sk-openai-SECRET-1",
  AZURE_EASTUS_KEY: "az-east-SECRET-2",
  AZURE_WESTEU_KEY: "az-west-SECRET-3",
  ANTHROPIC_API_KEY: "sk-ant-SECRET-4",
  AWS_ACCESS_KEY_ID: "AKIASECRET5",
  AWS_SECRET_ACCESS_KEY: "aws-SECRET-6",
  LITELLM_MASTER_KEY: "sk-master-SECRET-7",
  DATABASE_URL: "postgres://litellm:pg-SECRET-8@db.internal:5432/litellm",
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "switchyard-litellm-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function load(yaml: string, env: NodeJS.ProcessEnv = {}, name = "config.yaml") {
  const path = write(name, yaml);
  return parseLiteLLMConfig(yaml, path, env);
}

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    load(yaml, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

/** One model_list entry, indented for the list. */
const entry = (name: string, params: string) =>
  `  - model_name: ${name}\n    litellm_params:\n${params
    .trim()
    .split("\n")
    .map((l) => `      ${l.trim()}`)
    .join("\n")}\n`;

const OPENAI = (name = "gpt-4o", model = "openai/gpt-4o") =>
  entry(name, `model: ${model}\napi_key: os.environ/OPENAI_API_KEY`);

describe("a realistic LiteLLM config.yaml", () => {
  const loaded = parseLiteLLMConfig(readFileSync(FIXTURE, "utf8"), FIXTURE, SECRETS);
  const { config, warnings } = loaded;

  it("makes one provider per kind and api_base, and one key per distinct api_key", () => {
    const summary = Object.values(config.providers).map((p) => ({
      name: p.name,
      kind: p.kind,
      baseUrl: p.network.baseUrl,
      keys: p.keys.map((k) => ({ name: k.name, models: k.models })),
    }));
    expect(summary).toEqual([
      {
        name: "openai",
        kind: "openai",
        baseUrl: "https://api.openai.com",
        keys: [{ name: "gpt-4o#0", models: ["gpt-4o", "gpt-4o-mini"] }],
      },
      { name: "azure", kind: "azure", baseUrl: "", keys: [{ name: "gpt-4o#1", models: ["gpt-4o-eastus"] }] },
      {
        name: "azure-2",
        kind: "azure",
        baseUrl: "",
        keys: [{ name: "gpt-4o#2", models: ["gpt-4o-westeu"] }],
      },
      {
        name: "anthropic",
        kind: "anthropic",
        baseUrl: "https://api.anthropic.com",
        keys: [{ name: "claude-sonnet#4", models: ["claude-sonnet-4-5"] }],
      },
      {
        name: "bedrock",
        kind: "bedrock",
        baseUrl: "",
        keys: [{ name: "claude-sonnet#5", models: ["us.anthropic.claude-sonnet-4-5-20250929-v1:0"] }],
      },
      { name: "ollama", kind: "ollama", baseUrl: "http://127.0.0.1:11434", keys: [] },
      { name: "custom", kind: "custom", baseUrl: "http://vllm.internal:8000/v1", keys: [] },
    ]);
    expect(config.providers.openai?.keys[0]?.value).toBe(SECRETS.OPENAI_API_KEY);
    expect(config.providers["azure-2"]?.keys[0]?.azure).toEqual({
      endpoint: "https://westeu-prod.openai.azure.com",
      apiVersion: "2025-01-01-preview",
      deployments: {},
    });
    expect(config.providers.bedrock?.keys[0]?.bedrock).toEqual({
      accessKey: SECRETS.AWS_ACCESS_KEY_ID,
      secretKey: SECRETS.AWS_SECRET_ACCESS_KEY,
      region: "us-west-2",
      deployments: {},
    });
    for (const p of Object.values(config.providers)) {
      expect(p.network.requestTimeoutMs).toBe(600_000);
      expect(p.network.maxRetries).toBe(0);
    }
  });

  it("turns each model_name into a model group, weighted by rpm when every deployment sets it", () => {
    expect(config.modelGroups).toEqual({
      "gpt-4o": [
        { provider: "openai", model: "gpt-4o", key: "gpt-4o#0", order: 0, rpm: 600, weight: 600 },
        {
          provider: "azure",
          model: "gpt-4o-eastus",
          key: "gpt-4o#1",
          order: 0,
          rpm: 300,
          timeoutMs: 45_000,
          weight: 300,
        },
        { provider: "azure-2", model: "gpt-4o-westeu", key: "gpt-4o#2", order: 0, rpm: 300, weight: 300 },
      ],
      "gpt-4o-mini": [{ provider: "openai", model: "gpt-4o-mini", key: "gpt-4o#0", order: 0, weight: 1 }],
      "claude-sonnet": [
        { provider: "anthropic", model: "claude-sonnet-4-5", key: "claude-sonnet#4", order: 1, weight: 1 },
        {
          provider: "bedrock",
          model: "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
          key: "claude-sonnet#5",
          order: 2,
          weight: 1,
        },
      ],
      "llama-local": [{ provider: "ollama", model: "llama3.1", order: 0, weight: 1 }],
      "qwen-internal": [{ provider: "custom", model: "Qwen/Qwen2.5-72B-Instruct", order: 0, weight: 1 }],
    });
  });

  it("reads router_settings, litellm_settings and general_settings", () => {
    expect(config.aliases).toEqual({ "gpt-4": "gpt-4o", claude: "claude-sonnet" });
    expect(config.routing).toEqual({
      // `order` on a deployment under simple-shuffle: lowest order first, weighted within it.
      strategy: "priority",
      numRetries: 3,
      retryBackoffInitialMs: 500,
      retryBackoffMaxMs: 5000,
      timeoutMs: 60_000,
      allowedFails: 2,
      cooldownMs: 30_000,
      fallbacks: { "gpt-4o": ["claude-sonnet"], "claude-sonnet": ["gpt-4o"] },
      contextWindowFallbacks: { "gpt-4o-mini": ["gpt-4o"] },
      contentPolicyFallbacks: { "claude-sonnet": ["gpt-4o"] },
      retryPolicy: { RateLimitError: 5, AuthenticationError: 0, TimeoutError: 2 },
    });
    expect(config.dropParams).toBe(true);
    expect(config.masterKey).toBe(SECRETS.LITELLM_MASTER_KEY);
    expect(config.source).toBe(FIXTURE);
    expect(Object.isFrozen(config.modelGroups?.["gpt-4o"]?.[0])).toBe(true);
    expect(config.prices).toEqual({ "openai/gpt-4o-mini": { input: 0.00000015 } });
  });

  it("lists every setting it does not honour by name, and never a secret", () => {
    expect(warnings).toEqual([
      "router_settings.model_group_alias.claude.hidden: not supported yet; ignored (/v1/models lists provider models, not aliases)",
      "router_settings.redis_host: not supported yet; ignored",
      "router_settings.redis_password: not supported yet; ignored",
      "litellm_settings.callbacks: not supported yet; ignored",
      "litellm_settings.max_budget: not supported yet; ignored",
      "litellm_settings.budget_duration: not supported yet; ignored",
    ]);
  });

  it("reads the database URL and the key generation defaults and caps", () => {
    expect(config.governance).toEqual({
      requireVirtualKey: false,
      virtualKeys: [],
      teams: [],
      customers: [],
      databaseUrl: SECRETS.DATABASE_URL,
      keyDefaults: {
        maxBudgetMicros: 10_500_000,
        budgetDuration: { count: 1, unit: "month", alignment: "calendar" },
        duration: { count: 90, unit: "day", alignment: "rolling" },
        rpm: 60,
        tpm: 100_000,
        models: ["gpt-4o-mini"],
      },
      keyUpperBounds: { maxBudgetMicros: 100_000_000, parallel: 10 },
    });
  });

  it("describes groups, aliases and routing at start-up without a secret or a URL's credentials", () => {
    const lines = [...describeConfig(config), ...describeModelGroups(config)];
    expect(describeModelGroups(config)).toEqual([
      "model group gpt-4o: 3 deployments (openai, azure, azure-2)",
      "model group gpt-4o-mini: 1 deployment (openai)",
      "model group claude-sonnet: 2 deployments (anthropic, bedrock)",
      "model group llama-local: 1 deployment (ollama)",
      "model group qwen-internal: 1 deployment (custom)",
      "aliases: gpt-4 → gpt-4o, claude → claude-sonnet",
      "routing: priority, 3 retries, fallbacks for 2 models",
    ]);
    const text = [...lines, ...warnings].join("\n");
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  });

  it("loads the same through parseConfigText, which hot reload uses", () => {
    const again = parseConfigText(readFileSync(FIXTURE, "utf8"), FIXTURE, SECRETS);
    expect(again.config.modelGroups).toEqual(config.modelGroups);
  });
});

describe("model_list", () => {
  it("maps every LiteLLM provider prefix to a Switchyard kind", () => {
    const env = {
      OPENAI_API_KEY: "k",
      ANTHROPIC_API_KEY: "k",
      GEMINI_API_KEY: "k",
      COHERE_API_KEY: "k",
      GROQ_API_KEY: "k",
      MISTRAL_API_KEY: "k",
      DEEPSEEK_API_KEY: "k",
      XAI_API_KEY: "k",
      OPENROUTER_API_KEY: "k",
      TOGETHER_API_KEY: "k",
      FIREWORKS_API_KEY: "k",
      CEREBRAS_API_KEY: "k",
      PERPLEXITY_API_KEY: "k",
      AZURE_API_KEY: "k",
      AZURE_API_BASE: "https://r.openai.azure.com",
      AWS_ACCESS_KEY_ID: "a",
      AWS_SECRET_ACCESS_KEY: "s",
      AWS_REGION_NAME: "us-east-1",
      VERTEXAI_PROJECT: "my-project-1",
    };
    const local = new Set([
      "custom_openai",
      "litellm_proxy",
      "hosted_vllm",
      "lm_studio",
      "ollama",
      "ollama_chat",
    ]);
    const list = Object.keys(LITELLM_PROVIDERS)
      .map((prefix, i) => {
        const base = local.has(prefix) ? "\napi_base: http://127.0.0.1:9000" : "";
        const vertex = prefix === "vertex_ai" ? "\napi_key: vertex-express-key" : "";
        return entry(`m${i}`, `model: ${prefix}/some-model${base}${vertex}`);
      })
      .join("");
    const { config } = load(`model_list:\n${list}`, env);
    const kinds = Object.keys(LITELLM_PROVIDERS).map((_, i) => {
      const d = config.modelGroups?.[`m${i}`]?.[0];
      return d === undefined ? undefined : config.providers[d.provider]?.kind;
    });
    expect(Object.fromEntries(Object.keys(LITELLM_PROVIDERS).map((p, i) => [p, kinds[i]]))).toEqual(
      LITELLM_PROVIDERS,
    );
    expect(LITELLM_PROVIDERS).toMatchObject({
      vertex_ai: "vertex",
      together_ai: "together",
      fireworks_ai: "fireworks",
      hosted_vllm: "vllm",
      lm_studio: "lmstudio",
      ollama_chat: "ollama",
    });
  });

  it("reads openai/ with a foreign api_base as an OpenAI-compatible custom provider, and bare known names", () => {
    const { config } = load(
      `model_list:\n${entry("a", "model: openai/gpt-4o\napi_base: https://api.openai.com/v1\napi_key: k1")}${entry(
        "b",
        "model: openai/my-model\napi_base: http://127.0.0.1:8000/v1",
      )}${entry("c", "model: claude-3-5-haiku-latest\napi_key: k2")}${entry("d", "model: gpt-4o-mini\napi_key: k1")}`,
    );
    expect(Object.values(config.providers).map((p) => [p.name, p.kind, p.network.baseUrl])).toEqual([
      ["openai", "openai", "https://api.openai.com/v1"],
      ["custom", "custom", "http://127.0.0.1:8000/v1"],
      ["anthropic", "anthropic", "https://api.anthropic.com"],
      ["openai-2", "openai", "https://api.openai.com"],
    ]);
  });

  it("shares a key between entries with the same api_key, and separates providers by api_base", () => {
    const { config } = load(
      `model_list:\n${entry("x", "model: openai/a\napi_base: http://127.0.0.1:1/v1\napi_key: same")}${entry(
        "y",
        "model: openai/b\napi_base: http://127.0.0.1:1/v1\napi_key: same",
      )}${entry("z", "model: openai/c\napi_base: http://127.0.0.1:2/v1\napi_key: same")}${entry(
        "x",
        "model: openai/d\napi_base: http://127.0.0.1:1/v1\napi_key: other",
      )}`,
    );
    expect(
      Object.values(config.providers).map((p) => [p.name, p.keys.map((k) => [k.name, k.models])]),
    ).toEqual([
      [
        "custom",
        [
          ["x#0", ["a", "b"]],
          ["x#3", ["d"]],
        ],
      ],
      ["custom-2", [["z#2", ["c"]]]],
    ]);
    expect(config.modelGroups?.x?.map((d) => d.key)).toEqual(["x#0", "x#3"]);
  });

  it("takes weight and order as given, and rpm or tpm beside litellm_params (older configs)", () => {
    const { config } = load(
      `model_list:\n${entry("g", "model: openai/a\napi_key: k\nweight: 3\norder: 2\ntimeout: 1.5")}${entry(
        "g",
        "model: openai/b\napi_key: k\nweight: 0.5",
      )}  - model_name: h\n    litellm_params: {model: openai/c, api_key: k}\n    tpm: 1000\n  - model_name: h\n    litellm_params: {model: openai/d, api_key: k, tpm: "3000"}\n`,
    );
    expect(config.modelGroups?.g).toEqual([
      { provider: "openai", model: "a", key: "g#0", order: 2, weight: 3, timeoutMs: 1500 },
      { provider: "openai", model: "b", key: "g#0", order: 0, weight: 0.5 },
    ]);
    expect(config.modelGroups?.h?.map((d) => [d.tpm, d.weight])).toEqual([
      [1000, 1000],
      [3000, 3000],
    ]);
  });

  it("keeps wildcard entries as provider/model routes, without a group", () => {
    const { config, warnings } = load(
      `model_list:\n${entry("openai/*", "model: openai/*\napi_key: k")}${entry('"*"', "model: groq/*\napi_key: g")}`,
    );
    expect(config.modelGroups).toEqual({});
    expect(config.providers.openai?.keys[0]?.models).toEqual([]);
    expect(warnings).toContain(
      'model_list[1].model_name: wildcard "*" routes as Switchyard\'s "provider/model": clients write groq/<model>',
    );
  });

  it("falls back to the provider's usual environment variables, as LiteLLM does", () => {
    const { config } = load(
      `model_list:\n${entry("a", "model: anthropic/claude-sonnet-4-5")}${entry("b", "model: azure/dep")}${entry(
        "c",
        "model: bedrock/amazon.titan-embed-text-v2:0",
      )}`,
      {
        ANTHROPIC_API_KEY: "ant",
        AZURE_API_KEY: "az",
        AZURE_API_BASE: "https://res.openai.azure.com/",
        AZURE_API_VERSION: "2025-04-01-preview",
        AWS_ACCESS_KEY_ID: "AKIA",
        AWS_SECRET_ACCESS_KEY: "sec",
        AWS_SESSION_TOKEN: "tok",
        AWS_REGION: "eu-central-1",
      },
    );
    expect(config.providers.anthropic?.keys[0]?.value).toBe("ant");
    expect(config.providers.azure?.keys[0]?.azure).toEqual({
      endpoint: "https://res.openai.azure.com",
      apiVersion: "2025-04-01-preview",
      deployments: {},
    });
    expect(config.providers.bedrock?.keys[0]?.bedrock).toEqual({
      accessKey: "AKIA",
      secretKey: "sec",
      sessionToken: "tok",
      region: "eu-central-1",
      deployments: {},
    });
  });

  it("reads Vertex credentials from a file next to the config, and strips Bedrock route hints", () => {
    const sa = JSON.stringify({
      type: "service_account",
      project_id: "sa-project-1",
      client_email: "svc@sa-project-1.iam.gserviceaccount.com",
      private_key: "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
    });
    write("sa.json", sa);
    const { config, warnings } = load(
      `model_list:\n${entry("v", "model: vertex_ai/gemini-2.5-pro\nvertex_credentials: sa.json\nvertex_location: europe-west4")}${entry(
        "b",
        "model: bedrock/converse/meta.llama3-70b-instruct-v1:0\napi_key: os.environ/BEDROCK_KEY\naws_region_name: us-east-1",
      )}`,
      { BEDROCK_KEY: "bearer" },
    );
    expect(config.providers.vertex?.keys[0]?.vertex).toEqual({
      projectId: "sa-project-1",
      region: "europe-west4",
      serviceAccountJson: sa,
    });
    expect(config.modelGroups?.b?.[0]?.model).toBe("meta.llama3-70b-instruct-v1:0");
    expect(config.providers.bedrock?.keys[0]?.value).toBe("bearer");
    expect(warnings).toContain(
      'model_list[1].litellm_params.model: the "converse/" route hint is ignored; Switchyard\'s Bedrock adapter picks the API',
    );
  });

  it("collects custom pricing by provider/model, litellm_params over model_info", () => {
    const { config, warnings } = load(
      [
        "model_list:",
        "  - model_name: cheap",
        "    litellm_params:",
        "      model: openai/gpt-4o",
        "      api_key: k",
        "      input_cost_per_token: 0.000002",
        "      output_cost_per_token: 0.000008",
        "    model_info:",
        "      input_cost_per_token: 0.000009",
        "      cache_read_input_token_cost: 0.000001",
        "      cache_creation_input_token_cost: 0.0000025",
        "      output_cost_per_reasoning_token: 0.00001",
        "      input_cost_per_token_above_200k_tokens: 0.000004",
        "  - model_name: mine",
        "    litellm_params:",
        "      model: openai/my-model",
        "      api_base: http://localhost:8000/v1",
        '      input_cost_per_token: "0.0000001"',
        "  - model_name: any",
        "    litellm_params:",
        "      model: anthropic/*",
        "      api_key: k",
        "      output_cost_per_token: 0.00001",
        "",
      ].join("\n"),
    );
    expect(config.prices).toEqual({
      "openai/gpt-4o": { input: 2e-6, output: 8e-6, cacheRead: 1e-6, cacheWrite: 2.5e-6, reasoning: 1e-5 },
      "custom/my-model": { input: 1e-7 },
    });
    expect(Object.isFrozen(config.prices?.["openai/gpt-4o"])).toBe(true);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^model_list\[0\]\.model_info\.input_cost_per_token_above_200k_tokens: this pricing is not supported yet; ignored \(supported: input_cost_per_token, /,
      ),
      "model_list[2]: pricing of a wildcard entry is not supported; ignored",
      expect.stringMatching(/^model_list\[2\]\.model_name: wildcard/),
    ]);
  });

  it("refuses a price that is not a non-negative number", () => {
    expect(() =>
      load(
        "model_list:\n  - model_name: g\n    litellm_params: {model: openai/a, api_key: k, input_cost_per_token: -1}\n",
      ),
    ).toThrow(/model_list\[0\]\.litellm_params\.input_cost_per_token: must be at least 0/);
    expect(() =>
      load(
        "model_list:\n  - model_name: g\n    litellm_params: {model: openai/a, api_key: k}\n    model_info: {output_cost_per_token: cheap}\n",
      ),
    ).toThrow(/model_list\[0\]\.model_info\.output_cost_per_token: must be a number/);
  });

  it("sets no prices when the configuration has none", () => {
    const { config } = load(
      "model_list:\n  - model_name: g\n    litellm_params: {model: openai/a, api_key: k}\n",
    );
    expect(config.prices).toBeUndefined();
  });

  it("names unsupported deployment parameters", () => {
    const { warnings } = load(
      `model_list:\n  - model_name: g\n    litellm_params:\n      model: openai/a\n      api_key: k\n      temperature: 0.2\n      max_retries: 4\n      stream_timeout: 10\n      api_version: "2024-10-21"\n    model_info: {id: d1, mode: chat, supports_vision: true, output_cost_per_token: 1}\n    tags: [x]\n`,
    );
    expect(warnings).toEqual([
      "model_list[0].tags: not supported yet; ignored",
      "model_list[0].litellm_params.stream_timeout: not supported yet; ignored (timeout applies to streams too)",
      "model_list[0].litellm_params.temperature: not supported yet; ignored",
      "model_list[0].litellm_params.max_retries: not supported per deployment; router_settings.num_retries applies",
      "model_list[0].litellm_params.api_version: applies to azure models only; ignored",
    ]);
  });
});

describe("settings", () => {
  it("applies LiteLLM's defaults when nothing is set", () => {
    const { config } = load(`model_list:\n${OPENAI()}`, { OPENAI_API_KEY: "k" });
    expect(config.routing).toEqual({
      strategy: "weighted",
      numRetries: LITELLM_DEFAULTS.numRetries,
      retryBackoffInitialMs: 500,
      retryBackoffMaxMs: 5000,
      timeoutMs: 0,
      allowedFails: LITELLM_DEFAULTS.allowedFails,
      cooldownMs: LITELLM_DEFAULTS.cooldownSeconds * 1000,
      fallbacks: {},
      contextWindowFallbacks: {},
      contentPolicyFallbacks: {},
      retryPolicy: {},
    });
    expect(config.providers.openai?.network.requestTimeoutMs).toBe(
      LITELLM_DEFAULTS.requestTimeoutSeconds * 1000,
    );
    expect(config.dropParams).toBeUndefined();
    expect(config.masterKey).toBeUndefined();
  });

  it("maps each routing strategy, and says which it does not support", () => {
    const strategy = (name: string) =>
      load(`model_list:\n${OPENAI()}router_settings:\n  routing_strategy: ${name}\n`, {
        OPENAI_API_KEY: "k",
      });
    expect(strategy("simple-shuffle").config.routing?.strategy).toBe("weighted");
    expect(strategy("least-busy").config.routing?.strategy).toBe("least-busy");
    expect(strategy("latency-based-routing").config.routing?.strategy).toBe("lowest-latency");
    for (const name of ["usage-based-routing", "usage-based-routing-v2", "cost-based-routing"]) {
      const { config, warnings } = strategy(name);
      expect(config.routing?.strategy).toBe("weighted");
      expect(warnings).toEqual([
        `router_settings.routing_strategy: ${name} is not supported yet; simple-shuffle (weighted) is used`,
      ]);
    }
  });

  it("reads fallbacks from litellm_settings too; router_settings wins for the same model", () => {
    const { config, warnings } = load(
      `model_list:\n${OPENAI("a")}${OPENAI("b")}${OPENAI("c")}litellm_settings:\n  num_retries: 1\n  request_timeout: 12.5\n  fallbacks: [{a: [b]}, {c: [a]}]\n  context_window_fallbacks: [{a: c}]\nrouter_settings:\n  fallbacks: [{a: [c, b]}]\n  retry_after: 2\n`,
      { OPENAI_API_KEY: "k" },
    );
    expect(config.routing?.fallbacks).toEqual({ a: ["c", "b"], c: ["a"] });
    expect(config.routing?.contextWindowFallbacks).toEqual({ a: ["c"] });
    expect(config.routing?.numRetries).toBe(1);
    expect(config.routing?.retryBackoffInitialMs).toBe(2000);
    expect(config.providers.openai?.network.requestTimeoutMs).toBe(12_500);
    expect(warnings).toEqual([
      'litellm_settings.fallbacks: "a" is also set in router_settings.fallbacks, which is kept',
    ]);
  });

  it("warns about fallbacks and aliases that name no model group", () => {
    const { warnings } = load(
      `model_list:\n${OPENAI("a")}router_settings:\n  fallbacks: [{a: [nope, openai/gpt-4o]}, {ghost: [a]}, {"*": [a]}]\n  model_group_alias: {a: a, b: missing}\n`,
      { OPENAI_API_KEY: "k" },
    );
    expect(warnings).toEqual([
      "router_settings.model_group_alias.a: is also a model_name; the model_name's deployments serve it",
      'router_settings.model_group_alias.b: "missing" is not a model_name in model_list',
      'fallbacks.a: "nope" is not a model_name in model_list; that fallback will fail',
      "fallbacks.ghost: is not a model_name in model_list; never used",
    ]);
  });

  it("applies environment_variables to os.environ/ references without touching the process", () => {
    const { config } = load(
      `environment_variables:\n  MY_KEY: from-file\n  NUM: 3\nmodel_list:\n${entry("a", "model: openai/a\napi_key: os.environ/MY_KEY")}`,
      { MY_KEY: "from-process" },
    );
    expect(config.providers.openai?.keys[0]?.value).toBe("from-file");
    expect(process.env.MY_KEY).toBeUndefined();
  });

  it("takes general_settings.max_request_size_mb as the body limit", () => {
    const { config } = load(`model_list:\n${OPENAI()}general_settings:\n  max_request_size_mb: 2\n`, {
      OPENAI_API_KEY: "k",
    });
    expect(config.client.maxRequestBodyBytes).toBe(2 * 1024 * 1024);
  });

  it("warns for an empty file and an empty model_list", () => {
    expect(load("").warnings).toEqual([
      "model_list: no models configured; every model request will fail until one is added",
    ]);
    expect(load("model_list: []\n").config.modelGroups).toEqual({});
  });
});

describe("governance", () => {
  const model = "model_list:\n  - model_name: m\n    litellm_params: {model: openai/gpt-4o, api_key: sk-x}\n";

  it("sets none when the file names no database and no key parameters", () => {
    expect(load(model).config.governance).toBeUndefined();
  });

  it("reads DATABASE_URL, as LiteLLM does, when general_settings has no database_url", () => {
    const url = "postgresql://u:p@localhost/db";
    expect(load(model, { DATABASE_URL: url }).config.governance?.databaseUrl).toBe(url);
    const fromFile = load(`${model}general_settings: {database_url: "postgres://a@file/db"}\n`, {
      DATABASE_URL: url,
    });
    expect(fromFile.config.governance?.databaseUrl).toBe("postgres://a@file/db");
  });

  it("refuses a database URL that is not PostgreSQL, without quoting it", () => {
    const text = `${model}general_settings: {database_url: "mysql://root:hunter2@db/x"}\n`;
    const found = problems(text);
    expect(found).toEqual([
      "general_settings.database_url: must be a postgres:// or postgresql:// URL (the store is SQLite unless PostgreSQL is named)",
    ]);
    expect(found.join("\n")).not.toContain("hunter2");
    expect(() => load(model, { DATABASE_URL: "not a url" })).toThrow(/DATABASE_URL: must be a URL/);
  });

  it("reads every key parameter, names the ones it does not act on, and refuses bad values by path", () => {
    const { config, warnings } = load(
      `${model}litellm_settings:\n  default_key_generate_params: {models: ["*"], max_parallel_requests: 4, metadata: {team: x}, budget_duration: "1h:rolling"}\n`,
    );
    expect(config.governance?.keyDefaults).toEqual({
      models: [],
      parallel: 4,
      budgetDuration: { count: 1, unit: "hour", alignment: "rolling" },
    });
    expect(warnings).toEqual([
      "litellm_settings.default_key_generate_params.metadata: not supported yet; ignored",
    ]);
    expect(
      problems(
        `${model}litellm_settings:\n  upperbound_key_generate_params: {max_budget: -1, budget_duration: 30s, rpm_limit: 1.5, models: gpt-4o}\n`,
      ),
    ).toEqual([
      "litellm_settings.upperbound_key_generate_params.max_budget: must be at least 0",
      "litellm_settings.upperbound_key_generate_params.budget_duration: must be at least a minute (seconds are not supported)",
      "litellm_settings.upperbound_key_generate_params.rpm_limit: must be a whole number",
      "litellm_settings.upperbound_key_generate_params.models: must be a list of model names",
    ]);
  });
});

describe("include", () => {
  it("merges included files relative to the config's directory, lists concatenated", () => {
    const sub = mkdtempSync(join(dir, "models-"));
    writeFileSync(join(sub, "a.yaml"), `model_list:\n${OPENAI("from-a")}include: b.yaml\n`);
    writeFileSync(
      join(sub, "b.yaml"),
      `model_list:\n${OPENAI("from-b")}router_settings:\n  num_retries: 9\n`,
    );
    const { config, warnings } = load(
      `include: [${sub}/a.yaml]\nmodel_list:\n${OPENAI("main")}router_settings:\n  num_retries: 1\n`,
      { OPENAI_API_KEY: "k" },
    );
    expect(Object.keys(config.modelGroups ?? {})).toEqual(["main", "from-a", "from-b"]);
    expect(config.routing?.numRetries).toBe(1);
    expect(warnings).toEqual([
      `router_settings.num_retries: also set in ${sub}/a.yaml; the including file's setting is kept`,
    ]);
  });

  it("rejects a cycle, a missing file, a bad entry and too deep a chain", () => {
    write("loop-a.yaml", "include: [loop-b.yaml]\n");
    write("loop-b.yaml", "include: [loop-a.yaml]\n");
    const loop = problems("include: [loop-a.yaml]\n");
    expect(loop).toHaveLength(1);
    expect(loop[0]).toMatch(
      /^.*loop-b\.yaml: include\[0\]: includes itself \(.*config\.yaml → .*loop-a\.yaml → .*loop-b\.yaml → .*loop-a\.yaml\)$/,
    );
    expect(problems("include: [missing.yaml, 3]\n")).toEqual([
      `include[0]: cannot read ${join(dir, "missing.yaml")}: file not found`,
      "include[1]: must be a file name",
    ]);
    expect(problems("include: {a: 1}\n")).toEqual(["include: must be a file name or a list of file names"]);
    for (let i = 0; i <= MAX_INCLUDE_DEPTH + 1; i++) write(`d${i}.yaml`, `include: [d${i + 1}.yaml]\n`);
    write(`d${MAX_INCLUDE_DEPTH + 2}.yaml`, "");
    expect(problems("include: d0.yaml\n")).toEqual([
      expect.stringMatching(
        new RegExp(`include\\[0\\]: includes nest deeper than ${MAX_INCLUDE_DEPTH} levels$`),
      ),
    ]);
    write("bad.yaml", "a: [\n");
    expect(problems("include: bad.yaml\n")).toEqual([
      `include[0]: ${join(dir, "bad.yaml")}: malformed YAML at line 2, column 1: bad indent`,
    ]);
  });
});

describe("errors", () => {
  it("names the path and the variable of an unset os.environ/ reference, never a value", () => {
    expect(
      problems(
        `model_list:\n${entry("a", "model: openai/a\napi_key: os.environ/NOT_SET")}${entry(
          "b",
          "model: openai/b\napi_key: os.environ/EMPTY",
        )}${entry("c", "model: openai/c\napi_key: os.environ/bad-name")}general_settings:\n  master_key: os.environ/NO_MASTER\n`,
        { EMPTY: "" },
      ),
    ).toEqual([
      "model_list[0].litellm_params.api_key: environment variable NOT_SET is not set",
      "model_list[1].litellm_params.api_key: environment variable EMPTY is empty",
      'model_list[2].litellm_params.api_key: "os.environ/" must be followed by a valid environment variable name',
      "general_settings.master_key: environment variable NO_MASTER is not set",
    ]);
  });

  it("reports every bad model_list entry with its path", () => {
    expect(
      problems(
        `model_list:\n  - just-a-string\n  - model_name: a\n  - model_name: ""\n    litellm_params: {model: openai/x, api_key: k}\n${entry(
          "c",
          "api_key: k",
        )}${entry("d", "model: my-model\napi_key: k")}${entry("e", "model: huggingface/x\napi_key: k")}${entry(
          "f",
          "model: openai/\napi_key: k",
        )}${entry("g", "model: openai/x\napi_base: not a url")}${entry("h", "model: groq/x")}${entry(
          "i",
          "model: openai/x\napi_key: k\nweight: -1\norder: 1.5\nrpm: lots\ntimeout: -2",
        )}${entry("j", "model: openai/x\nlitellm_credential_name: shared")}`,
      ),
    ).toEqual([
      "model_list[0]: must be a mapping with model_name and litellm_params",
      "model_list[1].litellm_params: must be a mapping with at least model",
      "model_list[2].model_name: must be a non-empty string",
      'model_list[3].litellm_params.model: is required ("provider/model")',
      'model_list[4].litellm_params.model: must be "provider/model" (e.g. openai/gpt-4o); the provider of this name is not known',
      `model_list[5].litellm_params.model: provider "huggingface" is not supported (supported: ${Object.keys(LITELLM_PROVIDERS).join(", ")})`,
      'model_list[6].litellm_params.model: must be "provider/model"; the model after the "/" is missing',
      "model_list[7].litellm_params.api_base: must be an absolute http:// or https:// URL without query or fragment",
      "model_list[8].litellm_params.api_key: is required for groq (or set GROQ_API_KEY)",
      "model_list[9].litellm_params.weight: must be at least 0",
      "model_list[9].litellm_params.order: must be a whole number",
      "model_list[9].litellm_params.rpm: must be a number",
      "model_list[9].litellm_params.timeout: must be at least 0",
      "model_list[10].litellm_params.litellm_credential_name: credential_list is not supported yet; set api_key here",
      "model_list[10].litellm_params.api_key: is required for openai (or set OPENAI_API_KEY)",
    ]);
  });

  it("reports Azure, Bedrock and Vertex parameters by name", () => {
    expect(
      problems(
        `model_list:\n${entry("a", "model: azure/d\napi_key: k")}${entry(
          "b",
          "model: azure/d\napi_base: http://example.com\napi_key: k\napi_version: latest",
        )}${entry("c", "model: azure/d\napi_base: https://r.openai.azure.com\nazure_ad_token: t")}${entry(
          "d",
          "model: bedrock/x\naws_access_key_id: a",
        )}${entry("e", "model: bedrock/x\naws_region_name: mars\naws_role_name: r\napi_key: k")}${entry(
          "f",
          "model: vertex_ai/gemini-2.5-pro",
        )}${entry("g", "model: vertex_ai/gemini-2.5-pro\nvertex_credentials: missing.json\nvertex_project: P")}`,
      ),
    ).toEqual([
      "model_list[0].litellm_params.api_base: is required for azure (or set AZURE_API_BASE)",
      "model_list[1].litellm_params.api_base: must be an https URL (http only for localhost) without query or fragment, such as https://my-resource.openai.azure.com",
      "model_list[1].litellm_params.api_version: must be an Azure OpenAI API version such as 2024-10-21 or 2025-04-01-preview",
      "model_list[2].litellm_params.azure_ad_token: Entra ID authentication is not supported yet; use api_key",
      "model_list[2].litellm_params.api_key: is required for azure (or set AZURE_API_KEY)",
      "model_list[3].litellm_params.aws_region_name: is required for bedrock (or set AWS_REGION_NAME)",
      "model_list[3].litellm_params.aws_secret_access_key: is required with the other AWS key",
      "model_list[4].litellm_params.aws_role_name: not supported yet; use aws_access_key_id and aws_secret_access_key, or api_key",
      "model_list[4].litellm_params.aws_region_name: must be an AWS region such as us-east-1",
      "model_list[5].litellm_params.vertex_credentials: is required for vertex_ai (or api_key, or GOOGLE_APPLICATION_CREDENTIALS)",
      "model_list[5].litellm_params.vertex_project: is required for vertex_ai (or set VERTEXAI_PROJECT)",
      `model_list[6].litellm_params.vertex_credentials: cannot read the credentials file ${join(dir, "missing.json")}: file not found`,
    ]);
  });

  it("reports bad settings with their paths", () => {
    expect(
      problems(
        `model_list: {a: 1}\nrouter_settings:\n  routing_strategy: fastest\n  num_retries: -1\n  allowed_fails: 1.5\n  fallbacks: {a: [b]}\n  context_window_fallbacks: [x, {a: 3}]\n  retry_policy: {RateLimitErrorRetries: many}\n  model_group_alias: {x: [1]}\nlitellm_settings:\n  drop_params: maybe\ngeneral_settings: [1]\nenvironment_variables:\n  "1BAD": x\n  OBJ: {a: 1}\n`,
      ),
    ).toEqual([
      "environment_variables.1BAD: is not a valid environment variable name",
      "environment_variables.OBJ: must be a string, number or boolean",
      "general_settings: must be a mapping",
      "model_list: must be a list",
      "router_settings.routing_strategy: must be one of simple-shuffle, least-busy, latency-based-routing, usage-based-routing, usage-based-routing-v2, cost-based-routing",
      "router_settings.num_retries: must be at least 0",
      "router_settings.allowed_fails: must be a whole number",
      'router_settings.fallbacks: must be a list of mappings such as [{"gpt-4o": ["claude-sonnet"]}]',
      'router_settings.context_window_fallbacks[0]: must be a mapping such as {"gpt-4o": ["claude-sonnet"]}',
      "router_settings.context_window_fallbacks[1].a: must be a list of model names",
      "router_settings.retry_policy.RateLimitErrorRetries: must be a number",
      "router_settings.model_group_alias.x: must be a model_name or a mapping {model: <model_name>, hidden: true}",
      "litellm_settings.drop_params: must be true or false",
    ]);
  });

  it("reports malformed YAML by position, never quoting the text", () => {
    const err = problems(
      'model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_key: "sk-SECRET-in-yaml}\n',
    );
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^malformed YAML at line \d+, column \d+: [a-z ]+$/);
    expect(problems("a: 1\na: 2\n")).toEqual(["malformed YAML at line 2, column 1: duplicate key"]);
    expect(problems("- a\n- b\n")).toEqual([
      "(root): must be a YAML mapping (model_list, router_settings, ...)",
    ]);
    const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`;
    expect(problems(bomb)).toEqual(["(root): too many YAML aliases (anchors expanding without bound)"]);
  });

  it("reads YAML 1.1 as LiteLLM's PyYAML does", () => {
    const { config } = load(`model_list:\n${OPENAI("n")}litellm_settings:\n  drop_params: yes\n`, {
      OPENAI_API_KEY: "k",
    });
    expect(config.dropParams).toBe(true);
    expect(Object.keys(config.modelGroups ?? {})).toEqual(["n"]);
  });
});

describe("hot reload", () => {
  it("reloads when a file the config includes changes", async () => {
    const models = write("models.yaml", `model_list:\n${OPENAI("one")}`);
    const path = write("config.yaml", "include: [models.yaml]\n");
    const changes: string[][] = [];
    const watcher = watchConfig(
      path,
      { OPENAI_API_KEY: "k" },
      (config) => changes.push(Object.keys(config.modelGroups ?? {})),
      () => {},
    );
    try {
      writeFileSync(models, `model_list:\n${OPENAI("two")}`);
      for (let i = 0; i < 100 && changes.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(changes).toEqual([["two"]]);
    } finally {
      watcher.close();
    }
  });

  it("reloads a changed config.yaml and keeps serving the old one when the new one is broken", async () => {
    const path = write("config.yaml", `model_list:\n${OPENAI("first")}`);
    const changes: string[][] = [];
    const errors: string[] = [];
    const watcher = watchConfig(
      path,
      { OPENAI_API_KEY: "k" },
      (config) => changes.push(Object.keys(config.modelGroups ?? {})),
      (err) => errors.push((err as ConfigError).problems?.join("; ") ?? err.message),
    );
    try {
      const until = async (check: () => boolean) => {
        for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
      };
      writeFileSync(path, `model_list:\n${OPENAI("second")}`);
      await until(() => changes.length === 1);
      expect(changes).toEqual([["second"]]);
      writeFileSync(path, `model_list:\n${entry("third", "model: openai/x\napi_key: os.environ/GONE")}`);
      await until(() => errors.length === 1);
      expect(errors).toEqual(["model_list[0].litellm_params.api_key: environment variable GONE is not set"]);
      expect(changes).toHaveLength(1);
    } finally {
      watcher.close();
    }
  });
});
