import { randomUUID } from "node:crypto";
import type { RedisTarget } from "../config/types.js";
import type { Budget, BudgetWindow } from "../governance/types.js";
import { windowEnd, windowStart } from "../governance/window.js";
import {
  leaseKeys,
  readSyncAnswer,
  SEED_SCRIPT,
  SYNC_SCRIPT,
  SYNC_SCRIPT_SHA,
  type SyncAnswer,
} from "./lease-scripts.js";
import { type ClusterRedis, connectClusterRedis } from "./redis-connect.js";

// One gateway instance's share of budgets and rate limits that many instances enforce together. Each
// instance holds a lease (a slice of a window's limit) granted by Redis, and admits requests from it in
// memory; only when the lease runs short does it go to Redis, one refill in flight per budget, while the
// other requests keep being answered from what is left. Spend is reported with the next refill, renewal
// or return, so the hot path never waits on the network.
//
// The overspend bound (docs/cluster.md derives it). With "charge" expiry, across all instances:
//
//   spent ≤ limit + Σ over admitted requests of max(0, actual − reserved)
//
// the estimate error alone: every admitted reservation lies inside a claim Redis counted, and a lease
// whose holder dies is charged whole. With "reclaim" expiry, add Σ over expired leases of what a dead
// instance admitted after its last report, at most (claim − counted − reserved) at that report.
// A Redis that loses its data adds the spend of instances that do not report again within `warmupMs`.

export type RedisDownPolicy = "refuse" | "local";
export type ExpiryPolicy = "charge" | "reclaim";

/** One window of a budget or rate limit, as the caller sees it now. */
export interface LeaseWindow {
  /** Unix ms; 0 for a budget with one window for its whole life. */
  readonly start: number;
  /** Unix ms; Infinity without windows. */
  readonly end: number;
  /** The most all instances together may use in the window (micro-dollars, requests or tokens). */
  readonly limit: number;
  /** A rate limit: the previous window's use counts by the part of it still inside the sliding window. */
  readonly sliding: boolean;
  /**
   * Places held only while requests are under way (a parallel-request limit): a dead instance's lease is
   * released whole, whatever the expiry policy, since its requests ended with it.
   */
  readonly release?: boolean;
}

export function budgetLeaseWindow(budget: Budget, now: number): LeaseWindow {
  const start = windowStart(budget.window, budget.anchor, now);
  return {
    start,
    end: windowEnd(budget.window, budget.anchor, start),
    limit: budget.maxMicros,
    sliding: false,
  };
}

const PER_MINUTE: BudgetWindow = { count: 1, unit: "minute", alignment: "calendar" };

/** A request or token limit's window; absent is a minute, as governance counts them. */
export function rateLeaseWindow(limit: number, window: BudgetWindow | undefined, now: number): LeaseWindow {
  const w = window ?? PER_MINUTE;
  const start = windowStart(w, 0, now);
  return { start, end: windowEnd(w, 0, start), limit, sliding: true };
}

export interface ClusterLeaseOptions {
  /** Redis: a URL (one server) or any topology cluster mode supports. */
  readonly redis: string | RedisTarget;
  /** Names the instance in Redis (a host name); a random suffix makes each process's id its own. */
  readonly name?: string;
  readonly prefix?: string;
  readonly policy?: RedisDownPolicy;
  readonly expiry?: ExpiryPolicy;
  /** Sizes the largest lease: limit / (expectedInstances × 2). */
  readonly expectedInstances?: number;
  /** How long Redis keeps a lease its holder does not renew. */
  readonly leaseTtlMs?: number;
  /** A lease that runs out sooner than this after it was granted doubles. */
  readonly refillIntervalMs?: number;
  /** A lease unused this long is returned, and halves. */
  readonly idleMs?: number;
  /** After Redis lost its data, how long only renewals are granted (at least a renewal interval). */
  readonly warmupMs?: number;
  readonly commandTimeoutMs?: number;
  readonly tickMs?: number;
  readonly onError?: (error: Error) => void;
  /**
   * Where the spend and reservations of a window are counted when not by reserve/settle here (the lanes'
   * shared counters): read before every report; `freeze` asks that nothing more be admitted from the lease
   * until the report is answered, atomically with the read.
   */
  readonly source?: (id: string, start: number, freeze: boolean) => Accounted | undefined;
  /** What `allowance` answers for a window may have changed. */
  readonly onChange?: (id: string, start: number) => void;
}

