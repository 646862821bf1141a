import { describe, expect, it } from "vitest";
import { parseBifrostConfig } from "./bifrost.js";
import { describeConfig, describeGovernance, describePlugins } from "./describe.js";
import { configFromEnvironment } from "./env.js";

const SECRET = "sk-live-0123456789abcdef";

describe("describeConfig", () => {
  it("prints one line per provider with kind, base URL, key count and model restriction", () => {
    const { config } = parseBifrostConfig(
      {
        providers: {
          openai: {
            keys: [
              { name: "a", value: "env.OPENAI_API_KEY", models: ["gpt-4o", "gpt-4o-mini"], weight: 1 },
              { name: "b", value: "env.OPENAI_API_KEY", models: ["gpt-4o"], weight: 1 },
            ],
          },
          anthropic: { keys: [{ name: "a", value: "env.OPENAI_API_KEY", models: ["*"] }] },
          "my-vllm": { network_config: { base_url: "http://10.0.0.5:8000/v1" } },
        },
      },
      { OPENAI_API_KEY: SECRET },
      "config.json",
    );
    expect(describeConfig(config)).toEqual([
      "openai (openai) https://api.openai.com, 2 keys, models: restricted to gpt-4o, gpt-4o-mini",
      "anthropic (anthropic) https://api.anthropic.com, 1 key, models: any",
      "my-vllm (custom) http://10.0.0.5:8000/v1, no keys, models: any",
    ]);
  });

  it("caps the model list", () => {
    const models = ["m1", "m2", "m3", "m4", "m5", "m6", "m7"];
    const { config } = parseBifrostConfig(
      { providers: { groq: { keys: [{ name: "k", value: "x", models }] } } },
      {},
      "c.json",
    );
    expect(describeConfig(config)).toEqual([
      "groq (groq) https://api.groq.com, 1 key, models: restricted to m1, m2, m3, m4, m5, +2 more",
    ]);
  });

  it("never prints a secret: key values, header values, or credentials in the base URL", () => {
    const { config } = parseBifrostConfig(
      {
        providers: {
          openai: {
            keys: [{ name: "primary", value: SECRET, models: ["*"] }],
            network_config: {
              base_url: `https://proxy-user:${SECRET}@proxy.example.com/v1`,
              extra_headers: { Authorization: `Bearer ${SECRET}` },
            },
          },
        },
      },
      {},
      "c.json",
    );
    const lines = describeConfig(config);
    expect(lines).toEqual(["openai (openai) https://proxy.example.com/v1, 1 key, models: any"]);
    expect(lines.join("\n")).not.toContain(SECRET);

    const fromEnv = configFromEnvironment({ OPENAI_API_KEY: SECRET, ANTHROPIC_API_KEY: SECRET });
    expect(describeConfig(fromEnv.config).join("\n")).not.toContain(SECRET);
  });

  it("never prints a service account, an AWS secret or session token, or an Azure key", () => {
    const pem = "PEMBODYSECRET-abcdef0123456789";
    const sa = JSON.stringify({
      type: "service_account",
      project_id: "proj-123456",
      private_key: `-----BEGIN PRIVATE KEY-----\n${pem}\n-----END PRIVATE KEY-----\n`,
      client_email: "gw@proj-123456.iam.gserviceaccount.com",
    });
    const { config } = parseBifrostConfig(
      {
        providers: {
          azure: {
            keys: [
              {
                name: "eu",
                value: SECRET,
                models: ["gpt-4o"],
                azure_key_config: { endpoint: "https://eu.openai.azure.com" },
              },
              {
                name: "us",
                value: SECRET,
                models: ["gpt-4o"],
                azure_key_config: {
                  endpoint: "https://us.openai.azure.com",
                  api_version: "2025-04-01-preview",
                },
              },
            ],
          },
          vertex: {
            keys: [
              {
                name: "v",
                models: ["*"],
                vertex_key_config: { project_id: "proj-123456", region: "global", auth_credentials: sa },
              },
            ],
          },
          bedrock: {
            keys: [
              {
                name: "b",
                models: ["*"],
                bedrock_key_config: {
                  access_key: "AKIAVISIBLE",
                  secret_key: SECRET,
                  session_token: `${SECRET}-token`,
                  region: "us-east-2",
                },
              },
            ],
            network_config: { base_url: "https://vpce-123.bedrock-runtime.us-east-2.vpce.amazonaws.com" },
          },
        },
      },
      {},
      "c.json",
    );
    const lines = describeConfig(config);
    expect(lines).toEqual([
      "azure (azure) upstream per key, 2 keys (https://eu.openai.azure.com api-version 2024-10-21; https://us.openai.azure.com api-version 2025-04-01-preview), models: restricted to gpt-4o",
      "vertex (vertex) upstream per key, 1 key (project proj-123456 in global), models: any",
      "bedrock (bedrock) https://vpce-123.bedrock-runtime.us-east-2.vpce.amazonaws.com, 1 key (region us-east-2), models: any",
    ]);
    const text = lines.join("\n");
    for (const secret of [SECRET, pem, "AKIAVISIBLE", "PRIVATE KEY"]) expect(text).not.toContain(secret);
  });

  it("says when nothing is configured", () => {
    expect(describeConfig(configFromEnvironment({}).config)).toEqual([
      "no providers configured (source: environment)",
    ]);
  });
});

