import { describe, expect, it } from "vitest";
import { goalsMarkdown, judgeGoals } from "./goals.js";
import type { Row } from "./report.js";

const latency = (p50: number, p99: number) => ({ p50, p90: p50, p99 });

function rows(
  own: { p50: number; p99: number; rps: number; heap: number },
  bifrost?: { p50: number; p99: number; rps: number },
): Row[] {
  const out: Row[] = [
    {
      scenario: "overhead",
      variant: "sequential 1.4KB",
      target: "switchyard",
      status: "ok",
      addedUs: latency(own.p50, own.p99),
      heapBytesPerRequest: own.heap,
    },
    {
      scenario: "throughput",
      variant: "max RPS at 100% success",
      target: "switchyard",
      status: "ok",
      rps: own.rps,
    },
    {
      scenario: "throughput",
      variant: "max RPS at 100% success",
      target: "direct",
      status: "ok",
      rps: 40_000,
    },
  ];
  if (bifrost !== undefined) {
    out.push(
      {
        scenario: "overhead",
        variant: "sequential 1.4KB",
        target: "bifrost",
        status: "ok",
        addedUs: latency(bifrost.p50, bifrost.p99),
      },
      {
        scenario: "throughput",
        variant: "max RPS at 100% success",
        target: "bifrost",
        status: "ok",
        rps: bifrost.rps,
      },
    );
  }
  return out;
}

const metOf = (goals: ReturnType<typeof judgeGoals>, start: string) =>
  goals.find((g) => g.goal.startsWith(start))?.met;

describe("the goals against Bifrost", () => {
  it("are met when Switchyard's figures are within them", () => {
    const goals = judgeGoals(
      rows({ p50: 200, p99: 300, rps: 20_000, heap: 3000 }, { p50: 260, p99: 320, rps: 9000 }),
    );
    expect(metOf(goals, "added p50")).toBe(true);
    expect(metOf(goals, "added p99 ≤ Bifrost")).toBe(true);
    expect(metOf(goals, "added p99 ≤ 2×")).toBe(true);
    expect(metOf(goals, "closed-loop max RPS ≥ 2×")).toBe(true);
    expect(metOf(goals, "closed-loop max RPS ≥ 45%")).toBe(true);
    expect(metOf(goals, "heap")).toBe(true);
  });

  it("are not met past them, and say the figures", () => {
    const goals = judgeGoals(
      rows({ p50: 300, p99: 3000, rps: 12_000, heap: 13_000 }, { p50: 280, p99: 350, rps: 9000 }),
    );
    expect(metOf(goals, "added p50")).toBe(false);
    expect(metOf(goals, "added p99 ≤ Bifrost")).toBe(false);
    expect(metOf(goals, "added p99 ≤ 2×")).toBe(false);
    expect(metOf(goals, "closed-loop max RPS ≥ 2×")).toBe(false);
    expect(metOf(goals, "closed-loop max RPS ≥ 45%")).toBe(false);
    expect(metOf(goals, "heap")).toBe(false);
    expect(goals.find((g) => g.goal.startsWith("added p99 ≤ Bifrost"))?.measured).toBe("3000 µs vs 350 µs");
  });

  it("hold the request log to 0.9× the throughput of the log off, with content and without", () => {
    const throughput = (target: string, rps: number): Row => ({
      scenario: "throughput",
      variant: "max RPS at 100% success",
      target,
      status: "ok",
      rps,
    });
    const goals = judgeGoals([
      ...rows({ p50: 200, p99: 300, rps: 20_000, heap: 3000 }),
      throughput("switchyard-logged", 17_000),
      throughput("switchyard-logged-meta", 18_500),
    ]);
    expect(metOf(goals, "request log with content")).toBe(false);
    expect(metOf(goals, "request log without content")).toBe(true);
    expect(goals.find((g) => g.goal.startsWith("request log with content"))?.measured).toBe(
      "17000 vs 20000 (0.85×)",
    );
    expect(
      metOf(judgeGoals(rows({ p50: 200, p99: 300, rps: 20_000, heap: 3000 })), "request log"),
    ).toBeNull();
  });

  it("are n/a without the rows they compare, and the table says so", () => {
    const goals = judgeGoals(rows({ p50: 200, p99: 300, rps: 20_000, heap: 3000 }));
    expect(metOf(goals, "added p50")).toBeNull();
    expect(metOf(goals, "in flight")).toBeNull();
    expect(metOf(goals, "added p99 ≤ 2×")).toBe(true);
    expect(goalsMarkdown(goals)).toContain("| n/a |");
  });
});
