import { describe, expect, it } from "vitest";
import { diffBuckets, parseCounter, parseHistogram, quantile } from "./prom.js";

const scrape = (a: number, b: number, c: number) => `# HELP switchyard_gateway_overhead_seconds x
# TYPE switchyard_gateway_overhead_seconds histogram
switchyard_gateway_overhead_seconds_bucket{le="0.00001",lane="0"} ${a}
switchyard_gateway_overhead_seconds_bucket{le="0.0001",lane="0"} ${b}
switchyard_gateway_overhead_seconds_bucket{le="+Inf",lane="0"} ${c}
switchyard_gateway_overhead_seconds_sum{lane="0"} 1
switchyard_gateway_overhead_seconds_count{lane="0"} ${c}
`;

describe("prometheus histogram quantiles", () => {
  it("interpolates inside the bucket of the quantile over a scrape difference", () => {
    const before = parseHistogram(scrape(10, 10, 10), "switchyard_gateway_overhead_seconds");
    const after = parseHistogram(scrape(60, 110, 110), "switchyard_gateway_overhead_seconds");
    expect(after).toBeDefined();
    const d = diffBuckets(after as Map<number, number>, before);
    expect(quantile(d, 0.5)).toBeCloseTo(0.00001, 8);
    expect(quantile(d, 0.75)).toBeCloseTo(0.00001 + 0.00009 * 0.5, 8);
  });

  it("says undefined when the metric is missing or empty", () => {
    expect(parseHistogram("up 1\n", "switchyard_gateway_overhead_seconds")).toBeUndefined();
    expect(quantile(new Map([[Number.POSITIVE_INFINITY, 0]]), 0.5)).toBeUndefined();
  });
});

describe("parseCounter", () => {
  it("sums a counter over its label sets, and is undefined when absent", () => {
    const text = [
      "# HELP switchyard_heap_allocated_bytes_total Bytes",
      "# TYPE switchyard_heap_allocated_bytes_total counter",
      "switchyard_heap_allocated_bytes_total 1000",
      'switchyard_heap_allocated_bytes_total{lane="1"} 500',
      "switchyard_heap_allocated_bytes_total_other 7",
    ].join("\n");
    expect(parseCounter(text, "switchyard_heap_allocated_bytes_total")).toBe(1500);
    expect(parseCounter(text, "nothing_total")).toBeUndefined();
  });
});
