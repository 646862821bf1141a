import { describe, expect, it } from "vitest";
import { formatDuration, isDurationError, parseDuration, parseLiteLLMBudgetDuration } from "./duration.js";

describe("parseDuration", () => {
  it.each([
    ["1m", 1, "minute"],
    ["5min", 5, "minute"],
    ["1h", 1, "hour"],
    ["30d", 30, "day"],
    ["2w", 2, "week"],
    ["1M", 1, "month"],
    ["3mo", 3, "month"],
    ["1Y", 1, "year"],
    ["2y", 2, "year"],
    [" 7d ", 7, "day"],
  ])("reads %s as %i %s, rolling", (text, count, unit) => {
    expect(parseDuration(text)).toEqual({ count, unit, alignment: "rolling" });
  });

  it("reads LiteLLM's words", () => {
    expect(parseDuration("hourly")).toEqual({ count: 1, unit: "hour", alignment: "rolling" });
    expect(parseDuration("Daily")).toEqual({ count: 1, unit: "day", alignment: "rolling" });
    expect(parseDuration("weekly")).toEqual({ count: 1, unit: "week", alignment: "rolling" });
    expect(parseDuration("monthly")).toEqual({ count: 1, unit: "month", alignment: "rolling" });
  });

  it("tells minutes from months by case: m is a minute, M a month", () => {
    expect(parseDuration("1m")).toMatchObject({ unit: "minute" });
    expect(parseDuration("1M")).toMatchObject({ unit: "month" });
  });

  it("takes an explicit alignment over the caller's default", () => {
    expect(parseDuration("1d:calendar")).toEqual({ count: 1, unit: "day", alignment: "calendar" });
    expect(parseDuration("1d", "calendar")).toEqual({ count: 1, unit: "day", alignment: "calendar" });
    expect(parseDuration("1d:rolling", "calendar")).toEqual({ count: 1, unit: "day", alignment: "rolling" });
  });

  it.each([
    ["30s", "at least a minute"],
    ["0d", "at least 1"],
    ["1q", 'unknown unit "q"'],
    ["1d:weekly", 'unknown alignment "weekly"'],
    ["", "must be a count and a unit"],
    ["d", "must be a count and a unit"],
    ["1.5h", "must be a count and a unit"],
    ["-1d", "must be a count and a unit"],
    ["1234567d", "must be a count and a unit"],
    ["1 d", "must be a count and a unit"],
  ])("refuses %j", (text, why) => {
    const result = parseDuration(text);
    expect(isDurationError(result)).toBe(true);
    expect(isDurationError(result) && result.error).toContain(why);
  });
});

describe("parseLiteLLMBudgetDuration", () => {
  it.each([
    ["1d", 1, "day"],
    ["1h", 1, "hour"],
    ["1mo", 1, "month"],
    ["7d", 1, "week"],
    ["30d", 1, "month"],
    ["24h", 1, "day"],
    ["daily", 1, "day"],
    ["14d", 14, "day"],
  ])("resets %s on calendar boundaries as LiteLLM does (%i %s)", (text, count, unit) => {
    expect(parseLiteLLMBudgetDuration(text)).toEqual({ count, unit, alignment: "calendar" });
  });

  it("keeps an explicit rolling window as written, and refuses what parseDuration refuses", () => {
    expect(parseLiteLLMBudgetDuration("30d:rolling")).toEqual({
      count: 30,
      unit: "day",
      alignment: "rolling",
    });
    expect(isDurationError(parseLiteLLMBudgetDuration("30s"))).toBe(true);
  });
});

describe("formatDuration", () => {
  it.each(["1m", "15m", "1h", "30d", "2w", "1mo", "3mo", "1y"])("writes %s back as it is read", (text) => {
    const window = parseDuration(text);
    if (isDurationError(window)) throw new Error(window.error);
    expect(formatDuration(window)).toBe(text);
  });

  it("writes months and years as LiteLLM does", () => {
    expect(formatDuration({ count: 1, unit: "month", alignment: "calendar" })).toBe("1mo");
    expect(formatDuration({ count: 2, unit: "year", alignment: "rolling" })).toBe("2y");
  });
});
