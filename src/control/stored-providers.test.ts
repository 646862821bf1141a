import { describe, expect, it } from "vitest";
import { parseBifrostConfig } from "../config/bifrost.js";
import { configFromEnvironment } from "../config/env.js";
import type { GatewayConfig } from "../config/types.js";
import type { StoredProvider, StoredProviderKey } from "../store/types.js";
import { withStoredProviders } from "./stored-providers.js";

const T = Date.parse("2026-03-01T12:00:00Z");

function provider(fields: Partial<StoredProvider> & { name: string; kind: string }): StoredProvider {
  return { extraHeaders: {}, createdAt: T, updatedAt: T, ...fields };
}

function key(fields: Partial<StoredProviderKey> & { provider: string; secret: string }): StoredProviderKey {
  return {
    id: `pkey-${fields.secret}`,
    name: "main",
    models: [],
    weight: 1,
    enabled: true,
    createdAt: T,
    updatedAt: T,
    ...fields,
  };
}

const fileConfig = (): GatewayConfig => configFromEnvironment({ OPENAI_API_KEY: "sk-file" }).config;

describe("withStoredProviders", () => {
  it("builds a stored provider as the Bifrost loader builds the same provider from config.json", () => {
    const fromFile = parseBifrostConfig(
      {
        providers: {
          "team-gpt": {
            custom_provider_config: { base_provider_type: "openai" },
            network_config: {
              base_url: "http://localhost:9100/v1/",
              extra_headers: { "x-team": "red" },
              default_request_timeout_in_seconds: 12,
              max_retries: 2,
            },
            keys: [{ name: "first", value: "sk-stored-1", models: ["gpt-4o-mini"], weight: 3 }],
          },
        },
      },
      {},
      "/tmp/config.json",
    ).config.providers["team-gpt"];
    const { config, warnings } = withStoredProviders(
      fileConfig(),
      [
        provider({
          name: "team-gpt",
          kind: "openai",
          baseUrl: "http://localhost:9100/v1/",
          extraHeaders: { "x-team": "red" },
          requestTimeoutMs: 12_000,
          maxRetries: 2,
        }),
      ],
      [
        key({
          provider: "team-gpt",
          name: "first",
          secret: "sk-stored-1",
          models: ["gpt-4o-mini"],
          weight: 3,
        }),
      ],
    );
    expect(warnings).toEqual([]);
    expect(config.providers["team-gpt"]).toEqual(fromFile);
    expect(Object.keys(config.providers)).toEqual(["openai", "team-gpt"]);
  });

  it("gives a kind's default URL and Bifrost's network and concurrency defaults", () => {
    const { config } = withStoredProviders(
      fileConfig(),
      [provider({ name: "groq-api", kind: "groq" })],
      [key({ provider: "groq-api", secret: "gsk-1" })],
    );
    expect(config.providers["groq-api"]).toEqual({
      name: "groq-api",
      kind: "groq",
      keys: [{ name: "main", value: "gsk-1", models: [], weight: 1 }],
      network: {
        baseUrl: "https://api.groq.com",
        extraHeaders: {},
        requestTimeoutMs: 30_000,
        maxRetries: 0,
        retryBackoffInitialMs: 500,
        retryBackoffMaxMs: 5_000,
      },
      concurrency: { concurrency: 1000, bufferSize: 5000 },
    });
  });

  it("gives each provider its own keys, reading '*' among the models as any model", () => {
    const { config } = withStoredProviders(
      fileConfig(),
      [provider({ name: "a", kind: "openai" }), provider({ name: "b", kind: "mistral" })],
      [
        key({ provider: "b", name: "b1", secret: "sk-b1", models: ["mistral-large", "*"] }),
        key({ provider: "a", name: "a1", secret: "sk-a1", models: ["gpt-4o", "gpt-4o"] }),
        key({ provider: "a", name: "a2", secret: "sk-a2", weight: 0.5 }),
      ],
    );
    expect(config.providers.a?.keys).toEqual([
      { name: "a1", value: "sk-a1", models: ["gpt-4o"], weight: 1 },
      { name: "a2", value: "sk-a2", models: [], weight: 0.5 },
    ]);
    expect(config.providers.b?.keys).toEqual([{ name: "b1", value: "sk-b1", models: [], weight: 1 }]);
  });

  it("leaves out a name the configuration file defines: the file's provider is served", () => {
    const file = fileConfig();
    const { config, warnings } = withStoredProviders(
      file,
      [provider({ name: "openai", kind: "openai", baseUrl: "http://evil.example" })],
      [key({ provider: "openai", secret: "sk-stored" })],
    );
    expect(config).toBe(file);
    expect(config.providers.openai?.keys[0]?.value).toBe("sk-file");
    expect(warnings).toEqual([
      'stored provider "openai": the configuration file defines this name too; the file\'s is served',
    ]);
  });

  it("leaves out a provider of a public API without keys, and serves local and custom servers keyless", () => {
    const { config, warnings } = withStoredProviders(
      fileConfig(),
      [
        provider({ name: "no-keys", kind: "openai" }),
        provider({ name: "local", kind: "ollama", baseUrl: "http://127.0.0.1:11434" }),
        provider({ name: "mine", kind: "custom", baseUrl: "http://10.0.0.5:8000/v1" }),
      ],
      [],
    );
    expect(Object.keys(config.providers)).toEqual(["openai", "local", "mine"]);
    expect(config.providers.mine?.keys).toEqual([]);
    expect(warnings).toEqual(['stored provider "no-keys": it has no keys; not served']);
  });

  it("leaves disabled keys out, and serves a provider whose keys are all disabled with none", () => {
    const { config, warnings } = withStoredProviders(
      fileConfig(),
      [
        provider({ name: "some-off", kind: "openai" }),
        provider({ name: "all-off", kind: "openai" }),
        provider({ name: "mine-off", kind: "custom", baseUrl: "http://10.0.0.5:8000/v1" }),
      ],
      [
        key({ provider: "some-off", name: "on", secret: "sk-on" }),
        key({ provider: "some-off", name: "off", secret: "sk-off", enabled: false }),
        key({ provider: "all-off", name: "off", secret: "sk-all-off", enabled: false }),
        key({ provider: "mine-off", name: "off", secret: "sk-mine-off", enabled: false }),
      ],
    );
    expect(warnings).toEqual([]);
    expect(config.providers["some-off"]?.keys.map((k) => k.name)).toEqual(["on"]);
    expect(config.providers["some-off"]?.keysDisabled).toBeUndefined();
    // A keyless kind too: its operator turned its one key off, so nothing is sent without it.
    for (const name of ["all-off", "mine-off"])
      expect(config.providers[name]).toMatchObject({ keys: [], keysDisabled: true });
    expect(JSON.stringify(config.providers)).not.toContain("sk-all-off");
  });

  it("checks rows again rather than trusting the store", () => {
    const { config, warnings } = withStoredProviders(
      fileConfig(),
      [
        provider({ name: "bad/name", kind: "openai" }),
        provider({ name: "az", kind: "azure", baseUrl: "https://x.openai.azure.com" }),
        provider({ name: "odd", kind: "not-a-kind", baseUrl: "http://localhost:1" }),
        provider({ name: "ftp", kind: "openai", baseUrl: "ftp://files.example" }),
        provider({ name: "nowhere", kind: "custom" }),
      ],
      ["bad/name", "az", "odd", "ftp", "nowhere"].map((name) =>
        key({ provider: name, secret: `sk-${name}` }),
      ),
    );
    expect(Object.keys(config.providers)).toEqual(["openai"]);
    expect(warnings).toEqual([
      'stored provider "bad/name": its name is empty or has "/" or spaces; not served',
      'stored provider "az": kind azure needs per-key settings only the configuration file gives; not served',
      'stored provider "odd": kind "not-a-kind" is unknown; not served',
      'stored provider "ftp": its base URL is not an absolute http(s) URL; not served',
      'stored provider "nowhere": kind custom has no default URL and none is set; not served',
    ]);
    expect(warnings.join("\n")).not.toContain("sk-");
  });

  it("keeps the configuration frozen and the file's own untouched", () => {
    const file = fileConfig();
    const { config } = withStoredProviders(
      file,
      [provider({ name: "extra", kind: "openai", extraHeaders: { "x-a": "1" } })],
      [key({ provider: "extra", secret: "sk-extra" })],
    );
    expect(config).not.toBe(file);
    expect(Object.keys(file.providers)).toEqual(["openai"]);
    expect(config.client).toBe(file.client);
    expect(config.source).toBe(file.source);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.providers)).toBe(true);
    expect(Object.isFrozen(config.providers.extra?.network.extraHeaders)).toBe(true);
    expect(Object.isFrozen(config.providers.extra?.keys[0])).toBe(true);
  });

  it("returns the configuration itself when the store has no provider", () => {
    const file = fileConfig();
    expect(withStoredProviders(file, [], [])).toEqual({ config: file, warnings: [] });
    expect(withStoredProviders(file, [], []).config).toBe(file);
  });
});
