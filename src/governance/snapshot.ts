import type { Budget, BudgetWindow, Customer, KeyProviderConfig, Limits, Team, VirtualKey } from "./types.js";

// What the control plane publishes to lanes about governance: every virtual key with the budgets and
// limits that apply to it (its own, its team's, its customer's), each bound to a slot of the shared
// counters (src/shm/governance.ts). Plain data, so that it crosses to the lanes by structured clone.

/** One shared counter with its maximum and window. */
export interface CounterRef {
  readonly slot: number;
  /** The counter's id in the store (budget_usage): a budget's id, or a limit's derived one. */
  readonly id: string;
  readonly max: number;
  readonly window?: BudgetWindow;
  readonly anchor: number;
}

export interface GovernedBudget extends CounterRef {
  readonly owner: "key" | "team" | "customer";
  readonly ownerId: string;
  readonly softMicros?: number;
}

export interface GovernedLimits {
  readonly owner: "key" | "team" | "customer" | "key-model";
  readonly ownerId: string;
  readonly requests?: CounterRef;
  readonly tokens?: CounterRef;
  readonly parallel?: CounterRef;
}

export interface GovernedKey {
  readonly id: string;
  readonly name: string;
  readonly hash: string;
  readonly active: boolean;
  readonly expiresAt?: number;
  readonly teamId: string;
  readonly customerId: string;
  /** Patterns the requested model must match, one list per level that restricts (key, team). */
  readonly modelLists: readonly (readonly string[])[];
  readonly providers: readonly string[];
  readonly providerConfigs: readonly KeyProviderConfig[];
  readonly budgets: readonly GovernedBudget[];
  readonly limits: readonly GovernedLimits[];
  /** Per requested model, on top of `limits`. */
  readonly modelLimits: Readonly<Record<string, GovernedLimits>>;
  readonly logContent: boolean;
}

export interface GovernanceSnapshot {
  /** Inference needs a virtual key (or the master key). */
  readonly requireVirtualKey: boolean;
  readonly keys: readonly GovernedKey[];
  /** The shared counters (src/shm/governance.ts). */
  readonly counters: SharedArrayBuffer;
}

/** Gives counters stable slots across snapshots; a slot freed by a deleted budget is cleared before reuse. */
export interface SlotAssigner {
  slotFor(counterId: string): number;
}

const MINUTE: BudgetWindow = { count: 1, unit: "minute", alignment: "calendar" };

/** The snapshot for these entities. Keys whose team or customer is missing keep their own budgets only. */
export function buildSnapshot(
  keys: readonly VirtualKey[],
  teams: readonly Team[],
  customers: readonly Customer[],
  requireVirtualKey: boolean,
  slots: SlotAssigner,
  counters: SharedArrayBuffer,
): GovernanceSnapshot {
  const teamById = new Map(teams.map((team) => [team.id, team]));
  const customerById = new Map(customers.map((customer) => [customer.id, customer]));
  const governed = keys.map((key): GovernedKey => {
    const team = key.teamId === undefined ? undefined : teamById.get(key.teamId);
    const customerId = key.customerId ?? team?.customerId;
    const customer = customerId === undefined ? undefined : customerById.get(customerId);
    const budgets: GovernedBudget[] = [
      ...key.budgets.map((budget) => governedBudget(budget, "key", key.id, slots)),
      ...(team?.budgets ?? []).map((budget) => governedBudget(budget, "team", team?.id ?? "", slots)),
      ...(customer?.budgets ?? []).map((budget) =>
        governedBudget(budget, "customer", customer?.id ?? "", slots),
      ),
    ];
    const limits: GovernedLimits[] = [];
    if (key.limits !== undefined)
      limits.push(governedLimits(key.limits, "key", key.id, key.createdAt, slots));
    if (team?.limits !== undefined)
      limits.push(governedLimits(team.limits, "team", team.id, team.createdAt, slots));
    if (customer?.limits !== undefined)
      limits.push(governedLimits(customer.limits, "customer", customer.id, customer.createdAt, slots));
    const modelLimits: Record<string, GovernedLimits> = Object.create(null);
    for (const [model, modelLimit] of Object.entries(key.modelLimits)) {
      modelLimits[model] = governedLimits(
        modelLimit,
        "key-model",
        `${key.id}/${model}`,
        key.createdAt,
        slots,
      );
    }
    const modelLists = [key.models, team?.models ?? []].filter((list) => list.length > 0);
    return {
      id: key.id,
      name: key.name,
      hash: key.hash,
      active: key.active,
      ...(key.expiresAt === undefined ? {} : { expiresAt: key.expiresAt }),
      teamId: team?.id ?? key.teamId ?? "",
      customerId: customer?.id ?? customerId ?? "",
      modelLists,
      providers: key.providers,
      providerConfigs: key.providerConfigs,
      budgets,
      limits,
      modelLimits,
      logContent: key.logContent,
    };
  });
  return { requireVirtualKey, keys: governed, counters };
}

function governedBudget(
  budget: Budget,
  owner: GovernedBudget["owner"],
  ownerId: string,
  slots: SlotAssigner,
): GovernedBudget {
  const id = `budget:${budget.id}`;
  return {
    slot: slots.slotFor(id),
    id,
    max: budget.maxMicros,
    ...(budget.window === undefined ? {} : { window: budget.window }),
    anchor: budget.anchor,
    owner,
    ownerId,
    ...(budget.softMicros === undefined ? {} : { softMicros: budget.softMicros }),
  };
}

function governedLimits(
  limits: Limits,
  owner: GovernedLimits["owner"],
  ownerId: string,
  anchor: number,
  slots: SlotAssigner,
): GovernedLimits {
  const window = limits.window ?? MINUTE;
  const counter = (kind: string, max: number | undefined, windowed: boolean): CounterRef | undefined => {
    if (max === undefined) return undefined;
    const id = `limit:${owner}:${ownerId}:${kind}`;
    return { slot: slots.slotFor(id), id, max, ...(windowed ? { window } : {}), anchor };
  };
  const requests = counter("requests", limits.requests, true);
  const tokens = counter("tokens", limits.tokens, true);
  const parallel = counter("parallel", limits.parallel, false);
  return {
    owner,
    ownerId,
    ...(requests === undefined ? {} : { requests }),
    ...(tokens === undefined ? {} : { tokens }),
    ...(parallel === undefined ? {} : { parallel }),
  };
}