/** A window's spend and reservations as counted outside the leases. */
export interface Accounted {
  readonly settled: number;
  readonly reserved: number;
}

/** What asking for more lease came to. */
export type LeaseAnswer = "granted" | "exhausted" | "unreachable";

export interface LeaseCounts {
  /** Reports that granted more lease. */
  grants: number;
  /** Reports sent because a lease ran short. */
  refills: number;
  /** Units of lease given back to Redis. */
  returned: number;
  /** Reservations refused because Redis was unreachable. */
  refusedForRedis: number;
  /** Reservations served from a lease already held while Redis was unreachable. */
  localOnly: number;
  /** Reservations refused because the window's limit was reached. */
  refused: number;
  /** Reports that failed (unreachable, timed out). */
  failedReports: number;
}

/** What Redis says of a window, the same for every instance. */
export interface WindowView {
  readonly spent: number;
  readonly total: number;
}

/** One instance's side of a window. */
export interface LocalView {
  readonly settled: number;
  readonly reserved: number;
  /** What is left of the lease held. */
  readonly lease: number;
  /** What the next refill asks for. */
  readonly size: number;
}

interface LeaseState {
  readonly id: string;
  window: LeaseWindow;
  /** What Redis holds for this instance: its counted spend plus its lease. */
  claim: number;
  /** What of this instance's spend Redis has counted (more than `settled` once an expired lease was charged). */
  counted: number;
  /** Real spend settled here, cumulative over the window. */
  settled: number;
  /** Reserved by requests under way. */
  reserved: number;
  /** While a report is in flight, the claim it keeps: all the hot path may use until Redis answers. */
  cap: number;
  /** Local clock: the lease is not used past this, before Redis's own deadline. */
  validUntil: number;
  seq: number;
  size: number;
  grantedAt: number;
  lastUsedAt: number;
  reportedAt: number;
  reportedSettled: number;
  /** The last refill got less than it asked for: the window's limit is reached. */
  exhausted: boolean;
  /** Redis lost its data since this window was last reported: report it even if nothing changed. */
  reportDue: boolean;
  /** With an outside source: what requests waiting for a refill need together, asked for in one. */
  waiting: number;
  syncing: Promise<void> | undefined;
}

const available = (st: LeaseState): number =>
  Math.min(st.claim, st.cap) - Math.max(st.settled + st.reserved, st.counted);

export class ClusterLeases {
  readonly instance: string;
  readonly counts: LeaseCounts = {
    grants: 0,
    refills: 0,
    returned: 0,
    refusedForRedis: 0,
    localOnly: 0,
    refused: 0,
    failedReports: 0,
  };
  private readonly client: ClusterRedis;
  private readonly prefix: string;
  private readonly policy: RedisDownPolicy;
  private readonly expiry: ExpiryPolicy;
  private readonly expectedInstances: number;
  private readonly ttl: number;
  private readonly refillInterval: number;
  private readonly idle: number;
  private readonly warmup: number;
  private readonly timeout: number;
  private readonly source: ClusterLeaseOptions["source"];
  private readonly onChange: (id: string, start: number) => void;
  /** The window each budget is in now: the hot path's one lookup. */
  private readonly current = new Map<string, LeaseState>();
  /** Windows that ended or were replaced, kept until their spend is reported and their requests settled. */
  private readonly retiring = new Set<LeaseState>();
  private readonly timer: NodeJS.Timeout;
  private failing = false;
  private closed = false;
  /** A value Redis keeps for as long as it keeps its data: when it changes, every window is reported again. */
  private epoch: string | null = null;
  private epochCheckedAt = Number.NEGATIVE_INFINITY;
  private checkingEpoch = false;

