import { type AdminRequest, type AdminResponse, isAdminPath } from "../admin/handler.js";
import { logSettings } from "../config/logs.js";
import type { GatewayConfig, TracingConfig } from "../config/types.js";
import { type GatewayError, gatewayError } from "../errors.js";
import { MasterKey } from "../hooks/builtin/master-key.js";
import type { PluginChain } from "../hooks/chain.js";
import { isJsonContentType } from "../http/content-type.js";
import type { Reply, RequestHead } from "../http/exchange.js";
import { type ErrorBody, internalFailure } from "../http/internal-error.js";
import { findStaticFile, isUiPath, NO_SITE, type StaticSite } from "../http/static-files.js";
import { EventLoopLag } from "../observability/event-loop-lag.js";
import { HeapAllocation } from "../observability/heap-allocation.js";
import { LaneMetrics } from "../observability/lane-metrics.js";
import { SpanExporter, TraceCounts } from "../observability/tracing/span-exporter.js";
import { compileRoutingTable } from "../routing/table.js";
import { upstreamHealth, upstreamMetrics } from "../routing/upstream-health.js";
import type { LogRingWriter } from "../shm/log-ring.js";
import type { Readiness } from "../shm/readiness.js";
import { retainPools } from "../upstream/pools.js";
import { serveAdmin } from "./admin.js";
import { LaneCaches } from "./cache/lane-cache.js";
import { serveCountTokens } from "./count-tokens.js";
import type { LaneGovernance, LaneKey } from "./governance/lane-governance.js";
import { refuse } from "./inbound.js";
import { listModels } from "./models.js";
import { authenticate, type Lane, serveInference } from "./pipeline.js";
import { LaneRequestLog } from "./request-log.js";
import { errorBodyIn, findRoute, type Route } from "./routes.js";
import { shutdownNoticeFor } from "./shutdown.js";

export interface LaneInfo {
  readonly lane: number;
  readonly lanes: number;
  readonly backend: string;
  readonly native: boolean;
  readonly startedAt: number;
  /** Whether the store answers, as the control plane last found it (for /ready). */
  readonly readiness: Readiness;
}

/** What a lane asks of the control plane. */
export interface ControlChannel {
  /** Prometheus text aggregated over every lane. */
  metricsText(): Promise<{ contentType: string; body: string }>;
  /** A management API request, answered by the control plane (which owns the store). */
  admin(request: AdminRequest): Promise<AdminResponse>;
}

const JSON_TYPE: [string, string][] = [["content-type", "application/json"]];
const CORS_METHODS = "GET, POST, OPTIONS";
const OPENAI_ERROR_BODY = errorBodyIn(findRoute("/v1/models")?.format as Route["format"]);

/**
 * A lane's request handler: finds the route and hands inference to the pipeline (pipeline.ts). It holds the
 * current routing table and plugins and swaps them between requests when the control plane publishes a new
 * configuration; requests under way keep what they started with.
 */
export class Gateway {
  readonly metrics = new LaneMetrics();
  private lane: Lane;
  /** Read by the HTTP front for every request head; follows the configuration. */
  readonly headNeeds: {
    apiKey: boolean;
    pluginHeaders: readonly string[];
    traceparent: boolean;
    metadata: boolean;
    cache: boolean;
  } = {
    apiKey: false,
    pluginHeaders: [],
    traceparent: false,
    metadata: false,
    cache: false,
  };
  /** Kept across configurations that trace to the same place, so queued spans survive a reload. */
  private tracing: SpanExporter | undefined;
  private readonly traceCounts = new TraceCounts();
  private readonly caches = new LaneCaches();
  /** The lane is draining: /ready says not ready, so a load balancer sends nothing new. */
  private draining = false;

  constructor(
    config: GatewayConfig,
    private readonly info: LaneInfo,
    private readonly control: ControlChannel,
    plugins: PluginChain,
    private governance: LaneGovernance,
    /** This lane's ring of request records; absent when the gateway started with the request log off. */
    private readonly logRing: LogRingWriter | undefined,
    /** The web UI's files, served at `/` and under `/ui/` (src/http/static-files.ts). */
    private readonly ui: StaticSite = NO_SITE,
  ) {
    this.lane = this.laneFor(config, plugins);
    this.metrics.pricing = governance.pricing;
    // Shared gauges are read by one lane only, since the control plane sums the lanes' snapshots.
    this.metrics.addSource(() => upstreamMetrics(this.lane.table, info.lane === 0));
    this.metrics.addSource(() => this.lane.plugins.metrics());
    this.metrics.addSource(() => (this.tracing === undefined ? [] : this.traceCounts.metrics()));
    this.metrics.addSource(() => this.caches.metrics());
    const heap = new HeapAllocation();
    this.metrics.addSource(() => heap.metrics());
    const lag = new EventLoopLag(info.lane);
    this.metrics.addSource(() => lag.metrics());
  }

