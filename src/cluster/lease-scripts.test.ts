import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../../test/helpers/redis.js";
import { budgetLeaseWindow, rateLeaseWindow } from "./lease-client.js";
import { leaseKeys, readSyncAnswer, SYNC_SCRIPT, type SyncAnswer } from "./lease-scripts.js";

let redis: TestRedis;
let client: ReturnType<typeof createClient>;
let budgets = 0;

beforeAll(async () => {
  redis = await startTestRedis({ throwaway: true });
  client = createClient({ url: redis.url });
  await client.connect();
});

afterAll(async () => {
  client.destroy();
  await redis.stop();
});

interface Report {
  readonly instance: string;
  readonly seq: number;
  readonly settled: number;
  readonly reserved?: number;
  readonly hold?: number;
  readonly want?: number;
  readonly ttl?: number;
  readonly expiry?: "charge" | "reclaim";
  readonly last?: boolean;
}

async function sync(id: string, limit: number, r: Report): Promise<SyncAnswer> {
  const reply = await client.eval(SYNC_SCRIPT, {
    keys: leaseKeys("t:", id, 0, undefined),
    arguments: [
      r.instance,
      String(r.seq),
      String(r.settled),
      String(r.reserved ?? 0),
      String(r.hold ?? 0),
      String(r.want ?? 0),
      String(limit),
      String(r.ttl ?? 10_000),
      "0",
      r.expiry ?? "charge",
      "0",
      "1",
      "0",
      "0",
      r.last === true ? "1" : "0",
    ],
  });
  return readSyncAnswer(reply);
}

describe("the lease script", () => {
  it("grants at most what neither spend nor other leases hold", async () => {
    const id = `s${++budgets}`;
    expect((await sync(id, 100, { instance: "a", seq: 1, settled: 0, want: 70 })).claim).toBe(70);
    const b = await sync(id, 100, { instance: "b", seq: 1, settled: 0, want: 70 });
    expect(b.claim).toBe(30);
    expect(b.total).toBe(100);
    // a spent 50 of its 70 and returns the rest; b may then have it.
    const a = await sync(id, 100, { instance: "a", seq: 2, settled: 50 });
    expect(a).toMatchObject({ claim: 50, counted: 50, spent: 50, total: 80 });
    expect((await sync(id, 100, { instance: "b", seq: 2, settled: 0, hold: 30, want: 70 })).claim).toBe(50);
  });

  it("a replayed or overtaken report changes nothing", async () => {
    const id = `s${++budgets}`;
    await sync(id, 100, { instance: "a", seq: 1, settled: 0, want: 40 });
    const first = await sync(id, 100, { instance: "a", seq: 2, settled: 30, hold: 10 });
    const replay = await sync(id, 100, { instance: "a", seq: 2, settled: 30, hold: 10 });
    const older = await sync(id, 100, { instance: "a", seq: 1, settled: 0, want: 40 });
    for (const answer of [replay, older]) {
      expect(answer.claim).toBe(first.claim);
      expect(answer.spent).toBe(30);
      expect(answer.total).toBe(first.total);
    }
  });

  it("keeps what requests under way reserved even past the limit: spend already admitted is never undone", async () => {
    const id = `s${++budgets}`;
    await sync(id, 100, { instance: "a", seq: 1, settled: 0, want: 100 });
    // Requests cost more than their estimates: 90 settled and 30 still under way.
    const a = await sync(id, 100, { instance: "a", seq: 2, settled: 90, reserved: 30, want: 50 });
    expect(a.claim).toBe(120);
    expect(a.total).toBe(120);
  });

  it("an expired lease is charged whole, or with reclaim only for what was under way", async () => {
    const charged = `s${++budgets}`;
    await sync(charged, 100, { instance: "dead", seq: 1, settled: 0, want: 60 });
    await sync(charged, 100, { instance: "dead", seq: 2, settled: 10, reserved: 20, hold: 30, ttl: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const other = await sync(charged, 100, { instance: "b", seq: 1, settled: 0, want: 100 });
    expect(other).toMatchObject({ claim: 40, spent: 60, total: 100 });

    const reclaimed = `s${++budgets}`;
    const policy = { expiry: "reclaim" as const };
    await sync(reclaimed, 100, { instance: "dead", seq: 1, settled: 0, want: 60, ...policy });
    await sync(reclaimed, 100, {
      instance: "dead",
      seq: 2,
      settled: 10,
      reserved: 20,
      hold: 30,
      ttl: 1,
      ...policy,
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const after = await sync(reclaimed, 100, { instance: "b", seq: 1, settled: 0, want: 100, ...policy });
    expect(after).toMatchObject({ claim: 70, spent: 30, total: 100 });
    // The dead instance comes back: what it reports beyond what it was charged is counted, nothing twice.
    const back = await sync(reclaimed, 100, { instance: "dead", seq: 3, settled: 35, ...policy });
    expect(back).toMatchObject({ counted: 35, spent: 35, total: 105 });
  });

  it("a last report with nothing under way leaves only the window's totals", async () => {
    const id = `s${++budgets}`;
    await sync(id, 100, { instance: "a", seq: 1, settled: 0, want: 50 });
    await sync(id, 100, { instance: "b", seq: 1, settled: 0, want: 10 });
    const gone = await sync(id, 100, { instance: "a", seq: 2, settled: 40, last: true });
    expect(gone).toMatchObject({ spent: 40, total: 50 });
    const [hash, leases] = leaseKeys("t:", id, 0, undefined);
    expect((await client.hKeys(hash)).sort()).toEqual([
      "c:b",
      "limit",
      "q:b",
      "r:b",
      "s:b",
      "spent",
      "total",
    ]);
    expect(await client.zRange(leases, 0, -1)).toEqual(["b"]);
    // With requests still under way the record stays, for its lease to expire and be charged.
    await sync(id, 100, { instance: "b", seq: 2, settled: 0, reserved: 5, last: true });
    expect(await client.hExists(hash, "c:b")).toBe(1);
  });
});

describe("lease windows", () => {
  it("a budget's window and a rate limit's minute", () => {
    const now = Date.UTC(2026, 11, 4, 21, 30, 15);
    const budget = budgetLeaseWindow(
      { id: "b", maxMicros: 5_000_000, anchor: 0, window: { count: 1, unit: "day", alignment: "calendar" } },
      now,
    );
    expect(budget).toEqual({
      start: Date.UTC(2026, 11, 4),
      end: Date.UTC(2026, 11, 5),
      limit: 5_000_000,
      sliding: false,
    });
    expect(budgetLeaseWindow({ id: "b", maxMicros: 1, anchor: 0 }, now)).toMatchObject({
      start: 0,
      end: Number.POSITIVE_INFINITY,
    });
    expect(rateLeaseWindow(60, undefined, now)).toEqual({
      start: Date.UTC(2026, 11, 4, 21, 30),
      end: Date.UTC(2026, 11, 4, 21, 31),
      limit: 60,
      sliding: true,
    });
  });
});
