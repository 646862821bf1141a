import type { Customer, Team, VirtualKey } from "../governance/types.js";
import type { AdminContext } from "./context.js";
import { conflict } from "./errors.js";

// Keys, teams and customers the configuration file defines (Bifrost's governance section, LiteLLM's file).
// The control plane enforces them over the store's, the file winning for its ids; the API shows them, marked
// "source": "config", and refuses to change them: the file is their owner.

export type EntityKind = "key" | "team" | "customer";
export type Source = "api" | "config";

export interface EntityOf {
  readonly key: VirtualKey;
  readonly team: Team;
  readonly customer: Customer;
}

export interface Sourced<T> {
  readonly entity: T;
  readonly source: Source;
}

export function configEntities<K extends EntityKind>(context: AdminContext, kind: K): readonly EntityOf[K][] {
  const governance = context.config().governance;
  if (governance === undefined) return [];
  const lists: { readonly [Kind in EntityKind]: readonly EntityOf[Kind][] } = {
    key: governance.virtualKeys,
    team: governance.teams,
    customer: governance.customers,
  };
  return lists[kind];
}

export function configEntity<K extends EntityKind>(
  context: AdminContext,
  kind: K,
  id: string,
): EntityOf[K] | undefined {
  return configEntities(context, kind).find((entity) => entity.id === id);
}

/** 409 when the configuration file defines this entity. */
export function refuseConfigEntity(context: AdminContext, kind: EntityKind, id: string): void {
  if (configEntity(context, kind, id) !== undefined)
    throw conflict(
      `${kind} ${JSON.stringify(id)} is defined by the configuration file ${context.config().source}; change it there`,
      "id",
    );
}

/** The store's entities with the file's over them, by id, as the control plane merges them; the file's first. */
export function withConfig<K extends EntityKind>(
  context: AdminContext,
  kind: K,
  stored: readonly EntityOf[K][],
): Sourced<EntityOf[K]>[] {
  const configured = configEntities(context, kind);
  const ids = new Set(configured.map((entity) => entity.id));
  return [
    ...configured.map((entity) => ({ entity, source: "config" as const })),
    ...stored.filter((entity) => !ids.has(entity.id)).map((entity) => ({ entity, source: "api" as const })),
  ];
}

/** Every key in force: the file's and the store's. */
export async function allKeys(context: AdminContext): Promise<VirtualKey[]> {
  return withConfig(context, "key", await context.store.listKeys()).map((s) => s.entity);
}

export async function allTeams(context: AdminContext): Promise<Team[]> {
  return withConfig(context, "team", await context.store.listTeams()).map((s) => s.entity);
}

export async function allCustomers(context: AdminContext): Promise<Customer[]> {
  return withConfig(context, "customer", await context.store.listCustomers()).map((s) => s.entity);
}