  constructor(options: ClusterLeaseOptions) {
    // A restarted process counts its spend from zero again: under its predecessor's id, Redis would take
    // that spend as already counted.
    this.instance = `${options.name ?? "gateway"}-${randomUUID()}`;
    this.prefix = options.prefix ?? "sy:cluster:";
    this.policy = options.policy ?? "refuse";
    this.expiry = options.expiry ?? "charge";
    this.expectedInstances = Math.max(1, options.expectedInstances ?? 2);
    this.ttl = options.leaseTtlMs ?? 10_000;
    this.refillInterval = options.refillIntervalMs ?? 1_000;
    this.idle = options.idleMs ?? 2_000;
    this.warmup = options.warmupMs ?? this.ttl / 2;
    this.timeout = options.commandTimeoutMs ?? 250;
    const onError = options.onError ?? (() => {});
    this.source = options.source;
    this.onChange = options.onChange ?? (() => {});
    const target: RedisTarget =
      typeof options.redis === "string" ? { kind: "standalone", url: options.redis } : options.redis;
    this.client = connectClusterRedis(target, { commandTimeoutMs: this.timeout, onError });
    // Loaded on every connection so that reports after a Redis restart need not send the script whole.
    this.client.onReady(() => {
      this.client.scriptLoad(SYNC_SCRIPT).catch((error: Error) => onError(error));
    });
    this.timer = setInterval(() => this.tick(), options.tickMs ?? Math.max(10, this.ttl / 20));
    this.timer.unref();
  }

