import type { ClusterCounts } from "../cluster/lease-governance.js";
import type { GatewayConfig } from "../config/types.js";
import { buildSnapshot, type GovernanceSnapshot, type SlotAssigner } from "../governance/snapshot.js";
import type { Customer, SpendRecord, Team, VirtualKey } from "../governance/types.js";
import { createGovernanceBuffer, GovernanceCounters, type SlotState } from "../shm/governance.js";
import type { BudgetUsage, GovernanceStore } from "../store/types.js";

// The control plane's side of governance: the entities (the store's, and the configuration file's, which
// win for their ids), the slots of the shared counters, the snapshot lanes enforce from, and the spend
// lanes report, written to the store in batches. Counters and spend records reach the store every
// FLUSH_INTERVAL_MS: what a crash can lose is stated in docs/governance.md.

export const FLUSH_INTERVAL_MS = 1000;
/** Counters the shared buffer holds: one per budget, per limit kind of each key, team and customer. */
export const DEFAULT_COUNTER_SLOTS = 65_536;
/** Spend records held while the store cannot take them (a few hundred bytes each). */
export const MAX_PENDING_SPEND = 1_000_000;

/** How many counters the shared buffer holds, and for how many lanes it keeps reservations apart. */
export interface CounterSize {
  readonly counters: number;
  readonly lanes: number;
}

export class GovernanceControl implements SlotAssigner {
  readonly counters: GovernanceCounters;
  private readonly slots = new Map<string, number>();
  /** Slots of counters no snapshot uses any more; reused only once the buffer has no fresh slot left. */
  private readonly freed: number[] = [];
  private nextSlot = 0;
  private current: GovernanceSnapshot;
  private pendingSpend: SpendRecord[] = [];
  private readonly saved = new Map<string, string>();
  /** Budgets whose soft limit was reported, with the window it was reported in. */
  private readonly softReported = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Records dropped since the last flush that could write, by the bound on what is held. */
  private dropped = 0;
  private cluster: ClusterCounts | undefined;

  private constructor(
    readonly store: GovernanceStore,
    private config: GatewayConfig,
    size: CounterSize,
    /** Resolves once every lane serves with the snapshot. */
    private readonly publish: (snapshot: GovernanceSnapshot) => Promise<void> | undefined,
    private readonly log: (line: string) => void,
  ) {
    this.counters = new GovernanceCounters(createGovernanceBuffer(size.counters, size.lanes));
    this.current = buildSnapshot([], [], [], false, this, this.counters.buffer);
  }

  /** Loads the entities and the counters' last saved state, and starts the periodic flush. */
  static async start(
    store: GovernanceStore,
    config: GatewayConfig,
    publish: (snapshot: GovernanceSnapshot) => Promise<void> | undefined,
    log: (line: string) => void,
    size: CounterSize,
    /** Cluster mode: the counters are shared (see ClusterCounts); made from the control's counters. */
    cluster?: (counters: GovernanceCounters) => ClusterCounts,
  ): Promise<GovernanceControl> {
    const control = new GovernanceControl(store, config, size, publish, log);
    control.cluster = cluster?.(control.counters);
    await control.rebuild(false);
    control.cluster?.apply(control.current);
    const usage = await store.loadBudgetUsage();
    // In cluster mode Redis counts the spend: a window it does not know starts from the store's copy.
    if (control.cluster !== undefined)
      await control.cluster
        .seed(usage)
        .catch((error: Error) => log(`cluster: could not seed Redis from the store: ${error.message}`));
    else control.seedCounters(usage);
    control.timer = setInterval(() => void control.flush(), FLUSH_INTERVAL_MS).unref();
    return control;
  }

  /** The counters' last saved state, so a restart does not begin a window's spend again. */
  private seedCounters(usage: readonly BudgetUsage[]): void {
    for (const row of usage) {
      const slot = this.slots.get(row.budgetId);
      if (slot === undefined) continue;
      this.counters.seed(slot, row.windowStart, row.spentMicros);
      this.saved.set(row.budgetId, `${row.windowStart}:${row.spentMicros}`);
    }
  }

  get snapshot(): GovernanceSnapshot {
    return this.current;
  }

  /** The configuration changed (a reload): its entities and its requirement of a virtual key may have. */
  async setConfig(config: GatewayConfig): Promise<void> {
    this.config = config;
    await this.rebuild(true);
  }

  /** Entities changed in the store (the admin API): lanes get the new snapshot. */
  changed(): Promise<void> {
    return this.rebuild(true);
  }

  private async rebuild(publish: boolean): Promise<void> {
    const [keys, teams, customers] = await Promise.all([
      this.store.listKeys(),
      this.store.listTeams(),
      this.store.listCustomers(),
    ]);
    const seeds = this.config.governance;
    const used = new Set<string>();
    const assigner: SlotAssigner = {
      slotFor: (id) => {
        used.add(id);
        return this.slotFor(id);
      },
    };
    this.current = buildSnapshot(
      merged(keys, seeds?.virtualKeys),
      merged(teams, seeds?.teams),
      merged(customers, seeds?.customers),
      seeds?.requireVirtualKey ?? false,
      assigner,
      this.counters.buffer,
    );
    for (const [id, slot] of this.slots) {
      if (used.has(id)) continue;
      this.slots.delete(id);
      this.freed.push(slot);
    }
    if (publish) {
      this.cluster?.apply(this.current);
      await this.publish(this.current);
    }
  }

