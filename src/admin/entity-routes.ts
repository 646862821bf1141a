import type { GovernanceStore } from "../store/types.js";
import {
  configEntity,
  type EntityKind,
  type EntityOf,
  refuseConfigEntity,
  type Source,
  type Sourced,
  withConfig,
} from "./configured.js";
import type { AdminContext, RouteInput } from "./context.js";
import type { BudgetInput } from "./convert.js";
import { notFound } from "./errors.js";
import { ID } from "./fields.js";
import { requireNewId } from "./integrity.js";
import type { AdminRoute } from "./route.js";
import type { RecordSchema, StringSchema } from "./schema.js";
import { newId } from "./secrets.js";

// What keys, teams and customers do alike under /api: list, create, read, change, replace and delete, the
// configuration file's entities shown but never changed. Each kind gives its fields, checks and summaries;
// what deleting one means stays with the kind.

interface Stored<E> {
  get(store: GovernanceStore, id: string): Promise<E | undefined>;
  put(store: GovernanceStore, entity: E): Promise<void>;
  list(store: GovernanceStore): Promise<readonly E[]>;
}

const STORED: { readonly [K in EntityKind]: Stored<EntityOf[K]> } = {
  key: {
    get: (store, id) => store.getKey(id),
    put: (store, key) => store.putKey(key),
    list: (store) => store.listKeys(),
  },
  team: {
    get: (store, id) => store.getTeam(id),
    put: (store, team) => store.putTeam(team),
    list: (store) => store.listTeams(),
  },
  customer: {
    get: (store, id) => store.getCustomer(id),
    put: (store, customer) => store.putCustomer(customer),
    list: (store) => store.listCustomers(),
  },
};

/** What every kind's create and update input has. */
interface EntityInput {
  readonly id?: string;
  readonly budgets?: readonly BudgetInput[];
}

/** One kind of entity as the API manages it. */
export interface ManagedEntity<K extends EntityKind, I extends EntityInput> {
  readonly kind: K;
  /** The collection, e.g. "/api/teams"; one entity is `${path}/{id}`. */
  readonly path: string;
  readonly updateBody: RecordSchema;
  readonly view: RecordSchema;
  /** A new entity, every setting at its default. */
  blank(id: string, now: number): EntityOf[K];
  /** `base` with the input's fields applied, checked against the store. */
  apply(context: AdminContext, base: EntityOf[K], input: I): Promise<EntityOf[K]>;
  /** What a replace keeps of the old entity besides its id, creation time and budgets. */
  keptOnReplace?(old: EntityOf[K]): Partial<EntityOf[K]>;
  render(context: AdminContext, entity: EntityOf[K], source: Source): Record<string, unknown>;
}

/** An entity of the store, to change; one of the configuration file is refused (409). */
export async function storedEntity<K extends EntityKind>(
  context: AdminContext,
  kind: K,
  id: string,
): Promise<EntityOf[K]> {
  refuseConfigEntity(context, kind, id);
  const entity = await STORED[kind].get(context.store, id);
  if (entity === undefined) throw notFound(kind, id);
  return entity;
}

/** An entity to read: the configuration file's, else the store's. */
export async function findEntity<K extends EntityKind>(
  context: AdminContext,
  kind: K,
  id: string,
): Promise<Sourced<EntityOf[K]>> {
  const configured = configEntity(context, kind, id);
  if (configured !== undefined) return { entity: configured, source: "config" };
  return { entity: await storedEntity(context, kind, id), source: "api" };
}

/** The id a create asks for, refused when taken (409), else a new one. */
export async function newEntityId(
  context: AdminContext,
  kind: EntityKind,
  id: string | undefined,
): Promise<string> {
  if (id === undefined) return newId(kind);
  refuseConfigEntity(context, kind, id);
  await requireNewId(STORED[kind].get(context.store, id), kind, id);
  return id;
}

