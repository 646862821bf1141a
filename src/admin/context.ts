import type { GatewayConfig } from "../config/types.js";
import type { RequestLogRecord } from "../observability/request-log/record.js";
import type { LogPage, LogQuery, LogStats, StatsQuery } from "../store/logs/types.js";
import type { GovernanceStore } from "../store/types.js";

// What the management API is given and what it answers: the lead's lane posts an AdminRequest to the main
// thread, which calls handleAdmin with the control plane's AdminContext and sends the AdminResponse back.

export interface AdminRequest {
  readonly method: string;
  readonly path: string;
  /** The query string, with or without its leading "?". */
  readonly query: string;
  readonly body: Buffer;
}

export interface AdminResponse {
  readonly status: number;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
}

export interface BudgetState {
  readonly windowStart: number;
  readonly spentMicros: number;
  readonly reservedMicros: number;
}

export interface AdminContext {
  readonly store: GovernanceStore;
  /** After any change to keys, teams, customers, providers: the control plane rebuilds and publishes to lanes; resolves once published. */
  changed(): Promise<void>;
  /** Writes spend counters and records not yet in the store (call before spend queries). */
  flushSpend(): Promise<void>;
  /** A budget's live state from the shared counters (spent in its current window, reserved by requests under way). */
  budgetState(budgetId: string): BudgetState | undefined;
  /** The configuration lanes serve, providers added through the API included: models for /model/info and /v1/model/info. */
  config(): GatewayConfig;
  /** What the configuration file (or the environment) defines: read-only through the API. */
  fileConfig(): GatewayConfig;
  now(): number;
  /** The request log's queries (answered by the log worker); absent when the log is off. */
  readonly logs?: LogQueries;
  /** The configuration's warnings and how its last reload went. */
  configStatus(): ConfigStatus;
  /** The shared upstream state lanes count in (src/shm/upstream.ts), read only; absent before the lanes start. */
  upstreamState(): SharedArrayBuffer | undefined;
}

export interface ConfigStatus {
  /** What the load at start-up ignored or doubted (unsupported keys and the like). */
  readonly startupWarnings: readonly string[];
  /** The same of the last reload that was served. */
  readonly reloadWarnings: readonly string[];
  /** Why providers added through the management API are not served (a name the file took, no key, ...). */
  readonly apiWarnings: readonly string[];
  /** Whether the configuration file is watched for changes. */
  readonly watching: boolean;
  /** The last new version of the file: served (ok) or refused with the loader's reason. */
  readonly lastReload?: { readonly at: number; readonly ok: boolean; readonly error?: string };
}

export interface LogQueries {
  query(query: LogQuery): Promise<LogPage>;
  /** The whole record, or null. */
  get(id: string): Promise<RequestLogRecord | null>;
  stats(query: StatsQuery): Promise<LogStats>;
}

/** A handler's answer before it is rendered as JSON. */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

/** What a route's handler receives: path parameters, query parameters, and the parsed JSON body. */
export interface RouteInput {
  readonly params: Readonly<Record<string, string>>;
  readonly query: ReadonlyMap<string, string>;
  readonly body: unknown;
}
