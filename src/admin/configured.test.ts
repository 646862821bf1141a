import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AdminHarness, adminHarness, testConfig } from "../../test/helpers/admin-harness.js";
import { customer, keyHash, team, virtualKey } from "../../test/helpers/governance-fixtures.js";
import type { GatewayConfig } from "../config/types.js";

// Keys, teams and customers of the configuration file: shown by the API, marked "source": "config", and
// changed only in the file.

const FILE_SECRET = "sk-file-defined-secret-0123456789";

const fileCustomer = customer({
  id: "file-customer",
  name: "From the file",
  budgets: [{ id: "file-customer-budget", maxMicros: 100_000_000, anchor: 0 }],
});

const fileTeam = team({ id: "file-team", name: "File team", customerId: "file-customer" });

const fileKey = virtualKey({
  id: "file-key",
  name: "file key",
  hash: keyHash(FILE_SECRET),
  masked: "sk-…6789",
  teamId: "file-team",
  budgets: [{ id: "file-key-budget", maxMicros: 1_000_000, anchor: 0 }],
  logContent: false,
});

function configWithGovernance(): GatewayConfig {
  return {
    ...testConfig(),
    governance: {
      requireVirtualKey: true,
      virtualKeys: [fileKey],
      teams: [fileTeam],
      customers: [fileCustomer],
    },
  };
}

let admin: AdminHarness;
beforeEach(async () => {
  admin = await adminHarness(configWithGovernance());
});
afterEach(async () => {
  await admin.close();
});

function expectOwnedByFile(answer: { status: number; json: { error: { message: string } } }): void {
  expect(answer.status).toBe(409);
  expect(answer.json.error.message).toContain("/tmp/admin-test-config.yaml");
  expect(answer.json.error.message).toContain("configuration file");
}