  slotFor(counterId: string): number {
    const existing = this.slots.get(counterId);
    if (existing !== undefined) return existing;
    let slot: number;
    if (this.nextSlot < this.counters.capacity) slot = this.nextSlot++;
    else {
      const reused = this.freed.shift();
      if (reused === undefined)
        throw new Error(
          `governance counters are full (${this.counters.capacity}); raise SWITCHYARD_GOVERNANCE_COUNTERS`,
        );
      slot = reused;
      this.counters.clear(slot);
    }
    this.slots.set(counterId, slot);
    return slot;
  }

  /** A lane ended: reservations of its requests under way are given back. */
  laneEnded(lane: number): void {
    this.counters.reclaimLane(lane);
  }

  /**
   * A counter's live state by its id ("budget:<id>", or a limit's), for the admin API. In cluster mode its
   * use is the cluster's (every instance shows the same), its reservations this instance's.
   */
  counterState(counterId: string): SlotState | undefined {
    const slot = this.slots.get(counterId);
    if (slot === undefined) return undefined;
    const state = this.counters.read(slot);
    const shared = this.cluster?.spent(counterId);
    return shared === undefined ? state : { ...state, windowStart: shared.windowStart, used: shared.spent };
  }

  /** Spend a lane reported. */
  onSpend(records: readonly SpendRecord[]): void {
    for (const record of records) this.pendingSpend.push(record);
    this.bound();
  }

  /** A store down for long must not take the process's memory: past the bound the oldest records go, said in the log. */
  private bound(): void {
    const excess = this.pendingSpend.length - MAX_PENDING_SPEND;
    if (excess <= 0) return;
    this.pendingSpend.splice(0, excess);
    this.dropped += excess;
  }

  /** Writes the spend records and the counters that changed since the last flush; one at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing
      .then(() => this.write())
      .catch((error: Error) => {
        this.log(`governance: could not write spend to the ${this.store.kind} store: ${error.message}`);
      });
    return this.flushing;
  }

  private async write(): Promise<void> {
    const records = this.pendingSpend;
    this.pendingSpend = [];
    const rows: BudgetUsage[] = [];
    for (const [id] of this.slots) {
      // In cluster mode only the cluster's count is saved, once Redis has been read.
      if (this.cluster !== undefined && this.cluster.spent(id) === undefined) continue;
      const state = this.counterState(id) as SlotState;
      const mark = `${state.windowStart}:${state.used}`;
      if (this.saved.get(id) === mark || (state.used === 0 && !this.saved.has(id))) continue;
      rows.push({ budgetId: id, windowStart: state.windowStart, spentMicros: state.used });
      this.saved.set(id, mark);
    }
    try {
      if (records.length > 0) await this.store.insertSpend(records);
    } catch (error) {
      // Kept for the next flush rather than lost.
      this.pendingSpend = records.concat(this.pendingSpend);
      this.bound();
      throw error;
    }
    if (this.dropped > 0) {
      this.log(`governance: ${this.dropped} spend records were dropped while the store could not take them`);
      this.dropped = 0;
    }
    if (rows.length > 0) await this.store.saveBudgetUsage(rows);
    this.reportSoftBudgets();
  }

  /** A soft budget is never enforced: crossing it is said once per window, in the log. */
  private reportSoftBudgets(): void {
    for (const key of this.current.keys) {
      for (const budget of key.budgets) {
        if (budget.softMicros === undefined) continue;
        const state = this.counters.read(budget.slot);
        if (state.used < budget.softMicros || this.softReported.get(budget.id) === state.windowStart)
          continue;
        this.softReported.set(budget.id, state.windowStart);
        this.log(
          `governance: ${budget.owner} ${budget.ownerId} crossed the soft budget of ${budget.id}: ` +
            `$${(state.used / 1e6).toFixed(6)} spent of $${(budget.softMicros / 1e6).toFixed(6)} (hard limit $${(budget.max / 1e6).toFixed(6)})`,
        );
      }
    }
  }

  /** The last flush, then no more. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.flush();
  }
}

/** The store's entities with the configuration file's over them, by id. */
function merged<T extends VirtualKey | Team | Customer>(
  stored: readonly T[],
  fromConfig: readonly T[] | undefined,
): T[] {
  if (fromConfig === undefined || fromConfig.length === 0) return [...stored];
  const byId = new Map(stored.map((entity) => [entity.id, entity]));
  for (const entity of fromConfig) byId.set(entity.id, entity);
  return [...byId.values()];
}

/** The start-up line: how many virtual keys are in force, and whether a client without one is served. */
export function describeVirtualKeys(snapshot: GovernanceSnapshot, config: GatewayConfig): string {
  const keys = snapshot.keys.length;
  const counted = `virtual keys: ${keys} in force`;
  if (snapshot.requireVirtualKey)
    return `${counted}; inference requires one${config.masterKey === undefined ? "" : " (or the master key)"}`;
  if (config.masterKey !== undefined) return `${counted}; inference takes one or the master key`;
  return `${counted}; not required, so clients without one are served ungoverned (SWITCHYARD_REQUIRE_VIRTUAL_KEY=true requires them)`;
}
