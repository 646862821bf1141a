import { describe, expect, it } from "vitest";
import { customer, KEY_SECRET, team, virtualKey } from "../../../test/helpers/governance-fixtures.js";
import { configFromEnvironment } from "../../config/env.js";
import type { GatewayError } from "../../errors.js";
import { buildSnapshot } from "../../governance/snapshot.js";
import type { Budget, Customer, SpendRecord, Team, VirtualKey } from "../../governance/types.js";
import { emptyUsage } from "../../observability/usage.js";
import { candidatesFor, type ModelPlan } from "../../routing/candidates.js";
import { compileRoutingTable } from "../../routing/table.js";
import { createGovernanceBuffer, GovernanceCounters } from "../../shm/governance.js";
import type { Admission } from "./admission.js";
import { LaneGovernance, type LaneKey } from "./lane-governance.js";
import { pricingFor } from "./table-pricing.js";

// Governance as a lane enforces it, against real routing plans, real prices and real shared counters.

const { config } = configFromEnvironment({ OPENAI_API_KEY: "sk-openai", ANTHROPIC_API_KEY: "sk-anthropic" });
const table = compileRoutingTable(config);
const plan = (model: string) => candidatesFor(table, model) as ModelPlan;
const budget = (id: string, maxMicros: number): Budget => ({ id, maxMicros, anchor: 0 });

function governance(keys: VirtualKey[], teams: Team[] = [], customers: Customer[] = []) {
  const buffer = createGovernanceBuffer(64, 1);
  const slots = new Map<string, number>();
  const snapshot = buildSnapshot(
    keys,
    teams,
    customers,
    false,
    { slotFor: (id) => slots.get(id) ?? (slots.set(id, slots.size).get(id) as number) },
    buffer,
  );
  const records: SpendRecord[] = [];
  const lane = new LaneGovernance(snapshot, 0, pricingFor(config), { record: (r) => records.push(r) });
  const key = lane.identify(KEY_SECRET, Date.now()) as LaneKey;
  const counters = new GovernanceCounters(buffer);
  const state = (id: string) => counters.read(slots.get(id) as number);
  return { lane, key, records, state };
}

const body = (fields: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 100,
      ...fields,
    }),
  );
const request = (fields: Record<string, unknown> = {}) => ({
  requestId: "r1",
  model: "openai/gpt-4o-mini",
  stream: false,
  body: body(fields),
});
const usage = (prompt: number, completion: number) => ({ ...emptyUsage(), prompt, completion });

