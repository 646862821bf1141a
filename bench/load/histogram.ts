import * as hdr from "hdr-histogram-js";

export interface LatencySummary {
  count: number;
  /** All values in microseconds. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Microsecond histogram: 1 µs to 10 min at 3 significant digits. */
export class MicroHistogram {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });

  recordUs(us: number): void {
    this.h.recordValue(Math.max(1, Math.round(us)));
  }

  /** From a performance.now() start. */
  recordSince(startMs: number): void {
    this.recordUs((performance.now() - startMs) * 1000);
  }

  get count(): number {
    return this.h.totalCount;
  }

  summary(): LatencySummary {
    const h = this.h;
    return {
      count: h.totalCount,
      p50: h.getValueAtPercentile(50),
      p90: h.getValueAtPercentile(90),
      p99: h.getValueAtPercentile(99),
      p999: h.getValueAtPercentile(99.9),
      max: h.maxValue,
      mean: Math.round(h.mean),
    };
  }
}
