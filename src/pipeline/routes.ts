import type { GatewayError } from "../errors.js";
import type { InboundFormat } from "../formats/format.js";
import { formatFor } from "../formats/registry.js";
import type { ErrorBody } from "../http/internal-error.js";
import { type ByteLeg, byteLegs } from "./byte-legs.js";

// The gateway's HTTP surface. Every OpenAI-compatible route is served under /v1 and under the drop-in
// prefixes (/openai and /openai/v1), so an app changes only its base URL. LiteLLM's proxy clients find
// LiteLLM's route names too: the same routes without /v1, everything under /litellm, and the Azure-style
// deployment paths that carry the model (/openai/deployments/{model}/..., /engines/{model}/...).
//
// An inference route declares what the pipeline needs to know of it: the client's wire format, the
// operation, where the model and the stream flag come from, and the byte leg: which provider kinds take
// its body as bytes (every other kind gets it converted).

export type Operation = "chat" | "completions" | "embeddings";

export interface InferenceRoute {
  readonly kind: "inference";
  /** Stable name, for hooks and docs: "openai.chat", "anthropic.messages", "gemini.generateContent", ... */
  readonly name: string;
  readonly method: "POST";
  /** The client's wire format. */
  readonly format: InboundFormat;
  readonly operation: Operation;
  /** The body as bytes to providers of the kinds this leg takes. */
  readonly bytes: ByteLeg;
  /** The path under the provider's API the byte leg posts to ("/chat/completions", "/messages", ...). */
  readonly upstreamPath: string;
  /**
   * Where the model comes from: the body's `model`; the path alone (Gemini's, whose bodies name none); or
   * the path, written into the body's `model` (LiteLLM's deployment routes: the path wins).
   */
  readonly modelFrom: "body" | "path" | "path-into-body";
  /** The model named by the path. */
  readonly pathModel?: string;
  /** Gemini's routes: whether the path's method streams (`:streamGenerateContent`). */
  readonly pathStream?: boolean;
}

/** Routes the gateway answers without a model: they take no inference pipeline. */
export interface LocalRoute {
  readonly kind: "models" | "health" | "ready" | "metrics" | "count_tokens";
  readonly name: string;
  readonly method: "GET" | "POST";
  /** The wire format its errors are written in. */
  readonly format: InboundFormat;
}

export type Route = InferenceRoute | LocalRoute;

const openai = formatFor("openai");
const anthropic = formatFor("anthropic");

const OPENAI_PREFIXES = ["/v1", "/openai", "/openai/v1", "", "/litellm", "/litellm/v1"];
/** OpenAI's inference paths and their operations. */
const OPENAI_PATHS: readonly [string, Operation][] = [
  ["/chat/completions", "chat"],
  ["/completions", "completions"],
  ["/embeddings", "embeddings"],
];
/** Paths whose next segments are the model, then one of OPENAI_PATHS. */
const MODEL_PATH_PREFIXES = [
  "/openai/deployments/",
  "/engines/",
  "/litellm/openai/deployments/",
  "/litellm/engines/",
];

function openAIRoute(upstreamPath: string, operation: Operation, pathModel?: string): InferenceRoute {
  return {
    kind: "inference",
    name: `openai.${upstreamPath.slice(1).replace("/", ".")}`,
    method: "POST",
    format: openai,
    operation,
    bytes: byteLegs.openaiApi,
    upstreamPath,
    modelFrom: pathModel === undefined ? "body" : "path-into-body",
    pathModel,
  };
}

