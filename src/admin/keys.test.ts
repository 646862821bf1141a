import { describe, expect, it } from "vitest";
import { type AdminHarness, adminHarnessEachTest } from "../../test/helpers/admin-harness.js";
import { keyHash } from "../../test/helpers/governance-fixtures.js";

let admin: AdminHarness;
adminHarnessEachTest((opened) => {
  admin = opened;
});

describe("/api/keys", () => {
  it("answers the secret once, at creation, and keeps only its SHA-256", async () => {
    const created = await admin.call("POST", "/api/keys", { name: "app", models: ["gpt-4o"] });
    expect(created.status).toBe(201);
    const secret: string = created.json.key;
    expect(secret).toMatch(/^sk-sy-[A-Za-z0-9_-]{43}$/);
    expect(created.json.hash).toBe(keyHash(secret));
    expect(created.json.masked).toBe(`sk-sy-…${secret.slice(-4)}`);
    expect(admin.changes()).toBe(1);

    const stored = await admin.store.getKey(created.json.id);
    expect(stored?.hash).toBe(keyHash(secret));
    expect(JSON.stringify(stored)).not.toContain(secret);

    const list = await admin.call("GET", "/api/keys");
    const one = await admin.call("GET", `/api/keys/${created.json.id}`);
    for (const answer of [list, one]) {
      expect(answer.status).toBe(200);
      expect(answer.text).not.toContain(secret);
      expect(answer.text).not.toContain('"key"');
    }
    expect(list.json.data).toHaveLength(1);
    expect(one.json.name).toBe("app");
  });

  it("updates with PATCH (given fields only) and PUT (the rest to defaults), and deletes", async () => {
    const { json: key } = await admin.call("POST", "/api/keys", {
      id: "k1",
      name: "app",
      models: ["gpt-4o"],
      limits: { requests: 10 },
      metadata: { owner: "ops" },
    });
    const patched = await admin.call("PATCH", "/api/keys/k1", { active: false, limits: null });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      name: "app",
      active: false,
      limits: null,
      models: ["gpt-4o"],
      hash: key.hash,
    });
    const put = await admin.call("PUT", "/api/keys/k1", { name: "renamed" });
    expect(put.json).toMatchObject({
      name: "renamed",
      active: true,
      models: [],
      metadata: {},
      hash: key.hash,
    });
    expect(admin.changes()).toBe(3);

    expect((await admin.call("DELETE", "/api/keys/k1")).json).toEqual({ deleted: "k1" });
    expect(await admin.store.getKey("k1")).toBeUndefined();
    expect((await admin.call("GET", "/api/keys/k1")).status).toBe(404);
    expect((await admin.call("DELETE", "/api/keys/k1")).status).toBe(404);
  });

  it("regenerates: a new secret answered once, the old hash gone", async () => {
    const { json: key } = await admin.call("POST", "/api/keys", { name: "app" });
    const again = await admin.call("POST", `/api/keys/${key.id}/regenerate`);
    expect(again.status).toBe(200);
    expect(again.json.key).not.toBe(key.key);
    expect((await admin.store.getKey(key.id))?.hash).toBe(keyHash(again.json.key));
  });

  it("converts dollars, durations and times to the model's units", async () => {
    const { json } = await admin.call("POST", "/api/keys", {
      id: "k2",
      expires_at: "2026-04-01T00:00:00Z",
      budgets: [{ id: "b1", max_budget: 12.345678, soft_budget: 10, budget_duration: "1mo" }],
      limits: { requests: 60, tokens: 1000, parallel: 2, window: "1h" },
      model_limits: { "gpt-4o": { requests: 5 } },
    });
    const key = await admin.store.getKey("k2");
    expect(key?.expiresAt).toBe(Date.parse("2026-04-01T00:00:00Z"));
    expect(key?.budgets).toEqual([
      {
        id: "b1",
        maxMicros: 12_345_678,
        softMicros: 10_000_000,
        window: { count: 1, unit: "month", alignment: "calendar" },
        anchor: admin.clock.now,
      },
    ]);
    expect(key?.limits).toEqual({
      requests: 60,
      tokens: 1000,
      parallel: 2,
      window: { count: 1, unit: "hour", alignment: "rolling" },
    });
    expect(key?.modelLimits).toEqual({ "gpt-4o": { requests: 5 } });
    expect(json.budgets[0]).toMatchObject({
      max_budget: 12.345678,
      soft_budget: 10,
      budget_duration: "1mo",
      spend: 0,
    });
  });

  it("keeps a rolling budget's anchor when an edit gives it again unchanged", async () => {
    await admin.call("POST", "/api/keys", {
      id: "k3",
      budgets: [{ id: "b3", max_budget: 1, budget_duration: "1d", alignment: "rolling" }],
    });
    const anchor = (await admin.store.getKey("k3"))?.budgets[0]?.anchor;
    admin.clock.now += 3_600_000;
    await admin.call("PATCH", "/api/keys/k3", {
      budgets: [{ id: "b3", max_budget: 2, budget_duration: "1d", alignment: "rolling" }],
    });
    expect((await admin.store.getKey("k3"))?.budgets[0]).toMatchObject({ maxMicros: 2_000_000, anchor });
  });

  it("refuses references to teams and customers that do not exist, and a budget id another entity has", async () => {
    const team = await admin.call("POST", "/api/keys", { team_id: "nope" });
    expect(team.status).toBe(400);
    expect(team.json.error).toMatchObject({ param: "team_id", type: "invalid_request_error" });
    expect((await admin.call("POST", "/api/keys", { customer_id: "nope" })).json.error.param).toBe(
      "customer_id",
    );

    await admin.call("POST", "/api/teams", { id: "t1", budgets: [{ id: "shared", max_budget: 1 }] });
    const taken = await admin.call("POST", "/api/keys", { budgets: [{ id: "shared", max_budget: 1 }] });
    expect(taken.status).toBe(409);
    const duplicate = await admin.call("POST", "/api/keys", { id: "k4" });
    expect((await admin.call("POST", "/api/keys", { id: "k4" })).status).toBe(409);
    expect(duplicate.status).toBe(201);
  });
});