  setConfig(config: GatewayConfig, plugins: PluginChain): void {
    this.lane = this.laneFor(config, plugins);
    const origins = new Set<string>();
    for (const provider of this.lane.table.providers.values()) {
      origins.add(provider.origin);
      for (const endpoint of provider.endpoints) origins.add(endpoint.origin);
    }
    retainPools(origins);
  }

  /** The key the management API and the live tail require now; absent, both are shut. */
  get adminKey(): MasterKey | undefined {
    return this.lane.adminKey;
  }

  /** A drain has begun. */
  startDraining(): void {
    this.draining = true;
  }

  /** Closes the cache's store (a Redis connection); the lane's drain awaits it. */
  closeCache(): Promise<void> {
    return this.caches.close();
  }

  /** Sends the spans still queued; the lane's drain awaits it. */
  drainTraces(): Promise<void> {
    return this.tracing?.drain() ?? Promise.resolve();
  }

  /** Virtual keys, limits and budgets as the control plane last published them. */
  setGovernance(governance: LaneGovernance): void {
    this.governance = governance;
    this.metrics.pricing = governance.pricing;
    this.lane = { ...this.lane, governance, requestLog: this.requestLogFor(this.lane.table.config) };
    this.headNeeds.apiKey = this.lane.plugins.authenticates || governance.enforcing;
  }

  private laneFor(config: GatewayConfig, plugins: PluginChain): Lane {
    this.metrics.bifrostNames = config.bifrostMetrics === true;
    this.headNeeds.apiKey = plugins.authenticates || this.governance.enforcing;
    this.headNeeds.pluginHeaders = plugins.requestHeaders;
    this.tracing = exporterFor(config.tracing, this.tracing, this.traceCounts);
    this.headNeeds.traceparent = this.tracing !== undefined;
    const requestLog = this.requestLogFor(config);
    this.headNeeds.metadata = requestLog !== undefined;
    this.headNeeds.cache = config.cache !== undefined;
    return {
      table: compileRoutingTable(config, upstreamHealth()),
      metrics: this.metrics,
      plugins,
      governance: this.governance,
      adminKey: config.masterKey === undefined ? undefined : new MasterKey(config.masterKey),
      tracing: this.tracing,
      requestLog,
      cache: this.caches.cacheFor(config),
    };
  }

  /** The request log as the configuration sets it, priced as governance prices (its overrides included). */
  private requestLogFor(config: GatewayConfig): LaneRequestLog | undefined {
    const settings = logSettings(config);
    if (this.logRing === undefined || !settings.enabled) return undefined;
    return new LaneRequestLog(this.logRing, settings, this.governance.pricing);
  }

  readonly handle = (head: RequestHead, reply: Reply): void => {
    try {
      this.serve(head, reply);
    } catch (error) {
      const route = findRoute(head.path, head.query);
      internalFailure(
        reply,
        this.metrics,
        route === undefined ? OPENAI_ERROR_BODY : errorBodyIn(route.format),
        error,
      );
    }
  };

