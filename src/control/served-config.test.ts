import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configFromEnvironment } from "../config/env.js";
import type { GatewayConfig } from "../config/types.js";
import { SecretCipher } from "../store/cipher.js";
import { openSqliteStore } from "../store/sqlite.js";
import type { GovernanceStore, StoredProvider, StoredProviderKey } from "../store/types.js";
import { ServedConfigControl } from "./served-config.js";

// Against a real SQLite store in memory; the lanes are a list of what was published.

const T = Date.parse("2026-03-01T12:00:00Z");
const MOCK: StoredProvider = {
  name: "mock",
  kind: "openai",
  baseUrl: "http://127.0.0.1:9/v1",
  extraHeaders: {},
  createdAt: T,
  updatedAt: T,
};
const MOCK_KEY: StoredProviderKey = {
  id: "pkey-1",
  provider: "mock",
  name: "main",
  secret: "sk-mock-secret",
  models: [],
  weight: 1,
  enabled: true,
  createdAt: T,
  updatedAt: T,
};

let store: GovernanceStore;
let published: GatewayConfig[];
let lines: string[];

const fileConfig = (env: NodeJS.ProcessEnv = { OPENAI_API_KEY: "sk-file" }) =>
  configFromEnvironment(env).config;

const start = (file = fileConfig()) =>
  ServedConfigControl.start(
    store,
    file,
    async (config) => {
      published.push(config);
    },
    (line) => lines.push(line),
  );

beforeEach(async () => {
  store = openSqliteStore(":memory:", new SecretCipher(randomBytes(32)));
  await store.migrate();
  published = [];
  lines = [];
});

afterEach(async () => {
  await store.close();
});

describe("ServedConfigControl", () => {
  it("starts with the stored providers beside the file's, publishing nothing before the lanes run", async () => {
    await store.putProvider(MOCK);
    await store.putProviderKey(MOCK_KEY);
    const file = fileConfig();
    const control = await start(file);
    expect(Object.keys(control.config.providers)).toEqual(["openai", "mock"]);
    expect(control.config.providers.mock?.keys[0]?.value).toBe("sk-mock-secret");
    expect(control.fileConfig).toBe(file);
    expect(published).toEqual([]);
  });

  it("publishes after a change through the API only when what lanes route to changed", async () => {
    const control = await start();
    await store.putProvider(MOCK);
    await control.changed();
    expect(published).toEqual([]);
    expect(lines).toEqual(['warning: stored provider "mock": it has no keys; not served']);

    await store.putProviderKey(MOCK_KEY);
    await control.changed();
    expect(published).toHaveLength(1);
    expect(published[0]).toBe(control.config);
    expect(published[0]?.providers.mock?.keys.map((k) => k.value)).toEqual(["sk-mock-secret"]);

    await control.changed();
    expect(published).toHaveLength(1);

    await store.deleteProviderKey(MOCK_KEY.id);
    await control.changed();
    expect(published).toHaveLength(2);
    expect(Object.keys(published[1]?.providers ?? {})).toEqual(["openai"]);
    expect(lines).toEqual([
      'warning: stored provider "mock": it has no keys; not served',
      'warning: stored provider "mock": it has no keys; not served',
    ]);
  });

  it("publishes every file reload with the stored providers; a name the file takes over becomes the file's", async () => {
    await store.putProvider(MOCK);
    await store.putProviderKey(MOCK_KEY);
    const control = await start();

    await control.setFileConfig(fileConfig({ GROQ_API_KEY: "gsk-file" }));
    expect(published).toHaveLength(1);
    expect(Object.keys(published[0]?.providers ?? {})).toEqual(["groq", "mock"]);

    const takesOver = configFromEnvironment({ OPENAI_API_KEY: "sk-file" }).config;
    const renamed = { ...takesOver, providers: { mock: { ...takesOver.providers.openai, name: "mock" } } };
    await control.setFileConfig(renamed as GatewayConfig);
    expect(published).toHaveLength(2);
    expect(published[1]?.providers.mock?.keys[0]?.value).toBe("sk-file");
    expect(control.fileConfig).toBe(renamed);
    expect(lines).toEqual([
      'warning: stored provider "mock": the configuration file defines this name too; the file\'s is served',
    ]);
  });

  it("still publishes a file reload when the store does not answer, with the providers read before", async () => {
    await store.putProvider(MOCK);
    await store.putProviderKey(MOCK_KEY);
    const control = await start();
    await store.close();

    await control.setFileConfig(fileConfig({ GROQ_API_KEY: "gsk-file" }));
    expect(Object.keys(published[0]?.providers ?? {})).toEqual(["groq", "mock"]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^could not read the stored providers \(.+\); serving those read before$/);
    await expect(control.changed()).rejects.toThrow();
    // For afterEach, which closes the store.
    store = openSqliteStore(":memory:", new SecretCipher(randomBytes(32)));
  });
});
