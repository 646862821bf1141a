import type { GatewayConfig } from "../config/types.js";
import type { MetricJson } from "../observability/lane-metrics.js";

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
}

export type ToLane =
  /** `upstream` is set when the configuration needed a bigger shared upstream buffer. */
  | { type: "config"; config: GatewayConfig; upstream?: SharedArrayBuffer }
  | { type: "snapshot"; id: number }
  | { type: "metrics-text"; id: number; contentType: string; body: string }
  | { type: "drain"; deadlineMs: number };

export type FromLane =
  | { type: "listening"; port: number }
  | { type: "snapshot"; id: number; metrics: MetricJson[] }
  | { type: "metrics-request"; id: number }
  | { type: "drained"; unfinished: number };