describe("describePlugins", () => {
  it("names the plugins in the order they run, or says there are none", () => {
    expect(describePlugins(["master_key", "header_allowlist", "audit"])).toBe(
      "plugins: master_key, header_allowlist, audit",
    );
    expect(describePlugins([])).toBe("plugins: none");
  });
});

describe("describeGovernance", () => {
  const value = "sk-bf-0123456789abcdef-SECRET";

  it("counts what the file defines, says whether a key is required, and names the store without credentials", () => {
    const { config } = parseBifrostConfig(
      {
        version: 2,
        client: { enforce_auth_on_inference: true },
        governance: {
          teams: [{ id: "t1", name: "Search" }],
          virtual_keys: [{ id: "vk-1", name: "search", value, provider_configs: [] }],
        },
        config_store: {
          enabled: true,
          type: "postgres",
          config: {
            host: "db",
            port: "5432",
            user: "u",
            password: "pg-SECRET",
            db_name: "sy",
            ssl_mode: "disable",
          },
        },
      },
      {},
      "config.json",
    );
    const line = describeGovernance(config);
    expect(line).toBe(
      "governance: 1 virtual key, 1 team, 0 customers from config.json; virtual key required on inference routes; store: PostgreSQL postgres://db:5432/sy",
    );
    for (const secret of [
      value,
      value.slice(0, 6),
      "pg-SECRET",
      config.governance?.virtualKeys[0]?.hash ?? "-",
    ])
      expect(line).not.toContain(secret);
  });

  it("says the gateway keeps SQLite and needs no virtual key when nothing is configured", () => {
    expect(describeGovernance(configFromEnvironment({}).config)).toBe(
      "governance: virtual keys not required; store: SQLite in --app-dir",
    );
  });

  it("mentions key defaults and upper bounds", () => {
    const { config } = configFromEnvironment({ SWITCHYARD_REQUIRE_VIRTUAL_KEY: "false" });
    expect(
      describeGovernance({
        ...config,
        governance: {
          ...(config.governance ?? { requireVirtualKey: false, virtualKeys: [], teams: [], customers: [] }),
          keyDefaults: { rpm: 5 },
          keyUpperBounds: { rpm: 50 },
        },
      }),
    ).toBe(
      "governance: 0 virtual keys, 0 teams, 0 customers from environment; virtual keys not required; store: SQLite in --app-dir; defaults and upper bounds for new keys",
    );
  });
});
