import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, parseBifrostConfig } from "./bifrost.js";

const VK_VALUE = "sk-bf-3f1c9a2e-7b4d-4e8f-9a0b-SECRETVALUE";
const VK_HASH = createHash("sha256").update(VK_VALUE).digest("hex");
const env = { OPENAI_API_KEY: "sk-openai-test", VK_FROM_ENV: VK_VALUE, PG_PASSWORD: "p@ss/word" };

const providers = {
  openai: {
    keys: [
      { id: "key-uuid-1", name: "primary", value: "env.OPENAI_API_KEY", models: ["*"], weight: 1 },
      { name: "backup", value: "env.OPENAI_API_KEY", models: ["*"], weight: 1 },
    ],
  },
};

function parse(json: Record<string, unknown>, e: NodeJS.ProcessEnv = env) {
  return parseBifrostConfig({ version: 2, providers, ...json }, e, "config.json");
}

function problemsOf(json: Record<string, unknown>): string[] {
  try {
    parse(json);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}

const key = (extra: Record<string, unknown> = {}) => ({
  id: "vk-1",
  name: "search team",
  value: VK_VALUE,
  provider_configs: [{ provider: "openai", allowed_models: ["*"], key_ids: ["*"] }],
  ...extra,
});

describe("Bifrost governance: virtual keys", () => {
  it("keeps the hash and a mask of the value, never the value", () => {
    const { config, warnings } = parse({ governance: { virtual_keys: [key({ description: "search" })] } });
    expect(warnings).toEqual([]);
    expect(config.governance).toEqual({
      requireVirtualKey: false,
      teams: [],
      customers: [],
      virtualKeys: [
        {
          id: "vk-1",
          name: "search team",
          hash: VK_HASH,
          masked: "sk-bf-…ALUE",
          active: true,
          models: [],
          providers: ["openai"],
          providerConfigs: [{ provider: "openai", allowedModels: [], keyNames: [] }],
          modelLimits: {},
          budgets: [],
          metadata: { description: "search" },
          secretMetadata: {},
          logContent: true,
          createdAt: 0,
          updatedAt: 0,
        },
      ],
    });
    expect(JSON.stringify(config)).not.toContain(VK_VALUE);
  });

  it('resolves "env.VAR" values, is_active, expires_at and the team or customer', () => {
    const { config } = parse({
      governance: {
        teams: [{ id: "t1", name: "Search" }],
        virtual_keys: [
          key({
            value: "env.VK_FROM_ENV",
            is_active: false,
            expires_at: "2027-01-01T00:00:00Z",
            team_id: "t1",
          }),
        ],
      },
    });
    const vk = config.governance?.virtualKeys[0];
    expect(vk).toMatchObject({ hash: VK_HASH, active: false, expiresAt: Date.UTC(2027, 0, 1), teamId: "t1" });
  });

  it("reads provider_configs: weights, allowed models, and key_ids by key id or name", () => {
    const { config } = parse({
      governance: {
        virtual_keys: [
          key({
            provider_configs: [
              {
                provider: "openai",
                weight: 0.7,
                allowed_models: ["gpt-4o", "gpt-4o*"],
                key_ids: ["key-uuid-1", "backup"],
              },
            ],
          }),
        ],
      },
    });
    expect(config.governance?.virtualKeys[0]?.providerConfigs).toEqual([
      {
        provider: "openai",
        weight: 0.7,
        allowedModels: ["gpt-4o", "gpt-4o*"],
        keyNames: ["primary", "backup"],
      },
    ]);
  });

  it("reads Bifrost's keys objects and allow_all_keys as key_ids do", () => {
    const { config } = parse({
      governance: {
        virtual_keys: [
          key({
            id: "a",
            provider_configs: [
              { provider: "openai", allowed_models: ["*"], keys: [{ key_id: "key-uuid-1" }] },
            ],
          }),
          key({
            id: "b",
            value: `${VK_VALUE}-2`,
            provider_configs: [{ provider: "openai", allowed_models: ["*"], allow_all_keys: true }],
          }),
        ],
      },
    });
    expect(config.governance?.virtualKeys.map((k) => k.providerConfigs[0]?.keyNames)).toEqual([
      ["primary"],
      [],
    ]);
  });

  it("version 2: an empty allow-list allows nothing, and a key with no provider left is inactive", () => {
    const { config, warnings } = parse({
      governance: {
        virtual_keys: [
          key({ provider_configs: [{ provider: "openai", allowed_models: [], key_ids: ["*"] }] }),
        ],
      },
    });
    expect(config.governance?.virtualKeys[0]).toMatchObject({
      active: false,
      providers: [],
      providerConfigs: [],
    });
    expect(warnings).toEqual([
      'governance.virtual_keys[0].provider_configs[0].allowed_models: empty: this provider serves the key nothing (Bifrost config version 2; use ["*"] for all); provider left out',
      "governance.virtual_keys[0].provider_configs: allows no provider (Bifrost config version 2: empty denies all); key inactive",
    ]);
  });

  it("without a version, empty lists allow everything, as Bifrost before v1.5 did, with a warning", () => {
    const { config, warnings } = parseBifrostConfig(
      { providers, governance: { virtual_keys: [key({ provider_configs: [] })] } },
      env,
      "config.json",
    );
    expect(config.governance?.virtualKeys[0]).toMatchObject({ active: true, providers: [] });
    expect(warnings[0]).toContain("governance.virtual_keys[0].provider_configs: [] read as every provider");
  });

  it("names what it does not act on", () => {
    const { warnings } = parse({
      governance: {
        virtual_keys: [
          key({ mcp_configs: [{ mcp_client_name: "github", tools_to_execute: ["*"] }], extra: 1 }),
        ],
        routing_rules: [{ id: "r1" }],
        auth_config: { is_enabled: true, admin_username: "admin" },
      },
    });
    expect(warnings).toEqual([
      "governance.virtual_keys[0].mcp_configs: not supported yet; ignored",
      "governance.virtual_keys[0].extra: unknown key; ignored",
      "governance.auth_config.is_enabled: not supported yet; ignored",
      "governance.auth_config.admin_username: not supported yet; ignored",
      "governance.routing_rules: not supported yet; ignored",
    ]);
  });

  it("refuses bad entries with their paths and never quotes a value", () => {
    const problems = problemsOf({
      governance: {
        virtual_keys: [
          key({ value: 42 }),
          key({ id: "vk-2", value: "short" }),
          key({ id: "vk-3", value: "env.MISSING_VK" }),
          key({ id: "vk 4", value: `${VK_VALUE}-4` }),
          key({ id: "vk-5", value: `${VK_VALUE}-5`, team_id: "t1", customer_id: "c1" }),
          key({ id: "vk-6", value: `${VK_VALUE}-6`, expires_at: "next year" }),
          key({
            id: "vk-7",
            value: `${VK_VALUE}-7`,
            provider_configs: [{ provider: "openai", allowed_models: ["*"], key_ids: ["nope"] }],
          }),
          key({ id: "vk-8", value: `${VK_VALUE}-8`, budget_id: "missing" }),
        ],
      },
    });
    expect(problems).toEqual([
      'governance.virtual_keys[0].value: must be a string (a literal key or "env.VAR_NAME")',
      "governance.virtual_keys[1].value: must be at least 16 characters without spaces",
      "governance.virtual_keys[2].value: environment variable MISSING_VK is not set",
      "governance.virtual_keys[3].id: must be an id of letters, digits and . _ : @ - (at most 128)",
      "governance.virtual_keys[4]: team_id and customer_id exclude each other (a key belongs to a team or a customer)",
      "governance.virtual_keys[5].expires_at: must be an RFC 3339 date-time such as 2026-01-31T00:00:00Z",
      'governance.virtual_keys[6].provider_configs[0].key_ids[0]: names no key of provider openai ("nope")',
      'governance.virtual_keys[7].budget_id: names no budget in governance.budgets ("missing")',
    ]);
    expect(problems.join("\n")).not.toContain(VK_VALUE);
    expect(problems.join("\n")).not.toContain("short");
  });

  it("refuses two keys with one value and duplicate ids", () => {
    expect(problemsOf({ governance: { virtual_keys: [key(), key({ id: "vk-2" })] } })).toEqual([
      'governance.virtual_keys[1].value: is the same key as virtual key "vk-1"',
    ]);
    expect(problemsOf({ governance: { virtual_keys: [key(), key({ value: `${VK_VALUE}x` })] } })).toEqual([
      'governance.virtual_keys: duplicate id "vk-1" (entry 1)',
    ]);
  });
});

describe("Bifrost governance: budgets, rate limits, teams and customers", () => {
  it("resolves budget_id and rate_limit_id into the owner's budgets and limits", () => {
    const { config, warnings } = parse({
      governance: {
        budgets: [
          { id: "b-key", max_limit: 10.5, reset_duration: "1M" },
          { id: "b-team", max_limit: 100, reset_duration: "1w", last_reset: "2026-01-05T00:00:00Z" },
          { id: "b-cust", max_limit: 0.000001, reset_duration: "1d" },
        ],
        rate_limits: [
          {
            id: "rl",
            token_max_limit: 10000,
            token_reset_duration: "1m",
            request_max_limit: 60,
            request_reset_duration: "1m",
          },
        ],
        customers: [{ id: "c1", name: "Acme", budget_id: "b-cust" }],
        teams: [{ id: "t1", name: "Search", customer_id: "c1", budget_id: "b-team", rate_limit_id: "rl" }],
        virtual_keys: [key({ team_id: "t1", budget_id: "b-key", rate_limit_id: "rl" })],
      },
    });
    expect(warnings).toEqual([]);
    const g = config.governance;
    expect(g?.customers).toEqual([
      {
        id: "c1",
        name: "Acme",
        budgets: [
          { id: "b-cust", maxMicros: 1, anchor: 0, window: { count: 1, unit: "day", alignment: "rolling" } },
        ],
        metadata: {},
        createdAt: 0,
        updatedAt: 0,
      },
    ]);
    expect(g?.teams[0]).toEqual({
      id: "t1",
      name: "Search",
      customerId: "c1",
      budgets: [
        {
          id: "b-team",
          maxMicros: 100_000_000,
          anchor: Date.UTC(2026, 0, 5),
          window: { count: 1, unit: "week", alignment: "rolling" },
        },
      ],
      limits: { requests: 60, tokens: 10000, window: { count: 1, unit: "minute", alignment: "rolling" } },
      models: [],
      metadata: {},
      createdAt: 0,
      updatedAt: 0,
    });
    expect(g?.virtualKeys[0]?.budgets).toEqual([
      {
        id: "b-key",
        maxMicros: 10_500_000,
        anchor: 0,
        window: { count: 1, unit: "month", alignment: "rolling" },
      },
    ]);
    expect(g?.virtualKeys[0]?.limits).toEqual(g?.teams[0]?.limits);
  });

  it("reads newer files that name the owner on the budget, and customers' inline budgets", () => {
    const { config } = parse({
      governance: {
        budgets: [
          { id: "daily", max_limit: 5, reset_duration: "1d", virtual_key_id: "vk-1" },
          { id: "monthly", max_limit: 50, reset_duration: "1M", virtual_key_id: "vk-1" },
        ],
        customers: [
          {
            id: "c1",
            name: "Acme",
            budgets: [
              { max_limit: 1, reset_duration: "1d" },
              { max_limit: 20, reset_duration: "1M" },
            ],
          },
        ],
        virtual_keys: [key({ customer_id: "c1" })],
      },
    });
    expect(config.governance?.virtualKeys[0]?.budgets.map((b) => b.id)).toEqual(["daily", "monthly"]);
    expect(config.governance?.customers[0]?.budgets.map((b) => [b.id, b.maxMicros])).toEqual([
      ["c1-budget-0", 1_000_000],
      ["c1-budget-1", 20_000_000],
    ]);
  });

  it("calendar_aligned on the owner aligns its day, week, month and year windows; minutes and hours stay rolling", () => {
    const { config } = parse({
      governance: {
        budgets: [
          { id: "d", max_limit: 1, reset_duration: "1d" },
          { id: "h", max_limit: 1, reset_duration: "1h" },
          { id: "legacy", max_limit: 1, reset_duration: "1M", calendar_aligned: true },
        ],
        teams: [{ id: "t1", name: "Search", budget_id: "d", calendar_aligned: true }],
        customers: [{ id: "c1", name: "Acme", budget_id: "h", calendar_aligned: true }],
        virtual_keys: [key({ budget_id: "legacy" })],
      },
    });
    const g = config.governance;
    expect(g?.teams[0]?.budgets[0]?.window?.alignment).toBe("calendar");
    expect(g?.customers[0]?.budgets[0]?.window?.alignment).toBe("rolling");
    expect(g?.virtualKeys[0]?.budgets[0]?.window?.alignment).toBe("calendar");
  });

  it("warns about budgets and rate limits nothing uses, and owners the file does not define", () => {
    const { warnings } = parse({
      governance: {
        budgets: [
          { id: "lonely", max_limit: 1, reset_duration: "1d" },
          { id: "orphan", max_limit: 1, reset_duration: "1d", team_id: "ghost" },
        ],
        rate_limits: [{ id: "rl", request_max_limit: 5, request_reset_duration: "1m" }],
        teams: [{ id: "t1", name: "Search", customer_id: "elsewhere" }],
      },
    });
    expect(warnings).toEqual([
      'governance.teams[0].customer_id: "elsewhere" is not in governance.customers; it must exist in the store',
      'governance.budgets[1].team_id: "ghost" is not defined in governance.teams; budget unused',
      'governance.budgets[0]: budget "lonely" is used by nothing',
      'governance.rate_limits[0]: rate limit "rl" is used by nothing',
    ]);
  });

  it("refuses bad budgets and rate limits with their paths", () => {
    const problems = problemsOf({
      governance: {
        budgets: [
          { id: "a", max_limit: -1, reset_duration: "1d" },
          { id: "b", max_limit: 1, reset_duration: "30s" },
          { id: "c", max_limit: 1 },
          { id: "a", max_limit: 1, reset_duration: "1d" },
        ],
        rate_limits: [
          {
            id: "r1",
            token_max_limit: 100,
            token_reset_duration: "1h",
            request_max_limit: 5,
            request_reset_duration: "1m",
          },
          { id: "r2", request_max_limit: 1.5, request_reset_duration: "1m" },
          { id: "r3", token_max_limit: 100 },
        ],
      },
    });
    expect(problems).toEqual([
      "governance.budgets[0].max_limit: must be a number of dollars, at least 0",
      "governance.budgets[1].reset_duration: must be at least a minute (seconds are not supported)",
      "governance.budgets[2].reset_duration: is required",
      'governance.budgets[3].id: duplicate budget id "a"',
      "governance.rate_limits[0]: token_reset_duration and request_reset_duration must be the same window (Switchyard keeps one window per rate limit); split them into two rate limits on different owners",
      "governance.rate_limits[1].request_max_limit: must be a whole number, at least 0",
      "governance.rate_limits[2].token_reset_duration: is required with token_max_limit",
    ]);
  });

  it("names per-provider budgets and limits as not acted on", () => {
    const { warnings } = parse({
      governance: {
        budgets: [{ id: "pb", max_limit: 1, reset_duration: "1d" }],
        virtual_keys: [
          key({
            provider_configs: [
              { provider: "openai", allowed_models: ["*"], key_ids: ["*"], budget_id: "pb" },
            ],
          }),
        ],
      },
    });
    expect(warnings).toEqual([
      "governance.virtual_keys[0].provider_configs[0].budget_id: per-provider budgets and rate limits are not supported yet; ignored",
    ]);
  });
});

describe("Bifrost governance: requiring a virtual key", () => {
  it("client.enforce_auth_on_inference (or enforce_governance_header) requires one", () => {
    expect(parse({ client: { enforce_auth_on_inference: true } }).config.governance).toEqual({
      requireVirtualKey: true,
      virtualKeys: [],
      teams: [],
      customers: [],
    });
    expect(parse({ client: { enforce_governance_header: true } }).config.governance?.requireVirtualKey).toBe(
      true,
    );
    expect(
      parse({ client: { enforce_auth_on_inference: false, enforce_governance_header: true } }).config
        .governance,
    ).toBeUndefined();
  });

  it("governance.auth_config.disable_auth_on_inference overrides the client flag", () => {
    const { config } = parse({
      client: { enforce_auth_on_inference: true },
      governance: { auth_config: { disable_auth_on_inference: true } },
    });
    expect(config.governance?.requireVirtualKey).toBe(false);
  });

  it("says that enable_governance: false turns nothing off", () => {
    expect(parse({ client: { enable_governance: false } }).warnings).toEqual([
      "client.enable_governance: governance cannot be turned off; the virtual keys and budgets given apply",
    ]);
    expect(parse({ client: { enable_governance: true } }).warnings).toEqual([]);
  });

  it("sets no governance when the file has none", () => {
    expect(parse({}).config.governance).toBeUndefined();
  });
});

describe("Bifrost stores", () => {
  const pg = (extra: Record<string, unknown> = {}) => ({
    enabled: true,
    type: "postgres",
    config: {
      host: "db.internal",
      port: "5432",
      user: "bifrost",
      password: "env.PG_PASSWORD",
      db_name: "bifrost",
      ssl_mode: "require",
      ...extra,
    },
  });

  it("builds the store's URL from a postgres config_store, escaping each part", () => {
    const { config } = parse({ config_store: pg() });
    expect(config.governance).toEqual({
      requireVirtualKey: false,
      virtualKeys: [],
      teams: [],
      customers: [],
      databaseUrl: "postgres://bifrost:p%40ss%2Fword@db.internal:5432/bifrost?sslmode=require",
    });
  });

  it("takes a numeric port and an empty password, and a postgres logs_store when config_store has none", () => {
    const { config } = parse({ logs_store: pg({ port: 6432, password: "" }) });
    expect(config.governance?.databaseUrl).toBe(
      "postgres://bifrost@db.internal:6432/bifrost?sslmode=require",
    );
  });

  it("keeps config_store's database when logs_store names another, with a warning", () => {
    const { config, warnings } = parse({ config_store: pg(), logs_store: pg({ db_name: "logs" }) });
    expect(config.governance?.databaseUrl).toContain("/bifrost?");
    expect(warnings).toEqual([
      "logs_store: Switchyard keeps logs and spend in the config_store database; this other database is not used",
    ]);
  });

  it("stays on SQLite in --app-dir for a sqlite store or a disabled one", () => {
    const { config, warnings } = parse({
      config_store: { enabled: true, type: "sqlite", config: { path: "./config.db" } },
      logs_store: { ...pg(), enabled: false },
    });
    expect(config.governance).toBeUndefined();
    expect(warnings).toEqual([
      "config_store.config.path: Switchyard keeps its SQLite store in --app-dir; ignored",
    ]);
  });

  it("refuses an incomplete postgres store with paths, never quoting the password", () => {
    const problems = problemsOf({
      config_store: pg({ host: "", user: 5, port: "99999", password: "hunter2-secret" }),
    });
    expect(problems).toEqual([
      "config_store.config.host: is required",
      "config_store.config.port: must be a port number (1 to 65535)",
      'config_store.config.user: must be a string (a literal value or "env.VAR_NAME")',
    ]);
    expect(problemsOf({ config_store: { enabled: true, type: "mysql" } })).toEqual([
      'config_store.type: must be "sqlite" or "postgres"',
    ]);
  });
});
