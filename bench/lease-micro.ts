// Micro-benchmark of cluster leases (src/cluster/) against a throwaway local redis-server: what a
// reservation costs when the local lease covers it (the hot path), the round trip of a refill, and the
// overspend measured against the bound docs/cluster.md states, with three instances sharing one budget.
// Usage: npm run build && node dist/bench/lease-micro.js [--smoke]
import { createClient } from "redis";
import { type ClusterLeaseOptions, ClusterLeases, type LeaseWindow } from "../src/cluster/lease-client.js";
import { leaseKeys } from "../src/cluster/lease-scripts.js";
import { seededRandom } from "../test/helpers/prng.js";
import { startTestRedis } from "../test/helpers/redis.js";
import { formatNs, measure, median, ROUNDS, sink, smoke, writeMicroResult } from "./micro.js";

const PREFIX = "bench:";
const TRIPS = smoke ? 50 : 2_000;
const SCENARIO_ROUNDS = smoke ? 2 : 20;
const whole = (limit: number): LeaseWindow => ({
  start: 0,
  end: Number.POSITIVE_INFINITY,
  limit,
  sliding: false,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] as number;
};

const redis = await startTestRedis({ throwaway: true });
const raw = createClient({ url: redis.url });
await raw.connect();
let budgets = 0;

async function instances(
  count: number,
  options: Partial<ClusterLeaseOptions> = {},
): Promise<ClusterLeases[]> {
  const made = Array.from(
    { length: count },
    (_, i) =>
      new ClusterLeases({
        redis: redis.url,
        prefix: PREFIX,
        name: `gw${i}`,
        expectedInstances: count,
        ...options,
      }),
  );
  await Promise.all(made.map((leases) => leases.ready()));
  return made;
}

/** ns per reservation the lease covers, alone and with its settlement. */
async function hotPath(): Promise<{ reserveNs: number; reserveSettleNs: number; misses: number }> {
  const [leases] = (await instances(1)) as [ClusterLeases];
  const id = `hot-${++budgets}`;
  const window = whole(1e15);
  await leases.reserve(id, window, 1);
  leases.settle(id, window, 1, 1);
  let misses = 0;
  const reserveOnly: number[] = [];
  const withSettle: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    reserveOnly.push(
      measure(() => {
        if (leases.reserve(id, window, 1) === true) return 1;
        misses += 1;
        return 0;
      }),
    );
    withSettle.push(
      measure(() => {
        if (leases.reserve(id, window, 1) !== true) {
          misses += 1;
          return 0;
        }
        leases.settle(id, window, 1, 1);
        return 1;
      }),
    );
  }
  await leases.close();
  return {
    reserveNs: Math.round(median(reserveOnly)),
    reserveSettleNs: Math.round(median(withSettle)),
    misses,
  };
}

/** No renewals during the measurement: thousands of leases renewed at once would time the burst instead. */
const QUIET = { tickMs: 3_600_000 };

