import type { Budget, Customer, Team } from "../governance/types.js";
import { allCustomers, allKeys, allTeams, configEntities, configEntity } from "./configured.js";
import type { AdminContext } from "./context.js";
import { conflict, invalidField } from "./errors.js";

// Rules that span entities: references must exist (in the store or the configuration file), budget ids are
// unique across every owner (the shared counters are keyed by them), and a secret's hash belongs to one key.

export type BudgetOwner = { readonly type: "key" | "team" | "customer"; readonly id: string };

export async function requireTeam(context: AdminContext, id: string, param: string): Promise<Team> {
  const team = configEntity(context, "team", id) ?? (await context.store.getTeam(id));
  if (team === undefined) throw invalidField(param, `no team with id ${JSON.stringify(id)}`);
  return team;
}

export async function requireCustomer(context: AdminContext, id: string, param: string): Promise<Customer> {
  const customer = configEntity(context, "customer", id) ?? (await context.store.getCustomer(id));
  if (customer === undefined) throw invalidField(param, `no customer with id ${JSON.stringify(id)}`);
  return customer;
}

/** Every budget with its owner. */
export async function allBudgets(
  context: AdminContext,
): Promise<Array<{ readonly owner: BudgetOwner; readonly budget: Budget }>> {
  const [keys, teams, customers] = await Promise.all([
    allKeys(context),
    allTeams(context),
    allCustomers(context),
  ]);
  const out: Array<{ owner: BudgetOwner; budget: Budget }> = [];
  for (const c of customers)
    for (const budget of c.budgets) out.push({ owner: { type: "customer", id: c.id }, budget });
  for (const t of teams)
    for (const budget of t.budgets) out.push({ owner: { type: "team", id: t.id }, budget });
  for (const k of keys)
    for (const budget of k.budgets) out.push({ owner: { type: "key", id: k.id }, budget });
  return out;
}

export async function requireFreeBudgetIds(
  context: AdminContext,
  budgets: readonly Budget[],
  owner: BudgetOwner,
  param: string,
): Promise<void> {
  if (budgets.length === 0) return;
  const mine = new Set(budgets.map((b) => b.id));
  for (const { owner: other, budget } of await allBudgets(context))
    if (mine.has(budget.id) && (other.type !== owner.type || other.id !== owner.id))
      throw conflict(
        `budget id ${JSON.stringify(budget.id)} belongs to ${other.type} ${JSON.stringify(other.id)}`,
        param,
      );
}

export async function requireFreeHash(context: AdminContext, hash: string, keyId: string): Promise<void> {
  const holder = (await allKeys(context)).find((k) => k.hash === hash);
  if (holder !== undefined && holder.id !== keyId) throw conflict("another key has this secret", "key");
}

export async function requireNewId(exists: Promise<unknown>, what: string, id: string): Promise<void> {
  if ((await exists) !== undefined) throw conflict(`a ${what} with id ${JSON.stringify(id)} exists`, "id");
}

/** 409 when keys or teams of the configuration file name this team or customer: deleting it would strand them. */
export function refuseConfigDependents(context: AdminContext, kind: "team" | "customer", id: string): void {
  const field = kind === "team" ? "teamId" : "customerId";
  const keys = configEntities(context, "key").filter((k) => k[field] === id);
  const teams = kind === "customer" ? configEntities(context, "team").filter((t) => t.customerId === id) : [];
  const names = [
    ...teams.map((t) => `team ${JSON.stringify(t.id)}`),
    ...keys.map((k) => `key ${JSON.stringify(k.id)}`),
  ];
  if (names.length > 0)
    throw conflict(
      `${kind} ${JSON.stringify(id)} is named by the configuration file ${context.config().source} (${names.slice(0, 5).join(", ")}${names.length > 5 ? ", ..." : ""}); change it there first`,
    );
}