describe("LaneGovernance", () => {
  it("knows a key by the SHA-256 of its secret only, and refuses it disabled or expired", () => {
    expect(governance([virtualKey()]).key.data.id).toBe("key-1");
    expect(governance([virtualKey()]).lane.identify("sk-sy-other", Date.now())).toBeUndefined();
    expect(governance([virtualKey({ active: false })]).lane.identify(KEY_SECRET, Date.now())).toMatchObject({
      status: 401,
      code: "virtual_key_inactive",
    });
    expect(governance([virtualKey({ expiresAt: 1000 })]).lane.identify(KEY_SECRET, 1000)).toMatchObject({
      code: "virtual_key_inactive",
    });
    expect(governance([virtualKey({ expiresAt: 1000 })]).lane.identify(KEY_SECRET, 999)).not.toHaveProperty(
      "status",
    );
  });

  it("narrows plans to the key's and its team's model patterns and providers", () => {
    const { key } = governance(
      [virtualKey({ models: ["openai/*", "claude-*"], teamId: "team-1" })],
      [team({ models: ["*mini*", "claude-sonnet-4-5"] })],
    );
    expect(key.permit(plan("openai/gpt-4o-mini"))).toMatchObject({ name: "openai/gpt-4o-mini" });
    expect(key.permit(plan("openai/gpt-4o"))).toMatchObject({ status: 403, code: "model_not_allowed" });
    expect(key.permit(plan("anthropic/claude-sonnet-4-5"))).toMatchObject({
      name: "anthropic/claude-sonnet-4-5",
    });
    const byProvider = governance([virtualKey({ providers: ["anthropic"] })]).key;
    expect(byProvider.permit(plan("openai/gpt-4o-mini"))).toMatchObject({ code: "model_not_allowed" });
  });

  it("says which listed models a key may use", () => {
    const { key } = governance([
      virtualKey({
        models: ["openai/*", "claude-*"],
        providerConfigs: [{ provider: "openai", allowedModels: ["gpt-4o*"], keyNames: [] }],
      }),
    ]);
    expect(key.allowsListed("openai/gpt-4o-mini")).toBe(true);
    expect(key.allowsListed("openai/o3")).toBe(false);
    expect(key.allowsListed("anthropic/claude-sonnet-4-5")).toBe(false);
  });

  it("weights and restricts candidates by the key's provider configs", () => {
    const { key } = governance([
      virtualKey({
        providerConfigs: [{ provider: "openai", weight: 3, allowedModels: ["gpt-4o*"], keyNames: [] }],
      }),
    ]);
    const permitted = key.permit(plan("openai/gpt-4o-mini")) as ModelPlan;
    expect(permitted.candidates.map((c) => c.weight)).toEqual(
      plan("openai/gpt-4o-mini").candidates.map((c) => c.weight * 3),
    );
    expect(key.permit(plan("openai/o3"))).toMatchObject({ code: "model_not_allowed" });
    expect(key.permit(plan("anthropic/claude-sonnet-4-5"))).toMatchObject({ code: "model_not_allowed" });
  });

  it("charges every budget above the key, and refuses when any of them cannot take the estimate, holding nothing", () => {
    const keys = [virtualKey({ teamId: "team-1", budgets: [budget("b-key", 1_000_000)] })];
    const teams = [team({ customerId: "customer-1", budgets: [budget("b-team", 1_000_000)] })];
    const customers = [customer({ budgets: [budget("b-customer", 50)] })];
    const { lane, key, state } = governance(keys, teams, customers);
    const refused = lane.admit(key, plan("openai/gpt-4o-mini"), request());
    expect(refused).toMatchObject({ status: 429, code: "budget_exceeded" });
    for (const id of ["budget:b-key", "budget:b-team", "budget:b-customer"])
      expect(state(id).reserved).toBe(0);

    const roomy = governance(keys, teams, [customer({ budgets: [budget("b-customer", 1_000_000)] })]);
    const admission = roomy.lane.admit(roomy.key, plan("openai/gpt-4o-mini"), request()) as Admission;
    const reserved = roomy.state("budget:b-customer").reserved;
    // gpt-4o-mini: $0.15 in and $0.60 out per million tokens, so 100 output tokens alone are 60 micro-dollars.
    expect(reserved).toBeGreaterThanOrEqual(60);
    admission.settle(200, "openai", "gpt-4o-mini", usage(1000, 10));
    for (const id of ["budget:b-key", "budget:b-team", "budget:b-customer"])
      expect(roomy.state(id)).toMatchObject({ used: 150 + 6, reserved: 0 });
    expect(roomy.records).toMatchObject([
      { keyId: "key-1", teamId: "team-1", customerId: "customer-1", costMicros: 156, promptTokens: 1000 },
    ]);
  });

  it("counts requests, tokens and requests under way, per key and per key and model", () => {
    const { lane, key, state } = governance([
      virtualKey({
        limits: { requests: 2, parallel: 1 },
        modelLimits: { "openai/gpt-4o-mini": { tokens: 500 } },
      }),
    ]);
    const first = lane.admit(key, plan("openai/gpt-4o-mini"), request()) as Admission;
    expect(lane.admit(key, plan("openai/gpt-4o-mini"), request())).toMatchObject({
      code: "parallel_limit_exceeded",
    });
    first.settle(200, "openai", "gpt-4o-mini", usage(400, 50));
    expect(state("limit:key-model:key-1/openai/gpt-4o-mini:tokens")).toMatchObject({
      used: 450,
      reserved: 0,
    });
    // 450 of 500 tokens used: the next request's estimate (its prompt and 100 output tokens) no longer fits.
    expect(lane.admit(key, plan("openai/gpt-4o-mini"), request())).toMatchObject({
      code: "rate_limit_exceeded",
    });
    const second = lane.admit(key, plan("openai/gpt-4o-mini"), request({ max_tokens: 10 })) as Admission;
    second.settle(200, "openai", "gpt-4o-mini", usage(20, 5));
    const third = lane.admit(key, plan("openai/gpt-4o-mini"), request({ max_tokens: 10 }));
    expect(third).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
    expect((third as GatewayError).headers?.[0]?.[0]).toBe("retry-after");
    expect(state("limit:key:key-1:requests")).toMatchObject({ used: 2, reserved: 0 });
  });

  it("charges a cut-off stream for the text relayed when the provider said no usage", () => {
    const { lane, key, records } = governance([virtualKey({ budgets: [budget("b", 1_000_000)] })]);
    const admission = lane.admit(key, plan("openai/gpt-4o-mini"), {
      ...request(),
      stream: true,
    }) as Admission;
    admission.relayed('data: {"choices":[{"delta":{"content":"Hello there, "}}]}\n\n');
    admission.relayed(
      Buffer.from('data: {"choices":[{"delta":{"content":"general Kenobi"}}]}\n\ndata: {"choi'),
    );
    admission.settle(499, "openai", "gpt-4o-mini", emptyUsage());
    expect(records[0]).toMatchObject({ estimated: true, status: 499 });
    expect(records[0]?.completionTokens).toBeGreaterThanOrEqual(4);
    expect(records[0]?.promptTokens).toBeGreaterThan(0);
    expect(records[0]?.costMicros).toBeGreaterThan(0);
  });

  it("charges nothing but the request when no provider answered", () => {
    const { lane, key, records, state } = governance([
      virtualKey({ limits: { requests: 5 }, budgets: [budget("b", 1_000_000)] }),
    ]);
    (lane.admit(key, plan("openai/gpt-4o-mini"), request()) as Admission).settle(502, "", "", undefined);
    expect(state("budget:b")).toMatchObject({ used: 0, reserved: 0 });
    expect(state("limit:key:key-1:requests")).toMatchObject({ used: 1, reserved: 0 });
    expect(records[0]).toMatchObject({ costMicros: 0, status: 502, provider: "" });
  });
});
