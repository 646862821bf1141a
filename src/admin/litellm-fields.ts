import { formatDuration, isDurationError, parseLiteLLMBudgetDuration } from "../governance/duration.js";
import type { Budget, BudgetTemplate, BudgetWindow, Limits } from "../governance/types.js";
import type { AdminContext } from "./context.js";
import { type BudgetInput, type LimitsInput, toDollars } from "./convert.js";
import { invalidField } from "./errors.js";
import { COUNT, DOLLARS, DURATION, ID, nullable } from "./fields.js";
import type { RecordSchema } from "./schema.js";

// LiteLLM's budget and limit fields (max_budget, soft_budget, budget_duration, rpm_limit, tpm_limit,
// max_parallel_requests, budget_id) as changes to an entity's budgets and limits. LiteLLM keeps one budget
// per entity: Switchyard's entity's first budget.

export const LIMIT_FIELDS: RecordSchema["properties"] = {
  rpm_limit: nullable(COUNT),
  tpm_limit: nullable(COUNT),
  max_parallel_requests: nullable({ type: "integer", minimum: 1, maximum: 1e6 }),
};

export const BUDGET_FIELDS: RecordSchema["properties"] = {
  max_budget: nullable(DOLLARS),
  soft_budget: nullable(DOLLARS),
  budget_duration: nullable(DURATION),
};

/** A budget template to copy from (see governed()). */
export const BUDGET_ID_FIELD: RecordSchema["properties"] = {
  budget_id: { ...nullable(ID), description: "A budget made with /budget/new: its fields are copied." },
};

export interface LiteLimits {
  readonly rpm_limit?: number | null;
  readonly tpm_limit?: number | null;
  readonly max_parallel_requests?: number | null;
}

export interface LiteBudget {
  readonly max_budget?: number | null;
  readonly soft_budget?: number | null;
  readonly budget_duration?: string | null;
}

/** Budget fields as given: undefined leaves the field as it is, null clears it. */
export interface BudgetChange {
  readonly max?: number | null;
  readonly soft?: number | null;
  readonly window?: BudgetWindow | null;
}

/** A LiteLLM budget_duration as LiteLLM resets it (src/governance/duration.ts: "30d" on the 1st, ...). */
export function liteWindow(text: string, param: string): BudgetWindow {
  const window = parseLiteLLMBudgetDuration(text);
  if (isDurationError(window)) throw invalidField(param, window.error);
  return window;
}

export function budgetChange(body: LiteBudget): BudgetChange {
  const change: { -readonly [K in keyof BudgetChange]: BudgetChange[K] } = {};
  if (body.max_budget !== undefined) change.max = body.max_budget;
  if (body.soft_budget !== undefined) change.soft = body.soft_budget;
  if (body.budget_duration !== undefined)
    change.window =
      body.budget_duration === null ? null : liteWindow(body.budget_duration, "budget_duration");
  return change;
}

function budgetInput(budget: Budget): BudgetInput {
  const input: { -readonly [K in keyof BudgetInput]: BudgetInput[K] } = {
    id: budget.id,
    max_budget: toDollars(budget.maxMicros),
  };
  if (budget.softMicros !== undefined) input.soft_budget = toDollars(budget.softMicros);
  if (budget.window !== undefined) {
    input.budget_duration = formatDuration(budget.window);
    input.alignment = budget.window.alignment;
  }
  return input;
}

/**
 * The entity's budgets with the change applied to its first (null max_budget removes it; the others stay), or
 * undefined when the change touches no budget field. The first budget keeps its id, so its spend carries on.
 */
export function liteBudgets(existing: readonly Budget[], change: BudgetChange): BudgetInput[] | undefined {
  if (change.max === undefined && change.soft === undefined && change.window === undefined) return undefined;
  const [first, ...rest] = existing;
  const others = rest.map(budgetInput);
  const max = change.max !== undefined ? change.max : first === undefined ? null : toDollars(first.maxMicros);
  if (max === null) {
    if ((change.soft ?? null) !== null || (change.window ?? null) !== null)
      throw invalidField("max_budget", "is needed with soft_budget or budget_duration");
    return others;
  }
  const soft =
    change.soft !== undefined
      ? change.soft
      : first?.softMicros === undefined
        ? null
        : toDollars(first.softMicros);
  const window = change.window !== undefined ? change.window : (first?.window ?? null);
  const budget: { -readonly [K in keyof BudgetInput]: BudgetInput[K] } = { max_budget: max };
  if (first !== undefined) budget.id = first.id;
  if (soft !== null) budget.soft_budget = soft;
  if (window !== null) {
    budget.budget_duration = formatDuration(window);
    budget.alignment = window.alignment;
  }
  return [budget, ...others];
}

