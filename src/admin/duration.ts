import type { BudgetWindow, WindowUnit } from "../governance/types.js";

// LiteLLM's duration strings ("30s", "15m", "1h", "30d", "1w", "1mo", "1y"), as budget windows and as key
// lifetimes. Private to the admin API until src/governance/duration.ts lands on main.

const DURATION = /^([1-9][0-9]{0,3})(s|m|h|d|w|mo|y)$/;

const UNITS: Readonly<Record<string, WindowUnit>> = {
  m: "minute",
  h: "hour",
  d: "day",
  w: "week",
  mo: "month",
  y: "year",
};

/** A budget window from a duration string, calendar-aligned as LiteLLM resets budgets. */
export function parseDuration(text: string): BudgetWindow | { readonly error: string } {
  const match = DURATION.exec(text.trim());
  if (match === null)
    return {
      error: 'must be a number from 1 to 9999 and a unit: s, m, h, d, w, mo or y (e.g. "30d", "1mo")',
    };
  const unit = UNITS[match[2] as string];
  if (unit === undefined) return { error: "a budget or limit window is at least a minute" };
  return { count: Number(match[1]), unit, alignment: "calendar" };
}

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** When a key made at `now` with lifetime `text` expires (ms), or an error; months and years are calendar ones. */
export function expiryAfter(text: string, now: number): number | { readonly error: string } {
  const match = DURATION.exec(text.trim());
  if (match === null)
    return { error: 'must be a number from 1 to 9999 and a unit: s, m, h, d, w, mo or y (e.g. "30d")' };
  const count = Number(match[1]);
  const unit = match[2] as string;
  const fixed = UNIT_MS[unit];
  if (fixed !== undefined) return now + count * fixed;
  const date = new Date(now);
  if (unit === "mo") date.setUTCMonth(date.getUTCMonth() + count);
  else date.setUTCFullYear(date.getUTCFullYear() + count);
  return date.getTime();
}

const SHORT: Readonly<Record<WindowUnit, string>> = {
  minute: "m",
  hour: "h",
  day: "d",
  week: "w",
  month: "mo",
  year: "y",
};

/** The duration string of a window ("30d"), as LiteLLM's budget_duration shows it. */
export function formatDuration(window: BudgetWindow): string {
  return `${window.count}${SHORT[window.unit]}`;
}
