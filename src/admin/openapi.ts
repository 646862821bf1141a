import type { AdminRoute } from "./route.js";
import type { Schema } from "./schema.js";

// The OpenAPI 3.1 document of the /api routes, made from the same route table the router matches, so every
// route is documented and every documented path is served.

const ERROR: Schema = {
  type: "object",
  additionalProperties: false,
  required: ["error"],
  properties: {
    error: {
      type: "object",
      additionalProperties: false,
      properties: {
        message: { type: "string", maxLength: 4096 },
        type: { type: "string", maxLength: 64 },
        code: { type: "string", maxLength: 64 },
        param: { anyOf: [{ type: "string", maxLength: 256 }, { type: "null" }] },
      },
    },
  },
};

const ERROR_RESPONSES: Readonly<Record<string, string>> = {
  "400": "The request or one of its fields is invalid; the message names the field.",
  "401": "The admin key is missing or wrong.",
  "404": "No such entity.",
  "409":
    "Conflicts with what exists (an id taken, an entity still in use, one defined by the configuration file).",
};

function pathParameters(path: string) {
  return [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    schema: { type: "string", pattern: "^[A-Za-z0-9_.:-]{1,128}$" },
  }));
}

function operation(route: AdminRoute): Record<string, unknown> {
  const parameters = [
    ...pathParameters(route.path),
    ...Object.entries(route.query ?? {}).map(([name, schema]) => ({
      name,
      in: "query",
      required: false,
      schema,
    })),
  ];
  const responses: Record<string, unknown> = {
    [String(route.status ?? 200)]: {
      description: "Success.",
      content: { "application/json": { schema: route.response } },
    },
  };
  for (const [status, description] of Object.entries(ERROR_RESPONSES))
    responses[status] = {
      description,
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  return {
    summary: route.summary,
    operationId: `${route.method.toLowerCase()}${route.path.replace(/\{([a-z_]+)\}/g, "by_$1").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body !== undefined
      ? { requestBody: { required: true, content: { "application/json": { schema: route.body } } } }
      : {}),
    responses,
  };
}

export function openApiDocument(routes: readonly AdminRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Switchyard management API",
      version: "1",
      description:
        "Virtual keys, teams, customers, budgets, providers and spend. Money is in dollars (kept as integer " +
        "micro-dollars); times are ISO 8601 in answers and ISO 8601 or Unix milliseconds in requests; windows " +
        'are duration strings ("1h", "30d", "1mo"). Every route needs the admin key as a bearer token.',
    },
    security: [{ adminKey: [] }],
    components: {
      securitySchemes: { adminKey: { type: "http", scheme: "bearer" } },
      schemas: { Error: ERROR },
    },
    paths,
  };
}

export function openApiRoute(routes: () => readonly AdminRoute[]): AdminRoute {
  return {
    method: "GET",
    path: "/api/openapi.json",
    summary: "This document.",
    response: { type: "object", "x-maxJsonBytes": 1 << 24, description: "An OpenAPI 3.1 document." },
    async handle() {
      return { status: 200, body: openApiDocument(routes()) };
    },
  };
}