export function limitsInput(limits: Limits | undefined): LimitsInput {
  const input: { -readonly [K in keyof LimitsInput]: LimitsInput[K] } = {};
  if (limits?.requests !== undefined) input.requests = limits.requests;
  if (limits?.tokens !== undefined) input.tokens = limits.tokens;
  if (limits?.parallel !== undefined) input.parallel = limits.parallel;
  if (limits?.window !== undefined)
    input.window = `${formatDuration(limits.window)}:${limits.window.alignment}`;
  return input;
}

/** rpm_limit, tpm_limit, max_parallel_requests over the existing limits (null clears one). */
export function liteLimits(existing: Limits | undefined, body: LiteLimits): LimitsInput | undefined {
  if (
    body.rpm_limit === undefined &&
    body.tpm_limit === undefined &&
    body.max_parallel_requests === undefined
  )
    return undefined;
  const input: { -readonly [K in keyof LimitsInput]: LimitsInput[K] } = limitsInput(existing);
  if (body.rpm_limit === null) delete input.requests;
  else if (body.rpm_limit !== undefined) input.requests = body.rpm_limit;
  if (body.tpm_limit === null) delete input.tokens;
  else if (body.tpm_limit !== undefined) input.tokens = body.tpm_limit;
  if (body.max_parallel_requests === null) delete input.parallel;
  else if (body.max_parallel_requests !== undefined) input.parallel = body.max_parallel_requests;
  return input;
}

/** What a request changes of an entity's budget and limits. */
export interface Governed {
  readonly budget: BudgetChange;
  readonly limits: LiteLimits;
}

/** A template's fields as a change: its budget whole (soft and window go with the maximum), the limits it sets. */
function templateChange(template: BudgetTemplate): Governed {
  const budget: BudgetChange =
    template.maxMicros === undefined
      ? {}
      : {
          max: toDollars(template.maxMicros),
          soft: template.softMicros === undefined ? null : toDollars(template.softMicros),
          window: template.window ?? null,
        };
  const limits: { -readonly [K in keyof LiteLimits]: LiteLimits[K] } = {};
  if (template.limits?.requests !== undefined) limits.rpm_limit = template.limits.requests;
  if (template.limits?.tokens !== undefined) limits.tpm_limit = template.limits.tokens;
  if (template.limits?.parallel !== undefined) limits.max_parallel_requests = template.limits.parallel;
  return { budget, limits };
}

/**
 * The request's budget and limit fields over those of the template its budget_id names: the template is copied
 * as it is now, the fields the request gives win. Nothing refers to the template afterwards.
 */
export async function governed(
  context: AdminContext,
  body: LiteBudget & LiteLimits & { readonly budget_id?: string | null },
): Promise<Governed> {
  const own: Governed = {
    budget: budgetChange(body),
    limits: {
      ...(body.rpm_limit !== undefined ? { rpm_limit: body.rpm_limit } : {}),
      ...(body.tpm_limit !== undefined ? { tpm_limit: body.tpm_limit } : {}),
      ...(body.max_parallel_requests !== undefined
        ? { max_parallel_requests: body.max_parallel_requests }
        : {}),
    },
  };
  if (body.budget_id === undefined || body.budget_id === null) return own;
  const template = await context.store.getBudgetTemplate(body.budget_id);
  if (template === undefined)
    throw invalidField(
      "budget_id",
      `no budget with id ${JSON.stringify(body.budget_id)} (make it with /budget/new)`,
    );
  const copied = templateChange(template);
  return {
    budget: { ...copied.budget, ...own.budget },
    limits: { ...copied.limits, ...own.limits },
  };
}
