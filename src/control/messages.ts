import type { AdminRequest, AdminResponse } from "../admin/handler.js";
import type { GatewayConfig } from "../config/types.js";
import type { GovernanceSnapshot } from "../governance/snapshot.js";
import type { SpendRecord } from "../governance/types.js";
import type { MetricJson } from "../observability/metric-json.js";

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
}

export type ToLane =
  /** `upstream` is set when the configuration needed a bigger shared upstream buffer. */
  | { type: "config"; id: number; config: GatewayConfig; upstream?: SharedArrayBuffer }
  | { type: "governance"; id: number; snapshot: GovernanceSnapshot }
  | { type: "snapshot"; id: number }
  | { type: "metrics-text"; id: number; contentType: string; body: string }
  | { type: "admin-response"; id: number; response: AdminResponse }
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
  | { type: "drained"; unfinished: number };