describe("validation names the field", () => {
  const cases: Array<[string, unknown, string]> = [
    ["a number for a name", { name: 5 }, "name"],
    ["a name over 256 characters", { name: "x".repeat(257) }, "name"],
    ["an id with a slash", { id: "a/b" }, "id"],
    ["an id over 128 characters", { id: "a".repeat(129) }, "id"],
    ["a field the API does not have", { nmae: "typo" }, "nmae"],
    ["a string for a model list", { models: "gpt-4o" }, "models"],
    ["a model pattern over 256 characters", { models: ["m".repeat(257)] }, "models[0]"],
    ["a control character in a model", { models: ["gpt\n4o"] }, "models[0]"],
    ["more than 1000 models", { models: Array.from({ length: 1001 }, (_, i) => `m${i}`) }, "models"],
    ["a negative budget", { budgets: [{ max_budget: -1 }] }, "budgets[0].max_budget"],
    ["a budget as a string", { budgets: [{ max_budget: "10" }] }, "budgets[0].max_budget"],
    ["a budget without max_budget", { budgets: [{ soft_budget: 1 }] }, "budgets[0].max_budget"],
    [
      "a soft budget above the hard one",
      { budgets: [{ max_budget: 1, soft_budget: 2 }] },
      "budgets[0].soft_budget",
    ],
    [
      "an unknown window",
      { budgets: [{ max_budget: 1, budget_duration: "fortnight" }] },
      "budgets[0].budget_duration",
    ],
    [
      "a window of seconds",
      { budgets: [{ max_budget: 1, budget_duration: "30s" }] },
      "budgets[0].budget_duration",
    ],
    ["a fractional rate limit", { limits: { requests: 1.5 } }, "limits.requests"],
    ["a zero rate limit", { limits: { tokens: 0 } }, "limits.tokens"],
    ["an array for metadata", { metadata: [1, 2] }, "metadata"],
    ["metadata over 16 KB", { metadata: { blob: "x".repeat(17_000) } }, "metadata"],
    ["a date that is not one", { expires_at: "next tuesday" }, "expires_at"],
    ["expires_at and duration together", { expires_at: 1, duration: "1d" }, "duration"],
    ["a number for a secret", { secret_metadata: { token: 5 } }, "secret_metadata.token"],
    [
      "a weight below zero",
      { provider_configs: [{ provider: "openai", weight: -1 }] },
      "provider_configs[0].weight",
    ],
  ];
  it.each(cases)("%s", async (_, body, param) => {
    const answer = await admin.call("POST", "/api/keys", body);
    expect(answer.status).toBe(400);
    expect(answer.json.error.param).toBe(param);
    expect(answer.json.error.message.startsWith(`${param}:`)).toBe(true);
    expect(await admin.store.listKeys()).toEqual([]);
    expect(admin.changes()).toBe(0);
  });
});

