import { describe, expect, it } from "vitest";
import { adminHarness, testConfig } from "../../test/helpers/admin-harness.js";
import { DEFAULT_CONCURRENCY, defaultNetwork } from "../config/defaults.js";
import type { GatewayConfig, ProviderConfig } from "../config/types.js";
import { configView, knownSecrets } from "./config-view.js";

// /api/config shows a configuration full of secrets. Every secret below carries the word SECRET in its
// middle, which nothing else in the configuration does: the answer must not contain it anywhere.

const network = (baseUrl: string) => ({
  ...defaultNetwork(baseUrl),
  extraHeaders: { "x-org-token": "org-token-SECRET-98765" },
});

const PROVIDERS: Record<string, ProviderConfig> = {
  openai: {
    name: "openai",
    kind: "openai",
    keys: [
      { name: "main", value: "sk-proj-SECRET-aaaa1111bbbb2222", models: [], weight: 1 },
      { name: "short", value: "SECRETx", models: ["gpt-4o"], weight: 2 },
    ],
    network: network("https://api.openai.com"),
    concurrency: DEFAULT_CONCURRENCY,
  },
  azure: {
    name: "azure",
    kind: "azure",
    keys: [
      {
        name: "east",
        value: "azure-key-SECRET-000111222333",
        models: ["gpt-4o"],
        weight: 1,
        azure: {
          endpoint: "https://res.openai.azure.com",
          apiVersion: "2024-10-21",
          deployments: { "gpt-4o": "gpt4o-prod" },
        },
      },
    ],
    network: network(""),
    concurrency: DEFAULT_CONCURRENCY,
  },
  vertex: {
    name: "vertex",
    kind: "vertex",
    keys: [
      {
        name: "sa",
        value: "",
        models: [],
        weight: 1,
        vertex: {
          projectId: "proj",
          region: "us-central1",
          serviceAccountJson: '{"private_key":"-----BEGIN PRIVATE KEY-----SECRET-PEM"}',
        },
      },
    ],
    network: network("https://us-central1-aiplatform.googleapis.com"),
    concurrency: DEFAULT_CONCURRENCY,
  },
  bedrock: {
    name: "bedrock",
    kind: "bedrock",
    keys: [
      {
        name: "aws",
        value: "",
        models: [],
        weight: 1,
        bedrock: {
          accessKey: "AKIA-SECRET-ACCESS-KEY-ID",
          secretKey: "bedrock-secret-SECRET-xyz/abc+def",
          sessionToken: "session-SECRET-token-value",
          region: "us-east-1",
          deployments: {},
        },
      },
    ],
    network: network("https://bedrock-runtime.us-east-1.amazonaws.com"),
    concurrency: DEFAULT_CONCURRENCY,
  },
};

function secretConfig(): GatewayConfig {
  const base = testConfig();
  return {
    ...base,
    providers: { ...base.providers, ...PROVIDERS },
    masterKey: "sk-master-SECRET-4242",
    governance: {
      requireVirtualKey: true,
      virtualKeys: [],
      teams: [],
      customers: [],
      databaseUrl: "postgres://gateway:DBPASSWORD-SECRET@db.internal/switchyard",
    },
    tracing: {
      endpoint: "https://otel:collector-SECRET-pass@collector.internal/v1/traces",
      headers: { authorization: "Bearer otel-SECRET-token" },
      serviceName: "switchyard",
    },
    plugins: [
      { name: "guard", path: "./guard.js", options: { apiKey: "plugin-SECRET-option" }, enabled: true },
      { builtin: "header_allowlist", options: { allow: ["x-SECRET-header"] }, enabled: false },
    ],
  };
}

