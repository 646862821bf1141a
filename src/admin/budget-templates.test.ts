import { describe, expect, it } from "vitest";
import { type AdminHarness, adminHarnessEachTest } from "../../test/helpers/admin-harness.js";

let admin: AdminHarness;
adminHarnessEachTest((opened) => {
  admin = opened;
});

const MONTHLY = {
  budget_id: "monthly-10",
  max_budget: 10,
  soft_budget: 8,
  budget_duration: "30d",
  rpm_limit: 60,
  tpm_limit: 100_000,
  max_parallel_requests: 3,
};

describe("LiteLLM budget objects", () => {
  it("/budget/new keeps a budget owned by no entity and answers LiteLLM's row", async () => {
    const { status, json } = await admin.call("POST", "/budget/new", { ...MONTHLY, model_max_budget: {} });
    expect(status).toBe(200);
    expect(json).toEqual({
      budget_id: "monthly-10",
      max_budget: 10,
      soft_budget: 8,
      max_parallel_requests: 3,
      tpm_limit: 100_000,
      rpm_limit: 60,
      model_max_budget: null,
      // LiteLLM resets "30d" on the 1st of the month.
      budget_duration: "1mo",
      budget_reset_at: null,
      created_at: "2026-03-01T12:00:00.000Z",
      created_by: null,
      updated_at: "2026-03-01T12:00:00.000Z",
      updated_by: null,
    });
    expect(await admin.store.getBudgetTemplate("monthly-10")).toEqual({
      id: "monthly-10",
      maxMicros: 10_000_000,
      softMicros: 8_000_000,
      window: { count: 1, unit: "month", alignment: "calendar" },
      limits: { requests: 60, tokens: 100_000, parallel: 3 },
      createdAt: admin.clock.now,
      updatedAt: admin.clock.now,
    });
    expect(await admin.store.listKeys()).toEqual([]);
    expect(admin.changes()).toBe(0);
  });

  it("makes an id when none is given and refuses one that is taken", async () => {
    const made = await admin.call("POST", "/budget/new", { max_budget: 1, budget_id: null });
    expect(made.json.budget_id).toMatch(/^budget-[0-9a-f]{16}$/);
    const again = await admin.call("POST", "/budget/new", { budget_id: made.json.budget_id, max_budget: 2 });
    expect(again.status).toBe(409);
    expect((await admin.store.getBudgetTemplate(made.json.budget_id))?.maxMicros).toBe(1_000_000);
  });

  it("refuses per-model budgets by name, and fields that do not fit together", async () => {
    const perModel = await admin.call("POST", "/budget/new", {
      max_budget: 1,
      model_max_budget: { "gpt-4o": { max_budget: 1 } },
    });
    expect(perModel.status).toBe(400);
    expect(perModel.json.error.param).toBe("model_max_budget");
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ soft_budget: 1 }, "max_budget"],
      [{ budget_duration: "1d" }, "max_budget"],
      [{ max_budget: 1, soft_budget: 2 }, "soft_budget"],
      [{ max_budget: 1, budget_duration: "30s" }, "budget_duration"],
      [{ max_budget: -1 }, "max_budget"],
      [{ rpm_limit: 0 }, "rpm_limit"],
      [{ budget_reset_at: "2026-04-01T00:00:00Z" }, "budget_reset_at"],
    ];
    for (const [body, param] of cases) {
      const answer = await admin.call("POST", "/budget/new", body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.json.error.param).toBe(param);
    }
    expect(await admin.store.listBudgetTemplates()).toEqual([]);
  });

  it("keeps a budget of limits only", async () => {
    const { json } = await admin.call("POST", "/budget/new", { budget_id: "slow", rpm_limit: 5 });
    expect(json).toMatchObject({ budget_id: "slow", max_budget: null, rpm_limit: 5, tpm_limit: null });
  });

  it("/budget/info, /budget/list, /budget/update and /budget/delete", async () => {
    await admin.call("POST", "/budget/new", MONTHLY);
    await admin.call("POST", "/budget/new", { budget_id: "tiny", max_budget: 0.5 });

    const info = await admin.call("POST", "/budget/info", { budgets: ["tiny", "nobody", "tiny"] });
    expect(info.json.map((row: { budget_id: string }) => row.budget_id)).toEqual(["tiny"]);
    expect((await admin.call("POST", "/budget/info", { budgets: [] })).json.error.param).toBe("budgets");
    const list = await admin.call("GET", "/budget/list");
    expect(list.json.map((row: { budget_id: string }) => row.budget_id)).toEqual(["monthly-10", "tiny"]);

    admin.clock.now += 1000;
    const updated = await admin.call("POST", "/budget/update", {
      budget_id: "monthly-10",
      max_budget: 20,
      soft_budget: null,
      tpm_limit: null,
    });
    expect(updated.json).toMatchObject({
      budget_id: "monthly-10",
      max_budget: 20,
      soft_budget: null,
      budget_duration: "1mo",
      rpm_limit: 60,
      tpm_limit: null,
      max_parallel_requests: 3,
      updated_at: "2026-03-01T12:00:01.000Z",
      created_at: "2026-03-01T12:00:00.000Z",
    });
    const missing = await admin.call("POST", "/budget/update", { budget_id: "nobody", max_budget: 1 });
    expect(missing.status).toBe(404);
    expect((await admin.call("POST", "/budget/update", { max_budget: 1 })).json.error.param).toBe(
      "budget_id",
    );

    const deleted = await admin.call("POST", "/budget/delete", { id: "tiny" });
    expect(deleted.json.budget_id).toBe("tiny");
    expect((await admin.call("POST", "/budget/delete", { id: "tiny" })).status).toBe(404);
    expect((await admin.store.listBudgetTemplates()).map((t) => t.id)).toEqual(["monthly-10"]);
  });
});

