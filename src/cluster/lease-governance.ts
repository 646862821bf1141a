import type { ClusterConfig } from "../config/types.js";
import type { CounterRef, GovernanceSnapshot, GovernedLimits } from "../governance/snapshot.js";
import { windowEnd, windowStart } from "../governance/window.js";
import { counter, type MetricJson } from "../observability/metric-json.js";
import type { GovernanceCounters } from "../shm/governance.js";
import type { BudgetUsage } from "../store/types.js";
import {
  type Accounted,
  ClusterLeases,
  type LeaseAnswer,
  type LeaseCounts,
  type LeaseWindow,
} from "./lease-client.js";

// Cluster mode's side of governance, in the control plane: every budget and limit counter of the snapshot is
// shared with the other instances through leases (lease-client.ts). The lanes go on admitting from their
// shared-memory counters with no network; each shared counter carries an allowance, what this instance's
// leases let it use in the current window, and a reservation past it is refused as short of lease. The lane
// then asks here (`short`), one refill is made, the allowance rises, and the lane tries again. Spend and
// reservations reach Redis from the counters themselves with every report, so nothing is counted twice.

/** How often every shared counter's allowance is written again: a lease that lapsed, Redis lost or back. */
const REFRESH_MS = 100;
/** How often the cluster's count of every budget is read back, for the admin API and the store. */
const VIEW_MS = 1_000;
/** A failing Redis says so at most this often in the log. */
const ERROR_LOG_MS = 10_000;

/**
 * Cluster mode (LeaseGovernance, below): Redis counts every instance's spend, so a counter's use is
 * not seeded from the store (it would be reported again as this instance's), and what is saved to the store
 * and shown is the cluster's count of a window, not this instance's part of it.
 */
export interface ClusterCounts {
  /** The cluster's count of a counter's current window, as last read from Redis. */
  spent(counterId: string): { readonly windowStart: number; readonly spent: number } | undefined;
  /** A snapshot's counters are the ones shared from now on; called before the lanes get it. */
  apply(snapshot: GovernanceSnapshot): void;
  /** What the store saved of each budget's window, for windows Redis does not know (once, at start). */
  seed(usage: readonly BudgetUsage[]): Promise<void>;
}

type Kind = "budget" | "requests" | "tokens" | "parallel";

interface SharedCounter {
  readonly ref: CounterRef;
  readonly kind: Kind;
}

export interface ClusterGovernanceCounts extends LeaseCounts {
  /** 1 while Redis answers. */
  readonly reachable: number;
  /** Counters shared now. */
  readonly shared: number;
}

