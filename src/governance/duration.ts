import type { BudgetWindow, WindowUnit } from "./types.js";

// Budget and rate-limit windows as Bifrost's config.json, LiteLLM's config.yaml and Switchyard's own settings
// write them. The grammar:
//
//   duration  = count unit [ ":" alignment ] | word
//   count     = 1 to 6 digits, at least 1
//   unit      = "m" | "min"   minutes (both projects read "m" as minutes)
//             | "h"           hours
//             | "d"           days
//             | "w"           weeks
//             | "M" | "mo"    months (Bifrost writes "1M", LiteLLM "1mo")
//             | "Y" | "y"     years (Bifrost)
//   alignment = "calendar" | "rolling"
//   word      = "hourly" | "daily" | "weekly" | "monthly" (LiteLLM's aliases: 1h, 1d, 1w, 1mo)
//
// Seconds ("30s") are refused: the shortest window is a minute. Without an alignment the window takes the
// caller's default ("rolling" unless the caller says otherwise); "1d:calendar" starts at UTC midnight.

const UNITS: Readonly<Record<string, WindowUnit>> = {
  m: "minute",
  min: "minute",
  h: "hour",
  d: "day",
  w: "week",
  M: "month",
  mo: "month",
  Y: "year",
  y: "year",
};

const WORDS: Readonly<Record<string, string>> = {
  hourly: "1h",
  daily: "1d",
  weekly: "1w",
  monthly: "1mo",
};

const DURATION = /^(\d{1,6})([a-zA-Z]+)(?::([a-z]+))?$/;

/** Why a duration was refused, for a configuration problem ("must be ..."). */
export interface DurationError {
  readonly error: string;
}

export type Alignment = BudgetWindow["alignment"];

export function isDurationError(v: BudgetWindow | DurationError): v is DurationError {
  return "error" in v;
}

/** Reads a window such as "30d", "1M", "1mo", "1h:calendar" or "daily"; see the grammar above. */
export function parseDuration(
  text: string,
  defaultAlignment: Alignment = "rolling",
): BudgetWindow | DurationError {
  const trimmed = text.trim();
  const match = DURATION.exec(WORDS[trimmed.toLowerCase()] ?? trimmed);
  if (match === null)
    return {
      error:
        'must be a count and a unit: "30m", "1h", "1d", "1w", "1M" or "1mo" (month), "1Y" (year), optionally ":calendar" or ":rolling"',
    };
  const [, digits = "", unitText = "", alignmentText] = match;
  if (unitText === "s") return { error: "must be at least a minute (seconds are not supported)" };
  const unit = UNITS[unitText];
  if (unit === undefined) return { error: `has an unknown unit "${unitText}" (m, h, d, w, M or mo, Y)` };
  const count = Number(digits);
  if (count < 1) return { error: "must be at least 1" };
  let alignment = defaultAlignment;
  if (alignmentText !== undefined) {
    if (alignmentText !== "calendar" && alignmentText !== "rolling")
      return { error: `has an unknown alignment "${alignmentText}" (calendar or rolling)` };
    alignment = alignmentText;
  }
  return { count, unit, alignment };
}

/**
 * A LiteLLM `budget_duration` as LiteLLM resets it: at the next boundary rather than a fixed time after the
 * key was made ("1d" at UTC midnight, "1h" on the hour, "1mo" on the 1st), with its special cases "7d" on
 * Mondays, "30d" on the 1st and "24h" (its "daily") at midnight. An explicit ":rolling" keeps a rolling window.
 */
export function parseLiteLLMBudgetDuration(text: string): BudgetWindow | DurationError {
  const window = parseDuration(text, "calendar");
  if (isDurationError(window) || window.alignment === "rolling") return window;
  const { count, unit } = window;
  if (unit === "day" && count === 7) return { count: 1, unit: "week", alignment: "calendar" };
  if (unit === "day" && count === 30) return { count: 1, unit: "month", alignment: "calendar" };
  if (unit === "hour" && count === 24) return { count: 1, unit: "day", alignment: "calendar" };
  return window;
}

const SHORT: Readonly<Record<WindowUnit, string>> = {
  minute: "m",
  hour: "h",
  day: "d",
  week: "w",
  month: "mo",
  year: "y",
};

/** A window's count and unit as parseDuration reads them back ("30d", "1mo"); the alignment is left out. */
export function formatDuration(window: BudgetWindow): string {
  return `${window.count}${SHORT[window.unit]}`;
}

const UNIT_MS: Readonly<Record<BudgetWindow["unit"], number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 30 * 86_400_000,
  year: 365 * 86_400_000,
};

/** A window's length as a plain duration (a month as 30 days, a year as 365), for retention periods. */
export function windowMs(window: BudgetWindow): number {
  return window.count * UNIT_MS[window.unit];
}