describe("hostile input", () => {
  it("refuses bodies that are not JSON, nest too deep, or are not objects", async () => {
    expect((await admin.raw("POST", "/api/keys", "{not json")).json.error.code).toBe("invalid_json");
    expect((await admin.raw("POST", "/api/keys", "[".repeat(500_000))).status).toBe(400);
    expect((await admin.call("POST", "/api/keys", [1, 2])).json.error.param).toBe("body");
    expect((await admin.call("POST", "/api/keys", "key")).json.error.param).toBe("body");
  });

  it("refuses __proto__ anywhere in a body and stores constructor/prototype fields inertly", async () => {
    const proto = await admin.raw(
      "POST",
      "/api/keys",
      '{"metadata": {"a": {"__proto__": {"polluted": true}}}}',
    );
    expect(proto.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    const body =
      '{"id": "k5", "metadata": {"constructor": {"prototype": {"polluted": true}}, "toString": "x"}}';
    expect((await admin.raw("POST", "/api/keys", body)).status).toBe(201);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const key = await admin.store.getKey("k5");
    expect(key?.metadata).toEqual({ constructor: { prototype: { polluted: true } }, toString: "x" });
    expect((await admin.call("GET", "/api/keys/k5")).json.metadata.toString).toBe("x");
  });

  it("stores SQL-looking text as text", async () => {
    const name = "x'); DROP TABLE keys; --";
    const { json } = await admin.call("POST", "/api/keys", { name, metadata: { q: "' OR 1=1 --" } });
    expect((await admin.store.getKey(json.id))?.name).toBe(name);
    expect((await admin.call("GET", "/api/keys")).json.data).toHaveLength(1);
  });

  it("does not echo a huge unknown field name whole", async () => {
    const answer = await admin.call("POST", "/api/keys", { ["n".repeat(100_000)]: 1 });
    expect(answer.status).toBe(400);
    expect(answer.text.length).toBeLessThan(500);
  });

  it("refuses path ids that are not ids, and query parameters a route does not take", async () => {
    expect((await admin.call("GET", "/api/keys/%2e%2e")).status).toBe(404);
    expect((await admin.call("GET", "/api/keys/%ZZ")).status).toBe(404);
    const query = await admin.call("GET", "/api/keys", undefined, "?limit=5");
    expect(query.status).toBe(400);
    expect(query.json.error.param).toBe("limit");
  });

  it("answers 405 with Allow for a method a route does not take", async () => {
    const answer = await admin.call("DELETE", "/api/keys");
    expect(answer.status).toBe(405);
    expect(answer.headers).toContainEqual(["allow", "GET, POST"]);
  });
});