export class LeaseGovernance implements ClusterCounts {
  private readonly leases: ClusterLeases;
  private bySlot = new Map<number, SharedCounter>();
  private slotById = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly viewTimer: NodeJS.Timeout;
  /** The cluster's count of each budget's current window, by counter id, as last read. */
  private views = new Map<string, { windowStart: number; spent: number }>();
  private viewing: Promise<void> | undefined;
  private wasReachable = true;
  private lastErrorLog = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly counters: GovernanceCounters,
    private readonly config: ClusterConfig,
    private readonly log: (line: string) => void,
    /** Told when Redis stops or starts answering (for /ready). */
    private readonly onReachable: (reachable: boolean) => void = () => {},
  ) {
    this.leases = new ClusterLeases({
      redis: config.redis,
      name: config.instanceName,
      prefix: config.keyPrefix,
      policy: config.onRedisDown,
      expiry: config.leaseExpiry,
      expectedInstances: config.expectedInstances,
      leaseTtlMs: config.leaseTtlMs,
      source: (id, start, freeze) => this.accounted(id, start, freeze),
      onChange: (id, start) => this.publish(id, start),
      onError: (error) => this.redisError(error),
    });
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    this.timer.unref();
    this.viewTimer = setInterval(() => void this.readViews(), VIEW_MS);
    this.viewTimer.unref();
  }

  /** This instance's id in Redis. */
  get instance(): string {
    return this.leases.instance;
  }

  ready(): Promise<void> {
    return this.leases.ready();
  }

  /** The snapshot's counters are the ones shared from now on (a snapshot replaces the last one whole). */
  apply(snapshot: GovernanceSnapshot): void {
    const bySlot = new Map<number, SharedCounter>();
    const add = (ref: CounterRef | undefined, kind: Kind) => {
      if (ref !== undefined && !bySlot.has(ref.slot)) bySlot.set(ref.slot, { ref, kind });
    };
    const addLimits = (limits: GovernedLimits) => {
      add(limits.requests, "requests");
      add(limits.tokens, "tokens");
      add(limits.parallel, "parallel");
    };
    for (const key of snapshot.keys) {
      for (const budget of key.budgets) add(budget, "budget");
      for (const limits of key.limits) addLimits(limits);
      for (const limits of Object.values(key.modelLimits)) addLimits(limits);
    }
    this.bySlot = bySlot;
    this.slotById = new Map([...bySlot].map(([slot, counter]) => [counter.ref.id, slot]));
    for (const slot of bySlot.keys()) this.counters.share(slot);
    this.refresh();
  }

  async seed(usage: readonly BudgetUsage[]): Promise<void> {
    const now = Date.now();
    let seeded = 0;
    for (const row of usage) {
      const slot = this.slotById.get(row.budgetId);
      const counter = slot === undefined ? undefined : this.bySlot.get(slot);
      if (counter === undefined || row.spentMicros <= 0) continue;
      const window = leaseWindow(counter, now);
      if (window.start !== row.windowStart) continue;
      if (await this.leases.seed(counter.ref.id, window, row.spentMicros)) seeded += 1;
    }
    if (seeded > 0)
      this.log(`cluster: ${seeded} budget windows Redis did not know were started from the store`);
  }

  /**
   * A lane's request found no room in these counters' allowances for these amounts: more lease is asked
   * for, for all of them at once. Redis away wins over a limit reached, which wins over room.
   */
  async short(slots: readonly number[], amounts: readonly number[]): Promise<LeaseAnswer> {
    const answers = await Promise.all(slots.map((slot, i) => this.refill(slot, amounts[i] ?? 0)));
    return answers.includes("unreachable")
      ? "unreachable"
      : answers.includes("exhausted")
        ? "exhausted"
        : "granted";
  }

  private async refill(slot: number, amount: number): Promise<LeaseAnswer> {
    const counter = this.bySlot.get(slot);
    // Shared no longer (the snapshot changed meanwhile): the lane's next try meets the new state.
    if (counter === undefined) return "granted";
    const window = leaseWindow(counter, Date.now());
    const answer = await this.leases.request(counter.ref.id, window, amount);
    this.publish(counter.ref.id, window.start);
    return answer;
  }

  spent(counterId: string): { readonly windowStart: number; readonly spent: number } | undefined {
    return this.views.get(counterId);
  }

  /** Reports this instance's spend now and reads the cluster's counts back (before the admin API shows spend). */
  async flush(): Promise<void> {
    await this.leases.flush();
    await this.readViews();
  }

  get counts(): ClusterGovernanceCounts {
    return { ...this.leases.counts, reachable: this.leases.reachable ? 1 : 0, shared: this.bySlot.size };
  }

  /** For /metrics, beside the lanes' own. */
  metrics(): MetricJson[] {
    const counts = this.counts;
    const one = (json: MetricJson, value: number, labels: Record<string, string> = {}): MetricJson => {
      json.values.push({ value, labels });
      return json;
    };
    const gauge = (name: string, help: string): MetricJson => ({ ...counter(name, help), type: "gauge" });
    const refusals = counter(
      "switchyard_cluster_refusals_total",
      "Requests refused by cluster mode: the cluster's limit reached, or Redis unreachable under on_redis_down: refuse",
    );
    one(refusals, counts.refused, { reason: "limit" });
    one(refusals, counts.refusedForRedis, { reason: "redis_unreachable" });
    return [
      one(gauge("switchyard_cluster_redis_up", "1 while the cluster's Redis answers"), counts.reachable),
      one(
        gauge("switchyard_cluster_shared_counters", "Budgets and limits shared with other instances"),
        counts.shared,
      ),
      one(
        counter("switchyard_cluster_lease_refills_total", "Reports sent because a lease ran short"),
        counts.refills,
      ),
      one(counter("switchyard_cluster_lease_grants_total", "Reports that granted more lease"), counts.grants),
      one(
        counter("switchyard_cluster_lease_returned_total", "Units of lease given back to Redis"),
        counts.returned,
      ),
      one(
        counter(
          "switchyard_cluster_local_only_total",
          "Leases used while Redis was unreachable (on_redis_down: local)",
        ),
        counts.localOnly,
      ),
      one(
        counter("switchyard_cluster_report_failures_total", "Reports to Redis that failed"),
        counts.failedReports,
      ),
      refusals,
    ];
  }

  /** Reports every window's spend, returns the leases and disconnects. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.viewTimer);
    await this.leases.close();
  }

  /** Reads every budget's count in Redis; one read at a time, a failed one leaves the last counts. */
  private readViews(): Promise<void> {
    this.viewing ??= (async () => {
      const now = Date.now();
      const budgets = [...this.bySlot.values()].filter((counter) => counter.kind === "budget");
      const read = await Promise.all(
        budgets.map(async (counter) => {
          const window = leaseWindow(counter, now);
          const view = await this.leases.view(counter.ref.id, window).catch(() => undefined);
          return [
            counter.ref.id,
            view === undefined ? undefined : { windowStart: window.start, spent: view.spent },
          ] as const;
        }),
      );
      const views = new Map(this.views);
      for (const [id, view] of read) if (view !== undefined) views.set(id, view);
      for (const id of views.keys()) if (!this.slotById.has(id)) views.delete(id);
      this.views = views;
    })().finally(() => {
      this.viewing = undefined;
    });
    return this.viewing;
  }

  /** The counters' own figures for a window of `id`, for its report. */
  private accounted(id: string, start: number, freeze: boolean): Accounted | undefined {
    const slot = this.slotById.get(id);
    if (slot === undefined) return undefined;
    const state = this.counters.account(slot, freeze ? start : undefined);
    if (state.windowStart === start) return { settled: state.used, reserved: state.reserved };
    // The counter moved on: the window's use is kept as it ended, and its requests under way settle in the next.
    if (state.windowStart > start)
      return state.previousStart === start ? { settled: state.previousUsed, reserved: 0 } : undefined;
    // No request yet in this window: requests of the earlier one still under way will settle in it.
    return { settled: 0, reserved: state.reserved };
  }

  /** Writes the allowance of `id`'s current window into its counter. */
  private publish(id: string, start: number): void {
    const slot = this.slotById.get(id);
    const counter = slot === undefined ? undefined : this.bySlot.get(slot);
    if (slot === undefined || counter === undefined) return;
    // A window that ended must not overwrite the current one's allowance.
    if (leaseWindow(counter, Date.now()).start !== start) return;
    this.counters.allow(slot, start, this.leases.allowance(id, start));
  }

  private refresh(): void {
    const now = Date.now();
    for (const [slot, counter] of this.bySlot) {
      const start = leaseWindow(counter, now).start;
      this.counters.allow(slot, start, this.leases.allowance(counter.ref.id, start));
    }
    const reachable = this.leases.reachable;
    if (reachable === this.wasReachable) return;
    this.wasReachable = reachable;
    this.onReachable(reachable);
    this.log(
      reachable
        ? "cluster: Redis answers again; budgets and limits are shared again"
        : this.config.onRedisDown === "refuse"
          ? "cluster: Redis is unreachable; requests under shared budgets and limits are refused until it answers (on_redis_down: refuse)"
          : "cluster: Redis is unreachable; requests are served only within the leases already held (on_redis_down: local)",
    );
  }

  private redisError(error: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < ERROR_LOG_MS) return;
    this.lastErrorLog = now;
    this.log(`cluster: Redis: ${error.message}`);
  }
}

/** The lease window a counter is in at `now`: a budget's, a sliding rate window, or a parallel limit's places. */
function leaseWindow(counter: SharedCounter, now: number): LeaseWindow {
  const { ref, kind } = counter;
  const start = windowStart(ref.window, ref.anchor, now);
  return {
    start,
    end: windowEnd(ref.window, ref.anchor, start),
    limit: ref.max,
    sliding: kind === "requests" || kind === "tokens",
    release: kind === "parallel",
  };
}
