import type { Budget } from "../governance/types.js";
import type { GovernanceStore } from "../store/types.js";
import { conflict, invalidField } from "./errors.js";

// Rules that span entities: references must exist, budget ids are unique across every owner (the shared
// counters are keyed by them), and a secret's hash belongs to one key.

export type BudgetOwner = { readonly type: "key" | "team" | "customer"; readonly id: string };

export async function requireTeam(store: GovernanceStore, id: string, param: string) {
  const team = await store.getTeam(id);
  if (team === undefined) throw invalidField(param, `no team with id ${JSON.stringify(id)}`);
  return team;
}

export async function requireCustomer(store: GovernanceStore, id: string, param: string) {
  const customer = await store.getCustomer(id);
  if (customer === undefined) throw invalidField(param, `no customer with id ${JSON.stringify(id)}`);
  return customer;
}

/** Every budget with its owner. */
export async function allBudgets(
  store: GovernanceStore,
): Promise<Array<{ readonly owner: BudgetOwner; readonly budget: Budget }>> {
  const [keys, teams, customers] = await Promise.all([
    store.listKeys(),
    store.listTeams(),
    store.listCustomers(),
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
  store: GovernanceStore,
  budgets: readonly Budget[],
  owner: BudgetOwner,
  param: string,
): Promise<void> {
  if (budgets.length === 0) return;
  const mine = new Set(budgets.map((b) => b.id));
  for (const { owner: other, budget } of await allBudgets(store))
    if (mine.has(budget.id) && (other.type !== owner.type || other.id !== owner.id))
      throw conflict(
        `budget id ${JSON.stringify(budget.id)} belongs to ${other.type} ${JSON.stringify(other.id)}`,
        param,
      );
}

export async function requireFreeHash(store: GovernanceStore, hash: string, keyId: string): Promise<void> {
  const holder = (await store.listKeys()).find((k) => k.hash === hash);
  if (holder !== undefined && holder.id !== keyId) throw conflict("another key has this secret", "key");
}

export async function requireNewId(exists: Promise<unknown>, what: string, id: string): Promise<void> {
  if ((await exists) !== undefined) throw conflict(`a ${what} with id ${JSON.stringify(id)} exists`, "id");
}
