import { afterEach, describe, expect, it } from "vitest";
import { virtualKey } from "../../test/helpers/governance-fixtures.js";
import type { BudgetTemplate, Customer, SpendRecord, Team } from "../governance/types.js";
import { SecretCipher } from "./cipher.js";
import { StoreConflictError } from "./errors.js";
import { MIGRATIONS } from "./migrations.js";
import type { BudgetUsage, GovernanceStore, SpendGroup, StoredProvider, StoredProviderKey } from "./types.js";

// What every GovernanceStore must do, as vitest tests: sqlite.test.ts and postgres.test.ts run it against
// their databases, so the two cannot drift apart.

export interface HarnessStore {
  /** Migrated, on a database no other test uses. */
  readonly store: GovernanceStore;
  /** Every row of a table as the database holds it. */
  rawRows(table: string): Promise<Record<string, unknown>[]>;
  /** Closes the store and opens the same database again, with this cipher. Absent for in-memory databases. */
  readonly reopen?: (cipher: SecretCipher) => Promise<GovernanceStore>;
  /** Closes whichever store is open. */
  close(): Promise<void>;
}

export interface StoreHarness {
  /** Whether stores can be reopened (not in memory): adds the persistence test. */
  readonly persistent: boolean;
  /** `cipher` seals this store's secrets. */
  open(cipher: SecretCipher): Promise<HarnessStore>;
}

const T0 = Date.UTC(2026, 0, 1, 12);

const fullKey = virtualKey({
  id: "vk-full",
  hash: "b".repeat(64),
  expiresAt: T0 + 86_400_000,
  teamId: "team-1",
  customerId: "cust-1",
  models: ["gpt-4o*", "openai/*"],
  providers: ["openai", "anthropic"],
  providerConfigs: [{ provider: "openai", weight: 2, allowedModels: ["gpt-4o"], keyNames: ["primary"] }],
  limits: {
    requests: 60,
    tokens: 100_000,
    parallel: 4,
    window: { count: 1, unit: "minute", alignment: "rolling" },
  },
  modelLimits: { "gpt-4o": { requests: 10 } },
  budgets: [
    {
      id: "budget-1",
      maxMicros: 5_000_000,
      softMicros: 4_000_000,
      window: { count: 30, unit: "day", alignment: "calendar" },
      anchor: T0,
    },
  ],
  metadata: { owner: "payments", tags: ["a", "b"], nested: { depth: 2 } },
  secretMetadata: { webhookToken: "whsec-plaintext-1234", other: "second-secret-5678" },
  logContent: true,
});

const team: Team = {
  id: "team-1",
  name: "Payments",
  customerId: "cust-1",
  budgets: [{ id: "budget-team", maxMicros: 10_000_000, anchor: T0 }],
  limits: { requests: 600 },
  models: ["gpt-4o"],
  metadata: { cost_center: "42" },
  createdAt: T0,
  updatedAt: T0,
};

const customer: Customer = {
  id: "cust-1",
  name: "ACME",
  budgets: [],
  metadata: {},
  createdAt: T0,
  updatedAt: T0,
};

const template: BudgetTemplate = {
  id: "tmpl-monthly",
  maxMicros: 25_000_000,
  softMicros: 20_000_000,
  window: { count: 1, unit: "month", alignment: "calendar" },
  limits: { requests: 100, tokens: 50_000, parallel: 2 },
  createdAt: T0,
  updatedAt: T0,
};

const provider: StoredProvider = {
  name: "my-openai",
  kind: "openai",
  baseUrl: "https://api.example.test/v1",
  extraHeaders: { "x-org": "acme" },
  requestTimeoutMs: 30_000,
  maxRetries: 2,
  createdAt: T0,
  updatedAt: T0,
};

const providerKey: StoredProviderKey = {
  id: "pk-1",
  provider: "my-openai",
  name: "primary",
  secret: "sk-provider-plaintext-9876",
  models: ["gpt-4o"],
  weight: 1,
  enabled: true,
  createdAt: T0,
  updatedAt: T0,
};