  private serve(head: RequestHead, reply: Reply): void {
    const lane = this.lane;
    if (head.origin !== "") reply.corsOrigin = allowedOrigin(lane, head.origin);
    if (isAdminPath(head.path)) {
      serveAdmin(lane, head, reply, OPENAI_ERROR_BODY, this.control.admin);
      return;
    }
    const route = findRoute(head.path, head.query);
    if (route === undefined) {
      // Looked for only here, so that no route the gateway had before the UI pays for it.
      if (isUiPath(head.path)) this.serveUi(head, reply);
      else refuse(reply, this.metrics, OPENAI_ERROR_BODY, notFound(head));
      return;
    }
    reply.shutdownNotice = shutdownNoticeFor(route.format.name);
    const errorBody = errorBodyIn(route.format);
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
      refuse(
        reply,
        this.metrics,
        errorBody,
        gatewayError(
          "method_not_allowed",
          `${head.method} is not allowed on ${head.path}; use ${route.method}.`,
          null,
          [["allow", route.method]],
        ),
      );
      return;
    }
    // Every POST route takes a JSON body.
    if (route.method === "POST" && !isJsonContentType(head.contentType)) {
      refuse(reply, this.metrics, errorBody, unsupportedMediaType(head.contentType));
      return;
    }
    switch (route.kind) {
      case "inference":
        serveInference(lane, route, head, reply);
        return;
      case "count_tokens":
        serveCountTokens(lane, head, reply);
        return;
      case "models": {
        const key = authenticate(lane, route.name, head, reply, errorBody);
        if (key === false) return;
        this.serveModels(lane, reply, errorBody, key);
        return;
      }
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
      case "ready":
        this.serveReady(reply);
        return;
      case "metrics":
        if (
          lane.table.config.metricsRequireKey === true &&
          authenticate(lane, route.name, head, reply, errorBody) === false
        )
          return;
        this.serveMetrics(reply, errorBody);
        return;
    }
  }

  /**
   * For a load balancer: 200 while this lane should be sent requests (not draining, the store answering, the
   * cache's Redis connected when the cache is there, the cluster's Redis answering in cluster mode), else
   * 503; either way the checks, by name.
   */
  private serveReady(reply: Reply): void {
    const readiness = this.info.readiness;
    const clustered = this.lane.table.config.cluster !== undefined;
    const checks = {
      draining: this.draining,
      store: readiness.store,
      cache: this.caches.reachable(),
      ...(clustered ? { cluster: readiness.cluster } : {}),
    };
    const ready = !checks.draining && checks.store && checks.cache && (!clustered || readiness.cluster);
    sendJson(reply, ready ? 200 : 503, JSON.stringify({ status: ready ? "ready" : "not ready", checks }));
  }

  /** The web UI's files: no key needed, the API calls the app makes carry it. */
  private serveUi(head: RequestHead, reply: Reply): void {
    if (head.method !== "GET" && head.method !== "HEAD") {
      refuse(
        reply,
        this.metrics,
        OPENAI_ERROR_BODY,
        gatewayError("method_not_allowed", `${head.method} is not allowed on ${head.path}; use GET.`, null, [
          ["allow", "GET, HEAD"],
        ]),
      );
      return;
    }
    const file = findStaticFile(this.ui, head.path);
    if (file === undefined) {
      refuse(
        reply,
        this.metrics,
        OPENAI_ERROR_BODY,
        gatewayError(
          "unknown_route",
          this.ui.index === undefined
            ? "This gateway was built without its web UI (dist/ui is missing): run `npm run build` to make it."
            : `The web UI has no file ${head.path}.`,
        ),
      );
      return;
    }
    reply.start(200, file.headers);
    reply.end(head.method === "HEAD" ? undefined : file.body);
  }

  // The asynchronous answers have methods of their own: a closure in `serve` would make every request,
  // inference included, allocate the scope it captures.

  private serveModels(lane: Lane, reply: Reply, errorBody: ErrorBody, key: LaneKey | null): void {
    listModels(lane.table, key === null ? undefined : (id) => key.allowsListed(id)).then(
      (body) => sendJson(reply, 200, body),
      (error: Error) => internalFailure(reply, this.metrics, errorBody, error),
    );
  }

  private serveMetrics(reply: Reply, errorBody: ErrorBody): void {
    this.control.metricsText().then(
      ({ contentType, body }) => {
        reply.start(200, [["content-type", contentType]]);
        reply.end(body);
      },
      (error: Error) => internalFailure(reply, this.metrics, errorBody, error),
    );
  }
}

/** Configurations that trace to the same place keep the exporter; its queued spans go out either way. */
function exporterFor(
  config: TracingConfig | undefined,
  current: SpanExporter | undefined,
  counts: TraceCounts,
): SpanExporter | undefined {
  if (config === undefined) {
    current?.flush();
    return undefined;
  }
  if (current !== undefined && JSON.stringify(current.config) === JSON.stringify(config)) return current;
  current?.flush();
  return new SpanExporter(config, counts);
}

function allowedOrigin(lane: Lane, origin: string): string {
  const allowed = lane.table.config.client.allowedOrigins;
  if (allowed.includes("*")) return "*";
  return allowed.includes(origin) ? origin : "";
}

function sendJson(reply: Reply, status: number, body: string): void {
  reply.start(status, JSON_TYPE);
  reply.end(body);
}

function notFound(head: RequestHead): GatewayError {
  return gatewayError(
    "unknown_route",
    `No route for ${head.method} ${head.path}. OpenAI-compatible routes live under /v1 (or /openai).`,
  );
}

function unsupportedMediaType(contentType: string): GatewayError {
  const sent =
    contentType === "" ? "no Content-Type" : `Content-Type ${JSON.stringify(contentType.slice(0, 100))}`;
  return gatewayError(
    "unsupported_media_type",
    `The request body must be JSON: send the header "Content-Type: application/json" (got ${sent}).`,
  );
}
