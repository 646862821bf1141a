import { describe, expect, it } from "vitest";
import type { BudgetWindow } from "./types.js";
import { windowEnd, windowStart } from "./window.js";

const at = (iso: string) => Date.parse(iso);
const calendar = (count: number, unit: BudgetWindow["unit"]): BudgetWindow => ({
  count,
  unit,
  alignment: "calendar",
});
const rolling = (count: number, unit: BudgetWindow["unit"]): BudgetWindow => ({
  count,
  unit,
  alignment: "rolling",
});

describe("windowStart and windowEnd", () => {
  it("aligns calendar windows to UTC boundaries", () => {
    const now = at("2026-12-04T15:37:12.345Z");
    expect(windowStart(calendar(1, "minute"), 0, now)).toBe(at("2026-12-04T15:37:00Z"));
    expect(windowStart(calendar(1, "hour"), 0, now)).toBe(at("2026-12-04T15:00:00Z"));
    expect(windowStart(calendar(1, "day"), 0, now)).toBe(at("2026-12-04T00:00:00Z"));
    expect(windowStart(calendar(1, "week"), 0, now)).toBe(at("2026-11-30T00:00:00Z")); // a Monday
    expect(windowStart(calendar(1, "month"), 0, now)).toBe(at("2026-12-01T00:00:00Z"));
    expect(windowStart(calendar(1, "year"), 0, now)).toBe(at("2026-01-01T00:00:00Z"));
    expect(windowEnd(calendar(1, "month"), 0, at("2026-12-01T00:00:00Z"))).toBe(at("2027-01-01T00:00:00Z"));
    expect(windowEnd(calendar(1, "week"), 0, at("2026-11-30T00:00:00Z"))).toBe(at("2026-12-07T00:00:00Z"));
  });

  it("runs rolling windows one after another from the anchor", () => {
    const anchor = at("2026-12-01T10:30:00Z");
    expect(windowStart(rolling(1, "day"), anchor, at("2026-12-04T09:00:00Z"))).toBe(
      at("2026-12-03T10:30:00Z"),
    );
    expect(windowStart(rolling(30, "day"), anchor, at("2026-12-31T10:29:59Z"))).toBe(anchor);
    expect(windowStart(rolling(30, "day"), anchor, at("2026-12-31T10:30:00Z"))).toBe(
      at("2026-12-31T10:30:00Z"),
    );
  });

  it("keeps a rolling month's day, clamped to short months", () => {
    const anchor = at("2026-01-31T12:00:00Z");
    expect(windowStart(rolling(1, "month"), anchor, at("2026-02-15T00:00:00Z"))).toBe(anchor);
    expect(windowStart(rolling(1, "month"), anchor, at("2026-02-28T12:00:00Z"))).toBe(
      at("2026-02-28T12:00:00Z"),
    );
    expect(windowEnd(rolling(1, "month"), anchor, at("2026-02-28T12:00:00Z"))).toBe(
      at("2026-03-31T12:00:00Z"),
    );
    expect(windowStart(rolling(1, "year"), anchor, at("2027-01-30T00:00:00Z"))).toBe(anchor);
  });

  it("has one endless window without a window", () => {
    expect(windowStart(undefined, 123, Date.now())).toBe(0);
    expect(windowEnd(undefined, 123, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});
