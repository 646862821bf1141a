import type { GatewayConfig } from "../config/types.js";
import { formatFor } from "../formats/registry.js";
import { MasterKey, unauthorized } from "../hooks/builtin/master-key.js";
import { isJsonContentType } from "../http/content-type.js";
import { errorBody, type GatewayError, sendError } from "../http/errors.js";
import type { Reply, RequestHead } from "../http/exchange.js";
import { type ErrorBody, internalFailure } from "../http/internal-error.js";
import { LaneMetrics } from "../observability/lane-metrics.js";
import { compileRoutingTable, type RoutingTable } from "../routing/table.js";
import { upstreamHealth, upstreamMetrics } from "../routing/upstream-health.js";
import { retainPools } from "../upstream/pools.js";
import { anthropicCountTokens } from "./anthropic.js";
import { listModels } from "./models.js";
import { convert, proxy, refuse } from "./proxy.js";
import { findRoute, type Route, routeFormat } from "./routes.js";
import { shutdownNoticeFor } from "./shutdown.js";
import { canonical, refuseInFormat } from "./transcode.js";

export interface LaneInfo {
  readonly lane: number;
  readonly lanes: number;
  readonly backend: string;
  readonly native: boolean;
  readonly startedAt: number;
}

/** What a lane asks of the control plane. */
export interface ControlChannel {
  /** Prometheus text aggregated over every lane. */
  metricsText(): Promise<{ contentType: string; body: string }>;
}

const JSON_TYPE: [string, string][] = [["content-type", "application/json"]];
const CORS_METHODS = "GET, POST, OPTIONS";

/**
 * A lane's request handler. It holds the current routing table and swaps it between requests when the
 * control plane publishes a new configuration; requests under way keep the table they started with.
 */
export class Gateway {
  readonly metrics = new LaneMetrics();
  private table: RoutingTable;
  /** Absent when no key is configured: the gateway is open (start-up says so). */
  private masterKey: MasterKey | undefined;
  /** Read by the HTTP front for every request head; follows the configuration. */
  readonly headNeeds = { apiKey: false };

  constructor(
    config: GatewayConfig,
    private readonly info: LaneInfo,
    private readonly control: ControlChannel,
  ) {
    this.table = compileRoutingTable(config, upstreamHealth());
    this.masterKey = masterKeyOf(config);
    this.headNeeds.apiKey = this.masterKey !== undefined;
    // Shared gauges are read by one lane only, since the control plane sums the lanes' snapshots.
    this.metrics.addSource(() => upstreamMetrics(this.table, info.lane === 0));
  }

  setConfig(config: GatewayConfig): void {
    this.table = compileRoutingTable(config, upstreamHealth());
    this.masterKey = masterKeyOf(config);
    this.headNeeds.apiKey = this.masterKey !== undefined;
    const origins = new Set<string>();
    for (const provider of this.table.providers.values()) {
      origins.add(provider.origin);
      for (const endpoint of provider.endpoints) origins.add(endpoint.origin);
    }
    retainPools(origins);
  }

  readonly handle = (head: RequestHead, reply: Reply): void => {
    try {
      this.serve(head, reply);
    } catch (error) {
      const format = findRoute(head.path, head.query)?.format;
      internalFailure(reply, this.metrics, errorBodyFor(format), error);
    }
  };