export async function createEntity<K extends EntityKind, I extends EntityInput>(
  context: AdminContext,
  managed: ManagedEntity<K, I>,
  input: I,
): Promise<EntityOf[K]> {
  const id = await newEntityId(context, managed.kind, input.id);
  return saved(context, managed.kind, await managed.apply(context, managed.blank(id, context.now()), input));
}

export async function updateEntity<K extends EntityKind, I extends EntityInput>(
  context: AdminContext,
  managed: ManagedEntity<K, I>,
  old: EntityOf[K],
  input: I,
): Promise<EntityOf[K]> {
  return saved(context, managed.kind, await managed.apply(context, old, input));
}

async function saved<K extends EntityKind>(
  context: AdminContext,
  kind: K,
  entity: EntityOf[K],
): Promise<EntityOf[K]> {
  await STORED[kind].put(context.store, entity);
  await context.changed();
  return entity;
}

const DELETED: RecordSchema = { type: "object", additionalProperties: false, properties: { deleted: ID } };

/** Builders of the kind's routes, each with its summary; the table lists them in the document's order. */
export function entityRoutes<K extends EntityKind, I extends EntityInput>(managed: ManagedEntity<K, I>) {
  const { kind, path, view } = managed;
  const one = `${path}/{id}`;
  return {
    list: (summary: string): AdminRoute => ({
      method: "GET",
      path,
      summary,
      response: {
        type: "object",
        additionalProperties: false,
        properties: { data: { type: "array", items: view, maxItems: 1e9 } },
      },
      async handle(context) {
        const all = withConfig(context, kind, await STORED[kind].list(context.store));
        return {
          status: 200,
          body: { data: all.map(({ entity, source }) => managed.render(context, entity, source)) },
        };
      },
    }),
    create: (summary: string, body: RecordSchema): AdminRoute => ({
      method: "POST",
      path,
      summary,
      body,
      status: 201,
      response: view,
      async handle(context, input) {
        const created = await createEntity(context, managed, input.body as I);
        return { status: 201, body: managed.render(context, created, "api") };
      },
    }),
    get: (summary: string): AdminRoute => ({
      method: "GET",
      path: one,
      summary,
      response: view,
      async handle(context, { params }) {
        const { entity, source } = await findEntity(context, kind, params.id as string);
        return { status: 200, body: managed.render(context, entity, source) };
      },
    }),
    patch: (summary: string): AdminRoute => ({
      method: "PATCH",
      path: one,
      summary,
      body: managed.updateBody,
      response: view,
      async handle(context, { params, body }) {
        const old = await storedEntity(context, kind, params.id as string);
        const updated = await updateEntity(context, managed, old, body as I);
        return { status: 200, body: managed.render(context, updated, "api") };
      },
    }),
    put: (summary: string): AdminRoute => ({
      method: "PUT",
      path: one,
      summary,
      body: managed.updateBody,
      response: view,
      async handle(context, { params, body }) {
        const old = await storedEntity(context, kind, params.id as string);
        // The old budgets stay in the base only so that budgets given again by id keep their anchors.
        const base = {
          ...managed.blank(old.id, old.createdAt),
          ...managed.keptOnReplace?.(old),
          budgets: old.budgets,
        };
        const updated = await updateEntity(context, managed, base, { budgets: [], ...(body as I) });
        return { status: 200, body: managed.render(context, updated, "api") };
      },
    }),
    /** `remove` deletes the entity and what its kind deletes with it, or refuses. */
    delete: (
      summary: string,
      remove: (context: AdminContext, id: string, query: RouteInput["query"]) => Promise<void>,
      query?: Readonly<Record<string, StringSchema>>,
    ): AdminRoute => ({
      method: "DELETE",
      path: one,
      summary,
      ...(query === undefined ? {} : { query }),
      response: DELETED,
      async handle(context, input) {
        const id = input.params.id as string;
        await remove(context, id, input.query);
        await context.changed();
        return { status: 200, body: { deleted: id } };
      },
    }),
  };
}
