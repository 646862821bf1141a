import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import type { MetricJson } from "./metric-json.js";

// How late a lane's event loop runs its timers: the delay every request on that lane waits behind whatever
// else the lane was doing. Sampled by Node every RESOLUTION_MS; each scrape reports the quantiles since the
// one before, per lane.

const RESOLUTION_MS = 10;
const QUANTILES = [0.5, 0.99] as const;

export class EventLoopLag {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  constructor(private readonly lane: number) {
    this.histogram.enable();
  }

  metrics(): MetricJson[] {
    const h = this.histogram;
    const lane = String(this.lane);
    const values: MetricJson["values"] = QUANTILES.map((quantile) => ({
      value: h.count === 0 ? 0 : h.percentile(quantile * 100) / 1e9,
      labels: { lane, quantile },
    }));
    values.push({ value: h.count === 0 ? 0 : h.max / 1e9, labels: { lane, quantile: 1 } });
    h.reset();
    return [
      {
        name: "switchyard_lane_event_loop_lag_seconds",
        help: "How late each lane's event loop ran, since the previous scrape (quantile 1 is the maximum)",
        type: "gauge",
        aggregator: "sum",
        values,
      },
    ];
  }
}