  private serve(head: RequestHead, reply: Reply): void {
    const table = this.table;
    if (head.origin !== "") reply.corsOrigin = allowedOrigin(table, head.origin);
    const route = findRoute(head.path, head.query);
    if (route === undefined) {
      refuse(reply, this.metrics, notFound(head));
      return;
    }
    reply.shutdownNotice = shutdownNoticeFor(route.format);
    if (head.method !== route.method) {
      if (head.method === "OPTIONS" && reply.corsOrigin !== "") {
        reply.start(204, [
          ["access-control-allow-methods", CORS_METHODS],
          ["access-control-allow-headers", head.corsRequestHeaders || "authorization, content-type"],
          ["access-control-max-age", "600"],
        ]);
        reply.end();
        return;
      }
      refuse(reply, this.metrics, {
        status: 405,
        message: `${head.method} is not allowed on ${head.path}; use ${route.method}.`,
        type: "invalid_request_error",
        code: "method_not_allowed",
        headers: [["allow", route.method]],
      });
      return;
    }
    if (this.masterKey !== undefined && guarded(table, route) && !this.masterKey.accepts(head.apiKey)) {
      refuseInRoute(reply, this.metrics, route, unauthorized(head.apiKey));
      return;
    }
    // Every POST route takes a JSON body.
    if (route.method === "POST" && !isJsonContentType(head.contentType)) {
      refuseInRoute(reply, this.metrics, route, unsupportedMediaType(head.contentType));
      return;
    }
    switch (route.kind) {
      case "proxy":
        proxy(table, this.metrics, route, head, reply);
        return;
      case "transcode":
        convert(table, this.metrics, route, head, reply, route.pathModel, route.pathStream);
        return;
      case "count_tokens":
        anthropicCountTokens(table, this.metrics, head, reply);
        return;
      case "models":
        listModels(table).then(
          (body) => sendJson(reply, 200, body),
          (error: Error) => sendError(reply, internalError(error)),
        );
        return;
      case "health":
        sendJson(
          reply,
          200,
          JSON.stringify({
            status: "ok",
            backend: this.info.backend,
            lanes: this.info.lanes,
            lane: this.info.lane,
            native: this.info.native,
            uptime_seconds: Math.round((Date.now() - this.info.startedAt) / 1000),
          }),
        );
        return;
      case "metrics":
        this.control.metricsText().then(
          ({ contentType, body }) => {
            reply.start(200, [["content-type", contentType]]);
            reply.end(body);
          },
          (error: Error) => sendError(reply, internalError(error)),
        );
        return;
    }
  }
}

/** Gateway-made errors in the wire format of a route's clients (OpenAI's when it names none). */
function errorBodyFor(format: string | undefined): ErrorBody {
  if (format === undefined) return errorBody;
  const inbound = formatFor(format);
  return (error) => inbound.errorBody(canonical(error));
}

/** Whether a route needs the master key: all but /health, and /metrics only when configured so. */
function guarded(table: RoutingTable, route: Route): boolean {
  if (route.kind === "health") return false;
  return route.kind !== "metrics" || table.config.metricsRequireKey === true;
}

function masterKeyOf(config: GatewayConfig): MasterKey | undefined {
  return config.masterKey === undefined || config.masterKey === ""
    ? undefined
    : new MasterKey(config.masterKey);
}

function allowedOrigin(table: RoutingTable, origin: string): string {
  const allowed = table.config.client.allowedOrigins;
  if (allowed.includes("*")) return "*";
  return allowed.includes(origin) ? origin : "";
}

function sendJson(reply: Reply, status: number, body: string): void {
  reply.start(status, JSON_TYPE);
  reply.end(body);
}

function notFound(head: RequestHead): GatewayError {
  return {
    status: 404,
    message: `No route for ${head.method} ${head.path}. OpenAI-compatible routes live under /v1 (or /openai).`,
    type: "invalid_request_error",
    code: "unknown_route",
  };
}

function unsupportedMediaType(contentType: string): GatewayError {
  const sent =
    contentType === "" ? "no Content-Type" : `Content-Type ${JSON.stringify(contentType.slice(0, 100))}`;
  return {
    status: 415,
    message: `The request body must be JSON: send the header "Content-Type: application/json" (got ${sent}).`,
    type: "invalid_request_error",
    code: "unsupported_media_type",
  };
}

/** A refusal in the route's wire format (OpenAI's on OpenAI routes, Anthropic's on /anthropic, ...). */
function refuseInRoute(reply: Reply, metrics: LaneMetrics, route: Route, error: GatewayError): void {
  refuseInFormat({ reply, metrics, format: routeFormat(route) }, canonical(error));
}

function internalError(error: Error): GatewayError {
  return {
    status: 500,
    message: `Internal gateway error: ${error.message}`,
    type: "api_error",
    code: "internal_error",
  };
}
