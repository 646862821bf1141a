import type { Customer } from "../governance/types.js";
import { configEntity, refuseConfigEntity, type Source, withConfig } from "./configured.js";
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
import { conflict, notFound } from "./errors.js";
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
import { refuseConfigDependents, requireFreeBudgetIds, requireNewId } from "./integrity.js";
import type { AdminRoute } from "./route.js";
import type { RecordSchema } from "./schema.js";
import { newId } from "./secrets.js";
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

export async function createCustomer(context: AdminContext, input: CustomerInput): Promise<Customer> {
  const id = input.id ?? newId("customer");
  if (input.id !== undefined) {
    refuseConfigEntity(context, "customer", id);
    await requireNewId(context.store.getCustomer(id), "customer", id);
  }
  const customer = await applyCustomerInput(context, blankCustomer(id, context.now()), input);
  await context.store.putCustomer(customer);
  await context.changed();
  return customer;
}

/** A customer of the store, to change; a customer of the configuration file is refused (409). */
async function storedCustomer(context: AdminContext, id: string): Promise<Customer> {
  refuseConfigEntity(context, "customer", id);
  const customer = await context.store.getCustomer(id);
  if (customer === undefined) throw notFound("customer", id);
  return customer;
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

export const CUSTOMER_ROUTES: readonly AdminRoute[] = [
  {
    method: "GET",
    path: "/api/customers",
    summary: "List customers.",
    response: {
      type: "object",
      additionalProperties: false,
      properties: { data: { type: "array", items: CUSTOMER_VIEW, maxItems: 1e9 } },
    },
    async handle(context) {
      return {
        status: 200,
        body: {
          data: withConfig(context, "customer", await context.store.listCustomers()).map(
            ({ entity, source }) => customerView(context, entity, source),
          ),
        },
      };
    },
  },
  {
    method: "POST",
    path: "/api/customers",
    summary: "Create a customer.",
    body: CUSTOMER_CREATE,
    status: 201,
    response: CUSTOMER_VIEW,
    async handle(context, { body }) {
      return {
        status: 201,
        body: customerView(context, await createCustomer(context, body as CustomerInput), "api"),
      };
    },
  },
  {
    method: "GET",
    path: "/api/customers/{id}",
    summary: "One customer.",
    response: CUSTOMER_VIEW,
    async handle(context, { params }) {
      const id = params.id as string;
      const configured = configEntity(context, "customer", id);
      if (configured !== undefined) return { status: 200, body: customerView(context, configured, "config") };
      return { status: 200, body: customerView(context, await storedCustomer(context, id), "api") };
    },
  },
  {
    method: "PATCH",
    path: "/api/customers/{id}",
    summary: "Change the fields given; null clears limits.",
    body: CUSTOMER_UPDATE,
    response: CUSTOMER_VIEW,
    async handle(context, { params, body }) {
      const old = await storedCustomer(context, params.id as string);
      const customer = await applyCustomerInput(context, old, body as CustomerInput);
      await context.store.putCustomer(customer);
      await context.changed();
      return { status: 200, body: customerView(context, customer, "api") };
    },
  },
  {
    method: "PUT",
    path: "/api/customers/{id}",
    summary: "Replace the customer's settings (fields left out get their defaults).",
    body: CUSTOMER_UPDATE,
    response: CUSTOMER_VIEW,
    async handle(context, { params, body }) {
      const old = await storedCustomer(context, params.id as string);
      const base = { ...blankCustomer(old.id, old.createdAt), budgets: old.budgets };
      const customer = await applyCustomerInput(context, base, { budgets: [], ...(body as CustomerInput) });
      await context.store.putCustomer(customer);
      await context.changed();
      return { status: 200, body: customerView(context, customer, "api") };
    },
  },
  {
    method: "DELETE",
    path: "/api/customers/{id}",
    summary:
      "Delete a customer; refused (409) while it has teams or keys unless force=true, which deletes them too.",
    query: { force: FORCE },
    response: { type: "object", additionalProperties: false, properties: { deleted: ID } },
    async handle(context, { params, query }) {
      const id = params.id as string;
      await storedCustomer(context, id);
      refuseConfigDependents(context, "customer", id);
      const force = forceParam(query);
      const teams = (await context.store.listTeams()).filter((t) => t.customerId === id);
      const keys = (await context.store.listKeys()).filter((k) => k.customerId === id);
      if ((teams.length > 0 || keys.length > 0) && !force)
        throw conflict(
          `customer ${JSON.stringify(id)} has ${teams.length} team(s) and ${keys.length} key(s); delete them first or pass force=true`,
        );
      for (const team of teams) await deleteTeam(context, team.id, true);
      for (const key of keys) await context.store.deleteKey(key.id);
      await context.store.deleteCustomer(id);
      await context.changed();
      return { status: 200, body: { deleted: id } };
    },
  },
];