  /** Resolves once connected, for callers that want their first reservation to find Redis. */
  async ready(): Promise<void> {
    while (!this.client.isReady) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Whether Redis answered the last report and the connection is up. */
  get reachable(): boolean {
    return this.client.isReady && !this.failing;
  }

  /**
   * Takes `amount` (a whole number) of the budget's window: synchronously when the lease held covers it,
   * else once a refill answers. False: refused (the limit is reached, or Redis is unreachable and the
   * policy does not let the lease held cover it). `id` names one budget or rate limit among all of them
   * (its Redis keys are made from it).
   */
  reserve(id: string, window: LeaseWindow, amount: number): boolean | Promise<boolean> {
    let st = this.current.get(id);
    if (st === undefined || st.window.start !== window.start) st = this.open(id, window);
    else st.window = window;
    const now = Date.now();
    if (!this.reachable) {
      if (this.policy === "local" && now < st.validUntil && available(st) >= amount) {
        this.take(st, amount, now);
        this.counts.localOnly += 1;
        return true;
      }
      // Connected again since the last report failed: a refill is the probe that finds out.
      if (this.client.isReady) return this.reserveAfterRefill(st, amount);
      this.counts.refusedForRedis += 1;
      return false;
    }
    if (now < st.validUntil && available(st) >= amount) {
      this.take(st, amount, now);
      return true;
    }
    // An exhausted window is not asked again at once: a spent budget must not send every request to Redis.
    if (st.exhausted && now - st.reportedAt < this.refillInterval / 10) {
      this.counts.refused += 1;
      return false;
    }
    return this.reserveAfterRefill(st, amount);
  }

  /**
   * With an outside `source`: what that count may reach in the window (spend and reservations together),
   * given the lease held and the Redis-down policy. 0 without a lease, or when nothing may be admitted.
   */
  allowance(id: string, start: number): number {
    const st = this.find(id, start);
    if (st === undefined || Date.now() >= st.validUntil) return 0;
    if (!this.reachable && this.policy === "refuse") return 0;
    return Math.max(0, Math.min(st.claim, st.cap) - Math.max(0, st.counted - st.settled));
  }

  /** With an outside `source`: the window's count needs room for `amount` more; asks Redis when the lease has not. */
  async request(id: string, window: LeaseWindow, amount: number): Promise<LeaseAnswer> {
    let st = this.current.get(id);
    if (st === undefined || st.window.start !== window.start) st = this.open(id, window);
    else st.window = window;
    this.observe(st, false);
    const now = Date.now();
    const fits = () => Date.now() < st.validUntil && available(st) >= amount;
    if (!this.reachable) {
      if (this.policy === "local" && fits()) return "granted";
      if (!this.client.isReady) {
        this.counts.refusedForRedis += 1;
        return "unreachable";
      }
    } else if (fits()) {
      this.onChange(id, window.start);
      return "granted";
    }
    if (st.exhausted && now - st.reportedAt < this.refillInterval / 10) {
      this.counts.refused += 1;
      return "exhausted";
    }
    // Requests short at once are many (a burst): one refill asks for all of them, and a request goes back
    // to its lane when the lease has room for every one waiting (or, once the limit is near, for itself).
    st.waiting += amount;
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        await this.refill(st, Math.max(amount, st.waiting));
        this.observe(st, false);
        if (!this.reachable) {
          this.counts.refusedForRedis += 1;
          return "unreachable";
        }
        const room = Date.now() < st.validUntil ? available(st) : 0;
        if (room >= st.waiting || ((st.exhausted || attempt === 2) && room >= amount)) return "granted";
        if (st.exhausted) break;
      }
    } finally {
      st.waiting -= amount;
    }
    this.counts.refused += 1;
    return "exhausted";
  }

  /** Takes the outside count of the window, when there is one. */
  private observe(st: LeaseState, freeze: boolean): void {
    const counted = this.source?.(st.id, st.window.start, freeze);
    if (counted === undefined) return;
    st.settled = Math.max(st.settled, counted.settled);
    st.reserved = counted.reserved;
    if (counted.reserved > 0 || counted.settled > st.reportedSettled) st.lastUsedAt = Date.now();
  }

  /** A request reserved `reserved` in `window` and really used `actual`; charged to that window. */
  settle(id: string, window: LeaseWindow, reserved: number, actual: number): void {
    const st = this.find(id, window.start);
    if (st === undefined) throw new Error(`no reservation of ${id} in the window at ${window.start}`);
    st.reserved -= reserved;
    st.settled += actual;
  }

  /** Starts a window Redis does not know at `spent` (what the store saved of it); true when it did. */
  async seed(id: string, window: LeaseWindow, spent: number): Promise<boolean> {
    const { start, end, sliding } = window;
    const [hash] = leaseKeys(this.prefix, id, start, undefined);
    const expireAt = Number.isFinite(end) ? end + (sliding ? end - start : 0) + this.ttl : 0;
    const reply = await this.command(() =>
      this.client.eval(SEED_SCRIPT, {
        keys: [hash],
        arguments: [String(Math.round(spent)), String(expireAt)],
      }),
    );
    return Number(reply) === 1;
  }

  /** The window as Redis counts it. */
  async view(id: string, window: LeaseWindow): Promise<WindowView> {
    const [hash] = leaseKeys(this.prefix, id, window.start, undefined);
    const [total, spent] = await this.command(() => this.client.hmGet(hash, ["total", "spent"]));
    return { total: Number(total ?? 0), spent: Number(spent ?? 0) };
  }

  /** What this instance has settled in the window, and holds of it (claim beyond its counted spend). */
  local(id: string, start: number): LocalView | undefined {
    const st = this.find(id, start);
    return st === undefined
      ? undefined
      : { settled: st.settled, reserved: st.reserved, lease: Math.max(0, available(st)), size: st.size };
  }

  /** Reports every window's spend now, keeping the leases. */
  async flush(): Promise<void> {
    const all = [...this.current.values(), ...this.retiring];
    await Promise.all(all.map((st) => st.syncing));
    await Promise.all(all.map((st) => this.sync(st, true, 0)));
  }

  /**
   * Reports every window's spend and returns every lease, then disconnects. What requests still under way
   * reserved stays claimed, and is charged when its lease expires.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const all = [...this.current.values(), ...this.retiring];
    await Promise.all(all.map((st) => st.syncing));
    await Promise.all(all.map((st) => this.sync(st, false, 0, true)));
    this.client.destroy();
  }

  /** Ends the connection without reporting anything, as a crashed instance would. */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.client.destroy();
  }

  private take(st: LeaseState, amount: number, now: number): void {
    st.reserved += amount;
    st.lastUsedAt = now;
  }

  private async reserveAfterRefill(st: LeaseState, amount: number): Promise<boolean> {
    // A refill may lose to others' reservations from this lease, or meet a report already in flight.
    for (let attempt = 0; attempt < 3; attempt++) {
      await this.refill(st, amount);
      if (!this.reachable) {
        this.counts.refusedForRedis += 1;
        return false;
      }
      const now = Date.now();
      if (now < st.validUntil && available(st) >= amount) {
        this.take(st, amount, now);
        return true;
      }
      if (st.exhausted) break;
    }
    this.counts.refused += 1;
    return false;
  }

  private refill(st: LeaseState, amount: number): Promise<void> {
    if (st.syncing !== undefined) return st.syncing;
    const now = Date.now();
    const maxShare = Math.max(1, Math.floor(st.window.limit / (this.expectedInstances * 2)));
    if (now - st.grantedAt < this.refillInterval) st.size = Math.min(st.size * 2, maxShare);
    st.size = Math.min(st.size, maxShare);
    this.counts.refills += 1;
    return this.sync(st, true, Math.max(st.size, amount));
  }

  /**
   * Reports the window's spend, keeps the lease held beyond what is reserved or returns it (`keep`), and
   * asks `want` more.
   * `last`: this instance reports no more, so with nothing under way Redis may forget it.
   */
  private sync(st: LeaseState, keep: boolean, want: number, last = false): Promise<void> {
    if (st.syncing !== undefined) return st.syncing;
    const run = async (): Promise<void> => {
      // Read (and, for a return, frozen) at the moment the report is made: the lanes keep reserving.
      this.observe(st, !keep);
      const hold = keep ? Math.max(0, available(st)) : 0;
      const settled = st.settled;
      const reserved = st.reserved;
      st.cap = Math.max(st.counted, settled + reserved + hold);
      this.onChange(st.id, st.window.start);
      const sentAt = Date.now();
      st.seq += 1;
      const before = st.claim;
      let answer: SyncAnswer;
      try {
        answer = await this.runScript(st, st.seq, settled, reserved, hold, want, last);
      } catch {
        this.failing = true;
        this.counts.failedReports += 1;
        // Whether or not the script ran, Redis holds at least what this report kept for the instance.
        st.claim = Math.min(st.claim, st.cap);
        st.cap = Number.POSITIVE_INFINITY;
        return;
      }
      this.failing = false;
      const kept = st.cap;
      st.claim = answer.claim;
      st.counted = answer.counted;
      st.cap = Number.POSITIVE_INFINITY;
      st.validUntil = sentAt + this.ttl;
      st.reportedAt = sentAt;
      st.reportedSettled = settled;
      st.reportDue = false;
      st.exhausted = answer.claim - kept < want;
      if (answer.claim > before) {
        this.counts.grants += 1;
        st.grantedAt = sentAt;
      } else if (answer.claim < before) this.counts.returned += before - answer.claim;
    };
    const syncing = run().finally(() => {
      st.syncing = undefined;
      this.onChange(st.id, st.window.start);
    });
    st.syncing = syncing;
    return syncing;
  }

  private async runScript(
    st: LeaseState,
    seq: number,
    settled: number,
    reserved: number,
    hold: number,
    want: number,
    last: boolean,
  ): Promise<SyncAnswer> {
    const { start, end, limit, sliding } = st.window;
    const length = end - start;
    const keys = leaseKeys(this.prefix, st.id, start, sliding ? start - length : undefined);
    // A rate window is still read as the next window's previous one; a budget's ends with its window.
    const expireAt = Number.isFinite(end) ? end + (sliding ? length : 0) + this.ttl : 0;
    const script = {
      keys,
      arguments: [
        this.instance,
        String(seq),
        String(settled),
        String(reserved),
        String(hold),
        String(want),
        String(limit),
        String(this.ttl),
        String(expireAt),
        st.window.release === true ? "release" : this.expiry,
        String(this.warmup),
        st.reportedAt > 0 ? "1" : "0",
        String(start),
        String(Number.isFinite(end) ? end : 0),
        last ? "1" : "0",
      ],
    };
    const reply = await this.command(async () => {
      try {
        return await this.client.evalSha(SYNC_SCRIPT_SHA, script);
      } catch (error) {
        // Redis loads a script once and may forget it (restart, SCRIPT FLUSH): then it is sent whole.
        if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
        return await this.client.eval(SYNC_SCRIPT, script);
      }
    });
    return readSyncAnswer(reply);
  }

  private async command<T>(send: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Redis command timed out")), this.timeout);
    });
    try {
      return await Promise.race([send(), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private open(id: string, window: LeaseWindow): LeaseState {
    const previous = this.current.get(id);
    if (previous !== undefined) this.retiring.add(previous);
    const reused = this.find(id, window.start);
    if (reused !== undefined) {
      this.retiring.delete(reused);
      this.current.set(id, reused);
      reused.window = window;
      return reused;
    }
    const maxShare = Math.max(1, Math.floor(window.limit / (this.expectedInstances * 2)));
    const st: LeaseState = {
      id,
      window,
      claim: 0,
      counted: 0,
      settled: 0,
      reserved: 0,
      cap: Number.POSITIVE_INFINITY,
      validUntil: 0,
      seq: 0,
      size: Math.max(1, Math.ceil(maxShare / 8)),
      grantedAt: Number.NEGATIVE_INFINITY,
      lastUsedAt: 0,
      reportedAt: 0,
      reportedSettled: 0,
      exhausted: false,
      reportDue: false,
      waiting: 0,
      syncing: undefined,
    };
    this.current.set(id, st);
    return st;
  }

  private find(id: string, start: number): LeaseState | undefined {
    const st = this.current.get(id);
    if (st !== undefined && st.window.start === start) return st;
    for (const old of this.retiring) if (old.id === id && old.window.start === start) return old;
    return undefined;
  }

  /** Renews leases in use, returns idle ones, reports spend, and lets go of windows that are done. */
  private tick(): void {
    const now = Date.now();
    if (!this.checkingEpoch && now - this.epochCheckedAt >= this.ttl / 3) void this.checkEpoch(now);
    for (const st of this.retiring) {
      if (st.syncing !== undefined) continue;
      this.observe(st, false);
      const unreported = st.settled !== st.reportedSettled || available(st) > 0 || st.reportDue;
      if (unreported) void this.sync(st, false, 0);
      else if (st.reserved === 0) this.retiring.delete(st);
    }
    for (const st of this.current.values()) {
      if (st.syncing !== undefined) continue;
      this.observe(st, false);
      if (now >= st.window.end) {
        this.current.delete(st.id);
        this.retiring.add(st);
        continue;
      }
      const lease = available(st);
      if (lease > 0 && now - st.lastUsedAt > this.idle) {
        // Unused for a while: give it back for others, and ask for less next time.
        st.size = Math.max(1, Math.floor(st.size / 2));
        void this.sync(st, false, 0);
      } else if (
        st.reportDue ||
        ((lease > 0 || st.reserved > 0 || st.settled !== st.reportedSettled) &&
          now - st.reportedAt >= this.ttl / 3)
      )
        void this.sync(st, true, 0);
    }
  }

  /**
   * An instance whose lease is returned and spend reported has no reason to talk to Redis, so a Redis that
   * restarted empty would never hear of that spend again: a changed epoch has every window reported anew.
   */
  private async checkEpoch(now: number): Promise<void> {
    this.checkingEpoch = true;
    this.epochCheckedAt = now;
    const key = `${this.prefix}epoch`;
    try {
      await this.command(() => this.client.setIfAbsent(key, randomUUID()));
      const epoch = await this.command(() => this.client.get(key));
      if (this.epoch !== null && epoch !== this.epoch) {
        for (const st of this.current.values()) st.reportDue = st.reportedAt > 0;
        for (const st of this.retiring) st.reportDue = st.reportedAt > 0;
      }
      this.epoch = epoch;
    } catch {
      // Unreachable: the reports fail and count it; the epoch is checked again next time.
    } finally {
      this.checkingEpoch = false;
    }
  }
}