describe("budget_id on keys, teams and customers", () => {
  it("copies the budget into each key that names it, with a budget id and spend of the key's own", async () => {
    await admin.call("POST", "/budget/new", MONTHLY);
    const first = await admin.call("POST", "/key/generate", { key_alias: "a", budget_id: "monthly-10" });
    const second = await admin.call("POST", "/key/generate", { key_alias: "b", budget_id: "monthly-10" });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      max_budget: 10,
      soft_budget: 8,
      budget_duration: "1mo",
      rpm_limit: 60,
      tpm_limit: 100_000,
      max_parallel_requests: 3,
    });
    const keys = await admin.store.listKeys();
    const budgetIds = keys.map((k) => k.budgets[0]?.id);
    expect(new Set(budgetIds).size).toBe(2);
    expect(budgetIds).not.toContain("monthly-10");
    expect(first.json.budget_id).not.toBe(second.json.budget_id);
    for (const key of keys) {
      expect(key.budgets).toEqual([
        {
          id: expect.any(String),
          maxMicros: 10_000_000,
          softMicros: 8_000_000,
          window: { count: 1, unit: "month", alignment: "calendar" },
          anchor: admin.clock.now,
        },
      ]);
      expect(key.limits).toEqual({ requests: 60, tokens: 100_000, parallel: 3 });
    }

    // The copy is the key's: the budget changing or going later leaves it as it was.
    await admin.call("POST", "/budget/update", { budget_id: "monthly-10", max_budget: 99, rpm_limit: 1 });
    await admin.call("POST", "/budget/delete", { id: "monthly-10" });
    const info = await admin.call("GET", "/key/info", undefined, `key=${first.json.key}`);
    expect(info.json.info).toMatchObject({ max_budget: 10, rpm_limit: 60 });
  });

  it("takes the request's own fields over the budget's", async () => {
    await admin.call("POST", "/budget/new", MONTHLY);
    const { json } = await admin.call("POST", "/key/generate", {
      budget_id: "monthly-10",
      max_budget: 50,
      budget_duration: "1d",
      rpm_limit: null,
    });
    expect(json).toMatchObject({
      max_budget: 50,
      soft_budget: 8,
      budget_duration: "1d",
      rpm_limit: null,
      tpm_limit: 100_000,
    });
  });

  it("/key/update with budget_id replaces the key's budget and keeps its counter", async () => {
    const { json: made } = await admin.call("POST", "/key/generate", {
      max_budget: 5,
      soft_budget: 4,
      rpm_limit: 7,
    });
    const [before] = await admin.store.listKeys();
    await admin.call("POST", "/budget/new", { budget_id: "flat", max_budget: 3, tpm_limit: 500 });
    const updated = await admin.call("POST", "/key/update", { key: made.key, budget_id: "flat" });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ max_budget: 3, soft_budget: null, rpm_limit: 7, tpm_limit: 500 });
    const [after] = await admin.store.listKeys();
    expect(after?.budgets.map((b) => b.id)).toEqual(before?.budgets.map((b) => b.id));
  });

  it("keeps a rolling window of a template made through /api as it is", async () => {
    await admin.call("POST", "/api/budget-templates", {
      id: "rolling-week",
      max_budget: 2,
      budget_duration: "7d",
      alignment: "rolling",
    });
    await admin.call("POST", "/key/generate", { budget_id: "rolling-week" });
    const [key] = await admin.store.listKeys();
    expect(key?.budgets[0]?.window).toEqual({ count: 7, unit: "day", alignment: "rolling" });
  });

  it("/team/new and /customer/new copy it too", async () => {
    await admin.call("POST", "/budget/new", MONTHLY);
    const team = await admin.call("POST", "/team/new", { team_id: "t1", budget_id: "monthly-10" });
    expect(team.json).toMatchObject({ max_budget: 10, rpm_limit: 60, budget_duration: "1mo" });
    const customer = await admin.call("POST", "/customer/new", { user_id: "c1", budget_id: "monthly-10" });
    expect(customer.json.litellm_budget_table).toMatchObject({
      max_budget: 10,
      soft_budget: 8,
      tpm_limit: 100_000,
    });
    const ids = [
      (await admin.store.getTeam("t1"))?.budgets[0]?.id,
      (await admin.store.getCustomer("c1"))?.budgets[0]?.id,
    ];
    expect(new Set(ids).size).toBe(2);
    expect(ids).not.toContain("monthly-10");
  });

  it("refuses a budget_id that names no budget, changing nothing", async () => {
    for (const [path, body] of [
      ["/key/generate", {}],
      ["/team/new", { team_id: "t" }],
      ["/customer/new", { user_id: "c" }],
    ] as const) {
      const answer = await admin.call("POST", path, { ...body, budget_id: "nobody" });
      expect(answer.status, path).toBe(400);
      expect(answer.json.error.param).toBe("budget_id");
    }
    expect(await admin.store.listKeys()).toEqual([]);
    expect(await admin.store.listTeams()).toEqual([]);
    expect(await admin.store.listCustomers()).toEqual([]);
  });
});

