// Governance's model: virtual keys, teams, customers, their budgets and rate limits, as the store keeps
// them and the admin API shows them. Money is integer micro-dollars (1 USD = 1,000,000) everywhere, so
// sums are exact; times are Unix milliseconds.

/** How long a budget's or a limit's window lasts. */
export type WindowUnit = "minute" | "hour" | "day" | "week" | "month" | "year";

export interface BudgetWindow {
  /** How many units, >= 1 ("30d" is 30 days). */
  readonly count: number;
  readonly unit: WindowUnit;
  /**
   * "calendar": windows start at UTC calendar boundaries (the minute, hour, midnight, Monday, the 1st, 1 January;
   * a count above 1 counts whole units from the Unix epoch, or from year 0 for months and years).
   * "rolling": windows of that length one after another from the budget's `anchor`.
   */
  readonly alignment: "calendar" | "rolling";
}

export interface Budget {
  readonly id: string;
  /** The most this budget lets be spent in one window, micro-dollars. */
  readonly maxMicros: number;
  /** Crossing it is reported, never refused (LiteLLM's soft_budget). */
  readonly softMicros?: number;
  /** Absent: one window for the budget's whole life. */
  readonly window?: BudgetWindow;
  /** When a rolling window's first window started (ms). */
  readonly anchor: number;
}

/**
 * A budget and limits kept on their own, owned by no entity (LiteLLM's /budget/new). An entity that names it
 * gets a copy: its own Budget with a fresh id (its own spend counter) and these limits, as they are then.
 */
export interface BudgetTemplate {
  readonly id: string;
  /** Absent: the template sets limits only. */
  readonly maxMicros?: number;
  readonly softMicros?: number;
  /** Absent with a maximum: one window for the budget's whole life. */
  readonly window?: BudgetWindow;
  readonly limits?: Limits;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Request, token and parallel-request limits; any may be absent. */
export interface Limits {
  /** Requests per window (per minute unless `window` says otherwise). */
  readonly requests?: number;
  /** Prompt plus completion tokens per window. */
  readonly tokens?: number;
  /** Requests under way at once. */
  readonly parallel?: number;
  /** Window of `requests` and `tokens`; absent is one minute (LiteLLM's rpm and tpm). */
  readonly window?: BudgetWindow;
}

/** Bifrost's provider_configs entry: which of a provider's models and keys a virtual key may use, at which weight. */
export interface KeyProviderConfig {
  readonly provider: string;
  /** Routing weight among the providers this key allows; absent is 1. */
  readonly weight?: number;
  /** Models of this provider the key may use (exact names or `*` patterns); empty is all. */
  readonly allowedModels: readonly string[];
  /** Names of the provider's keys this key may use; empty is all. */
  readonly keyNames: readonly string[];
}

export interface Customer {
  readonly id: string;
  readonly name: string;
  readonly budgets: readonly Budget[];
  readonly limits?: Limits;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface Team {
  readonly id: string;
  readonly name: string;
  readonly customerId?: string;
  readonly budgets: readonly Budget[];
  readonly limits?: Limits;
  /** Models the team's keys may use (exact or `*` patterns); empty is all. */
  readonly models: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface VirtualKey {
  readonly id: string;
  readonly name: string;
  /** SHA-256 of the secret, lower-case hex. The secret itself is shown once, at creation, and never stored. */
  readonly hash: string;
  /** What identifies the key to a person without revealing it: "sk-sy-…" and its last four characters. */
  readonly masked: string;
  readonly active: boolean;
  /** Absent: never expires. */
  readonly expiresAt?: number;
  readonly teamId?: string;
  readonly customerId?: string;
  /** Models this key may use (exact names or `*` patterns, e.g. "openai/*", "gpt-4o*"); empty is all. */
  readonly models: readonly string[];
  /** Providers this key may use; empty is all. */
  readonly providers: readonly string[];
  readonly providerConfigs: readonly KeyProviderConfig[];
  readonly limits?: Limits;
  /** Limits per model, on top of the key's own (LiteLLM's model_rpm_limit / model_tpm_limit). */
  readonly modelLimits: Readonly<Record<string, Limits>>;
  readonly budgets: readonly Budget[];
  /** Plain metadata: shown by the API as stored. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Secrets kept with the key (encrypted at rest, write-only through the API, shown masked). */
  readonly secretMetadata: Readonly<Record<string, string>>;
  /** Whether request and response bodies made with this key may be logged. */
  readonly logContent: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What one finished request cost, as recorded per key, team, customer, provider and model. */
export interface SpendRecord {
  readonly requestId: string;
  /** When the request finished (ms). */
  readonly at: number;
  readonly keyId: string;
  readonly teamId: string;
  readonly customerId: string;
  readonly provider: string;
  readonly model: string;
  /** The model the client asked for. */
  readonly requestedModel: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedReadTokens: number;
  readonly cacheWriteTokens: number;
  readonly reasoningTokens: number;
  readonly costMicros: number;
  readonly status: number;
  readonly stream: boolean;
  /** The tokens were counted by the gateway (a cancelled stream the provider sent no usage for). */
  readonly estimated: boolean;
}
