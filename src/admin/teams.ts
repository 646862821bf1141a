import type { Team } from "../governance/types.js";
import { configEntity, refuseConfigEntity, type Source, type Sourced, withConfig } from "./configured.js";
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
import { conflict, invalidField, notFound } from "./errors.js";
import {
  BUDGET_VIEW,
  BUDGETS_INPUT,
  ID,
  ISO_TIME,
  LIMITS_INPUT,
  LIMITS_VIEW,
  METADATA,
  MODELS,
  NAME,
  nullable,
  SOURCE,
} from "./fields.js";
import { refuseConfigDependents, requireCustomer, requireFreeBudgetIds, requireNewId } from "./integrity.js";
import type { AdminRoute } from "./route.js";
import type { RecordSchema, StringSchema } from "./schema.js";
import { newId } from "./secrets.js";

// Teams under /api/teams. A team's keys keep their team id; deleting a team that has keys is refused unless
// ?force=true, which deletes the keys with it (LiteLLM's /team/delete does the same).

export interface TeamInput {
  readonly id?: string;
  readonly name?: string;
  readonly customer_id?: string | null;
  readonly models?: readonly string[];
  readonly limits?: LimitsInput | null;
  readonly budgets?: readonly BudgetInput[];
  readonly metadata?: Readonly<Record<string, unknown>>;
}

const TEAM_FIELDS: RecordSchema["properties"] = {
  name: NAME,
  customer_id: nullable(ID),
  models: MODELS,
  limits: nullable(LIMITS_INPUT),
  budgets: BUDGETS_INPUT,
  metadata: METADATA,
};

export const TEAM_CREATE: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: { id: ID, ...TEAM_FIELDS },
};
const TEAM_UPDATE: RecordSchema = { type: "object", additionalProperties: false, properties: TEAM_FIELDS };

export const TEAM_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: ID,
    name: NAME,
    source: SOURCE,
    customer_id: nullable(ID),
    models: MODELS,
    limits: nullable(LIMITS_VIEW),
    budgets: { type: "array", items: BUDGET_VIEW, maxItems: 16 },
    metadata: METADATA,
    created_at: ISO_TIME,
    updated_at: ISO_TIME,
  },
};

