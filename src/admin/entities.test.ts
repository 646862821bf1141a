import { describe, expect, it } from "vitest";
import { type AdminHarness, adminHarnessEachTest } from "../../test/helpers/admin-harness.js";
import { spendRecord } from "../../test/helpers/governance-fixtures.js";

let admin: AdminHarness;
adminHarnessEachTest((opened) => {
  admin = opened;
});

describe("teams and customers", () => {
  it("refuses to delete a team with keys unless force, which deletes the keys too", async () => {
    await admin.call("POST", "/api/customers", { id: "acme", name: "ACME" });
    expect((await admin.call("POST", "/api/teams", { id: "t1", customer_id: "acme" })).status).toBe(201);
    await admin.call("POST", "/api/keys", { id: "k1", team_id: "t1" });
    const refused = await admin.call("DELETE", "/api/teams/t1");
    expect(refused.status).toBe(409);
    expect(refused.json.error.type).toBe("conflict_error");
    expect((await admin.call("DELETE", "/api/customers/acme")).status).toBe(409);
    expect((await admin.call("DELETE", "/api/teams/t1", undefined, "force=maybe")).json.error.param).toBe(
      "force",
    );
    expect((await admin.call("DELETE", "/api/customers/acme", undefined, "force=true")).status).toBe(200);
    expect(await admin.store.getTeam("t1")).toBeUndefined();
    expect(await admin.store.getKey("k1")).toBeUndefined();
  });

  it("a key's customer must agree with its team's", async () => {
    await admin.call("POST", "/api/customers", { id: "c1" });
    await admin.call("POST", "/api/customers", { id: "c2" });
    await admin.call("POST", "/api/teams", { id: "t1", customer_id: "c1" });
    const answer = await admin.call("POST", "/api/keys", { team_id: "t1", customer_id: "c2" });
    expect(answer.status).toBe(400);
    expect(answer.json.error.param).toBe("customer_id");
  });
});

describe("/api/budgets", () => {
  it("lists every budget with its owner and live state", async () => {
    await admin.call("POST", "/api/customers", {
      id: "c1",
      budgets: [{ id: "cb", max_budget: 100, budget_duration: "1mo" }],
    });
    await admin.call("POST", "/api/keys", { id: "k1", budgets: [{ id: "kb", max_budget: 5 }] });
    admin.live.set("kb", { windowStart: 0, spentMicros: 1_250_000, reservedMicros: 250_000 });
    admin.live.set("cb", {
      windowStart: Date.parse("2026-03-01T00:00:00Z"),
      spentMicros: 0,
      reservedMicros: 0,
    });
    const { json } = await admin.call("GET", "/api/budgets");
    expect(json.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: "kb",
          owner_type: "key",
          owner_id: "k1",
          spend: 1.25,
          reserved: 0.25,
          window_start: null,
        }),
        expect.objectContaining({
          id: "cb",
          owner_type: "customer",
          owner_id: "c1",
          window_start: "2026-03-01T00:00:00.000Z",
        }),
      ]),
    );
  });
});

