import type { Customer } from "../governance/types.js";
import type { Source } from "./configured.js";
import type { AdminContext } from "./context.js";
import {
  type BudgetInput,
  budgetView,
  isoTime,
  type LimitsInput,
  limitsView,
  toBudgets,
  toLimits,
} from "./convert.js";
import { createEntity, entityRoutes, type ManagedEntity, storedEntity } from "./entity-routes.js";
import { conflict } from "./errors.js";
import {
  BUDGET_VIEW,
  BUDGETS_INPUT,
  ID,
  ISO_TIME,
  LIMITS_INPUT,
  LIMITS_VIEW,
  METADATA,
  NAME,
  nullable,
  SOURCE,
} from "./fields.js";
import { refuseConfigDependents, requireFreeBudgetIds } from "./integrity.js";
import type { AdminRoute } from "./route.js";
import type { RecordSchema } from "./schema.js";
import { deleteTeam, FORCE, forceParam } from "./teams.js";

// Customers under /api/customers. Deleting a customer that has teams or keys is refused unless
// ?force=true, which deletes its teams, their keys and its own keys with it.

export interface CustomerInput {
  readonly id?: string;
  readonly name?: string;
  readonly limits?: LimitsInput | null;
  readonly budgets?: readonly BudgetInput[];
  readonly metadata?: Readonly<Record<string, unknown>>;
}

const CUSTOMER_FIELDS: RecordSchema["properties"] = {
  name: NAME,
  limits: nullable(LIMITS_INPUT),
  budgets: BUDGETS_INPUT,
  metadata: METADATA,
};

export const CUSTOMER_CREATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: { id: ID, ...CUSTOMER_FIELDS },
};
const CUSTOMER_UPDATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: CUSTOMER_FIELDS,
};

export const CUSTOMER_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: ID,
    name: NAME,
    source: SOURCE,
    limits: nullable(LIMITS_VIEW),
    budgets: { type: "array", items: BUDGET_VIEW, maxItems: 16 },
    metadata: METADATA,
    created_at: ISO_TIME,
    updated_at: ISO_TIME,
  },
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function blankCustomer(id: string, now: number): Customer {
  return { id, name: "", budgets: [], metadata: {}, createdAt: now, updatedAt: now };
}

async function applyCustomerInput(
  context: AdminContext,
  base: Customer,
  input: CustomerInput,
): Promise<Customer> {
  const now = context.now();
  const customer: Mutable<Customer> = { ...base, updatedAt: now };
  if (input.name !== undefined) customer.name = input.name;
  if (input.limits !== undefined) {
    const limits = toLimits(input.limits, "limits");
    if (limits === undefined) delete customer.limits;
    else customer.limits = limits;
  }
  if (input.budgets !== undefined) customer.budgets = toBudgets(input.budgets, base.budgets, now, "budgets");
  if (input.metadata !== undefined) customer.metadata = input.metadata;
  await requireFreeBudgetIds(context, customer.budgets, { type: "customer", id: customer.id }, "budgets");
  return customer;
}

const CUSTOMERS: ManagedEntity<"customer", CustomerInput> = {
  kind: "customer",
  path: "/api/customers",
  updateBody: CUSTOMER_UPDATE,
  view: CUSTOMER_VIEW,
  blank: blankCustomer,
  apply: applyCustomerInput,
  render: customerView,
};

export function createCustomer(context: AdminContext, input: CustomerInput): Promise<Customer> {
  return createEntity(context, CUSTOMERS, input);
}

export function customerView(
  context: AdminContext,
  customer: Customer,
  source: Source,
): Record<string, unknown> {
  return {
    id: customer.id,
    name: customer.name,
    source,
    limits: limitsView(customer.limits),
    budgets: customer.budgets.map((b) => budgetView(context, b)),
    metadata: customer.metadata,
    created_at: isoTime(customer.createdAt),
    updated_at: isoTime(customer.updatedAt),
  };
}

/** Deletes the customer; its teams, their keys and its own keys too when `force`, else refused (409) while it has any. */
async function deleteCustomer(context: AdminContext, id: string, force: boolean): Promise<void> {
  await storedEntity(context, "customer", id);
  refuseConfigDependents(context, "customer", id);
  const teams = (await context.store.listTeams()).filter((t) => t.customerId === id);
  const keys = (await context.store.listKeys()).filter((k) => k.customerId === id);
  if ((teams.length > 0 || keys.length > 0) && !force)
    throw conflict(
      `customer ${JSON.stringify(id)} has ${teams.length} team(s) and ${keys.length} key(s); delete them first or pass force=true`,
    );
  for (const team of teams) await deleteTeam(context, team.id, true);
  for (const key of keys) await context.store.deleteKey(key.id);
  await context.store.deleteCustomer(id);
}

const routes = entityRoutes(CUSTOMERS);

export const CUSTOMER_ROUTES: readonly AdminRoute[] = [
  routes.list("List customers."),
  routes.create("Create a customer.", CUSTOMER_CREATE),
  routes.get("One customer."),
  routes.patch("Change the fields given; null clears limits."),
  routes.put("Replace the customer's settings (fields left out get their defaults)."),
  routes.delete(
    "Delete a customer; refused (409) while it has teams or keys unless force=true, which deletes them too.",
    (context, id, query) => deleteCustomer(context, id, forceParam(query)),
    { force: FORCE },
  ),
];
