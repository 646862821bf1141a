import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../test/helpers/prng.js";
import { startTestRedis, type TestRedis } from "../../test/helpers/redis.js";
import { startTestRedisCluster } from "../../test/helpers/redis-topologies.js";
import { type ClusterLeaseOptions, ClusterLeases, type LeaseWindow } from "./lease-client.js";

// Three ClusterLeases with three connections stand for three gateways sharing one Redis.

let redis: TestRedis;
let budgetCount = 0;
const open: ClusterLeases[] = [];

beforeAll(async () => {
  redis = await startTestRedis({ throwaway: true });
});

afterAll(async () => {
  for (const leases of open) leases.abandon();
  await redis.stop();
});

async function instances(
  count: number,
  options: Partial<ClusterLeaseOptions> = {},
): Promise<ClusterLeases[]> {
  const made = Array.from(
    { length: count },
    (_, i) => new ClusterLeases({ redis: redis.url, name: `gw${i}`, expectedInstances: count, ...options }),
  );
  open.push(...made);
  await Promise.all(made.map((leases) => leases.ready()));
  return made;
}

const freshBudget = (): string => `budget-${++budgetCount}`;
const whole = (limit: number): LeaseWindow => ({
  start: 0,
  end: Number.POSITIVE_INFINITY,
  limit,
  sliding: false,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("cluster leases against a real Redis", () => {
  it("three instances hammering one small budget never spend past the limit plus the estimate error", async () => {
    const gateways = await instances(3);
    const id = freshBudget();
    const limit = 20_000;
    const window = whole(limit);
    const { random } = seededRandom(15);
    let overrun = 0;
    let admitted = 0;
    let synchronous = 0;
    const settledBy = [0, 0, 0];
    const worker = async (g: number): Promise<void> => {
      const leases = gateways[g] as ClusterLeases;
      for (let i = 0; i < 150; i++) {
        const amount = 1 + Math.floor(random() * 100);
        const answer = leases.reserve(id, window, amount);
        if (answer === true) synchronous += 1;
        if (!(await answer)) continue;
        admitted += 1;
        // Real cost around the estimate: up to 20% above it some of the time, as an uncapped output would be.
        const actual = Math.round(amount * (0.5 + random() * 0.7));
        overrun += Math.max(0, actual - amount);
        settledBy[g] = (settledBy[g] as number) + actual;
        await sleep(random() * 3);
        leases.settle(id, window, amount, actual);
      }
    };
    await Promise.all([0, 1, 2, 0, 1, 2, 0, 1, 2].map(worker));
    await Promise.all(gateways.map((leases) => leases.flush()));

    const spent = settledBy.reduce((a, b) => a + b, 0);
    const views = await Promise.all(gateways.map((leases) => leases.view(id, window)));
    for (const view of views) expect(view).toEqual(views[0]);
    expect(views[0]?.spent).toBe(spent);
    expect(spent).toBeLessThanOrEqual(limit + overrun);
    expect(views[0]?.total).toBeLessThanOrEqual(limit + overrun);
    // The budget is used, not stranded in leases: most of it was admitted.
    expect(spent).toBeGreaterThan(limit * 0.5);
    expect(synchronous).toBeGreaterThan(admitted / 2);
    await Promise.all(gateways.map((leases) => leases.close()));
    // Shut down with nothing under way, the instances leave only the window's totals behind.
    const raw = createClient({ url: redis.url });
    await raw.connect();
    expect((await raw.hKeys(`sy:cluster:budget:{${id}}:0`)).sort()).toEqual(["limit", "spent", "total"]);
    raw.destroy();
  });

  it("three instances share one budget on a Redis Cluster", async () => {
    const cluster = await startTestRedisCluster();
    const gateways = Array.from(
      { length: 3 },
      (_, i) =>
        new ClusterLeases({
          redis: { kind: "cluster", nodes: [...cluster.nodes] },
          name: `gw${i}`,
          expectedInstances: 3,
        }),
    );
    try {
      await Promise.all(gateways.map((leases) => leases.ready()));
      // Several budgets, so that their keys fall on different primaries, each needing the script.
      const ids = Array.from({ length: 6 }, freshBudget);
      const limit = 5_000;
      const window = whole(limit);
      const { random } = seededRandom(16);
      const admitted = new Map(ids.map((id) => [id, 0]));
      const worker = async (leases: ClusterLeases): Promise<void> => {
        for (let i = 0; i < 120; i++) {
          const id = ids[i % ids.length] as string;
          const amount = 1 + Math.floor(random() * 100);
          if (!(await leases.reserve(id, window, amount))) continue;
          admitted.set(id, (admitted.get(id) ?? 0) + amount);
          leases.settle(id, window, amount, amount);
        }
      };
      await Promise.all([...gateways, ...gateways].map(worker));
      await Promise.all(gateways.map((leases) => leases.flush()));

      for (const id of ids) {
        const views = await Promise.all(gateways.map((leases) => leases.view(id, window)));
        for (const view of views) expect(view).toEqual(views[0]);
        expect(views[0]?.spent).toBe(admitted.get(id));
        expect(admitted.get(id)).toBeLessThanOrEqual(limit);
        expect(views[0]?.total).toBeLessThanOrEqual(limit);
        // The budget is used, not stranded in leases.
        expect(admitted.get(id)).toBeGreaterThan(limit * 0.5);
      }
      expect(gateways.every((leases) => leases.counts.failedReports === 0)).toBe(true);
      await Promise.all(gateways.map((leases) => leases.close()));
    } finally {
      for (const leases of gateways) leases.abandon();
      await cluster.stop();
    }
  });

  it("charge: a dead instance's lease is counted as spent once, and the others keep the rest", async () => {
    const [dying, alive] = (await instances(2, { leaseTtlMs: 300 })) as [ClusterLeases, ClusterLeases];
    const id = freshBudget();
    const window = whole(1_000);
    expect(await dying.reserve(id, window, 100)).toBe(true);
    dying.settle(id, window, 100, 80);
    expect(await dying.reserve(id, window, 50)).toBe(true);
    await dying.flush();
    const claim = (await dying.view(id, window)).total;
    dying.abandon();

    await sleep(400);
    let taken = 0;
    while (await alive.reserve(id, window, 10)) taken += 10;
    alive.settle(id, window, taken, taken);
    await alive.flush();
    const view = await alive.view(id, window);
    // The dead instance's whole claim (its 80 spent, its 50 under way, its unused lease) charged once.
    expect(view.spent).toBe(claim + taken);
    expect(view.total).toBe(view.spent + (alive.local(id, 0)?.lease ?? 0));
    expect(view.total).toBeLessThanOrEqual(1_000);
    expect(taken).toBeGreaterThanOrEqual(1_000 - claim - 10);
    await alive.close();
  });

  it("reclaim: a dead instance's unused lease comes back to the others after its TTL", async () => {
    const options = { leaseTtlMs: 300, expiry: "reclaim" as const };
    const [dying, alive] = (await instances(2, options)) as [ClusterLeases, ClusterLeases];
    const id = freshBudget();
    const window = whole(1_000);
    expect(await dying.reserve(id, window, 200)).toBe(true);
    expect(await dying.reserve(id, window, 30)).toBe(true);
    dying.settle(id, window, 200, 200);
    await dying.flush();
    const held = (await dying.view(id, window)).total;
    dying.abandon();

    let before = 0;
    while (await alive.reserve(id, window, 10)) before += 10;
    expect(before + held).toBeLessThanOrEqual(1_000);
    const diedAt = Date.now();
    let after = 0;
    while (Date.now() - diedAt < 2_000 && after === 0) {
      await sleep(50);
      while (await alive.reserve(id, window, 10)) after += 10;
    }
    // Back within the TTL (300 ms), the pause of an exhausted window (100 ms) and a refill: all but its 200
    // spent and its 30 under way.
    expect(Date.now() - diedAt).toBeLessThan(300 + 100 + 300);
    alive.settle(id, window, before + after, before + after);
    await alive.flush();
    const view = await alive.view(id, window);
    expect(view.spent).toBe(200 + 30 + before + after);
    expect(view.total).toBeLessThanOrEqual(1_000);
    expect(before + after).toBeGreaterThanOrEqual(1_000 - 230 - 20);
    await alive.close();
  });

  it("with Redis down, `local` serves from leases held and `refuse` refuses; both count it, and spend survives", async () => {
    const local = new ClusterLeases({
      redis: redis.url,
      name: "local",
      policy: "local",
      expectedInstances: 2,
      warmupMs: 100,
    });
    const strict = new ClusterLeases({ redis: redis.url, name: "strict", policy: "refuse", warmupMs: 100 });
    open.push(local, strict);
    await Promise.all([local.ready(), strict.ready()]);
    const id = freshBudget();
    const window = whole(10_000);
    expect(await local.reserve(id, window, 100)).toBe(true);
    local.settle(id, window, 100, 100);
    expect(await strict.reserve(id, window, 100)).toBe(true);
    strict.settle(id, window, 100, 100);
    const lease = local.local(id, 0)?.lease ?? 0;
    expect(lease).toBeGreaterThan(10);

    await redis.takeDown();
    await sleep(50);
    expect(local.reserve(id, window, 10)).toBe(true);
    expect(local.counts.localOnly).toBe(1);
    expect(local.reserve(id, window, lease * 10)).toBe(false);
    expect(local.counts.refusedForRedis).toBe(1);
    expect(strict.reserve(id, window, 1)).toBe(false);
    expect(strict.counts.refusedForRedis).toBe(1);
    local.settle(id, window, 10, 10);

    await redis.bringUp();
    await Promise.all([local.ready(), strict.ready()]);
    // The first reports after the restart rehydrate the empty Redis with each instance's spend.
    expect(await strict.reserve(id, window, 1)).toBe(true);
    strict.settle(id, window, 1, 1);
    await sleep(150);
    expect(await local.reserve(id, window, 1)).toBe(true);
    local.settle(id, window, 1, 1);
    await Promise.all([local.flush(), strict.flush()]);
    expect((await local.view(id, window)).spent).toBe(100 + 10 + 1 + 100 + 1);
    await Promise.all([local.close(), strict.close()]);
  });

  it("a lease grows while it runs out fast, and is returned and halved when idle", async () => {
    const [leases] = (await instances(1, { idleMs: 100, tickMs: 10 })) as [ClusterLeases];
    const id = freshBudget();
    const window = whole(1_000_000);
    const first = await leases.reserve(id, window, 100);
    expect(first).toBe(true);
    const initial = leases.local(id, 0)?.size ?? 0;
    for (let i = 0; i < 2_000; i++) {
      const answer = leases.reserve(id, window, 100);
      expect(await answer).toBe(true);
      leases.settle(id, window, 100, 100);
    }
    leases.settle(id, window, 100, 100);
    const grown = leases.local(id, 0)?.size ?? 0;
    expect(grown).toBeGreaterThan(initial);
    // Never past its share: limit / (expected instances × 2).
    expect(grown).toBeLessThanOrEqual(1_000_000 / 2);
    expect(leases.counts.grants).toBeLessThan(12);
    await sleep(300);
    expect(leases.counts.returned).toBeGreaterThan(0);
    expect(leases.local(id, 0)?.lease).toBe(0);
    expect(leases.local(id, 0)?.size).toBeLessThan(grown);
    const view = await leases.view(id, window);
    expect(view).toEqual({ spent: 2_001 * 100, total: 2_001 * 100 });
    await leases.close();
  });

  it("after Redis lost its data, nothing new is granted until live instances have reported again", async () => {
    const options = { warmupMs: 400, leaseTtlMs: 300, name: "known" };
    const [known] = (await instances(1, options)) as [ClusterLeases];
    const id = freshBudget();
    const window = whole(1_000);
    expect(await known.reserve(id, window, 600)).toBe(true);
    known.settle(id, window, 600, 600);
    await known.flush();
    // Idle: nothing held, nothing unreported, so only the epoch tells it Redis forgot.
    await sleep(150);
    expect(known.local(id, 0)).toMatchObject({ lease: 0, reserved: 0 });

    await redis.takeDown();
    await redis.bringUp();
    await known.ready();
    const late = new ClusterLeases({ redis: redis.url, name: "late", warmupMs: 400 });
    open.push(late);
    await late.ready();
    // Within a renewal interval the first report after the restart finds the budget gone: its 600 is
    // counted again, and a warm-up begins.
    let spent = 0;
    for (let waited = 0; spent === 0 && waited < 1_000; waited += 10) {
      await sleep(10);
      spent = (await late.view(id, window)).spent;
    }
    expect(spent).toBe(600);
    expect(await late.reserve(id, window, 100)).toBe(false);
    await sleep(450);
    expect(await late.reserve(id, window, 100)).toBe(true);
    let more = 100;
    while (await late.reserve(id, window, 50)) more += 50;
    // Never more than the 400 the lost data had left.
    expect(more).toBeLessThanOrEqual(400);
    await Promise.all([known.close(), late.close()]);
  });

  it("a script Redis forgot is sent whole", async () => {
    const [leases] = (await instances(1)) as [ClusterLeases];
    const id = freshBudget();
    const window = whole(1_000);
    expect(await leases.reserve(id, window, 10)).toBe(true);
    const raw = createClient({ url: redis.url });
    await raw.connect();
    await raw.scriptFlush();
    raw.destroy();
    expect(await leases.reserve(id, window, 900)).toBe(true);
    expect(leases.counts.failedReports).toBe(0);
    await leases.close();
  });

  it("windows roll over: a new window grants again, and the old one's spend is reported", async () => {
    const [leases] = (await instances(1, { tickMs: 10 })) as [ClusterLeases];
    const id = freshBudget();
    const length = 400;
    const windowAt = (at: number): LeaseWindow => {
      const start = Math.floor(at / length) * length;
      return { start, end: start + length, limit: 100, sliding: false };
    };
    // Start early in a window so the first one lasts long enough to be spent.
    while (Date.now() % length > 50) await sleep(5);
    const first = windowAt(Date.now());
    let taken = 0;
    while (await leases.reserve(id, first, 10)) taken += 10;
    expect(taken).toBe(100);
    leases.settle(id, first, taken, taken);
    await sleep(first.end - Date.now() + 5);
    const second = windowAt(Date.now());
    expect(second.start).toBe(first.end);
    expect(await leases.reserve(id, second, 10)).toBe(true);
    leases.settle(id, second, 10, 10);
    await leases.flush();
    expect((await leases.view(id, first)).spent).toBe(100);
    expect((await leases.view(id, second)).spent).toBe(10);
    await leases.close();
  });

  it("a sliding rate window counts the previous window by the part of it still inside", async () => {
    const [leases] = (await instances(1, { tickMs: 10 })) as [ClusterLeases];
    const id = freshBudget();
    const length = 1_000;
    const windowAt = (at: number): LeaseWindow => {
      const start = Math.floor(at / length) * length;
      return { start, end: start + length, limit: 100, sliding: true };
    };
    while (Date.now() % length > 50) await sleep(5);
    const first = windowAt(Date.now());
    let taken = 0;
    while (await leases.reserve(id, first, 1)) taken += 1;
    expect(taken).toBe(100);
    leases.settle(id, first, taken, taken);
    await sleep(first.end - Date.now() + 5);
    const second = windowAt(Date.now());
    // Just after the boundary nearly all of the previous window is still inside the sliding minute.
    let early = 0;
    while (await leases.reserve(id, second, 1)) early += 1;
    expect(early).toBeLessThanOrEqual(10);
    await sleep(second.start + length / 2 - Date.now());
    let later = 0;
    while (await leases.reserve(id, second, 1)) later += 1;
    expect(early + later).toBeGreaterThanOrEqual(40);
    expect(early + later).toBeLessThanOrEqual(60);
    leases.settle(id, second, early + later, early + later);
    await leases.close();
  });
});

describe("cluster leases counted outside them (the lanes' shared counters)", () => {
  it("admit by allowance, ask for a burst's demand in one refill, and report the outside count", async () => {
    const id = freshBudget();
    const limit = 1000;
    const window = whole(limit);
    // Each instance's count as its lanes would keep it.
    const counts = [
      { settled: 0, reserved: 0 },
      { settled: 0, reserved: 0 },
    ];
    const made = counts.map(
      (count, i) =>
        new ClusterLeases({
          redis: redis.url,
          name: `outside${i}`,
          expectedInstances: 2,
          source: () => ({ ...count }),
        }),
    );
    open.push(...made);
    await Promise.all(made.map((leases) => leases.ready()));
    const [a, b] = made as [ClusterLeases, ClusterLeases];
    expect(a.allowance(id, 0)).toBe(0);
    // Twenty requests of 20 short at once: one refill brings room for all of them.
    const answers = await Promise.all(Array.from({ length: 20 }, () => a.request(id, window, 20)));
    expect(answers.every((answer) => answer === "granted")).toBe(true);
    expect(a.counts.refills).toBeLessThanOrEqual(2);
    expect(a.allowance(id, 0)).toBeGreaterThanOrEqual(400);
    // The lanes reserve and settle; the next report carries their count.
    Object.assign(counts[0] as object, { settled: 380, reserved: 0 });
    await a.flush();
    expect(await b.view(id, window)).toMatchObject({ spent: 380 });
    // b gets at most what a's claim leaves of the limit.
    expect(await b.request(id, window, 700)).toBe("exhausted");
    expect(await b.request(id, window, 100)).toBe("granted");
    expect(b.allowance(id, 0) + a.allowance(id, 0)).toBeLessThanOrEqual(limit);
  });

  it("starts a window Redis does not know from the store's copy, and leaves one it knows alone", async () => {
    const [a] = await instances(1);
    const leases = a as ClusterLeases;
    const id = freshBudget();
    const window = whole(1000);
    expect(await leases.seed(id, window, 900)).toBe(true);
    expect(await leases.seed(id, window, 5)).toBe(false);
    expect(await leases.view(id, window)).toEqual({ spent: 900, total: 900 });
    // Only the hundred left can be granted.
    expect(await leases.reserve(id, window, 150)).toBe(false);
    expect(await leases.reserve(id, window, 100)).toBe(true);
  });
});
