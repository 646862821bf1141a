import type { Row } from "./report.js";

// The performance goals Switchyard is held to, against Bifrost (issue 10) and against itself with the request
// log on (issue 12), judged on one run's rows: every goal compares figures taken in the same run, never
// absolutes from another day. A goal whose figures are missing (a scenario or target not run, Bifrost absent)
// is "n/a" and says what it needs.

export interface Goal {
  readonly goal: string;
  /** The measured figure and what it was held against, in words. */
  readonly measured: string;
  readonly met: boolean | null;
}

/** A target's row for one scenario and variant (variant by prefix: smoke runs differ), if it ran. */
function rowOf(rows: readonly Row[], scenario: string, variant: string, target: string): Row | undefined {
  return rows.find(
    (r) =>
      r.scenario === scenario && r.variant.startsWith(variant) && r.target === target && r.status === "ok",
  );
}

/** Switchyard's row and Bifrost's for one scenario and variant. */
function pair(rows: readonly Row[], scenario: string, variant: string) {
  const find = (target: string) => rowOf(rows, scenario, variant, target);
  return { own: find("switchyard"), bifrost: find("bifrost"), direct: find("direct") };
}

/** The request log's goal: a logged target's max RPS at least 0.9× the log-off target's. */
function logCostGoal(goal: string, logged: number | undefined, off: number | undefined): Goal {
  return judge(goal, [logged, off], () => {
    const ratio = (logged ?? 0) / (off ?? 1);
    return [`${Math.round(logged ?? 0)} vs ${Math.round(off ?? 0)} (${ratio.toFixed(2)}×)`, ratio >= 0.9];
  });
}

const us = (n: number) => `${Math.round(n)} µs`;

function judge(goal: string, figures: (number | undefined)[], measure: () => [string, boolean]): Goal {
  if (figures.some((f) => f === undefined || !Number.isFinite(f)))
    return { goal, measured: "n/a: this run lacks the rows it compares", met: null };
  const [measured, met] = measure();
  return { goal, measured, met };
}

export function judgeGoals(rows: readonly Row[]): Goal[] {
  const seq = pair(rows, "overhead", "sequential 1.4KB");
  const own = seq.own?.addedUs;
  const peer = seq.bifrost?.addedUs;
  const tp = pair(rows, "throughput", "");
  const inflight = pair(rows, "inflight", "");
  const stream = pair(rows, "streaming", "");
  const ownRps = tp.own?.rps;
  const peerRps = tp.bifrost?.rps;
  const directRps = tp.direct?.rps;
  const loggedRps = rowOf(rows, "throughput", "", "switchyard-logged")?.rps;
  const loggedMetaRps = rowOf(rows, "throughput", "", "switchyard-logged-meta")?.rps;
  return [
    judge("added p50 ≤ 0.8× Bifrost's (one at a time, 1.4 KB)", [own?.p50, peer?.p50], () => [
      `${us(own?.p50 ?? 0)} vs ${us(peer?.p50 ?? 0)}`,
      (own?.p50 ?? 0) <= 0.8 * (peer?.p50 ?? 0),
    ]),
    judge("added p99 ≤ Bifrost's (one at a time, 1.4 KB)", [own?.p99, peer?.p99], () => [
      `${us(own?.p99 ?? 0)} vs ${us(peer?.p99 ?? 0)}`,
      (own?.p99 ?? 0) <= (peer?.p99 ?? 0),
    ]),
    judge("added p99 ≤ 2× own added p50", [own?.p99, own?.p50], () => [
      `${us(own?.p99 ?? 0)} vs 2 × ${us(own?.p50 ?? 0)}`,
      (own?.p99 ?? 0) <= 2 * (own?.p50 ?? 0),
    ]),
    judge("closed-loop max RPS ≥ 2× Bifrost's", [ownRps, peerRps], () => [
      `${Math.round(ownRps ?? 0)} vs ${Math.round(peerRps ?? 0)} (${((ownRps ?? 0) / (peerRps ?? 1)).toFixed(2)}×)`,
      (ownRps ?? 0) >= 2 * (peerRps ?? 0),
    ]),
    judge("closed-loop max RPS ≥ 45% of direct to the mock", [ownRps, directRps], () => [
      `${Math.round(ownRps ?? 0)} vs ${Math.round(directRps ?? 0)} (${(((ownRps ?? 0) / (directRps ?? 1)) * 100).toFixed(0)}%)`,
      (ownRps ?? 0) >= 0.45 * (directRps ?? 0),
    ]),
    judge(
      "in flight: 100% success, added p99 ≤ Bifrost's, peak RSS ≤ 400 MB",
      [inflight.own?.addedUs?.p99, inflight.bifrost?.addedUs?.p99, inflight.own?.peakRssMb],
      () => {
        const success = inflight.own?.successRate ?? 0;
        const p99 = inflight.own?.addedUs?.p99 ?? 0;
        const peerP99 = inflight.bifrost?.addedUs?.p99 ?? 0;
        const rss = inflight.own?.peakRssMb ?? 0;
        return [
          `${(success * 100).toFixed(2)}%, ${us(p99)} vs ${us(peerP99)}, ${rss.toFixed(0)} MB`,
          success === 1 && p99 <= peerP99 && rss <= 400,
        ];
      },
    ),
    judge("streams: added time to first byte p50 ≤ 100 µs", [stream.own?.addedTtfbUs?.p50], () => [
      us(stream.own?.addedTtfbUs?.p50 ?? 0),
      (stream.own?.addedTtfbUs?.p50 ?? 0) <= 100,
    ]),
    judge(
      "heap allocated per request ≤ 4 KB (one at a time, 1.4 KB)",
      [seq.own?.heapBytesPerRequest ?? undefined],
      () => [
        `${Math.round(seq.own?.heapBytesPerRequest ?? 0)} B`,
        (seq.own?.heapBytesPerRequest ?? 0) <= 4096,
      ],
    ),
    logCostGoal("request log with content: max RPS ≥ 0.9× the log off", loggedRps, ownRps),
    logCostGoal("request log without content: max RPS ≥ 0.9× the log off", loggedMetaRps, ownRps),
  ];
}

export function goalsMarkdown(goals: readonly Goal[]): string {
  const lines = ["| goal (same run) | measured | met |", "| --- | --- | --- |"];
  for (const g of goals)
    lines.push(`| ${g.goal} | ${g.measured} | ${g.met === null ? "n/a" : g.met ? "yes" : "no"} |`);
  return lines.join("\n");
}
