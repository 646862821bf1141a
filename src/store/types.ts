import type { BudgetTemplate, Customer, SpendRecord, Team, VirtualKey } from "../governance/types.js";

// The one interface the control plane keeps its state behind: SQLite (better-sqlite3, WAL) by default,
// PostgreSQL when configured. Only the main thread holds a store; lanes never touch it.

/** A provider added through the management API (configuration files stay the source of their own). */
export interface StoredProvider {
  readonly name: string;
  /** A provider kind of src/config/provider-catalog.ts ("openai", "anthropic", "groq", ...). */
  readonly kind: string;
  readonly baseUrl?: string;
  readonly extraHeaders: Readonly<Record<string, string>>;
  readonly requestTimeoutMs?: number;
  readonly maxRetries?: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One key of a stored provider. `secret` is the plain value in memory; the store encrypts it at rest. */
export interface StoredProviderKey {
  readonly id: string;
  readonly provider: string;
  readonly name: string;
  readonly secret: string;
  readonly models: readonly string[];
  readonly weight: number;
  /** A disabled key is kept, secret and all, but never sent upstream. */
  readonly enabled: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A budget's spend in the window it was last charged in. */
export interface BudgetUsage {
  readonly budgetId: string;
  /** The window's start (ms); 0 for a budget without windows. */
  readonly windowStart: number;
  readonly spentMicros: number;
}

export interface SpendQuery {
  readonly from?: number;
  readonly to?: number;
  readonly keyId?: string;
  readonly teamId?: string;
  readonly customerId?: string;
  readonly provider?: string;
  readonly model?: string;
  /** Newest first; at most this many (<= 10,000). */
  readonly limit?: number;
}

export type SpendGroup = "key" | "team" | "customer" | "provider" | "model" | "day";

export interface SpendTotal {
  /** The group's value (a key id, a model name, a day as YYYY-MM-DD, ...); "" when the record had none. */
  readonly group: string;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costMicros: number;
}

export interface StoreWatcher {
  stop(): Promise<void>;
}

export interface GovernanceStore {
  /** "sqlite" or "postgres", for start-up lines. */
  readonly kind: string;
  /** Applies the migrations not yet applied, in order, each in a transaction. */
  migrate(): Promise<void>;
  /** Answers once the database has answered a trivial query; throws when it cannot (for /ready). */
  ping(): Promise<void>;
  /**
   * Tells every other gateway on this database that keys, teams, customers or providers changed
   * (PostgreSQL's NOTIFY); a store only this process uses (SQLite) has no one to tell.
   */
  announceChange(): Promise<void>;
  /**
   * Calls `changed` when another gateway announced a change, and when a lost watch is back (what it missed
   * is unknown, so it counts as a change). Answers how to stop watching.
   */
  watchChanges(changed: () => void): StoreWatcher;
  close(): Promise<void>;

  listKeys(): Promise<VirtualKey[]>;
  getKey(id: string): Promise<VirtualKey | undefined>;
  /** Inserts or replaces by id; names need not be unique, hashes must. */
  putKey(key: VirtualKey): Promise<void>;
  deleteKey(id: string): Promise<boolean>;

  listTeams(): Promise<Team[]>;
  getTeam(id: string): Promise<Team | undefined>;
  putTeam(team: Team): Promise<void>;
  deleteTeam(id: string): Promise<boolean>;

  listCustomers(): Promise<Customer[]>;
  getCustomer(id: string): Promise<Customer | undefined>;
  putCustomer(customer: Customer): Promise<void>;
  deleteCustomer(id: string): Promise<boolean>;

  listBudgetTemplates(): Promise<BudgetTemplate[]>;
  getBudgetTemplate(id: string): Promise<BudgetTemplate | undefined>;
  /** Inserts or replaces by id. */
  putBudgetTemplate(template: BudgetTemplate): Promise<void>;
  deleteBudgetTemplate(id: string): Promise<boolean>;

  listProviders(): Promise<StoredProvider[]>;
  putProvider(provider: StoredProvider): Promise<void>;
  /** Deletes its keys too. */
  deleteProvider(name: string): Promise<boolean>;
  listProviderKeys(provider?: string): Promise<StoredProviderKey[]>;
  putProviderKey(key: StoredProviderKey): Promise<void>;
  deleteProviderKey(id: string): Promise<boolean>;

  /** Every budget's last known window and spend, to seed the shared counters at start. */
  loadBudgetUsage(): Promise<BudgetUsage[]>;
  /** Upserts, in one transaction. */
  saveBudgetUsage(rows: readonly BudgetUsage[]): Promise<void>;

  /** Appends, in one transaction. */
  insertSpend(records: readonly SpendRecord[]): Promise<void>;
  querySpend(query: SpendQuery): Promise<SpendRecord[]>;
  totalSpend(query: SpendQuery, group: SpendGroup): Promise<SpendTotal[]>;
}
