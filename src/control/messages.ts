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
}

export type ToLane =
  | { type: "config"; config: GatewayConfig }
  | { type: "snapshot"; id: number }
  | { type: "metrics-text"; id: number; contentType: string; body: string }
  | { type: "drain"; deadlineMs: number };

export type FromLane =
  | { type: "listening"; port: number }
  | { type: "snapshot"; id: number; metrics: MetricJson[] }
  | { type: "metrics-request"; id: number }
  | { type: "drained"; unfinished: number };
