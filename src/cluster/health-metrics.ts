import { counter, type MetricJson } from "../observability/metric-json.js";
import type { SharedHealthCounts } from "./shared-health.js";

// Shared health's figures on /metrics. Apart from shared-health.ts so that /metrics never loads the Redis
// client of a gateway that is not clustered.

export function sharedHealthMetrics(counts: SharedHealthCounts): MetricJson[] {
  const one = (name: string, help: string, value: number): MetricJson => {
    const json = counter(name, help);
    json.values.push({ value, labels: {} });
    return json;
  };
  return [
    one(
      "switchyard_cluster_health_published_total",
      "Local circuit changes published to the other instances",
      counts.published,
    ),
    one(
      "switchyard_cluster_health_applied_total",
      "Other instances' circuit changes applied here",
      counts.applied,
    ),
    one(
      "switchyard_cluster_health_rejected_total",
      "Malformed or oversized health messages and records refused",
      counts.rejected,
    ),
    one("switchyard_cluster_health_failures_total", "Redis errors of shared health", counts.failures),
  ];
}