describe("providers", () => {
  it("keeps provider key secrets write-only: answers show them masked", async () => {
    const made = await admin.call("POST", "/api/providers", {
      name: "groq-2",
      kind: "groq",
      extra_headers: { "x-org": "org-1234567890" },
    });
    expect(made.status).toBe(201);
    expect(made.json.extra_headers).toEqual({ "x-org": "org…7890" });
    const secret = "gsk_live_SECRET_abcdefgh";
    const key = await admin.call("POST", "/api/providers/groq-2/keys", {
      name: "main",
      secret,
      models: ["llama-3.3-70b-versatile"],
    });
    expect(key.status).toBe(201);
    expect(key.json.secret).toBe("gsk…efgh");
    for (const answer of [
      key,
      await admin.call("GET", "/api/providers/groq-2/keys"),
      await admin.call("GET", `/api/providers/groq-2/keys/${key.json.id}`),
    ])
      expect(answer.text).not.toContain(secret);
    expect((await admin.store.listProviderKeys("groq-2"))[0]?.secret).toBe(secret);
    expect(
      (await admin.call("POST", "/api/providers/groq-2/keys", { name: "main", secret: "another-secret-1" }))
        .status,
    ).toBe(409);
    expect(admin.changes()).toBe(2);
  });

  it("creates a key enabled or disabled, and disables and enables it by PATCH; PUT enables unless told", async () => {
    await admin.call("POST", "/api/providers", { name: "groq-3", kind: "groq" });
    const on = await admin.call("POST", "/api/providers/groq-3/keys", { name: "on", secret: "gsk-on-0123" });
    expect(on.json.enabled).toBe(true);
    const off = await admin.call("POST", "/api/providers/groq-3/keys", {
      name: "off",
      secret: "gsk-off-0123",
      enabled: false,
    });
    expect(off.json).toMatchObject({ name: "off", enabled: false, weight: 1 });

    const path = `/api/providers/groq-3/keys/${on.json.id}`;
    const disabled = await admin.call("PATCH", path, { enabled: false });
    expect(disabled.json).toMatchObject({ enabled: false, weight: 1, secret: on.json.secret });
    expect((await admin.store.listProviderKeys("groq-3")).map((key) => key.enabled)).toEqual([false, false]);
    expect((await admin.call("PATCH", path, { weight: 2 })).json).toMatchObject({
      enabled: false,
      weight: 2,
    });
    expect((await admin.call("GET", path)).json.enabled).toBe(false);
    expect((await admin.call("PATCH", path, { enabled: true })).json.enabled).toBe(true);

    const replaced = await admin.call("PUT", `/api/providers/groq-3/keys/${off.json.id}`, {
      name: "off",
      secret: "gsk-off-0123",
    });
    expect(replaced.json.enabled).toBe(true);
    const refused = await admin.call("PATCH", path, { enabled: "no" });
    expect([refused.status, refused.json.error.param]).toEqual([400, "enabled"]);
  });

  it("shows providers of the configuration file but changes them only there", async () => {
    const list = await admin.call("GET", "/api/providers");
    expect(list.json.data.map((p: { name: string; source: string }) => [p.name, p.source])).toContainEqual([
      "openai",
      "config",
    ]);
    expect(list.text).not.toContain("REAL-SECRET");
    expect((await admin.call("POST", "/api/providers", { name: "openai", kind: "openai" })).status).toBe(409);
    expect((await admin.call("PATCH", "/api/providers/openai", { max_retries: 2 })).status).toBe(409);
    expect((await admin.call("DELETE", "/api/providers/openai")).status).toBe(409);
  });

  it("validates kinds, URLs and headers", async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: "x", kind: "nope" }, "kind"],
      [{ name: "x", kind: "azure" }, "kind"],
      [{ name: "x", kind: "custom" }, "base_url"],
      [{ name: "x", kind: "openai", base_url: "file:///etc/passwd" }, "base_url"],
      [{ name: "x", kind: "openai", extra_headers: { host: "evil" } }, "extra_headers.host"],
      [{ name: "x", kind: "openai", extra_headers: { "x-a": "v\r\nx-b: injected" } }, "extra_headers.x-a"],
      [{ name: "x", kind: "openai", extra_headers: { "bad name": "v" } }, "extra_headers"],
      [{ name: "x/y", kind: "openai" }, "name"],
    ];
    for (const [body, param] of cases) {
      const answer = await admin.call("POST", "/api/providers", body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.error.param, JSON.stringify(body)).toBe(param);
    }
    expect(await admin.store.listProviders()).toEqual([]);
  });
});

describe("usage and spend", () => {
  it("filters records and totals by group and time, after flushing", async () => {
    const base = spendRecord({
      requestId: "r",
      at: Date.parse("2026-03-02T10:00:00Z"),
      keyId: "k1",
      teamId: "t1",
      stream: true,
    });
    await admin.store.insertSpend([
      base,
      { ...base, requestId: "r2", keyId: "k2", model: "claude", provider: "anthropic", costMicros: 250_000 },
      { ...base, requestId: "r3", at: base.at + 86_400_000 },
    ]);
    const usage = await admin.call(
      "GET",
      "/api/usage",
      undefined,
      "key_id=k1&from=2026-03-02&to=2026-03-03&limit=10",
    );
    expect(usage.json.data).toHaveLength(1);
    expect(usage.json.data[0]).toMatchObject({
      request_id: "r",
      cost: 1,
      stream: true,
      at: "2026-03-02T10:00:00.000Z",
    });
    const byModel = await admin.call("GET", "/api/spend", undefined, `group_by=model&from=${base.at}`);
    expect(byModel.json.total).toBe(2.25);
    expect(byModel.json.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ group: "gpt-4o", requests: 2, cost: 2 }),
        expect.objectContaining({ group: "claude", cost: 0.25 }),
      ]),
    );
    expect(admin.flushes()).toBe(2);
    expect((await admin.call("GET", "/api/spend", undefined, "group_by=week")).json.error.param).toBe(
      "group_by",
    );
    expect((await admin.call("GET", "/api/usage", undefined, "limit=0")).json.error.param).toBe("limit");
    expect(
      (await admin.call("GET", "/api/usage", undefined, "from=2026-03-03&to=2026-03-02")).json.error.param,
    ).toBe("to");
  });
});
