import { type Alignment, formatDuration, isDurationError, parseDuration } from "../governance/duration.js";
import type { Budget, BudgetWindow, Limits } from "../governance/types.js";
import type { AdminContext } from "./context.js";
import { invalidField } from "./errors.js";
import { newId } from "./secrets.js";

// Between the API's units (dollars, ISO times, duration strings) and the model's (micro-dollars, Unix
// milliseconds, BudgetWindow).

export function toMicros(dollars: number): number {
  return Math.round(dollars * 1e6);
}

export function toDollars(micros: number): number {
  return micros / 1e6;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

const ZONE = /(Z|[+-]\d{2}:?\d{2})$/;

/** An ISO 8601 date or date-time, or Unix milliseconds; a date-time without a zone is UTC, as answers write times. */
export function toTime(value: string | number, param: string): number {
  if (typeof value === "number") return value;
  const text = value.trim();
  let ms = Number.NaN;
  if (/^\d{1,16}$/.test(text)) ms = Number(text);
  else if (ISO_DATE.test(text)) {
    const iso = text.replace(" ", "T");
    ms = Date.parse(iso.length > 10 && !ZONE.test(iso) ? `${iso}Z` : iso);
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > 8.64e15)
    throw invalidField(param, "must be an ISO 8601 date or date-time, or Unix milliseconds");
  return ms;
}

/** A window from a duration string (src/governance/duration.ts); an alignment written in it (":rolling") wins. */
export function toWindow(text: string, param: string, alignment: Alignment): BudgetWindow {
  const window = parseDuration(text, alignment);
  if (isDurationError(window)) throw invalidField(param, window.error);
  return window;
}

const SECONDS = /^\s*(\d{1,6})s\s*$/;

const FIXED_MS: Readonly<Partial<Record<BudgetWindow["unit"], number>>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

/** When a key made at `now` with lifetime `text` ("30s", "1h", "30d", "1mo") expires; months and years are calendar ones. */
export function expiryAfter(text: string, now: number, param: string): number {
  const seconds = SECONDS.exec(text);
  if (seconds !== null) {
    if (Number(seconds[1]) < 1) throw invalidField(param, "must be at least 1");
    return now + Number(seconds[1]) * 1000;
  }
  if (text.includes(":")) throw invalidField(param, "is a lifetime and takes no alignment");
  const window = parseDuration(text);
  if (isDurationError(window)) throw invalidField(param, window.error);
  const fixed = FIXED_MS[window.unit];
  if (fixed !== undefined) return now + window.count * fixed;
  const date = new Date(now);
  if (window.unit === "month") date.setUTCMonth(date.getUTCMonth() + window.count);
  else date.setUTCFullYear(date.getUTCFullYear() + window.count);
  if (!Number.isFinite(date.getTime())) throw invalidField(param, "is too long");
  return date.getTime();
}

export interface LimitsInput {
  readonly requests?: number;
  readonly tokens?: number;
  readonly parallel?: number;
  readonly window?: string;
}

/** The model's Limits, or undefined when none is set. */
export function toLimits(input: LimitsInput | null | undefined, param: string): Limits | undefined {
  if (input === null || input === undefined) return undefined;
  const limits: { -readonly [K in keyof Limits]: Limits[K] } = {};
  if (input.requests !== undefined) limits.requests = input.requests;
  if (input.tokens !== undefined) limits.tokens = input.tokens;
  if (input.parallel !== undefined) limits.parallel = input.parallel;
  if (input.window !== undefined) limits.window = toWindow(input.window, `${param}.window`, "rolling");
  return Object.keys(limits).length === 0 ? undefined : limits;
}

export function limitsView(limits: Limits | undefined): Record<string, unknown> | null {
  if (limits === undefined) return null;
  const view: Record<string, unknown> = {};
  if (limits.requests !== undefined) view.requests = limits.requests;
  if (limits.tokens !== undefined) view.tokens = limits.tokens;
  if (limits.parallel !== undefined) view.parallel = limits.parallel;
  if (limits.window !== undefined) {
    view.window = formatDuration(limits.window);
    view.alignment = limits.window.alignment;
  }
  return view;
}

export interface BudgetInput {
  readonly id?: string;
  readonly max_budget: number;
  readonly soft_budget?: number;
  readonly budget_duration?: string;
  readonly alignment?: "calendar" | "rolling";
}

function sameWindow(a: BudgetWindow | undefined, b: BudgetWindow | undefined): boolean {
  return a?.count === b?.count && a?.unit === b?.unit && a?.alignment === b?.alignment;
}

/**
 * The model's budgets from the API's. A budget given with the id of one the entity already has keeps that
 * budget's anchor while its window stays the same, so a rolling window does not restart on every edit.
 */
export function toBudgets(
  inputs: readonly BudgetInput[],
  existing: readonly Budget[],
  now: number,
  param: string,
): Budget[] {
  const seen = new Set<string>();
  return inputs.map((input, i) => {
    const at = `${param}[${i}]`;
    const id = input.id ?? newId("budget");
    if (seen.has(id)) throw invalidField(`${at}.id`, "is given twice");
    seen.add(id);
    const maxMicros = toMicros(input.max_budget);
    const window =
      input.budget_duration === undefined
        ? undefined
        : toWindow(input.budget_duration, `${at}.budget_duration`, input.alignment ?? "calendar");
    if (input.alignment !== undefined && window === undefined)
      throw invalidField(`${at}.alignment`, "needs budget_duration");
    if (input.alignment !== undefined && window !== undefined && window.alignment !== input.alignment)
      throw invalidField(`${at}.alignment`, "disagrees with the alignment written in budget_duration");
    const before = existing.find((b) => b.id === id);
    const budget: { -readonly [K in keyof Budget]: Budget[K] } = {
      id,
      maxMicros,
      anchor: before !== undefined && sameWindow(before.window, window) ? before.anchor : now,
    };
    if (input.soft_budget !== undefined) {
      const softMicros = toMicros(input.soft_budget);
      if (softMicros > maxMicros) throw invalidField(`${at}.soft_budget`, "must not be above max_budget");
      budget.softMicros = softMicros;
    }
    if (window !== undefined) budget.window = window;
    return budget;
  });
}

export function budgetView(context: AdminContext, budget: Budget): Record<string, unknown> {
  const live = context.budgetState(budget.id);
  return {
    id: budget.id,
    max_budget: toDollars(budget.maxMicros),
    soft_budget: budget.softMicros === undefined ? null : toDollars(budget.softMicros),
    budget_duration: budget.window === undefined ? null : formatDuration(budget.window),
    alignment: budget.window === undefined ? null : budget.window.alignment,
    anchor: isoTime(budget.anchor),
    window_start: live === undefined || live.windowStart === 0 ? null : isoTime(live.windowStart),
    spend: live === undefined ? 0 : toDollars(live.spentMicros),
    reserved: live === undefined ? 0 : toDollars(live.reservedMicros),
  };
}
