import type { InboundFormat } from "../formats/format.js";
import { formatFor } from "../formats/registry.js";

// The gateway's HTTP surface. Every OpenAI-compatible route is served under /v1 and under the drop-in
// prefixes (/openai and /openai/v1), so an app changes only its base URL. LiteLLM's proxy clients find
// LiteLLM's route names too: the same routes without /v1, everything under /litellm, and the Azure-style
// deployment paths that carry the model (/openai/deployments/{model}/..., /engines/{model}/...).

export type RouteKind = "proxy" | "transcode" | "models" | "health" | "metrics" | "count_tokens";

export interface Route {
  readonly kind: RouteKind;
  readonly method: "GET" | "POST";
  /** For proxy routes: the path under the provider's OpenAI-compatible API. */
  readonly upstreamPath: string;
  /**
   * For transcode routes: the client's wire format (a name in src/formats/registry.ts). On proxy routes a
   * format other than OpenAI's passes through as bytes only to providers that serve it natively.
   */
  readonly format?: string;
  readonly operation?: "chat" | "embeddings";
  /** The model named by the path (LiteLLM's deployment routes); it overrides the body's `model`. */
  readonly pathModel?: string;
  /** Gemini's routes: whether the path's method streams (`:streamGenerateContent`). */
  readonly pathStream?: boolean;
}

const OPENAI_PREFIXES = ["/v1", "/openai", "/openai/v1", "", "/litellm", "/litellm/v1"];
const PROXY_PATHS = ["/chat/completions", "/completions", "/embeddings"];
/** Paths whose next segments are the model, then one of PROXY_PATHS. */
const MODEL_PATH_PREFIXES = [
  "/openai/deployments/",
  "/engines/",
  "/litellm/openai/deployments/",
  "/litellm/engines/",
];

function buildRoutes(): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const prefix of OPENAI_PREFIXES) {
    for (const upstreamPath of PROXY_PATHS) {
      routes.set(prefix + upstreamPath, { kind: "proxy", method: "POST", upstreamPath });
    }
    routes.set(`${prefix}/responses`, {
      kind: "proxy",
      method: "POST",
      upstreamPath: "/responses",
      format: "responses",
    });
    routes.set(`${prefix}/models`, { kind: "models", method: "GET", upstreamPath: "/models" });
  }
  // Anthropic's SDK with baseURL <gateway>/anthropic.
  routes.set("/anthropic/v1/messages", {
    kind: "transcode",
    method: "POST",
    upstreamPath: "/messages",
    format: "anthropic",
    operation: "chat",
  });
  routes.set("/anthropic/v1/messages/count_tokens", {
    kind: "count_tokens",
    method: "POST",
    upstreamPath: "/messages/count_tokens",
    format: "anthropic",
  });
  routes.set("/health", { kind: "health", method: "GET", upstreamPath: "" });
  routes.set("/metrics", { kind: "metrics", method: "GET", upstreamPath: "" });
  return routes;
}

const ROUTES = buildRoutes();

export function findRoute(path: string, query = ""): Route | undefined {
  const route = ROUTES.get(path);
  if (route !== undefined || path.length < 2) return route;
  if (path.startsWith(GEMINI_PREFIX)) return geminiRoute(path, query);
  if (path.endsWith("/")) return ROUTES.get(path.slice(0, -1)) ?? modelPathRoute(path.slice(0, -1));
  return modelPathRoute(path);
}

/** `/openai/deployments/{model}/chat/completions` and the like; the model may contain slashes. */
function modelPathRoute(path: string): Route | undefined {
  for (const prefix of MODEL_PATH_PREFIXES) {
    if (!path.startsWith(prefix)) continue;
    for (const upstreamPath of PROXY_PATHS) {
      if (!path.endsWith(upstreamPath) || path.length <= prefix.length + upstreamPath.length) continue;
      let model: string;
      try {
        model = decodeURIComponent(path.slice(prefix.length, path.length - upstreamPath.length));
      } catch {
        return undefined;
      }
      return { kind: "proxy", method: "POST", upstreamPath, pathModel: model };
    }
  }
  return undefined;
}

// Google's GenAI SDK with baseUrl <gateway>/genai: the model and the method are in the path.
const GEMINI_PREFIX = "/genai/v1beta/models/";

/** `/genai/v1beta/models/{model}:generateContent` and `:streamGenerateContent` (`?alt=sse` or JSON array). */
function geminiRoute(path: string, query: string): Route | undefined {
  const colon = path.lastIndexOf(":");
  if (colon <= GEMINI_PREFIX.length) return undefined;
  const method = path.slice(colon + 1);
  if (method !== "generateContent" && method !== "streamGenerateContent") return undefined;
  let model: string;
  try {
    model = decodeURIComponent(path.slice(GEMINI_PREFIX.length, colon));
  } catch {
    return undefined;
  }
  const stream = method === "streamGenerateContent";
  const sse = !stream || /(^|&)alt=sse(&|$)/.test(query);
  return {
    kind: "transcode",
    method: "POST",
    upstreamPath: method,
    format: sse ? "gemini" : "gemini-array",
    operation: "chat",
    pathModel: model,
    pathStream: stream,
  };
}

/** The wire format of a route's clients: its own, or OpenAI's when it names none. */
export function routeFormat(route: Route): InboundFormat {
  return formatFor(route.format ?? "openai");
}
