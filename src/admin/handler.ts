import { StoreConflictError } from "../store/errors.js";
import { parseJsonBody, parseQuery, withoutUnsupported } from "./body.js";
import { BUDGET_TEMPLATE_ROUTES } from "./budget-templates.js";
import { CONFIG_ROUTES } from "./config-view.js";
import type { AdminContext, AdminRequest, AdminResponse } from "./context.js";
import { CUSTOMER_ROUTES } from "./customers.js";
import { AdminError, invalidField } from "./errors.js";
import { ID_PATTERN } from "./fields.js";
import { KEY_ROUTES } from "./keys.js";
import { LITELLM_ALIASES, LITELLM_ROUTES } from "./litellm.js";
import { LOG_ROUTES } from "./logs.js";
import { openApiRoute } from "./openapi.js";
import { PROVIDER_TEST_ROUTES } from "./provider-test.js";
import { PROVIDER_ROUTES } from "./providers.js";
import type { AdminRoute } from "./route.js";
import { ROUTING_ROUTES } from "./routing-view.js";
import { validate } from "./schema.js";
import { SPEND_ROUTES } from "./spend.js";
import { TEAM_ROUTES } from "./teams.js";

// The management API as one pure async function: the main thread calls it with a request a lane has
// already authenticated (admin key) and read (at most 1 MB); it answers JSON. Routes come from two tables:
// Switchyard's own under /api (documented at /api/openapi.json) and LiteLLM's management routes.

export type {
  AdminContext,
  AdminRequest,
  AdminResponse,
  BudgetState,
  ConfigStatus,
  LogQueries,
} from "./context.js";

export const API_ROUTES: readonly AdminRoute[] = [
  ...KEY_ROUTES,
  ...TEAM_ROUTES,
  ...CUSTOMER_ROUTES,
  ...PROVIDER_ROUTES,
  ...PROVIDER_TEST_ROUTES,
  ...CONFIG_ROUTES,
  ...ROUTING_ROUTES,
  ...SPEND_ROUTES,
  ...LOG_ROUTES,
  ...BUDGET_TEMPLATE_ROUTES,
  openApiRoute(() => API_ROUTES),
];

export { LITELLM_ROUTES };

/** LiteLLM's clients reach the gateway under /litellm too (see src/pipeline/routes.ts). */
const LITELLM_PREFIX = "/litellm";

const litellmPaths = new Set([...LITELLM_ROUTES.map((r) => r.path), ...Object.keys(LITELLM_ALIASES)]);

function litellmPath(path: string): string | undefined {
  const bare = path.startsWith(`${LITELLM_PREFIX}/`) ? path.slice(LITELLM_PREFIX.length) : path;
  if (!litellmPaths.has(bare)) return undefined;
  return LITELLM_ALIASES[bare] ?? bare;
}

/** Whether a request to `path` goes to handleAdmin: /api and below, and LiteLLM's management routes. */
export function isAdminPath(path: string): boolean {
  return path === "/api" || path.startsWith("/api/") || litellmPath(path) !== undefined;
}

const ID = new RegExp(ID_PATTERN);

/** The route's path parameters when `segments` fit its path, else undefined. */
function match(route: AdminRoute, segments: readonly string[]): Record<string, string> | undefined {
  const pattern = route.path.split("/");
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i] as string;
    const got = segments[i] as string;
    if (want.startsWith("{")) {
      let value: string;
      try {
        value = decodeURIComponent(got);
      } catch {
        return undefined;
      }
      if (!ID.test(value)) return undefined;
      params[want.slice(1, -1)] = value;
    } else if (want !== got) return undefined;
  }
  return params;
}

const JSON_HEADERS: ReadonlyArray<readonly [string, string]> = [["content-type", "application/json"]];

function render(status: number, body: unknown, headers = JSON_HEADERS): AdminResponse {
  return { status, headers, body: JSON.stringify(body) };
}

function renderError(error: AdminError, litellm: boolean, headers = JSON_HEADERS): AdminResponse {
  return render(
    error.status,
    {
      error: {
        message: error.message,
        type: error.type,
        // LiteLLM's proxy puts the status, as a string, in `code`.
        code: litellm ? String(error.status) : error.code,
        param: error.param ?? null,
      },
    },
    headers,
  );
}

export async function handleAdmin(context: AdminContext, request: AdminRequest): Promise<AdminResponse> {
  const path =
    request.path.length > 1 && request.path.endsWith("/") ? request.path.slice(0, -1) : request.path;
  const lite = litellmPath(path);
  const routes = lite !== undefined ? LITELLM_ROUTES : API_ROUTES;
  const segments = (lite ?? path).split("/");
  const candidates: Array<{ route: AdminRoute; params: Record<string, string> }> = [];
  for (const route of routes) {
    const params = match(route, segments);
    if (params !== undefined) candidates.push({ route, params });
  }
  if (candidates.length === 0)
    return renderError(
      new AdminError(404, "not_found_error", "unknown_route", "no such management route"),
      lite !== undefined,
    );
  const chosen = candidates.find((c) => c.route.method === request.method);
  if (chosen === undefined) {
    const allow = [...new Set(candidates.map((c) => c.route.method))].join(", ");
    return renderError(
      new AdminError(405, "method_not_allowed", "method_not_allowed", `this route takes ${allow}`),
      lite !== undefined,
      [...JSON_HEADERS, ["allow", allow]],
    );
  }
  try {
    const query = parseQuery(request.query);
    for (const [name, value] of query) {
      const schema = chosen.route.query?.[name];
      if (schema === undefined || !Object.hasOwn(chosen.route.query ?? {}, name))
        throw invalidField(name.slice(0, 64), "is not a parameter of this route");
      validate(schema, value, name);
    }
    const body =
      chosen.route.body === undefined
        ? undefined
        : validate(
            chosen.route.body,
            withoutUnsupported(parseJsonBody(request.body), chosen.route.tolerated ?? []),
          );
    const reply = await chosen.route.handle(context, { params: chosen.params, query, body });
    return render(reply.status, reply.body);
  } catch (error) {
    if (error instanceof AdminError) return renderError(error, lite !== undefined);
    // A race between two requests past the handler's own checks: the store's uniqueness rules hold.
    if (error instanceof StoreConflictError)
      return renderError(
        new AdminError(409, "conflict_error", "conflict", "conflicts with a stored entity"),
        lite !== undefined,
      );
    throw error;
  }
}
