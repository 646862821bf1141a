import { describe, expect, it } from "vitest";
import { markdown, type Row } from "./report.js";

describe("markdown", () => {
  it("keeps a failed proof's figures and marks its note", () => {
    const row: Row = {
      scenario: "chaos",
      variant: "10% of A fails",
      target: "switchyard",
      status: "failed",
      requests: 100,
      successRate: 0.99,
      rps: 500,
      peakRssMb: 120,
      note: "client success 99.000% < 100%",
    };
    const line = markdown([row], [], "h")
      .split("\n")
      .find((l) => l.startsWith("| chaos"));
    expect(line).toContain("| 99.00% | 500 |");
    expect(line).toContain("| **FAILED**: client success 99.000% < 100% |");
  });

  it("gives a skipped row its status and reason only", () => {
    const row: Row = {
      scenario: "flood",
      variant: "",
      target: "switchyard",
      status: "skipped",
      note: "not selected",
    };
    const line = markdown([row], [], "h")
      .split("\n")
      .find((l) => l.startsWith("| flood"));
    expect(line).toBe("| flood | switchyard | skipped | | | | | | | | not selected |");
  });
});