function buildRoutes(): Map<string, Route> {
  const routes = new Map<string, Route>();
  for (const prefix of OPENAI_PREFIXES) {
    for (const [path, operation] of OPENAI_PATHS) routes.set(prefix + path, openAIRoute(path, operation));
    routes.set(`${prefix}/responses`, {
      kind: "inference",
      name: "openai.responses",
      method: "POST",
      format: formatFor("responses"),
      operation: "chat",
      // Only OpenAI itself serves the Responses API; other providers get it mapped onto chat.
      bytes: byteLegs.openaiResponses,
      upstreamPath: "/responses",
      modelFrom: "body",
    });
    routes.set(`${prefix}/models`, { kind: "models", name: "openai.models", method: "GET", format: openai });
  }
  // Anthropic's SDK with baseURL <gateway>/anthropic.
  routes.set("/anthropic/v1/messages", {
    kind: "inference",
    name: "anthropic.messages",
    method: "POST",
    format: anthropic,
    operation: "chat",
    bytes: byteLegs.anthropic,
    upstreamPath: "/messages",
    modelFrom: "body",
  });
  routes.set("/anthropic/v1/messages/count_tokens", {
    kind: "count_tokens",
    name: "anthropic.count_tokens",
    method: "POST",
    format: anthropic,
  });
  routes.set("/health", { kind: "health", name: "health", method: "GET", format: openai });
  routes.set("/ready", { kind: "ready", name: "ready", method: "GET", format: openai });
  routes.set("/metrics", { kind: "metrics", name: "metrics", method: "GET", format: openai });
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
function modelPathRoute(path: string): InferenceRoute | undefined {
  for (const prefix of MODEL_PATH_PREFIXES) {
    if (!path.startsWith(prefix)) continue;
    for (const [upstreamPath, operation] of OPENAI_PATHS) {
      if (!path.endsWith(upstreamPath) || path.length <= prefix.length + upstreamPath.length) continue;
      let model: string;
      try {
        model = decodeURIComponent(path.slice(prefix.length, path.length - upstreamPath.length));
      } catch {
        return undefined;
      }
      return openAIRoute(upstreamPath, operation, model);
    }
  }
  return undefined;
}

// Google's GenAI SDK with baseUrl <gateway>/genai: the model and the method are in the path.
const GEMINI_PREFIX = "/genai/v1beta/models/";

/** `/genai/v1beta/models/{model}:generateContent` and `:streamGenerateContent` (`?alt=sse` or JSON array). */
function geminiRoute(path: string, query: string): InferenceRoute | undefined {
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
    kind: "inference",
    name: `gemini.${method}`,
    method: "POST",
    format: formatFor(sse ? "gemini" : "gemini-array"),
    operation: "chat",
    bytes: byteLegs.gemini,
    upstreamPath: stream && sse ? `${method}?alt=sse` : method,
    modelFrom: "path",
    pathModel: model.startsWith("models/") ? model.slice("models/".length) : model,
    pathStream: stream,
  };
}

/** Every distinct inference route (one per name), for the docs' route × provider table. */
export function inferenceRoutes(): InferenceRoute[] {
  const byName = new Map<string, InferenceRoute>();
  for (const route of ROUTES.values()) if (route.kind === "inference") byName.set(route.name, route);
  for (const method of ["generateContent", "streamGenerateContent"]) {
    const route = geminiRoute(`${GEMINI_PREFIX}m:${method}`, "alt=sse");
    if (route !== undefined) byName.set(route.name, route);
  }
  return [...byName.values()];
}

const errorBodies = new Map<InboundFormat, ErrorBody>();

/** A gateway-made error in a wire format's own shape. */
export function errorBodyIn(format: InboundFormat): ErrorBody {
  let errorBody = errorBodies.get(format);
  if (errorBody === undefined) {
    errorBody = errorBodyOf(format);
    errorBodies.set(format, errorBody);
  }
  return errorBody;
}

// Apart from errorBodyIn, which runs for every request: a closure there would make each call allocate the
// scope it captures, even when the cached function is found.
function errorBodyOf(format: InboundFormat): ErrorBody {
  return (error: GatewayError) =>
    format.errorBody({
      status: error.status,
      message: error.message,
      type: error.type,
      code: error.code,
      param: error.param ?? null,
    });
}
