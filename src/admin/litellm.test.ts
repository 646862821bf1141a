import { describe, expect, it } from "vitest";
import {
  type AdminHarness,
  adminHarnessEachTest,
  PROVIDER_SECRET,
} from "../../test/helpers/admin-harness.js";
import { keyHash, spendRecord } from "../../test/helpers/governance-fixtures.js";

let admin: AdminHarness;
adminHarnessEachTest((opened) => {
  admin = opened;
});

// The bodies below are as LiteLLM's docs and its proxy's clients send them.

describe("LiteLLM key routes", () => {
  it("/key/generate answers key, key_name, expires and token (the secret's SHA-256)", async () => {
    await admin.call("POST", "/team/new", { team_id: "eng", team_alias: "Engineering" });
    const { status, json } = await admin.call("POST", "/key/generate", {
      models: ["gpt-4o"],
      duration: "30d",
      max_budget: 10,
      budget_duration: "1mo",
      soft_budget: 8,
      rpm_limit: 100,
      tpm_limit: 10000,
      max_parallel_requests: 4,
      metadata: { user: "ishaan" },
      key_alias: "my-app",
      team_id: "eng",
      model_rpm_limit: { "gpt-4o": 10 },
      model_tpm_limit: { "gpt-4o": 1000 },
      user_id: null,
      aliases: {},
      tags: [],
    });
    expect(status).toBe(200);
    expect(json.key).toMatch(/^sk-sy-/);
    expect(json.token).toBe(keyHash(json.key));
    expect(json.token_id).toBe(json.token);
    expect(json.key_name).toBe(`sk-sy-…${json.key.slice(-4)}`);
    expect(json.expires).toBe(new Date(admin.clock.now + 30 * 86_400_000).toISOString());
    expect(json).toMatchObject({
      key_alias: "my-app",
      team_id: "eng",
      max_budget: 10,
      soft_budget: 8,
      budget_duration: "1mo",
      rpm_limit: 100,
      tpm_limit: 10000,
      max_parallel_requests: 4,
      model_rpm_limit: { "gpt-4o": 10 },
      model_tpm_limit: { "gpt-4o": 1000 },
      metadata: { user: "ishaan" },
      blocked: false,
    });
    const [key] = await admin.store.listKeys();
    expect(key?.modelLimits).toEqual({ "gpt-4o": { requests: 10, tokens: 1000 } });
    expect(key?.budgets[0]).toMatchObject({ maxMicros: 10_000_000, softMicros: 8_000_000 });
  });

  it("imports a key with its LiteLLM secret, keeping its token", async () => {
    const secret = "sk-litellm-imported-0123456789";
    const { json } = await admin.call("POST", "/key/generate", { key: secret });
    expect(json.token).toBe(keyHash(secret));
    expect((await admin.call("POST", "/key/generate", { key: secret })).status).toBe(409);
  });

  it("/key/info, /key/update and /key/delete take the secret or the token", async () => {
    const { json: made } = await admin.call("POST", "/key/generate", { key_alias: "a", max_budget: 5 });
    const info = await admin.call("GET", "/key/info", undefined, `key=${made.key}`);
    expect(info.json.key).toBe(made.key);
    expect(info.json.info).toMatchObject({ token: made.token, key_alias: "a", max_budget: 5, spend: 0 });
    expect(JSON.stringify(info.json.info)).not.toContain(made.key);
    expect((await admin.call("GET", "/key/info", undefined, `key=${made.token}`)).json.info.token).toBe(
      made.token,
    );

    const updated = await admin.call("POST", "/key/update", {
      key: made.token,
      max_budget: 7,
      rpm_limit: 3,
      blocked: true,
    });
    expect(updated.json).toMatchObject({ max_budget: 7, rpm_limit: 3, blocked: true, key_alias: "a" });
    const [key] = await admin.store.listKeys();
    expect(key?.active).toBe(false);
    expect(key?.budgets).toHaveLength(1);
    expect(key?.budgets[0]?.maxMicros).toBe(7_000_000);

    const missing = await admin.call("POST", "/key/delete", { keys: [made.key, "sk-not-a-key-at-all"] });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ code: "404", param: "keys[1]" });
    expect(await admin.store.listKeys()).toHaveLength(1);
    const deleted = await admin.call("POST", "/key/delete", { keys: [made.key] });
    expect(deleted.json).toEqual({ deleted_keys: [made.key] });
    expect(await admin.store.listKeys()).toEqual([]);
  });

  it("/key/list pages tokens, or whole keys with return_full_object", async () => {
    for (let i = 0; i < 3; i++) {
      admin.clock.now += 1000;
      await admin.call("POST", "/key/generate", { key_alias: `k${i}` });
    }
    const page = await admin.call("GET", "/key/list", undefined, "page=1&size=2");
    expect(page.json).toMatchObject({ total_count: 3, current_page: 1, total_pages: 2 });
    expect(page.json.keys).toHaveLength(2);
    expect(page.json.keys[0]).toMatch(/^[0-9a-f]{64}$/);
    const full = await admin.call("GET", "/key/list", undefined, "return_full_object=true&key_alias=k1");
    expect(full.json.keys).toHaveLength(1);
    expect(full.json.keys[0].key_alias).toBe("k1");
    expect((await admin.call("GET", "/key/list", undefined, "size=1000")).json.error.param).toBe("size");
  });

  it("refuses LiteLLM fields Switchyard lacks when they carry a value, naming them", async () => {
    const answer = await admin.call("POST", "/key/generate", { user_id: "krrish" });
    expect(answer.status).toBe(400);
    expect(answer.json.error).toMatchObject({ param: "user_id", code: "400" });
    expect((await admin.call("POST", "/key/generate", { guardrails: ["pii"] })).json.error.param).toBe(
      "guardrails",
    );
    expect((await admin.call("POST", "/key/generate", { soft_budget: 1 })).json.error.param).toBe(
      "max_budget",
    );
  });
});

