import { formatDuration } from "../governance/duration.js";
import type { BudgetTemplate, BudgetWindow, Limits } from "../governance/types.js";
import type { AdminContext } from "./context.js";
import { isoTime, type LimitsInput, limitsView, toDollars, toLimits, toMicros, toWindow } from "./convert.js";
import { invalidField, notFound } from "./errors.js";
import { DOLLARS, DURATION, ID, ISO_TIME, LIMITS_INPUT, LIMITS_VIEW, nullable } from "./fields.js";
import { requireNewId } from "./integrity.js";
import type { AdminRoute } from "./route.js";
import type { RecordSchema } from "./schema.js";
import { newId } from "./secrets.js";

// Budget templates under /api/budget-templates (LiteLLM's /budget/new and its kin use the same store): a
// budget and limits owned by no entity. An entity made or changed with one copies it as it is then, into a
// budget of its own with its own spend; changing or deleting the template later changes no entity. Templates
// are not enforced themselves, so changing them publishes nothing to the lanes.

/** Fields of a template as given: undefined leaves one as it is, null clears it. */
export interface TemplateChange {
  /** Dollars. */
  readonly max?: number | null;
  readonly soft?: number | null;
  readonly window?: BudgetWindow | null;
  readonly limits?: Limits | null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function blankTemplate(id: string, now: number): BudgetTemplate {
  return { id, createdAt: now, updatedAt: now };
}

export function applyTemplateChange(
  base: BudgetTemplate,
  change: TemplateChange,
  now: number,
): BudgetTemplate {
  const template: Mutable<BudgetTemplate> = { ...base, updatedAt: now };
  if (change.max === null) delete template.maxMicros;
  else if (change.max !== undefined) template.maxMicros = toMicros(change.max);
  if (change.soft === null) delete template.softMicros;
  else if (change.soft !== undefined) template.softMicros = toMicros(change.soft);
  if (change.window === null) delete template.window;
  else if (change.window !== undefined) template.window = change.window;
  if (change.limits === null) delete template.limits;
  else if (change.limits !== undefined) template.limits = change.limits;
  if (
    template.maxMicros === undefined &&
    (template.softMicros !== undefined || template.window !== undefined)
  )
    throw invalidField("max_budget", "is needed with soft_budget or budget_duration");
  if (
    template.softMicros !== undefined &&
    template.maxMicros !== undefined &&
    template.softMicros > template.maxMicros
  )
    throw invalidField("soft_budget", "must not be above max_budget");
  return template;
}

/** Stores a new template; `id` must be free (409), absent makes one. */
export async function createTemplate(
  context: AdminContext,
  id: string | undefined,
  change: TemplateChange,
): Promise<BudgetTemplate> {
  if (id !== undefined) await requireNewId(context.store.getBudgetTemplate(id), "budget", id);
  const now = context.now();
  const template = applyTemplateChange(blankTemplate(id ?? newId("budget"), now), change, now);
  await context.store.putBudgetTemplate(template);
  return template;
}

export async function existingTemplate(context: AdminContext, id: string): Promise<BudgetTemplate> {
  const template = await context.store.getBudgetTemplate(id);
  if (template === undefined) throw notFound("budget", id);
  return template;
}

interface TemplateInput {
  readonly id?: string;
  readonly max_budget?: number | null;
  readonly soft_budget?: number | null;
  readonly budget_duration?: string | null;
  readonly alignment?: "calendar" | "rolling";
  readonly limits?: LimitsInput | null;
}

const ALIGNMENT = { type: "string", maxLength: 8, enum: ["calendar", "rolling"] } as const;

const TEMPLATE_FIELDS: RecordSchema["properties"] = {
  max_budget: {
    ...nullable(DOLLARS),
    description: "The most spent in one window, dollars; null: limits only.",
  },
  soft_budget: { ...nullable(DOLLARS), description: "Crossing it is reported, never refused." },
  budget_duration: {
    ...nullable(DURATION),
    description: "The window; absent, one window for the budget's life.",
  },
  alignment: { ...ALIGNMENT, description: "Of budget_duration's window; calendar when absent." },
  limits: nullable(LIMITS_INPUT),
};

const TEMPLATE_CREATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: { id: ID, ...TEMPLATE_FIELDS },
};
const TEMPLATE_UPDATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: TEMPLATE_FIELDS,
};

