import type { Team } from "../governance/types.js";
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
import { conflict, invalidField } from "./errors.js";
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
import { refuseConfigDependents, requireCustomer, requireFreeBudgetIds } from "./integrity.js";
import type { AdminRoute } from "./route.js";
import type { RecordSchema, StringSchema } from "./schema.js";

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

const TEAMS: ManagedEntity<"team", TeamInput> = {
  kind: "team",
  path: "/api/teams",
  updateBody: TEAM_UPDATE,
  view: TEAM_VIEW,
  blank: blankTeam,
  apply: applyTeamInput,
  render: teamView,
};

export function createTeam(context: AdminContext, input: TeamInput): Promise<Team> {
  return createEntity(context, TEAMS, input);
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
  await storedEntity(context, "team", id);
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

const routes = entityRoutes(TEAMS);

export const TEAM_ROUTES: readonly AdminRoute[] = [
  routes.list("List teams."),
  routes.create("Create a team.", TEAM_CREATE),
  routes.get("One team."),
  routes.patch("Change the fields given; null clears customer_id and limits."),
  routes.put("Replace the team's settings (fields left out get their defaults)."),
  routes.delete(
    "Delete a team; refused (409) while it has keys unless force=true, which deletes them too.",
    (context, id, query) => deleteTeam(context, id, forceParam(query)),
    { force: FORCE },
  ),
];