describe("entities of the configuration file through /api", () => {
  it("lists them with the store's, marked by source, the file's winning for its ids", async () => {
    await admin.call("POST", "/api/keys", { id: "api-key" });
    // Made before the file defined the same id: the control plane enforces the file's, so the API shows it.
    await admin.store.putKey({ ...fileKey, name: "stale", hash: "f".repeat(64) });
    const keys = (await admin.call("GET", "/api/keys")).json.data;
    expect(keys.map((k: { id: string; source: string; name: string }) => [k.id, k.source, k.name])).toEqual([
      ["file-key", "config", "file key"],
      ["api-key", "api", ""],
    ]);
    const teams = (await admin.call("GET", "/api/teams")).json.data;
    expect(teams.map((t: { id: string; source: string }) => [t.id, t.source])).toEqual([
      ["file-team", "config"],
    ]);
    const customers = (await admin.call("GET", "/api/customers")).json.data;
    expect(customers).toEqual([expect.objectContaining({ id: "file-customer", source: "config" })]);

    expect((await admin.call("GET", "/api/keys/file-key")).json).toMatchObject({
      source: "config",
      team_id: "file-team",
    });
    expect((await admin.call("GET", "/api/teams/file-team")).json.source).toBe("config");
    expect((await admin.call("GET", "/api/customers/file-customer")).json.source).toBe("config");
    expect((await admin.call("GET", "/api/keys/api-key")).json.source).toBe("api");
  });

  it("refuses to change, replace, delete, regenerate or recreate them (409, naming the file)", async () => {
    const attempts: Array<[string, string, unknown]> = [
      ["PATCH", "/api/keys/file-key", { name: "x" }],
      ["PUT", "/api/keys/file-key", {}],
      ["DELETE", "/api/keys/file-key", undefined],
      ["POST", "/api/keys/file-key/regenerate", undefined],
      ["POST", "/api/keys", { id: "file-key" }],
      ["PATCH", "/api/teams/file-team", { name: "x" }],
      ["PUT", "/api/teams/file-team", {}],
      ["DELETE", "/api/teams/file-team", undefined],
      ["POST", "/api/teams", { id: "file-team" }],
      ["PATCH", "/api/customers/file-customer", { name: "x" }],
      ["PUT", "/api/customers/file-customer", {}],
      ["DELETE", "/api/customers/file-customer", undefined],
      ["POST", "/api/customers", { id: "file-customer" }],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await admin.call(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(409);
      expectOwnedByFile(answer);
    }
    expect(await admin.store.listKeys()).toEqual([]);
    expect(await admin.store.listTeams()).toEqual([]);
    expect(await admin.store.listCustomers()).toEqual([]);
    expect(admin.changes()).toBe(0);
  });

  it("lets the store's entities name them, and keeps budget ids and secrets unique across both", async () => {
    const key = await admin.call("POST", "/api/keys", { id: "k1", team_id: "file-team" });
    expect(key.status).toBe(201);
    const team = await admin.call("POST", "/api/teams", { id: "t1", customer_id: "file-customer" });
    expect(team.status).toBe(201);
    const taken = await admin.call("POST", "/api/keys", {
      id: "k2",
      budgets: [{ id: "file-key-budget", max_budget: 1 }],
    });
    expect(taken.status).toBe(409);
    expect(taken.json.error.message).toContain('key "file-key"');
    const twin = await admin.call("POST", "/key/generate", { key: FILE_SECRET });
    expect(twin.status).toBe(409);
    const budgets = (await admin.call("GET", "/api/budgets")).json.data;
    expect(budgets.map((b: { id: string; owner_id: string }) => [b.id, b.owner_id])).toEqual(
      expect.arrayContaining([
        ["file-key-budget", "file-key"],
        ["file-customer-budget", "file-customer"],
      ]),
    );
  });

  it("refuses to delete a stored team or customer the file's entities name", async () => {
    const config = configWithGovernance();
    const governance = config.governance;
    if (governance === undefined) throw new Error("no governance");
    await admin.close();
    admin = await adminHarness({
      ...config,
      governance: {
        ...governance,
        virtualKeys: [{ ...fileKey, teamId: "stored-team" }],
        teams: [{ ...fileTeam, customerId: "stored-customer" }],
      },
    });
    await admin.call("POST", "/api/customers", { id: "stored-customer" });
    await admin.call("POST", "/api/teams", { id: "stored-team" });
    for (const path of ["/api/teams/stored-team", "/api/customers/stored-customer"]) {
      const answer = await admin.call("DELETE", path, undefined, "force=true");
      expectOwnedByFile(answer);
    }
    expect(await admin.store.getTeam("stored-team")).toBeDefined();
    expect(await admin.store.getCustomer("stored-customer")).toBeDefined();
  });
});

describe("entities of the configuration file through LiteLLM's routes", () => {
  it("shows the file's keys and teams, and refuses to change or delete them", async () => {
    const info = await admin.call("GET", "/key/info", undefined, `key=${FILE_SECRET}`);
    expect(info.status).toBe(200);
    expect(info.json.info).toMatchObject({
      token: fileKey.hash,
      key_alias: "file key",
      team_id: "file-team",
    });
    const list = await admin.call("GET", "/key/list");
    expect(list.json.keys).toEqual([fileKey.hash]);
    const team = await admin.call("GET", "/team/info", undefined, "team_id=file-team");
    expect(team.json.keys.map((k: { token: string }) => k.token)).toEqual([fileKey.hash]);

    expectOwnedByFile(await admin.call("POST", "/key/update", { key: FILE_SECRET, max_budget: 100 }));
    expectOwnedByFile(await admin.call("POST", "/key/delete", { key_aliases: ["file key"] }));
    expectOwnedByFile(await admin.call("POST", "/team/new", { team_id: "file-team" }));
    expectOwnedByFile(await admin.call("POST", "/customer/new", { user_id: "file-customer" }));
    expect((await admin.call("GET", "/key/info", undefined, `key=${FILE_SECRET}`)).json.info.max_budget).toBe(
      1,
    );
  });

  it("deletes none of a batch that holds a key of the file", async () => {
    const { json } = await admin.call("POST", "/key/generate", {});
    expectOwnedByFile(await admin.call("POST", "/key/delete", { keys: [json.key, FILE_SECRET] }));
    expect(await admin.store.listKeys()).toHaveLength(1);
  });
});