const TEMPLATE_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: ID,
    max_budget: nullable(DOLLARS),
    soft_budget: nullable(DOLLARS),
    budget_duration: nullable(DURATION),
    alignment: nullable(ALIGNMENT),
    limits: nullable(LIMITS_VIEW),
    created_at: ISO_TIME,
    updated_at: ISO_TIME,
  },
};

function inputChange(input: TemplateInput): TemplateChange {
  const change: Mutable<TemplateChange> = {};
  if (input.max_budget !== undefined) change.max = input.max_budget;
  if (input.soft_budget !== undefined) change.soft = input.soft_budget;
  if (input.budget_duration !== undefined)
    change.window =
      input.budget_duration === null
        ? null
        : toWindow(input.budget_duration, "budget_duration", input.alignment ?? "calendar");
  if (input.alignment !== undefined) {
    if (change.window === undefined || change.window === null)
      throw invalidField("alignment", "needs budget_duration");
    if (change.window.alignment !== input.alignment)
      throw invalidField("alignment", "disagrees with the alignment written in budget_duration");
  }
  if (input.limits !== undefined) change.limits = toLimits(input.limits, "limits") ?? null;
  return change;
}

export function templateView(template: BudgetTemplate): Record<string, unknown> {
  return {
    id: template.id,
    max_budget: template.maxMicros === undefined ? null : toDollars(template.maxMicros),
    soft_budget: template.softMicros === undefined ? null : toDollars(template.softMicros),
    budget_duration: template.window === undefined ? null : formatDuration(template.window),
    alignment: template.window?.alignment ?? null,
    limits: limitsView(template.limits),
    created_at: isoTime(template.createdAt),
    updated_at: isoTime(template.updatedAt),
  };
}

const PATH = "/api/budget-templates";

export const BUDGET_TEMPLATE_ROUTES: readonly AdminRoute[] = [
  {
    method: "GET",
    path: PATH,
    summary: "List budget templates: budgets owned by no entity, copied onto those made with them.",
    response: {
      type: "object",
      additionalProperties: false,
      properties: { data: { type: "array", items: TEMPLATE_VIEW, maxItems: 1e9 } },
    },
    async handle(context) {
      return { status: 200, body: { data: (await context.store.listBudgetTemplates()).map(templateView) } };
    },
  },
  {
    method: "POST",
    path: PATH,
    summary: "Create a budget template (LiteLLM's /budget/new).",
    body: TEMPLATE_CREATE,
    status: 201,
    response: TEMPLATE_VIEW,
    async handle(context, { body }) {
      const input = body as TemplateInput;
      return { status: 201, body: templateView(await createTemplate(context, input.id, inputChange(input))) };
    },
  },
  {
    method: "GET",
    path: `${PATH}/{id}`,
    summary: "One budget template.",
    response: TEMPLATE_VIEW,
    async handle(context, { params }) {
      return { status: 200, body: templateView(await existingTemplate(context, params.id as string)) };
    },
  },
  {
    method: "PATCH",
    path: `${PATH}/{id}`,
    summary: "Change the fields given (null clears one); entities made with the template keep their copies.",
    body: TEMPLATE_UPDATE,
    response: TEMPLATE_VIEW,
    async handle(context, { params, body }) {
      const old = await existingTemplate(context, params.id as string);
      const template = applyTemplateChange(old, inputChange(body as TemplateInput), context.now());
      await context.store.putBudgetTemplate(template);
      return { status: 200, body: templateView(template) };
    },
  },
  {
    method: "PUT",
    path: `${PATH}/{id}`,
    summary: "Replace the template's fields (those left out are cleared).",
    body: TEMPLATE_UPDATE,
    response: TEMPLATE_VIEW,
    async handle(context, { params, body }) {
      const old = await existingTemplate(context, params.id as string);
      const base = blankTemplate(old.id, old.createdAt);
      const template = applyTemplateChange(base, inputChange(body as TemplateInput), context.now());
      await context.store.putBudgetTemplate(template);
      return { status: 200, body: templateView(template) };
    },
  },
  {
    method: "DELETE",
    path: `${PATH}/{id}`,
    summary: "Delete a budget template; entities made with it keep their copies.",
    response: { type: "object", additionalProperties: false, properties: { deleted: ID } },
    async handle(context, { params }) {
      const id = params.id as string;
      if (!(await context.store.deleteBudgetTemplate(id))) throw notFound("budget", id);
      return { status: 200, body: { deleted: id } };
    },
  },
];