/** µs of a reservation that must first refill (a window this instance holds nothing of), and of a report. */
async function roundTrips(): Promise<Record<string, number>> {
  const [leases] = (await instances(1, QUIET)) as [ClusterLeases];
  const window = whole(1e9);
  const refill: number[] = [];
  for (let i = 0; i < TRIPS; i++) {
    const id = `trip-${++budgets}`;
    const t0 = process.hrtime.bigint();
    if (!(await leases.reserve(id, window, 1))) throw new Error("refill refused");
    refill.push(Number(process.hrtime.bigint() - t0) / 1e3);
    leases.settle(id, window, 1, 1);
  }
  await leases.close();
  // A report alone (spend and renewal, nothing asked), from an instance holding one window.
  const [reporter] = (await instances(1, QUIET)) as [ClusterLeases];
  const report: number[] = [];
  const id = `trip-${++budgets}`;
  await reporter.reserve(id, window, 1);
  for (let i = 0; i < TRIPS; i++) {
    reporter.settle(id, window, 1, 1);
    await reporter.reserve(id, window, 1);
    const t0 = process.hrtime.bigint();
    await reporter.flush();
    report.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  await reporter.close();
  // What any command costs here, for scale: the rest of a refill is the script.
  const ping: number[] = [];
  for (let i = 0; i < TRIPS; i++) {
    const t0 = process.hrtime.bigint();
    await raw.ping();
    ping.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    pingP50Us: round(percentile(ping, 0.5)),
    pingP99Us: round(percentile(ping, 0.99)),
    refillP50Us: round(percentile(refill, 0.5)),
    refillP99Us: round(percentile(refill, 0.99)),
    reportP50Us: round(percentile(report, 0.5)),
    reportP99Us: round(percentile(report, 0.99)),
  };
}

interface Scenario {
  readonly name: string;
  /** Real cost relative to the reservation: [low, high). */
  readonly cost: readonly [number, number];
  /** One instance dies half-way, never reporting again. */
  readonly kill?: ClusterLeaseOptions["expiry"];
}

interface ScenarioResult {
  readonly name: string;
  readonly rounds: number;
  readonly limit: number;
  /** Most by which real spend (reported or not) passed the limit, over the rounds. */
  readonly maxOverspend: number;
  /** The stated bound in that round. */
  readonly boundAtMax: number;
  /** Every round's overspend was within its bound. */
  readonly withinBound: boolean;
  /** Least share of the limit really spent, over the rounds. */
  readonly minUsed: number;
}

/** Three instances hammering one budget; real spend against the limit and the bound. */
async function scenario(s: Scenario, seed: number): Promise<ScenarioResult> {
  const limit = 20_000;
  let maxOverspend = Number.NEGATIVE_INFINITY;
  let boundAtMax = 0;
  let withinBound = true;
  let minUsed = 1;
  for (let round = 0; round < SCENARIO_ROUNDS; round++) {
    const gateways = await instances(3, { leaseTtlMs: 300, expiry: s.kill ?? "charge" });
    const id = `scenario-${++budgets}`;
    const window = whole(limit);
    const { random } = seededRandom(seed + round);
    let estimateError = 0;
    let realSpend = 0;
    let deadExposure = 0;
    let dead = false;
    const worker = async (g: number): Promise<void> => {
      const leases = gateways[g] as ClusterLeases;
      for (let i = 0; i < 150; i++) {
        const amount = 1 + Math.floor(random() * 100);
        if (!(await leases.reserve(id, window, amount))) continue;
        const actual = Math.round(amount * (s.cost[0] + random() * (s.cost[1] - s.cost[0])));
        estimateError += Math.max(0, actual - amount);
        realSpend += actual;
        await sleep(random() * 3);
        leases.settle(id, window, amount, actual);
        if (s.kill !== undefined && g === 0 && !dead && realSpend > limit / 3) {
          dead = true;
          // What it admitted beyond what Redis counted of it: all the reclaim policy can lose.
          const counted = Number(
            (await raw.hGet(leaseKeys(PREFIX, id, 0, undefined)[0], `s:${leases.instance}`)) ?? 0,
          );
          const view = leases.local(id, 0);
          if (view !== undefined) deadExposure = view.settled + view.reserved + view.lease - counted;
          leases.abandon();
        }
      }
    };
    await Promise.all([0, 1, 2, 0, 1, 2, 0, 1, 2].map(worker));
    if (s.kill !== undefined) await sleep(400);
    // The survivors reserve what is left: a reclaimed lease is spent too.
    for (const leases of gateways.slice(s.kill === undefined ? 0 : 1)) {
      while (await leases.reserve(id, window, 10)) {
        leases.settle(id, window, 10, 10);
        realSpend += 10;
      }
    }
    const bound = estimateError + (s.kill === "reclaim" ? deadExposure : 0);
    const overspend = realSpend - limit;
    if (overspend > bound) withinBound = false;
    if (overspend > maxOverspend) {
      maxOverspend = overspend;
      boundAtMax = bound;
    }
    minUsed = Math.min(minUsed, realSpend / limit);
    await Promise.all(gateways.map((leases) => leases.close()));
  }
  return {
    name: s.name,
    rounds: SCENARIO_ROUNDS,
    limit,
    maxOverspend,
    boundAtMax,
    withinBound,
    minUsed: Math.round(minUsed * 1000) / 1000,
  };
}

const hot = await hotPath();
const trips = await roundTrips();
const scenarios: ScenarioResult[] = [];
const SCENARIOS: readonly Scenario[] = [
  { name: "estimates never exceeded", cost: [0.5, 1] },
  { name: "actual up to 1.2 × the estimate", cost: [0.5, 1.2] },
  { name: "one instance killed half-way, charge", cost: [0.5, 1], kill: "charge" },
  { name: "one instance killed half-way, reclaim", cost: [0.5, 1], kill: "reclaim" },
];
for (const [i, s] of SCENARIOS.entries()) {
  scenarios.push(await scenario(s, 1_000 * (i + 1)));
}
await raw.quit();
await redis.stop();

const figures = {
  redis: "local redis-server over loopback TCP",
  hotPath: { ...hot, unit: "ns per call (median of rounds)" },
  roundTrips: { ...trips, trips: TRIPS },
  overspend: scenarios,
  sink: sink(),
};

console.log(
  `reserve from the local lease: ${formatNs(hot.reserveNs)}; with its settlement: ${formatNs(hot.reserveSettleNs)}`,
);
console.log(
  `refill round trip: p50 ${trips.refillP50Us} µs, p99 ${trips.refillP99Us} µs; report: p50 ${trips.reportP50Us} µs, p99 ${trips.reportP99Us} µs; PING: p50 ${trips.pingP50Us} µs, p99 ${trips.pingP99Us} µs`,
);
for (const s of scenarios)
  console.log(
    `${s.name}: max overspend ${s.maxOverspend} of ${s.limit} (bound ${s.boundAtMax}), within bound: ${s.withinBound}, least used ${s.minUsed}`,
  );
const file = writeMicroResult("lease-micro", figures);
console.log(`wrote ${file}`);
