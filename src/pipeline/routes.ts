// The gateway's HTTP surface. Every OpenAI-compatible route is served under /v1 and under the drop-in
// prefixes (/openai and /openai/v1), so an app changes only its base URL.

export type RouteKind = "proxy" | "transcode" | "models" | "health" | "metrics";

export interface Route {
  readonly kind: RouteKind;
  readonly method: "GET" | "POST";
  /** For proxy routes: the path under the provider's OpenAI-compatible API. */
  readonly upstreamPath: string;
  /** For transcode routes: the client's wire format (a name in src/formats/registry.ts). */
  readonly format?: string;
  readonly operation?: "chat" | "embeddings";
}

const OPENAI_PREFIXES = ["/v1", "/openai", "/openai/v1"];

function buildRoutes(): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const prefix of OPENAI_PREFIXES) {
    for (const upstreamPath of ["/chat/completions", "/completions", "/embeddings"]) {
      routes.set(prefix + upstreamPath, { kind: "proxy", method: "POST", upstreamPath });
    }
    routes.set(`${prefix}/models`, { kind: "models", method: "GET", upstreamPath: "/models" });
  }
  routes.set("/health", { kind: "health", method: "GET", upstreamPath: "" });
  routes.set("/metrics", { kind: "metrics", method: "GET", upstreamPath: "" });
  return routes;
}

const ROUTES = buildRoutes();

export function findRoute(path: string): Route | undefined {
  const route = ROUTES.get(path);
  if (route !== undefined || path.length < 2 || !path.endsWith("/")) return route;
  return ROUTES.get(path.slice(0, -1));
}
