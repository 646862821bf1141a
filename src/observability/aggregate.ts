import { AggregatorRegistry, collectDefaultMetrics, Registry } from "prom-client";
import type { MetricJson } from "./metric-json.js";

// The control plane's registry holds process-wide metrics (memory, CPU, event loop of the main thread);
// lanes contribute their request metrics at scrape time.
const processRegistry = new Registry();
// The main thread serves no requests; sampling its event loop every 10 ms (prom-client's default) woke it a
// hundred times a second on the cores the lanes need.
collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 100 });

export const METRICS_CONTENT_TYPE = processRegistry.contentType;

export async function renderMetrics(laneSnapshots: MetricJson[][]): Promise<string> {
  const own = (await processRegistry.getMetricsAsJSON()) as unknown as MetricJson[];
  const merged = AggregatorRegistry.aggregate([own, ...laneSnapshots] as unknown as Parameters<
    typeof AggregatorRegistry.aggregate
  >[0]);
  return merged.metrics();
}