describe("GET /api/config", () => {
  it("shows no secret anywhere, even in the warnings and the reload error", async () => {
    const config = secretConfig();
    const admin = await adminHarness(config);
    admin.configStatus = {
      startupWarnings: [
        "ignored key litellm_settings.callbacks",
        "odd value sk-proj-SECRET-aaaa1111bbbb2222",
      ],
      reloadWarnings: ["a plugin said: Bearer otel-SECRET-token"],
      apiWarnings: [
        'stored provider "x": the configuration file defines this name too; the file\'s is served',
      ],
      watching: true,
      lastReload: {
        at: Date.parse("2026-03-01T12:00:00Z"),
        ok: false,
        error: "bad key sk-master-SECRET-4242",
      },
    };
    const { status, text, json } = await admin.call("GET", "/api/config");
    expect(status).toBe(200);
    expect(text).not.toContain("SECRET");
    for (const secret of knownSecrets(config)) expect(text).not.toContain(secret);
    expect(json.reload).toEqual({
      watching: true,
      last_at: "2026-03-01T12:00:00.000Z",
      ok: false,
      error: "bad key [redacted]",
    });
    expect(json.warnings.startup[0]).toBe("ignored key litellm_settings.callbacks");
    expect(json.warnings.api).toEqual([
      'stored provider "x": the configuration file defines this name too; the file\'s is served',
    ]);
    await admin.close();
  });

  it("says what is set without showing it, and masks provider keys as the providers route does", async () => {
    const admin = await adminHarness(secretConfig());
    const { json } = await admin.call("GET", "/api/config");
    const body = json.config;
    expect(body.master_key_set).toBe(true);
    expect(body.governance.database_url_set).toBe(true);
    expect(body.plugins).toEqual([
      { name: "guard", enabled: true },
      { name: "header_allowlist", enabled: false },
    ]);
    expect(body.tracing).toEqual({
      endpoint: "https://collector.internal/v1/traces",
      header_names: ["authorization"],
      service_name: "switchyard",
    });
    const openai = body.providers.find((p: { name: string }) => p.name === "openai");
    expect(openai.keys.map((k: { secret: string }) => k.secret)).toEqual(["sk-…2222", "…"]);
    expect(openai.extra_headers).toEqual({ "x-org-token": "org…8765" });
    const bedrock = body.providers.find((p: { name: string }) => p.name === "bedrock");
    expect(bedrock.keys[0].bedrock).toEqual({ region: "us-east-1", access_key: "AKI…Y-ID", deployments: {} });
    expect(bedrock.keys[0].secret).toBe("");
    await admin.close();
  });

  it("names its source and the providers added through the API", async () => {
    const admin = await adminHarness();
    await admin.call("POST", "/api/providers", {
      name: "local",
      kind: "custom",
      base_url: "http://127.0.0.1:9/v1",
    });
    const served: GatewayConfig = {
      ...testConfig(),
      providers: {
        ...testConfig().providers,
        local: { ...(PROVIDERS.openai as ProviderConfig), name: "local" },
      },
    };
    const context = { ...admin.context, config: () => served };
    const view = configView(context);
    expect(view.source).toBe("/tmp/admin-test-config.yaml");
    expect(view.api_providers).toEqual(["local"]);
    const providers = (view.config as { providers: { name: string; source: string }[] }).providers;
    expect(providers.map((p) => [p.name, p.source])).toEqual([
      ["openai", "config"],
      ["anthropic", "config"],
      ["local", "api"],
    ]);
    expect(view.reload).toEqual({ watching: false, last_at: null, ok: null, error: null });
    await admin.close();
  });

  it("shows the model groups, aliases and fallbacks", async () => {
    const admin = await adminHarness();
    const { json } = await admin.call("GET", "/api/config");
    expect(json.config.model_groups["gpt-4o"]).toEqual([
      {
        provider: "openai",
        model: "gpt-4o",
        key: "gpt-4o#0",
        weight: 100,
        order: 0,
        rpm: 100,
        tpm: null,
        timeout_ms: null,
      },
    ]);
    expect(json.config.fallbacks).toEqual({ general: {}, context_window: {}, content_policy: {} });
    await admin.close();
  });
});
