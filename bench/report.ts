import type { LatencySummary } from "./load/histogram.js";

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
}

export interface Row {
  scenario: string;
  variant: string;
  target: string;
  status: "ok" | "skipped" | "failed";
  note?: string;
  requests?: number;
  successRate?: number;
  rps?: number;
  latencyUs?: LatencySummary;
  ttfbUs?: LatencySummary;
  /** Through the target minus direct to the mock, same run, percentile by percentile. */
  addedUs?: Percentiles;
  addedTtfbUs?: Percentiles;
  /** From the gateway's own switchyard_gateway_overhead_seconds histogram; null when not exposed. */
  internalUs?: { p50: number; p99: number } | null;
  cpuUsPerRequest?: number;
  /** Switchyard's lanes' heap allocation per request (switchyard_heap_allocated_bytes_total); null when not exposed. */
  heapBytesPerRequest?: number | null;
  mockCpuUsPerRequest?: number;
  peakRssMb?: number;
  peakInFlight?: number;
  /** Open loop: how late the driver dispatched against its schedule. */
  scheduleLagUs?: LatencySummary;
  errors?: Record<string, number>;
  /** Scenario-specific figures (chaos: sends per mock and bounds; flood: RSS over time), JSON only. */
  details?: Record<string, unknown>;
}

export interface Ratio {
  name: string;
  value: number | null;
  note?: string;
}

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || !Number.isFinite(n) ? "–" : n.toFixed(digits);

const triple = (p: Percentiles | LatencySummary | undefined): string =>
  p === undefined || ("count" in p && p.count === 0) ? "–" : `${fmt(p.p50)} / ${fmt(p.p90)} / ${fmt(p.p99)}`;

export function markdown(rows: Row[], ratios: Ratio[], header: string): string {
  const lines = [
    header,
    "",
    "Latencies in µs (p50 / p90 / p99). Added = through the target minus direct to the mock, same run. " +
      "Streams show time to first byte, then total.",
    "",
    "| scenario | target | success | RPS | latency | added | internal p50 / p99 | CPU µs/req | heap B/req | peak RSS MB | note |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rows) {
    const name = `${r.scenario} ${r.variant}`.trim();
    if (r.status !== "ok" && r.requests === undefined) {
      lines.push(`| ${name} | ${r.target} | ${r.status} | | | | | | | | ${r.note ?? ""} |`);
      continue;
    }
    const latency = r.ttfbUs ? `ttfb ${triple(r.ttfbUs)}; total ${triple(r.latencyUs)}` : triple(r.latencyUs);
    const added = r.addedTtfbUs
      ? `ttfb ${triple(r.addedTtfbUs)}; total ${triple(r.addedUs)}`
      : triple(r.addedUs);
    const internal =
      r.internalUs === undefined
        ? "–"
        : r.internalUs === null
          ? "n/a"
          : `${fmt(r.internalUs.p50, 1)} / ${fmt(r.internalUs.p99, 1)}`;
    lines.push(
      `| ${name} | ${r.target} | ${fmt((r.successRate ?? 0) * 100, 2)}% | ${fmt(r.rps)} | ${latency} | ${r.target === "direct" ? "(baseline)" : added} | ${internal} | ${fmt(r.cpuUsPerRequest)} | ${r.heapBytesPerRequest == null ? "–" : fmt(r.heapBytesPerRequest)} | ${fmt(r.peakRssMb, 1)} | ${r.status === "failed" ? "**FAILED**: " : ""}${r.note ?? ""} |`,
    );
  }
  for (const ratio of ratios) {
    lines.push(
      `| ratio | ${ratio.name} | | ${ratio.value === null ? "n/a" : `${ratio.value.toFixed(2)}×`} | | | | | | | ${ratio.note ?? ""} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}
