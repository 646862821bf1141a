import type { AdminRequest, AdminResponse } from "../admin/handler.js";
import type { LeaseAnswer } from "../cluster/lease-client.js";
import type { GatewayConfig } from "../config/types.js";
import type { GovernanceSnapshot } from "../governance/snapshot.js";
import type { SpendRecord } from "../governance/types.js";
import type { StaticSite } from "../http/static-files.js";
import type { MetricJson } from "../observability/metric-json.js";
import type { LogQuery, LogSummary, RetentionPolicy, StatsQuery } from "../store/logs/types.js";

// Messages between the control plane (main thread) and lanes (worker threads).

export interface LaneData {
  readonly lane: number;
  readonly lanes: number;
  readonly host: string;
  readonly port: number;
  readonly backend: "uws" | "node";
  readonly config: GatewayConfig;
  readonly startedAt: number;
  /** The shared upstream state (src/shm/upstream.ts), allocated by the control plane. */
  readonly upstream: SharedArrayBuffer;
  /** Virtual keys with their limits and budgets, and the shared counters they are enforced from. */
  readonly governance: GovernanceSnapshot;
  /** The request log's rings, one per lane (src/shm/log-ring.ts); absent when the log is off. */
  readonly logRings?: SharedArrayBuffer;
  /** The web UI's files, read once by the control plane. */
  readonly ui: StaticSite;
  /** Whether the store answers (src/shm/readiness.ts), for /ready. */
  readonly readiness: SharedArrayBuffer;
}

export type ToLane =
  /** `upstream` is set when the configuration needed a bigger shared upstream buffer. */
  | { type: "config"; id: number; config: GatewayConfig; upstream?: SharedArrayBuffer }
  | { type: "governance"; id: number; snapshot: GovernanceSnapshot }
  | { type: "snapshot"; id: number }
  | { type: "metrics-text"; id: number; contentType: string; body: string }
  | { type: "admin-response"; id: number; response: AdminResponse }
  /** Records just stored, as the live tail's message (JSON), for a lane with someone watching. */
  | { type: "tail"; json: string }
  /** Cluster mode: what asking for more of a shared counter's lease came to. */
  | { type: "lease-answer"; id: number; answer: LeaseAnswer }
  | { type: "drain"; deadlineMs: number };

export type FromLane =
  | { type: "listening"; port: number }
  | { type: "snapshot"; id: number; metrics: MetricJson[] }
  | { type: "metrics-request"; id: number }
  /** Finished requests' spend, in batches (src/pipeline/governance/spend-outbox.ts). */
  | { type: "spend"; records: SpendRecord[] }
  | { type: "admin-request"; id: number; request: AdminRequest }
  /** A published config or governance snapshot (by its id) now serves in this lane, or was refused by it. */
  | { type: "applied"; id: number }
  | { type: "drained"; unfinished: number }
  /** How many clients watch this lane's live tail now. */
  | { type: "tail-listeners"; count: number }
  /** Cluster mode: shared counters' allowances are short of these amounts (src/cluster/lease-governance.ts). */
  | { type: "lease-short"; id: number; slots: number[]; amounts: number[] };

/** What the log worker (workers/log-worker.ts) starts with. */
export interface LogWorkerData {
  /** The lanes' rings (src/shm/log-ring.ts). */
  readonly rings: SharedArrayBuffer;
  /** SQLite's file (":memory:" for none), unless `databaseUrl` names PostgreSQL. */
  readonly sqlitePath: string;
  readonly databaseUrl?: string;
  readonly flushMs: number;
  readonly retention: RetentionPolicy;
}

/** The management API's questions to the log store. */
export type LogQuestion =
  | { op: "query"; query: LogQuery }
  | { op: "get"; id: string }
  | { op: "stats"; query: StatsQuery };

export type ToLogWorker =
  | { type: "ask"; id: number; question: LogQuestion }
  /** Whether someone watches the live tail: written records' summaries are sent only then. */
  | { type: "tail"; on: boolean }
  /** Write what the rings hold now; answered with "flushed". */
  | { type: "flush"; id: number }
  /** Write what the rings hold, close the store and end. */
  | { type: "stop" };

export type FromLogWorker =
  | { type: "ready"; description: string }
  /** `invalid`: the question was malformed (a LogQueryError), not the store failing. */
  | { type: "answer"; id: number; result?: unknown; error?: string; invalid?: boolean }
  | { type: "flushed"; id: number }
  /** Records stored since the last report; their summaries when the tail is on. */
  | { type: "written"; count: number; summaries?: LogSummary[] }
  /** Something the operator should see (a store that refuses writes, a pruning); rate-limited by the worker. */
  | { type: "log"; line: string }
  | { type: "stopped" };