export function spend(overrides: Partial<SpendRecord> = {}): SpendRecord {
  return {
    requestId: "req-1",
    at: T0,
    keyId: "vk-1",
    teamId: "team-1",
    customerId: "cust-1",
    provider: "openai",
    model: "gpt-4o",
    requestedModel: "gpt-4o",
    promptTokens: 10,
    completionTokens: 20,
    cachedReadTokens: 1,
    cacheWriteTokens: 2,
    reasoningTokens: 3,
    costMicros: 150,
    status: 200,
    stream: false,
    estimated: false,
    ...overrides,
  };
}

const HOSTILE = "x'; DROP TABLE spend_logs; -- \" ` \\ ü 🚀";

export function defineStoreConformance(name: string, harness: StoreHarness): void {
  describe(`${name}: GovernanceStore conformance`, () => {
    const cipher = SecretCipher.fromPassphrase("conformance-passphrase-0123456789");
    let opened: HarnessStore | undefined;
    const open = async (): Promise<HarnessStore> => {
      opened = await harness.open(cipher);
      return opened;
    };
    afterEach(async () => {
      await opened?.close();
      opened = undefined;
    });

    it("answers a ping while open, and fails it once closed", async () => {
      const { store } = await open();
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    });

    it("records each migration once, however often migrate() runs", async () => {
      const { store, rawRows } = await open();
      await store.migrate();
      await store.migrate();
      const rows = await rawRows("schema_migrations");
      expect(rows.map((row) => Number(row.version)).sort((a, b) => a - b)).toEqual(
        MIGRATIONS.map((migration) => migration.version),
      );
      await store.putTeam(team);
      expect(await store.getTeam(team.id)).toEqual(team);
    });

    it("stores, replaces, lists and deletes virtual keys with every field", async () => {
      const { store } = await open();
      const plain = virtualKey({ logContent: false });
      await store.putKey(plain);
      await store.putKey(fullKey);
      expect(await store.getKey(fullKey.id)).toEqual(fullKey);
      const readPlain = await store.getKey(plain.id);
      expect(readPlain).toEqual(plain);
      expect(readPlain && "teamId" in readPlain).toBe(false);
      expect((await store.listKeys()).map((key) => key.id)).toEqual([plain.id, fullKey.id]);

      const renamed = { ...fullKey, name: "renamed", teamId: undefined, active: false, updatedAt: T0 + 1 };
      await store.putKey(renamed);
      const read = await store.getKey(fullKey.id);
      expect(read?.name).toBe("renamed");
      expect(read?.teamId).toBeUndefined();
      expect(read?.active).toBe(false);
      expect(await store.listKeys()).toHaveLength(2);

      expect(await store.deleteKey(fullKey.id)).toBe(true);
      expect(await store.deleteKey(fullKey.id)).toBe(false);
      expect(await store.getKey(fullKey.id)).toBeUndefined();
      expect(await store.getKey("nobody")).toBeUndefined();
    });

    it("refuses a second key with the same hash and keeps the first", async () => {
      const { store } = await open();
      const first = virtualKey();
      await store.putKey(first);
      await expect(store.putKey(virtualKey({ id: "vk-2", name: "twin" }))).rejects.toBeInstanceOf(
        StoreConflictError,
      );
      expect((await store.listKeys()).map((key) => key.id)).toEqual([first.id]);
      // The same key may change its own hash, after which the old hash is free again.
      await store.putKey(virtualKey({ hash: "c".repeat(64) }));
      await store.putKey(virtualKey({ id: "vk-2" }));
      expect((await store.listKeys()).map((key) => key.hash)).toEqual(["c".repeat(64), first.hash]);
    });

    it("keeps secret metadata and provider secrets sealed at rest", async () => {
      const { store, rawRows } = await open();
      await store.putKey(fullKey);
      await store.putProvider(provider);
      await store.putProviderKey(providerKey);

      const keyRows = JSON.stringify(await rawRows("virtual_keys"));
      const providerKeyRows = JSON.stringify(await rawRows("provider_keys"));
      for (const secret of Object.values(fullKey.secretMetadata)) expect(keyRows).not.toContain(secret);
      expect(keyRows).toContain("webhookToken");
      expect(keyRows).toContain("v1:");
      expect(providerKeyRows).not.toContain(providerKey.secret);
      expect(providerKeyRows).toContain("v1:");

      expect((await store.getKey(fullKey.id))?.secretMetadata).toEqual(fullKey.secretMetadata);
      expect((await store.listProviderKeys())[0]?.secret).toBe(providerKey.secret);
    });

    it("stores, replaces, lists and deletes teams and customers", async () => {
      const { store } = await open();
      await store.putTeam(team);
      await store.putTeam({ ...team, id: "team-0", name: "Alpha", customerId: undefined });
      await store.putCustomer(customer);
      expect(await store.getTeam(team.id)).toEqual(team);
      expect((await store.listTeams()).map((row) => row.id)).toEqual(["team-0", "team-1"]);
      expect(await store.getCustomer(customer.id)).toEqual(customer);
      expect(await store.listCustomers()).toEqual([customer]);

      await store.putTeam({ ...team, name: "Payments EU", models: [] });
      expect(await store.getTeam(team.id)).toEqual({ ...team, name: "Payments EU", models: [] });
      await store.putCustomer({ ...customer, name: "ACME Corp", limits: { parallel: 3 } });
      expect((await store.getCustomer(customer.id))?.limits).toEqual({ parallel: 3 });

      expect(await store.deleteTeam(team.id)).toBe(true);
      expect(await store.deleteTeam(team.id)).toBe(false);
      expect(await store.getTeam(team.id)).toBeUndefined();
      expect(await store.deleteCustomer(customer.id)).toBe(true);
      expect(await store.deleteCustomer(customer.id)).toBe(false);
      expect(await store.listCustomers()).toEqual([]);
    });

    it("stores, replaces, lists and deletes budget templates", async () => {
      const { store } = await open();
      expect(await store.listBudgetTemplates()).toEqual([]);
      const limitsOnly: BudgetTemplate = {
        id: "tmpl-a",
        limits: { requests: 5 },
        createdAt: T0,
        updatedAt: T0,
      };
      await store.putBudgetTemplate(template);
      await store.putBudgetTemplate(limitsOnly);
      expect(await store.getBudgetTemplate(template.id)).toEqual(template);
      const readLimitsOnly = await store.getBudgetTemplate(limitsOnly.id);
      expect(readLimitsOnly).toEqual(limitsOnly);
      expect(readLimitsOnly && "maxMicros" in readLimitsOnly).toBe(false);
      expect((await store.listBudgetTemplates()).map((row) => row.id)).toEqual(["tmpl-a", "tmpl-monthly"]);

      const replaced = { ...template, maxMicros: 1, softMicros: undefined, updatedAt: T0 + 1 };
      await store.putBudgetTemplate(replaced);
      const read = await store.getBudgetTemplate(template.id);
      expect(read?.maxMicros).toBe(1);
      expect(read?.softMicros).toBeUndefined();
      expect(await store.listBudgetTemplates()).toHaveLength(2);

      expect(await store.deleteBudgetTemplate(template.id)).toBe(true);
      expect(await store.deleteBudgetTemplate(template.id)).toBe(false);
      expect(await store.getBudgetTemplate(template.id)).toBeUndefined();
      expect(await store.getBudgetTemplate(HOSTILE)).toBeUndefined();
      expect(await store.listBudgetTemplates()).toEqual([limitsOnly]);
    });

    it("stores providers and their keys, and deleting a provider deletes its keys", async () => {
      const { store } = await open();
      const other: StoredProvider = {
        name: "my-groq",
        kind: "groq",
        extraHeaders: {},
        createdAt: T0,
        updatedAt: T0,
      };
      await store.putProvider(provider);
      await store.putProvider(other);
      await store.putProviderKey(providerKey);
      await store.putProviderKey({ ...providerKey, id: "pk-2", name: "backup", secret: "sk-2", weight: 3 });
      await store.putProviderKey({ ...providerKey, id: "pk-groq", provider: "my-groq", secret: "gsk-1" });

      expect(await store.listProviders()).toEqual([other, provider]);
      expect((await store.listProviderKeys("my-openai")).map((key) => key.id)).toEqual(["pk-1", "pk-2"]);
      expect(await store.listProviderKeys()).toHaveLength(3);
      expect((await store.listProviderKeys("my-openai"))[1]).toEqual({
        ...providerKey,
        id: "pk-2",
        name: "backup",
        secret: "sk-2",
        weight: 3,
      });

      await store.putProvider({ ...provider, baseUrl: undefined, maxRetries: 0 });
      const replaced = (await store.listProviders()).find((row) => row.name === provider.name);
      expect(replaced?.baseUrl).toBeUndefined();
      expect(replaced?.maxRetries).toBe(0);
      await store.putProviderKey({ ...providerKey, secret: "sk-rotated" });
      expect((await store.listProviderKeys("my-openai"))[0]?.secret).toBe("sk-rotated");

      expect(await store.deleteProviderKey("pk-2")).toBe(true);
      expect(await store.deleteProviderKey("pk-2")).toBe(false);
      expect(await store.deleteProvider("my-openai")).toBe(true);
      expect(await store.deleteProvider("my-openai")).toBe(false);
      expect(await store.listProviders()).toEqual([other]);
      expect((await store.listProviderKeys()).map((key) => key.id)).toEqual(["pk-groq"]);
    });

    it("keeps a provider key disabled, in its own column, until it is enabled again", async () => {
      const { store, rawRows } = await open();
      await store.putProvider(provider);
      await store.putProviderKey({ ...providerKey, enabled: false });
      await store.putProviderKey({ ...providerKey, id: "pk-2", name: "backup" });
      expect((await store.listProviderKeys("my-openai")).map((key) => [key.id, key.enabled])).toEqual([
        ["pk-1", false],
        ["pk-2", true],
      ]);
      const raw = (await rawRows("provider_keys")).find((row) => row.id === "pk-1");
      expect(Boolean(raw?.enabled)).toBe(false);
      expect(JSON.stringify(raw?.data)).not.toContain("enabled");

      await store.putProviderKey({ ...providerKey, enabled: true, weight: 0 });
      expect((await store.listProviderKeys("my-openai"))[0]).toEqual({ ...providerKey, weight: 0 });
    });

    it("upserts budget usage, the last row of a batch winning", async () => {
      const { store } = await open();
      expect(await store.loadBudgetUsage()).toEqual([]);
      await store.saveBudgetUsage([]);
      const big = 2 ** 50;
      await store.saveBudgetUsage([
        { budgetId: "b-1", windowStart: 0, spentMicros: 10 },
        { budgetId: "b-2", windowStart: T0, spentMicros: big },
      ]);
      await store.saveBudgetUsage([
        { budgetId: "b-1", windowStart: T0, spentMicros: 5 },
        { budgetId: "b-1", windowStart: T0, spentMicros: 7 },
        { budgetId: "b-3", windowStart: 0, spentMicros: 0 },
      ]);
      const expected: BudgetUsage[] = [
        { budgetId: "b-1", windowStart: T0, spentMicros: 7 },
        { budgetId: "b-2", windowStart: T0, spentMicros: big },
        { budgetId: "b-3", windowStart: 0, spentMicros: 0 },
      ];
      expect(await store.loadBudgetUsage()).toEqual(expected);
      await expect(
        store.saveBudgetUsage([{ budgetId: "b-1", windowStart: 0, spentMicros: 1.5 }]),
      ).rejects.toBeInstanceOf(RangeError);
      expect(await store.loadBudgetUsage()).toEqual(expected);
    });

    it("appends spend and reads it back newest first with every filter", async () => {
      const { store } = await open();
      const records = [
        spend({ requestId: "r-1", at: T0 }),
        spend({ requestId: "r-2", at: T0 + 1000, model: "gpt-4o-mini", stream: true }),
        spend({
          requestId: "r-3",
          at: T0 + 2000,
          keyId: "vk-2",
          teamId: "",
          customerId: "",
          estimated: true,
        }),
        spend({
          requestId: "r-4",
          at: T0 + 3000,
          provider: "anthropic",
          model: "claude",
          costMicros: 2 ** 45,
        }),
      ];
      await store.insertSpend(records);
      await store.insertSpend([]);
      expect(await store.querySpend({})).toEqual([...records].reverse());

      const ids = async (query: Parameters<GovernanceStore["querySpend"]>[0]) =>
        (await store.querySpend(query)).map((record) => record.requestId);
      expect(await ids({ keyId: "vk-2" })).toEqual(["r-3"]);
      expect(await ids({ teamId: "team-1" })).toEqual(["r-4", "r-2", "r-1"]);
      expect(await ids({ customerId: "" })).toEqual(["r-3"]);
      expect(await ids({ provider: "anthropic" })).toEqual(["r-4"]);
      expect(await ids({ model: "gpt-4o" })).toEqual(["r-3", "r-1"]);
      expect(await ids({ from: T0 + 1000, to: T0 + 3000 })).toEqual(["r-3", "r-2"]);
      expect(await ids({ from: T0 + 3001 })).toEqual([]);
      expect(await ids({ to: T0 + 1 })).toEqual(["r-1"]);
      expect(await ids({ model: "gpt-4o", keyId: "vk-1", from: T0 })).toEqual(["r-1"]);
      expect(await ids({ limit: 2 })).toEqual(["r-4", "r-3"]);
      expect(await ids({ keyId: HOSTILE })).toEqual([]);
      expect(await store.querySpend({})).toHaveLength(4);
    });

    it("returns 100 records by default and never more than 10,000", async () => {
      const { store } = await open();
      const records = Array.from({ length: 10_005 }, (_, index) =>
        spend({ requestId: `r-${index}`, at: T0 + index }),
      );
      await store.insertSpend(records);
      const newest = await store.querySpend({});
      expect(newest).toHaveLength(100);
      expect(newest[0]?.requestId).toBe("r-10004");
      expect(await store.querySpend({ limit: 1_000_000 })).toHaveLength(10_000);
      for (const limit of [0, -1, 1.5, Number.NaN]) {
        await expect(store.querySpend({ limit })).rejects.toBeInstanceOf(RangeError);
      }
    });

    it("inserts a spend batch whole or not at all", async () => {
      const { store } = await open();
      await expect(
        store.insertSpend([spend({ requestId: "good" }), spend({ requestId: "bad", costMicros: 0.5 })]),
      ).rejects.toBeInstanceOf(RangeError);
      expect(await store.querySpend({})).toEqual([]);
    });

    it("totals spend by key, team, customer, provider, model and UTC day", async () => {
      const { store } = await open();
      const lateDay = Date.UTC(2026, 0, 1, 23, 59, 59, 999);
      await store.insertSpend([
        spend({ requestId: "r-1", at: lateDay, costMicros: 100, promptTokens: 1, completionTokens: 2 }),
        spend({ requestId: "r-2", at: lateDay + 1, costMicros: 200, promptTokens: 3, completionTokens: 4 }),
        spend({
          requestId: "r-3",
          at: lateDay + 2,
          keyId: "vk-2",
          teamId: "",
          customerId: "",
          provider: "anthropic",
          model: "claude",
          costMicros: 2 ** 45,
          promptTokens: 5,
          completionTokens: 6,
        }),
      ]);
      const totals = async (group: SpendGroup, query = {}) =>
        (await store.totalSpend(query, group)).map((total) => [
          total.group,
          total.requests,
          total.promptTokens,
          total.completionTokens,
          total.costMicros,
        ]);
      expect(await totals("key")).toEqual([
        ["vk-1", 2, 4, 6, 300],
        ["vk-2", 1, 5, 6, 2 ** 45],
      ]);
      expect(await totals("team")).toEqual([
        ["", 1, 5, 6, 2 ** 45],
        ["team-1", 2, 4, 6, 300],
      ]);
      expect(await totals("customer")).toEqual([
        ["", 1, 5, 6, 2 ** 45],
        ["cust-1", 2, 4, 6, 300],
      ]);
      expect(await totals("provider")).toEqual([
        ["anthropic", 1, 5, 6, 2 ** 45],
        ["openai", 2, 4, 6, 300],
      ]);
      expect(await totals("model")).toEqual([
        ["claude", 1, 5, 6, 2 ** 45],
        ["gpt-4o", 2, 4, 6, 300],
      ]);
      expect(await totals("day")).toEqual([
        ["2026-01-01", 1, 1, 2, 100],
        ["2026-01-02", 2, 8, 10, 200 + 2 ** 45],
      ]);
      expect(await totals("day", { provider: "openai", from: lateDay + 1 })).toEqual([
        ["2026-01-02", 1, 3, 4, 200],
      ]);
      expect(await totals("model", { keyId: HOSTILE })).toEqual([]);
      await expect(store.totalSpend({}, "constructor" as SpendGroup)).rejects.toBeInstanceOf(RangeError);
    });

    it("stores hostile text as text", async () => {
      const { store } = await open();
      const key = virtualKey({ id: HOSTILE, name: HOSTILE, metadata: { [HOSTILE]: HOSTILE } });
      await store.putKey(key);
      await store.putBudgetTemplate({ ...template, id: HOSTILE });
      await store.insertSpend([spend({ requestId: HOSTILE, keyId: HOSTILE, model: HOSTILE })]);
      expect(await store.getKey(HOSTILE)).toEqual(key);
      expect((await store.listBudgetTemplates()).map((row) => row.id)).toEqual([HOSTILE]);
      expect((await store.querySpend({ keyId: HOSTILE }))[0]?.model).toBe(HOSTILE);
      expect((await store.totalSpend({}, "model"))[0]?.group).toBe(HOSTILE);
    });

    if (!harness.persistent) return;
    it("keeps everything across a reopen, and a store with another key cannot read the secrets", async () => {
      const first = await open();
      const { store, reopen } = first;
      if (reopen === undefined) throw new Error("a persistent harness reopens its stores");
      await store.putKey(fullKey);
      await store.putTeam(team);
      await store.putCustomer(customer);
      await store.putProvider(provider);
      await store.putProviderKey(providerKey);
      await store.putBudgetTemplate(template);
      await store.saveBudgetUsage([{ budgetId: "b-1", windowStart: T0, spentMicros: 42 }]);
      await store.insertSpend([spend()]);

      const again = await reopen(cipher);
      await again.migrate();
      expect(await again.listKeys()).toEqual([fullKey]);
      expect(await again.listTeams()).toEqual([team]);
      expect(await again.listCustomers()).toEqual([customer]);
      expect(await again.listProviders()).toEqual([provider]);
      expect(await again.listProviderKeys()).toEqual([providerKey]);
      expect(await again.listBudgetTemplates()).toEqual([template]);
      expect(await again.loadBudgetUsage()).toEqual([{ budgetId: "b-1", windowStart: T0, spentMicros: 42 }]);
      expect(await again.querySpend({})).toEqual([spend()]);

      const stranger = await reopen(SecretCipher.fromPassphrase("another-passphrase-0123456789"));
      await expect(stranger.listKeys()).rejects.toThrow(/another key/);
      await expect(stranger.listProviderKeys()).rejects.toThrow(/another key/);
      expect(await stranger.listTeams()).toEqual([team]);
    });
  });
}
