import type { BudgetWindow } from "./types.js";

// Where a budget's or a limit's current window starts, and when it ends. Calendar windows are UTC.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
/** 1970-01-05 was a Monday: weeks start on Mondays. */
const FIRST_MONDAY = 4 * DAY;

const FIXED: Partial<Record<BudgetWindow["unit"], number>> = {
  minute: MINUTE,
  hour: HOUR,
  day: DAY,
  week: WEEK,
};

/** The start of the window `now` falls in (ms). A budget without windows has one, starting at 0. */
export function windowStart(window: BudgetWindow | undefined, anchor: number, now: number): number {
  if (window === undefined) return 0;
  const fixed = FIXED[window.unit];
  if (fixed !== undefined) {
    const length = fixed * window.count;
    const origin = window.alignment === "calendar" ? (window.unit === "week" ? FIRST_MONDAY : 0) : anchor;
    return origin + Math.floor((now - origin) / length) * length;
  }
  // Months and years: whole calendar months since year 0 (calendar), or since the anchor's (rolling).
  const months = window.unit === "month" ? window.count : window.count * 12;
  const date = new Date(now);
  const nowIndex = date.getUTCFullYear() * 12 + date.getUTCMonth();
  if (window.alignment === "calendar") {
    const index = nowIndex - (nowIndex % months);
    return Date.UTC(Math.floor(index / 12), index % 12, 1);
  }
  const origin = new Date(anchor);
  const anchorIndex = origin.getUTCFullYear() * 12 + origin.getUTCMonth();
  let index = anchorIndex + Math.floor((nowIndex - anchorIndex) / months) * months;
  let start = atMonth(origin, index);
  // The anchor's day and time within the month come later in this month than now: the previous window.
  if (start > now) {
    index -= months;
    start = atMonth(origin, index);
  }
  return start;
}

/** When the window starting at `start` ends (ms); Infinity without windows. */
export function windowEnd(window: BudgetWindow | undefined, anchor: number, start: number): number {
  if (window === undefined) return Number.POSITIVE_INFINITY;
  const fixed = FIXED[window.unit];
  if (fixed !== undefined) return start + fixed * window.count;
  const months = window.unit === "month" ? window.count : window.count * 12;
  const date = new Date(start);
  const index = date.getUTCFullYear() * 12 + date.getUTCMonth() + months;
  return window.alignment === "calendar"
    ? Date.UTC(Math.floor(index / 12), index % 12, 1)
    : atMonth(new Date(anchor), index);
}

/** The anchor's day of month and time in month `index` (year * 12 + month), the day clamped to the month's length. */
function atMonth(anchor: Date, index: number): number {
  const year = Math.floor(index / 12);
  const month = index % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    month,
    Math.min(anchor.getUTCDate(), lastDay),
    anchor.getUTCHours(),
    anchor.getUTCMinutes(),
    anchor.getUTCSeconds(),
    anchor.getUTCMilliseconds(),
  );
}