describe("/api/budget-templates", () => {
  it("creates, reads, changes, replaces and deletes templates", async () => {
    const made = await admin.call("POST", "/api/budget-templates", {
      id: "t1",
      max_budget: 5,
      soft_budget: 4,
      budget_duration: "1d:rolling",
      limits: { requests: 10, window: "1h" },
    });
    expect(made.status).toBe(201);
    expect(made.json).toEqual({
      id: "t1",
      max_budget: 5,
      soft_budget: 4,
      budget_duration: "1d",
      alignment: "rolling",
      limits: { requests: 10, window: "1h", alignment: "rolling" },
      created_at: "2026-03-01T12:00:00.000Z",
      updated_at: "2026-03-01T12:00:00.000Z",
    });
    expect((await admin.call("GET", "/api/budget-templates/t1")).json).toEqual(made.json);
    expect((await admin.call("GET", "/api/budget-templates")).json.data).toEqual([made.json]);

    const patched = await admin.call("PATCH", "/api/budget-templates/t1", {
      soft_budget: null,
      limits: null,
    });
    expect(patched.json).toMatchObject({
      max_budget: 5,
      soft_budget: null,
      budget_duration: "1d",
      limits: null,
    });
    const replaced = await admin.call("PUT", "/api/budget-templates/t1", { limits: { parallel: 2 } });
    expect(replaced.json).toMatchObject({ max_budget: null, budget_duration: null, limits: { parallel: 2 } });

    expect((await admin.call("DELETE", "/api/budget-templates/t1")).json).toEqual({ deleted: "t1" });
    expect((await admin.call("GET", "/api/budget-templates/t1")).status).toBe(404);
    expect((await admin.call("DELETE", "/api/budget-templates/t1")).status).toBe(404);
    expect((await admin.call("POST", "/api/budget-templates", { id: "t2" })).status).toBe(201);
    expect((await admin.call("POST", "/api/budget-templates", { id: "t2" })).status).toBe(409);
  });

  it.each([
    [{ soft_budget: 1 }, "max_budget"],
    [{ max_budget: 1, soft_budget: 2 }, "soft_budget"],
    [{ max_budget: 1, alignment: "rolling" }, "alignment"],
    [{ max_budget: 1, budget_duration: "1d:calendar", alignment: "rolling" }, "alignment"],
    [{ max_budget: 1, budget_duration: "fortnight" }, "budget_duration"],
    [{ limits: { requests: 0 } }, "limits.requests"],
    [{ id: "../x" }, "id"],
  ])("refuses %j", async (body, param) => {
    const answer = await admin.call("POST", "/api/budget-templates", body);
    expect(answer.status).toBe(400);
    expect(answer.json.error.param).toBe(param);
    expect(await admin.store.listBudgetTemplates()).toEqual([]);
  });
});