export const FORCE: StringSchema = {
  type: "string",
  maxLength: 5,
  enum: ["true", "false"],
  description: "Delete what belongs to it too.",
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function blankTeam(id: string, now: number): Team {
  return { id, name: "", budgets: [], models: [], metadata: {}, createdAt: now, updatedAt: now };
}

async function applyTeamInput(context: AdminContext, base: Team, input: TeamInput): Promise<Team> {
  const now = context.now();
  const team: Mutable<Team> = { ...base, updatedAt: now };
  if (input.name !== undefined) team.name = input.name;
  if (input.customer_id === null) delete team.customerId;
  else if (input.customer_id !== undefined) team.customerId = input.customer_id;
  if (input.models !== undefined) team.models = [...input.models];
  if (input.limits !== undefined) {
    const limits = toLimits(input.limits, "limits");
    if (limits === undefined) delete team.limits;
    else team.limits = limits;
  }
  if (input.budgets !== undefined) team.budgets = toBudgets(input.budgets, base.budgets, now, "budgets");
  if (input.metadata !== undefined) team.metadata = input.metadata;
  if (team.customerId !== undefined && team.customerId !== base.customerId)
    await requireCustomer(context, team.customerId, "customer_id");
  await requireFreeBudgetIds(context, team.budgets, { type: "team", id: team.id }, "budgets");
  return team;
}

export async function createTeam(context: AdminContext, input: TeamInput): Promise<Team> {
  const id = input.id ?? newId("team");
  if (input.id !== undefined) {
    refuseConfigEntity(context, "team", id);
    await requireNewId(context.store.getTeam(id), "team", id);
  }
  const team = await applyTeamInput(context, blankTeam(id, context.now()), input);
  await context.store.putTeam(team);
  await context.changed();
  return team;
}

/** A team to read: the configuration file's, else the store's. */
export async function findTeam(context: AdminContext, id: string): Promise<Sourced<Team>> {
  const configured = configEntity(context, "team", id);
  if (configured !== undefined) return { entity: configured, source: "config" };
  const team = await context.store.getTeam(id);
  if (team === undefined) throw notFound("team", id);
  return { entity: team, source: "api" };
}

/** A team of the store, to change; a team of the configuration file is refused (409). */
async function storedTeam(context: AdminContext, id: string): Promise<Team> {
  refuseConfigEntity(context, "team", id);
  const team = await context.store.getTeam(id);
  if (team === undefined) throw notFound("team", id);
  return team;
}

export function teamView(context: AdminContext, team: Team, source: Source): Record<string, unknown> {
  return {
    id: team.id,
    name: team.name,
    source,
    customer_id: team.customerId ?? null,
    models: team.models,
    limits: limitsView(team.limits),
    budgets: team.budgets.map((b) => budgetView(context, b)),
    metadata: team.metadata,
    created_at: isoTime(team.createdAt),
    updated_at: isoTime(team.updatedAt),
  };
}

/** Deletes the team; its keys too when `force`, else a team with keys is refused (409). */
export async function deleteTeam(context: AdminContext, id: string, force: boolean): Promise<void> {
  await storedTeam(context, id);
  refuseConfigDependents(context, "team", id);
  const keys = (await context.store.listKeys()).filter((k) => k.teamId === id);
  if (keys.length > 0 && !force)
    throw conflict(
      `team ${JSON.stringify(id)} has ${keys.length} key(s); delete them first or pass force=true`,
    );
  for (const key of keys) await context.store.deleteKey(key.id);
  await context.store.deleteTeam(id);
}

export function forceParam(query: ReadonlyMap<string, string>): boolean {
  const force = query.get("force");
  if (force !== undefined && force !== "true" && force !== "false")
    throw invalidField("force", "must be true or false");
  return force === "true";
}

export const TEAM_ROUTES: readonly AdminRoute[] = [
  {
    method: "GET",
    path: "/api/teams",
    summary: "List teams.",
    response: {
      type: "object",
      additionalProperties: false,
      properties: { data: { type: "array", items: TEAM_VIEW, maxItems: 1e9 } },
    },
    async handle(context) {
      return {
        status: 200,
        body: {
          data: withConfig(context, "team", await context.store.listTeams()).map(({ entity, source }) =>
            teamView(context, entity, source),
          ),
        },
      };
    },
  },
  {
    method: "POST",
    path: "/api/teams",
    summary: "Create a team.",
    body: TEAM_CREATE,
    status: 201,
    response: TEAM_VIEW,
    async handle(context, { body }) {
      return { status: 201, body: teamView(context, await createTeam(context, body as TeamInput), "api") };
    },
  },
  {
    method: "GET",
    path: "/api/teams/{id}",
    summary: "One team.",
    response: TEAM_VIEW,
    async handle(context, { params }) {
      const { entity, source } = await findTeam(context, params.id as string);
      return { status: 200, body: teamView(context, entity, source) };
    },
  },
  {
    method: "PATCH",
    path: "/api/teams/{id}",
    summary: "Change the fields given; null clears customer_id and limits.",
    body: TEAM_UPDATE,
    response: TEAM_VIEW,
    async handle(context, { params, body }) {
      const team = await applyTeamInput(
        context,
        await storedTeam(context, params.id as string),
        body as TeamInput,
      );
      await context.store.putTeam(team);
      await context.changed();
      return { status: 200, body: teamView(context, team, "api") };
    },
  },
  {
    method: "PUT",
    path: "/api/teams/{id}",
    summary: "Replace the team's settings (fields left out get their defaults).",
    body: TEAM_UPDATE,
    response: TEAM_VIEW,
    async handle(context, { params, body }) {
      const old = await storedTeam(context, params.id as string);
      const base = { ...blankTeam(old.id, old.createdAt), budgets: old.budgets };
      const team = await applyTeamInput(context, base, { budgets: [], ...(body as TeamInput) });
      await context.store.putTeam(team);
      await context.changed();
      return { status: 200, body: teamView(context, team, "api") };
    },
  },
  {
    method: "DELETE",
    path: "/api/teams/{id}",
    summary: "Delete a team; refused (409) while it has keys unless force=true, which deletes them too.",
    query: { force: FORCE },
    response: { type: "object", additionalProperties: false, properties: { deleted: ID } },
    async handle(context, { params, query }) {
      const id = params.id as string;
      await deleteTeam(context, id, forceParam(query));
      await context.changed();
      return { status: 200, body: { deleted: id } };
    },
  },
];
