import { formatDuration } from "../governance/duration.js";
import type { BudgetTemplate } from "../governance/types.js";
import {
  applyTemplateChange,
  createTemplate,
  existingTemplate,
  type TemplateChange,
} from "./budget-templates.js";
import { isoTime, toDollars, toLimits } from "./convert.js";
import { invalidField } from "./errors.js";
import { ID, nullable } from "./fields.js";
import {
  BUDGET_FIELDS,
  budgetChange,
  LIMIT_FIELDS,
  type LiteBudget,
  type LiteLimits,
  liteLimits,
} from "./litellm-fields.js";
import type { AdminRoute } from "./route.js";
import type { RecordSchema, Schema } from "./schema.js";

// LiteLLM's budget objects (/budget/new, /budget/info, /budget/list, /budget/update, /budget/delete) in
// LiteLLM's shapes, kept as budget templates (src/admin/budget-templates.ts). LiteLLM's budget row holds
// limits and no spend: each key, team or customer that names it is held to them with its own spend. So is
// Switchyard's, by copying the row when the entity names it.

/** Per-model budgets are not in Switchyard's model: refused by name unless empty; budget_reset_at likewise. */
const UNSUPPORTED_BUDGET_FIELDS = ["model_max_budget", "budget_reset_at"];

const BUDGET_NEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: { budget_id: nullable(ID), ...BUDGET_FIELDS, ...LIMIT_FIELDS },
};
const BUDGET_UPDATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  required: ["budget_id"],
  properties: { budget_id: ID, ...BUDGET_FIELDS, ...LIMIT_FIELDS },
};
const BUDGET_IDS: RecordSchema = {
  type: "object",
  additionalProperties: false,
  required: ["budgets"],
  properties: { budgets: { type: "array", items: ID, maxItems: 1000 } },
};
const BUDGET_DELETE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  required: ["id"],
  properties: { id: ID },
};
const ANY: Schema = { type: "object", "x-maxJsonBytes": 1 << 24 };

type LiteBudgetBody = LiteBudget & LiteLimits & { readonly budget_id?: string | null };

function liteChange(base: BudgetTemplate | undefined, body: LiteBudgetBody): TemplateChange {
  const { max, soft, window } = budgetChange(body);
  const change: { -readonly [K in keyof TemplateChange]: TemplateChange[K] } = {};
  if (max !== undefined) change.max = max;
  if (soft !== undefined) change.soft = soft;
  if (window !== undefined) change.window = window;
  const limits = liteLimits(base?.limits, body);
  if (limits !== undefined) change.limits = toLimits(limits, "limits") ?? null;
  return change;
}

/** LiteLLM's budget row. */
function liteBudgetRow(template: BudgetTemplate): Record<string, unknown> {
  return {
    budget_id: template.id,
    max_budget: template.maxMicros === undefined ? null : toDollars(template.maxMicros),
    soft_budget: template.softMicros === undefined ? null : toDollars(template.softMicros),
    max_parallel_requests: template.limits?.parallel ?? null,
    tpm_limit: template.limits?.tokens ?? null,
    rpm_limit: template.limits?.requests ?? null,
    model_max_budget: null,
    budget_duration: template.window === undefined ? null : formatDuration(template.window),
    // A template has no spend of its own, so nothing of it resets.
    budget_reset_at: null,
    created_at: isoTime(template.createdAt),
    created_by: null,
    updated_at: isoTime(template.updatedAt),
    updated_by: null,
  };
}

export const LITELLM_BUDGET_ROUTES: readonly AdminRoute[] = [
  {
    method: "POST",
    path: "/budget/new",
    summary:
      "LiteLLM: a budget owned by no entity; budget_id in /key/generate, /team/new, /customer/new copies it.",
    tolerated: UNSUPPORTED_BUDGET_FIELDS,
    body: BUDGET_NEW,
    response: ANY,
    async handle(context, { body }) {
      const lite = body as LiteBudgetBody;
      const template = await createTemplate(
        context,
        lite.budget_id ?? undefined,
        liteChange(undefined, lite),
      );
      return { status: 200, body: liteBudgetRow(template) };
    },
  },
  {
    method: "POST",
    path: "/budget/update",
    summary:
      "LiteLLM: change a budget's fields (null clears one); entities that copied it keep their copies.",
    tolerated: UNSUPPORTED_BUDGET_FIELDS,
    body: BUDGET_UPDATE,
    response: ANY,
    async handle(context, { body }) {
      const lite = body as LiteBudgetBody & { readonly budget_id: string };
      const old = await existingTemplate(context, lite.budget_id);
      const template = applyTemplateChange(old, liteChange(old, lite), context.now());
      await context.store.putBudgetTemplate(template);
      return { status: 200, body: liteBudgetRow(template) };
    },
  },
  {
    method: "POST",
    path: "/budget/info",
    summary: "LiteLLM: the budgets with these ids (those that exist).",
    body: BUDGET_IDS,
    response: ANY,
    async handle(context, { body }) {
      const { budgets } = body as { readonly budgets: readonly string[] };
      if (budgets.length === 0) throw invalidField("budgets", "give at least one budget id");
      const found: Record<string, unknown>[] = [];
      for (const id of new Set(budgets)) {
        const template = await context.store.getBudgetTemplate(id);
        if (template !== undefined) found.push(liteBudgetRow(template));
      }
      return { status: 200, body: found };
    },
  },
  {
    method: "GET",
    path: "/budget/list",
    summary: "LiteLLM: every budget made with /budget/new.",
    response: ANY,
    async handle(context) {
      return { status: 200, body: (await context.store.listBudgetTemplates()).map(liteBudgetRow) };
    },
  },
  {
    method: "POST",
    path: "/budget/delete",
    summary: "LiteLLM: delete a budget; entities that copied it keep their copies.",
    body: BUDGET_DELETE,
    response: ANY,
    async handle(context, { body }) {
      const { id } = body as { readonly id: string };
      const template = await existingTemplate(context, id);
      await context.store.deleteBudgetTemplate(id);
      return { status: 200, body: liteBudgetRow(template) };
    },
  },
];
