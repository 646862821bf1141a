import type { AdminContext, Reply, RouteInput } from "./context.js";
import type { Schema, StringSchema } from "./schema.js";

// One route of the management API: what the router matches and validates, and what the OpenAPI document
// says about it. Both are read from the same table.

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface AdminRoute {
  readonly method: HttpMethod;
  /** With {name} for a path parameter, e.g. "/api/keys/{id}"; every parameter is an id. */
  readonly path: string;
  readonly summary: string;
  /** The query parameters it takes; any other is refused. */
  readonly query?: Readonly<Record<string, StringSchema>>;
  /** Fields of another gateway's API this one lacks: accepted when empty (null, false, "", [], {}), else refused by name. */
  readonly tolerated?: readonly string[];
  /** The JSON body it takes, validated before the handler runs. */
  readonly body?: Schema;
  /** The success status (200 when absent) and the answer's schema. */
  readonly status?: number;
  readonly response: Schema;
  handle(context: AdminContext, input: RouteInput): Promise<Reply>;
}