describe("LiteLLM team, customer, budget, spend and model routes", () => {
  it("/team/new and /team/info", async () => {
    const made = await admin.call("POST", "/team/new", {
      team_alias: "ml",
      max_budget: 100,
      budget_duration: "30d",
      models: ["gpt-4o"],
      tpm_limit: 5,
    });
    // LiteLLM resets a "30d" budget on the 1st of each month, as the configuration loader reads it too.
    expect(made.json).toMatchObject({
      team_alias: "ml",
      max_budget: 100,
      budget_duration: "1mo",
      models: ["gpt-4o"],
      tpm_limit: 5,
      spend: 0,
    });
    await admin.call("POST", "/key/generate", { team_id: made.json.team_id });
    const info = await admin.call("GET", "/team/info", undefined, `team_id=${made.json.team_id}`);
    expect(info.json.team_id).toBe(made.json.team_id);
    expect(info.json.team_info.team_alias).toBe("ml");
    expect(info.json.keys).toHaveLength(1);
    expect((await admin.call("GET", "/team/info", undefined, "team_id=none")).status).toBe(404);
  });

  it("/customer/new makes a customer with its budget table", async () => {
    const { json } = await admin.call("POST", "/customer/new", {
      user_id: "end-user-1",
      max_budget: 2,
      budget_duration: "1d",
      rpm_limit: 9,
      blocked: false,
      budget_id: null,
    });
    expect(json).toMatchObject({ user_id: "end-user-1", blocked: false, spend: 0 });
    expect(json.litellm_budget_table).toMatchObject({ max_budget: 2, budget_duration: "1d", rpm_limit: 9 });
    expect((await admin.store.getCustomer("end-user-1"))?.budgets[0]?.maxMicros).toBe(2_000_000);
  });

  it("/spend/logs and /global/spend read the store after a flush", async () => {
    const { json: key } = await admin.call("POST", "/key/generate", {});
    const [stored] = await admin.store.listKeys();
    const at = Date.parse("2026-03-02T10:00:00Z");
    const record = spendRecord({ at, keyId: stored?.id as string, customerId: "c1", costMicros: 1_500_000 });
    await admin.store.insertSpend([
      record,
      { ...record, requestId: "r2", at: at + 86_400_000, costMicros: 500_000 },
    ]);
    const logs = await admin.call("GET", "/spend/logs", undefined, `api_key=${key.key}`);
    expect(logs.json).toHaveLength(2);
    expect(logs.json.find((l: { request_id: string }) => l.request_id === "r1")).toMatchObject({
      api_key: key.token,
      spend: 1.5,
      total_tokens: 15,
      model: "gpt-4o",
      end_user: "c1",
    });
    const byDay = await admin.call(
      "GET",
      "/spend/logs",
      undefined,
      "start_date=2026-03-02&end_date=2026-03-04",
    );
    expect(byDay.json.map((d: { startTime: string; spend: number }) => [d.startTime, d.spend])).toEqual([
      ["2026-03-02", 1.5],
      ["2026-03-03", 0.5],
      ["2026-03-04", 0],
    ]);
    expect(byDay.json[0].models).toEqual({ "gpt-4o": 1.5 });
    expect(byDay.json[0][key.token]).toBe(1.5);
    expect((await admin.call("GET", "/global/spend")).json).toEqual({ spend: 2, max_budget: 0 });
    expect(admin.flushes()).toBeGreaterThanOrEqual(3);
  });

  it("/model/info and /v1/model/info list the configuration's models without secrets", async () => {
    for (const path of ["/model/info", "/v1/model/info", "/litellm/model/info"]) {
      const { status, json, text } = await admin.call("GET", path);
      expect(status).toBe(200);
      expect(text).not.toContain(PROVIDER_SECRET);
      expect(text).not.toContain("REAL-SECRET");
      const gpt = json.data.find((m: { model_name: string }) => m.model_name === "gpt-4o");
      expect(gpt.litellm_params).toMatchObject({ model: "openai/gpt-4o", rpm: 100 });
      expect(gpt.model_info.id).toBeDefined();
    }
  });
});
