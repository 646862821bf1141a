import { type ErrorClass, errorClassOf, type GatewayError, gatewayError } from "../errors.js";
import type { MasterKey } from "../hooks/builtin/master-key.js";
import type { PluginChain } from "../hooks/chain.js";
import type { HookRefusal, RequestVerdict } from "../hooks/plugin.js";
import type { Reply, RequestHead } from "../http/exchange.js";
import { type ErrorBody, internalFailure } from "../http/internal-error.js";
import { rewriteModel, scanRequest } from "../native/index.js";
import type { ScanOk } from "../native/types.js";
import { ExchangeAccount } from "../observability/account.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import { RequestTrace } from "../observability/tracing/request-trace.js";
import type { SpanExporter } from "../observability/tracing/span-exporter.js";
import { typeForStatus } from "../providers/provider-error.js";
import { type AttemptReport, type AttemptsInput, runAttempts } from "../routing/attempts.js";
import { candidatesFor, type ModelPlan, type PlanCandidate } from "../routing/candidates.js";
import { checkModelName } from "../routing/model-name.js";
import type { RoutingTable } from "../routing/table.js";
import { ByteRelay } from "../upstream/byte-relay.js";
import type { BodyEdit } from "../upstream/h1/exchange.js";
import { UsageEventStrip } from "../upstream/usage-strip.js";
import { checkBodyModels, parseLimitOf, requestDeadline, scanBody } from "./body-fields.js";
import { serveFromCache } from "./cache/cache-stage.js";
import type { LaneCache } from "./cache/lane-cache.js";
import { type CanonicalBody, sendConverted } from "./convert.js";
import type { Admission } from "./governance/admission.js";
import type { LaneGovernance, LaneKey } from "./governance/lane-governance.js";
import { dispatchAttempt, refuse, refusedAttempt } from "./inbound.js";
import { RequestHooks } from "./request-hooks.js";
import { type LaneRequestLog, type LoggedBody, LoggedRequest, partyOf } from "./request-log.js";
import { errorBodyIn, type InferenceRoute } from "./routes.js";

// One inference request, every route and every provider, top to bottom:
//
//   authenticate → read the body → scan the gateway's own fields → resolve the model to candidates
//   → request hooks (may answer) → the attempt loop, per candidate the byte leg or the convert leg
//   → reply hooks (whole reply, each stream chunk, stream end, errors) and accounting, in the relays.
//
// Each step is a function below, in that order. Nothing takes a way around the attempt loop: retries,
// fallbacks, breakers, concurrency limits, deadlines and x-switchyard-* headers hold on every route.

/** What a lane serves requests with; swapped whole when the configuration changes. */
export interface Lane {
  readonly table: RoutingTable;
  readonly metrics: LaneMetrics;
  readonly plugins: PluginChain;
  readonly governance: LaneGovernance;
  /** The key the management API requires (the master key); absent, the management API is shut. */
  readonly adminKey: MasterKey | undefined;
  /** Where the lane's spans go; absent when traces are off. */
  readonly tracing: SpanExporter | undefined;
  /** Where the lane's request records go; absent when the request log is off. */
  readonly requestLog: LaneRequestLog | undefined;
  /** The answer cache; absent when it is off. */
  readonly cache: LaneCache | undefined;
}

export function serveInference(lane: Lane, route: InferenceRoute, head: RequestHead, reply: Reply): void {
  const errorBody = errorBodyIn(route.format);
  const key = identifyClient(lane, route.name, head);
  if (key !== null && "status" in key) {
    refuseInference(lane, route, head, reply, errorBody, key, "policy", null, "", undefined, -1);
    return;
  }
  readBody(
    lane,
    route,
    head,
    reply,
    errorBody,
    lane.table.config.client.maxRequestBodyBytes,
    bodyReceived,
    key,
    true,
  );
}

/**
 * An inference request the gateway refuses before its hooks exist (no key, too large, bad JSON, unknown
 * model, over a limit): the client's error, and the request's record and span, so refusals show in the log
 * and the traces like any other request. `startedAt` is -1 before the body was read.
 */
function refuseInference(
  lane: Lane,
  route: InferenceRoute,
  head: RequestHead,
  reply: Reply,
  errorBody: ErrorBody,
  error: GatewayError,
  errorClass: ErrorClass,
  key: LaneKey | null,
  model: string,
  body: LoggedBody | undefined,
  startedAt: number,
): void {
  refuse(reply, lane.metrics, errorBody, error, errorClass);
  lane.requestLog?.writeRefusal(head, route, partyOf(key), model, body, error, errorClass, startedAt);
  if (lane.tracing !== undefined)
    new RequestTrace(lane.tracing, head.traceparent, route.operation, model, key?.data.id ?? "").end(
      error.status,
      undefined,
      String(error.code ?? error.status),
    );
}

/** Steps 3 to 6, once the body is in. */
function bodyReceived(
  lane: Lane,
  route: InferenceRoute,
  head: RequestHead,
  reply: Reply,
  errorBody: ErrorBody,
  received: Buffer,
  startedAt: number,
  key: LaneKey | null,
): void {
  const scanned = scanOwnFields(lane, route, received);
  if ("status" in scanned) {
    refuseInference(
      lane,
      route,
      head,
      reply,
      errorBody,
      scanned,
      errorClassOf(scanned.code),
      key,
      "",
      { body: received, scan: undefined },
      startedAt,
    );
    return;
  }
  const plan = resolveCandidates(lane.table, scanned.model, key);
  if ("status" in plan) {
    refuseInference(
      lane,
      route,
      head,
      reply,
      errorBody,
      plan,
      errorClassOf(plan.code),
      key,
      scanned.model,
      scanned,
      startedAt,
    );
    return;
  }
  if (key === null) {
    admitted(lane, route, head, reply, errorBody, scanned, plan, key, startedAt, undefined);
    return;
  }
  const admission = admit(lane, key, plan, head, scanned);
  if (!(admission instanceof Promise)) {
    admitted(lane, route, head, reply, errorBody, scanned, plan, key, startedAt, admission);
    return;
  }
  // Cluster mode, short of lease: the control plane asks Redis for more while the request waits.
  admission
    .then((outcome) => {
      if (!reply.aborted || "status" in outcome) {
        admitted(lane, route, head, reply, errorBody, scanned, plan, key, startedAt, outcome);
        return;
      }
      // The client left while it waited: counted and logged like any request it left; what was reserved
      // goes back, and nothing reached a provider.
      lane.metrics.recordAnswered(499, "client");
      requestHooksFor(lane, route, head, scanned, outcome, key, startedAt)?.error(
        499,
        null,
        "client",
        "The client left while its limits were checked.",
      );
    })
    .catch((error: unknown) => internalFailure(reply, lane.metrics, errorBody, error));
}

/** Step 5 on, once governance has answered: refused, or on to the cache and the plugins. */
function admitted(
  lane: Lane,
  route: InferenceRoute,
  head: RequestHead,
  reply: Reply,
  errorBody: ErrorBody,
  scanned: Scanned,
  plan: ModelPlan,
  key: LaneKey | null,
  startedAt: number,
  outcome: Admission | GatewayError | undefined,
): void {
  if (outcome !== undefined && "status" in outcome) {
    refuseInference(
      lane,
      route,
      head,
      reply,
      errorBody,
      outcome,
      errorClassOf(outcome.code),
      key,
      scanned.model,
      scanned,
      startedAt,
    );
    return;
  }
  const admission = outcome;
  const hooks = requestHooksFor(lane, route, head, scanned, admission, key, startedAt);
  const request = new InboundRequest(
    lane,
    route,
    head,
    reply,
    startedAt,
    scanned,
    plan,
    errorBody,
    hooks,
    key,
  );
  if (admission !== undefined) request.asksUsage = asksUsageFor(route, scanned);
  const cache = lane.cache;
  if (cache === undefined) runRequestHooks(lane.plugins, request);
  else serveFromCache(cache, request, key, () => runRequestHooks(lane.plugins, request));
}

/**
 * Step 1: who the client is, before the body is read, so a client without a key never makes the lane
 * buffer or parse anything. A virtual key is governance's (its limits and budgets apply from step 5 on);
 * any other key is the plugins' `authenticate` (the master key among them). When virtual keys are
 * required, only the master key stands in for one. Answers the key, null for a client accepted without
 * one, or why it is refused (a refusal of the gateway's policy).
 */
export function identifyClient(
  lane: Lane,
  routeName: string,
  head: RequestHead,
): LaneKey | null | GatewayError {
  const governance = lane.governance;
  if (governance.enforcing) {
    const key = governance.identify(head.apiKey, Date.now());
    if (key !== undefined) return key;
    if (governance.requireVirtualKey && !lane.plugins.authenticates) return virtualKeyRequired(head.apiKey);
  }
  if (!lane.plugins.authenticates) return null;
  const refusal = lane.plugins.authenticate(head.apiKey, routeName);
  return refusal === undefined ? null : refusalError(refusal, "invalid_api_key");
}

/**
 * Step 1 for the routes that take no model (/v1/models, count_tokens, a guarded /metrics): the client's key,
 * null without one, or false once refused.
 */
export function authenticate(
  lane: Lane,
  routeName: string,
  head: RequestHead,
  reply: Reply,
  errorBody: ErrorBody,
): LaneKey | null | false {
  const key = identifyClient(lane, routeName, head);
  if (key === null || !("status" in key)) return key;
  refuse(reply, lane.metrics, errorBody, key, "policy");
  return false;
}

function virtualKeyRequired(presented: string): GatewayError {
  return gatewayError(
    "invalid_api_key",
    presented === ""
      ? "This gateway requires a virtual key: send it as 'Authorization: Bearer <key>' (or x-api-key, x-goog-api-key, api-key, x-bf-vk)."
      : "The API key is not a valid virtual key of this gateway.",
  );
}

/**
 * What runs once a request's body is in (`startedAt` is when); a plain function of the request's parts,
 * not a closure over them, which would be one more allocation for every request.
 */
export type BodyHandler = (
  lane: Lane,
  route: InferenceRoute,
  head: RequestHead,
  reply: Reply,
  errorBody: ErrorBody,
  body: Buffer,
  startedAt: number,
  /** The client's virtual key (null when it has none): see identifyClient. */
  key: LaneKey | null,
) => void;

/** Step 2: the whole body, within `limit`; `onBody` runs guarded (a bug costs one 500). */
export function readBody(
  lane: Lane,
  route: InferenceRoute,
  head: RequestHead,
  reply: Reply,
  errorBody: ErrorBody,
  limit: number,
  onBody: BodyHandler,
  key: LaneKey | null,
  /** An inference request: its refusal is logged and traced. */
  inference: boolean,
): void {
  if (head.contentLength > limit) {
    refuseTooLarge(lane, route, head, reply, errorBody, limit, key, inference);
    return;
  }
  reply.readBody(limit, (body, overLimit) => {
    try {
      if (body !== null) onBody(lane, route, head, reply, errorBody, body, performance.now(), key);
      else if (overLimit) refuseTooLarge(lane, route, head, reply, errorBody, limit, key, inference);
    } catch (error) {
      internalFailure(reply, lane.metrics, errorBody, error);
    }
  });
}

function refuseTooLarge(
  lane: Lane,
  route: InferenceRoute,
  head: RequestHead,
  reply: Reply,
  errorBody: ErrorBody,
  limit: number,
  key: LaneKey | null,
  inference: boolean,
): void {
  const error = gatewayError(
    "request_too_large",
    `The request body is larger than the gateway's limit of ${limit} bytes.`,
  );
  if (inference)
    refuseInference(lane, route, head, reply, errorBody, error, "client", key, "", undefined, -1);
  else refuse(reply, lane.metrics, errorBody, error);
}

export interface Scanned {
  readonly body: Buffer;
  readonly scan: ScanOk;
  readonly model: string;
  readonly stream: boolean;
  readonly fallbacks: readonly string[] | undefined;
  readonly timeoutMs: number;
  /** The body's `cache` controls as sent (LiteLLM's); undefined when absent. */
  readonly cacheControls: unknown;
}

/**
 * One inference request as the later steps carry it, and as the attempt loop reads it: each attempt it
 * sends takes the candidate's leg (`send`).
 */
export class InboundRequest implements AttemptsInput {
  readonly table: RoutingTable;
  readonly metrics: LaneMetrics;
  /** The body as the client sent it, the gateway's own fields taken out (and a path's model put in). */
  readonly body: Buffer;
  /** The body's scan: where its model is, for the byte leg's rewrite. */
  readonly scan: ScanOk;
  /** The body's `cache` member as sent, for the cache's controls. */
  readonly cacheControls: unknown;
  /** The model the client asked for (checked: see model-name.ts). */
  readonly model: string;
  readonly stream: boolean;
  /** The client's own fallback chain (Bifrost's `fallbacks` body field). */
  readonly fallbacks: readonly string[] | undefined;
  /** The request's deadline in ms, all attempts included; 0 when none. */
  readonly deadlineMs: number;
  /** The body parsed for the convert leg, once a candidate needed it. */
  canonical: CanonicalBody | GatewayError | undefined = undefined;
  /**
   * The byte leg asks the provider for the stream's usage the client did not ask for (governance charges
   * from it) and takes it out of the client's stream again.
   */
  asksUsage = false;
  /** The body with `stream_options.include_usage` added, and its scan; made at the first byte-leg attempt. */
  private usageBody: { body: Buffer; scan: ScanOk } | undefined;

  constructor(
    lane: Lane,
    readonly route: InferenceRoute,
    readonly head: RequestHead,
    readonly reply: Reply,
    /** performance.now() when the body was complete: the gateway's own time starts here. */
    readonly startedAt: number,
    scanned: Scanned,
    /** The model's candidates (deployments of a group, keys of a provider). */
    readonly plan: ModelPlan,
    /** A gateway-made error in the client's wire format. */
    readonly errorBody: ErrorBody,
    /** The plugins' view of this request; absent when no plugin has request or reply hooks. */
    readonly hooks: RequestHooks | undefined,
    /** The client's virtual key: fallback models are narrowed by it too. */
    private readonly key: LaneKey | null,
  ) {
    this.table = lane.table;
    this.metrics = lane.metrics;
    this.body = scanned.body;
    this.scan = scanned.scan;
    this.model = scanned.model;
    this.stream = scanned.stream;
    this.fallbacks = scanned.fallbacks;
    this.cacheControls = scanned.cacheControls;
    this.deadlineMs = requestDeadline(lane.table, head.timeout, scanned.timeoutMs);
  }

  /**
   * Per candidate, not per request: a provider that speaks the client's wire format gets the bytes (byte
   * leg); any other gets the request converted (convert leg). A model group may mix both.
   */
  resolve(model: string): ModelPlan | GatewayError {
    return resolveCandidates(this.table, model, this.key);
  }

  /** The body and scan the byte leg sends. */
  bytesToSend(): { body: Buffer; scan: ScanOk } {
    if (!this.asksUsage) return this;
    if (this.usageBody === undefined) {
      const body = withUsageRequested(this.body);
      const scan = scanRequest(body);
      this.usageBody = scan.ok ? { body, scan } : this;
    }
    return this.usageBody;
  }

  send(candidate: PlanCandidate, attempt: AttemptReport): void {
    this.hooks?.attempting(attempt);
    if (this.route.bytes.takes(candidate.provider.config.kind)) sendBytes(this, candidate, attempt);
    else sendConverted(this, candidate, attempt);
  }
}

/**
 * Step 3: the body's JSON is checked and scanned (natively) for the model, the stream flag and the
 * gateway's own fields (`fallbacks`, `timeout`), which are taken out before any provider sees the body.
 * Model names are checked here, before resolution: caches, metric labels and headers see checked names only.
 */
export function scanOwnFields(lane: Lane, route: InferenceRoute, received: Buffer): Scanned | GatewayError {
  const { pathModel, modelFrom } = route;
  const { body, scan, fields, refusal } = scanBody(
    modelFrom === "path-into-body" && pathModel !== undefined ? withModel(received, pathModel) : received,
    parseLimitOf(lane.table),
  );
  if (refusal !== undefined) return refusal;
  if (!scan.ok) return gatewayError("invalid_json", `The request body is not valid JSON: ${scan.error}`);
  const invalid = checkBodyModels(scan, fields);
  if (invalid !== undefined) return invalid;
  let model: string;
  if (modelFrom === "path" && pathModel !== undefined) {
    // Gemini's routes: the model is the path's, whatever the body says.
    const unsafe = checkModelName(pathModel);
    if (unsafe !== undefined) return unsafe;
    model = pathModel;
  } else if (scan.modelType === "string" && scan.model !== undefined && scan.model !== "") {
    model = scan.model;
  } else {
    return scan.modelType === "other"
      ? gatewayError("invalid_type", "'model' must be a string", "model")
      : gatewayError("missing_model", "you must provide a model parameter", "model");
  }
  return {
    body,
    scan,
    model,
    stream: route.pathStream ?? scan.stream === true,
    fallbacks: fields?.fallbacks,
    timeoutMs: fields?.timeoutMs ?? 0,
    cacheControls: fields?.cache,
  };
}

/**
 * Step 4: the model as its candidates (deployments of a group, keys of a provider), narrowed to what the
 * virtual key may use, or why there are none.
 */
function resolveCandidates(
  table: RoutingTable,
  model: string,
  key: LaneKey | null,
): ModelPlan | GatewayError {
  const plan = candidatesFor(table, model);
  return key === null || "status" in plan ? plan : key.permit(plan);
}

/**
 * Step 5, governance's part (before the plugins' onRequest, so that a plugin's answer is counted too): the
 * request's place under every limit and budget of its key, team and customer, reserved from its estimate.
 */
function admit(
  lane: Lane,
  key: LaneKey,
  plan: ModelPlan,
  head: RequestHead,
  scanned: Scanned,
): Admission | GatewayError | Promise<Admission | GatewayError> {
  // The estimate covers every model the request may end on: a fallback may be dearer than its model.
  return lane.governance.admit(key, withFallbacks(lane.table, plan, scanned.fallbacks, key), {
    requestId: head.requestId,
    model: scanned.model,
    stream: scanned.stream,
    body: scanned.body,
  });
}

/**
 * Step 5: the plugins' `onRequest`, in order; one may answer on its own (a cache hit) or refuse. The
 * attempt loop runs when none does, synchronously when no plugin is asynchronous.
 */
function runRequestHooks(chain: PluginChain, request: InboundRequest): void {
  const hooks = request.hooks;
  if (hooks === undefined || !chain.hasRequestHooks) {
    attemptLoop(request);
    return;
  }
  let verdict: RequestVerdict | Promise<RequestVerdict>;
  try {
    verdict = chain.onRequest(hooks);
  } catch (error) {
    failBeforeAttempts(request, error);
    return;
  }
  if (!(verdict instanceof Promise)) {
    applyVerdict(request, verdict);
    return;
  }
  awaitVerdict(request, verdict);
}

/** Apart from runRequestHooks so that its closures' scope is made only for a plugin that is asynchronous. */
function awaitVerdict(request: InboundRequest, verdict: Promise<RequestVerdict>): void {
  verdict.then(
    (settled) => {
      if (request.reply.aborted) {
        request.metrics.recordAnswered(499, "client");
        request.hooks?.error(499, null, "client", "The client left before the request was sent.");
        return;
      }
      applyVerdict(request, settled);
    },
    (error: unknown) => failBeforeAttempts(request, error),
  );
}

/** A plugin's onRequest threw (a required plugin): a 500, and the request's hooks and admission told so. */
function failBeforeAttempts(request: InboundRequest, error: unknown): void {
  internalFailure(request.reply, request.metrics, request.errorBody, error);
  request.hooks?.error(500, "internal_error", "gateway", "A plugin failed before the request was sent.");
}

function applyVerdict(request: InboundRequest, verdict: RequestVerdict): void {
  if (verdict === undefined) {
    attemptLoop(request);
    return;
  }
  const { reply, metrics } = request;
  if ("answer" in verdict) {
    const { status, headers, body, cache } = verdict.answer;
    if (cache === true) {
      metrics.cacheHits++;
      request.hooks?.answeredFromCache("exact", 0);
    }
    if (status < 400) request.hooks?.response(status, body, undefined);
    reply.start(status, headers);
    reply.end(body);
    metrics.recordAnswered(status, status < 400 ? "" : "policy");
    return;
  }
  const error = refusalError(verdict.refuse, "request_refused");
  refuse(reply, metrics, request.errorBody, error, "policy");
  request.hooks?.error(error.status, error.code, "policy", error.message);
}

/** Step 6: the attempt loop; each attempt takes the candidate's leg (InboundRequest.send). */
export function attemptLoop(request: InboundRequest): void {
  runAttempts(request);
}

/** The byte leg: the body as sent, the model rewritten to the candidate's, relayed back as it comes. */
function sendBytes(request: InboundRequest, candidate: PlanCandidate, attempt: AttemptReport): void {
  const { route } = request;
  const { body, scan } = request.bytesToSend();
  const { provider, model } = candidate;
  // The model is rewritten as the body is written to the socket: one copy of the body, not two.
  const edit: BodyEdit | undefined =
    scan.modelType !== "string" || model === scan.model
      ? undefined
      : { start: scan.modelStart, end: scan.modelEnd, replacement: candidate.modelJson };
  const upstream = route.bytes.upstream(candidate, route.upstreamPath, body, request.head);
  if ("status" in upstream) {
    attempt.failed(refusedAttempt(request, upstream));
    return;
  }
  const account = new ExchangeAccount(request.metrics, provider.name, model, request.startedAt);
  const relay = new ByteRelay(
    request.reply,
    provider.name,
    provider.keys[candidate.keyIndex]?.value ?? "",
    account,
    route.bytes.errors,
    attempt,
    request.hooks,
    request.asksUsage ? new UsageEventStrip() : undefined,
  );
  dispatchAttempt(request, candidate, upstream, relay, account, edit);
}

/**
 * `plan` with the candidates of every model its fallback chains name (the request's own `fallbacks`, else the
 * configured chain, and the context-window and content-policy chains), as far as the key allows them.
 */
function withFallbacks(
  table: RoutingTable,
  plan: ModelPlan,
  requested: readonly string[] | undefined,
  key: LaneKey,
): ModelPlan {
  const routing = table.config.routing;
  const chains = [
    requested ?? routing?.fallbacks[plan.name] ?? routing?.fallbacks["*"],
    routing?.contextWindowFallbacks[plan.name],
    routing?.contentPolicyFallbacks[plan.name],
  ];
  let candidates: PlanCandidate[] | undefined;
  for (const chain of chains) {
    for (const name of chain ?? []) {
      const fallback = resolveCandidates(table, name, key);
      if ("status" in fallback) continue;
      candidates ??= [...plan.candidates];
      candidates.push(...fallback.candidates);
    }
  }
  return candidates === undefined ? plan : { name: plan.name, candidates };
}

/**
 * The plugins' view of the request, when some plugin looks at requests or replies, or governance, traces or
 * the request log follow it.
 */
function requestHooksFor(
  lane: Lane,
  route: InferenceRoute,
  head: RequestHead,
  scanned: Scanned,
  admission: Admission | undefined,
  key: LaneKey | null,
  startedAt: number,
): RequestHooks | undefined {
  const chain = lane.plugins;
  const { tracing, requestLog } = lane;
  if (
    !chain.hasRequestHooks &&
    !chain.observesReplies &&
    admission === undefined &&
    tracing === undefined &&
    requestLog === undefined &&
    lane.cache === undefined
  )
    return undefined;
  return new RequestHooks(
    chain,
    head.requestId,
    route.name,
    route.format.name,
    scanned.model,
    scanned.stream,
    scanned.body,
    chain.requestHeaders,
    head.pluginHeaderValues,
    admission,
    tracing === undefined
      ? undefined
      : new RequestTrace(tracing, head.traceparent, route.operation, scanned.model, admission?.keyId ?? ""),
    requestLog === undefined
      ? undefined
      : new LoggedRequest(
          requestLog,
          head,
          route,
          scanned.model,
          scanned.stream,
          partyOf(key),
          scanned.body,
          scanned.scan,
          startedAt,
        ),
  );
}

/** A plugin's refusal as the gateway's error, its status and code kept within bounds. */
function refusalError(
  refusal: HookRefusal,
  fallbackCode: "invalid_api_key" | "request_refused",
): GatewayError {
  const status =
    Number.isInteger(refusal.status) && refusal.status >= 400 && refusal.status <= 599 ? refusal.status : 403;
  const code = /^[A-Za-z0-9_.-]{1,64}$/.test(refusal.code) ? refusal.code : fallbackCode;
  const base = gatewayError(fallbackCode, String(refusal.message).slice(0, 1000), null, refusal.headers);
  if (base.status === status && code === fallbackCode && refusal.type === undefined) return base;
  return { ...base, status, code, type: refusal.type ?? typeForStatus(status) };
}

/** The body with `model` set to the one a deployment path names (LiteLLM lets the path win). */
function withModel(body: Buffer, model: string): Buffer {
  const scan = scanRequest(body);
  if (!scan.ok) return body;
  if (scan.modelType === "string") return rewriteModel(body, scan.modelStart, scan.modelEnd, model);
  const parsed: unknown = JSON.parse(body.toString("utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return body;
  return Buffer.from(JSON.stringify({ ...parsed, model }));
}

const STREAM_OPTIONS = Buffer.from('"stream_options"');
const USAGE_REQUESTED = Buffer.from('"stream_options":{"include_usage":true},');

/**
 * An OpenAI chat or completions stream reports usage only when asked: governance asks when the client did
 * not. A body that names stream_options anywhere (even in a message) is left as it is; the stream's tokens
 * are then counted from what is relayed if no usage comes.
 */
function asksUsageFor(route: InferenceRoute, scanned: Scanned): boolean {
  return (
    scanned.stream &&
    route.format.name === "openai" &&
    (route.operation === "chat" || route.operation === "completions") &&
    scanned.body.indexOf(STREAM_OPTIONS) < 0
  );
}

/** The body with `"stream_options":{"include_usage":true}` as its first member. */
function withUsageRequested(body: Buffer): Buffer {
  const open = body.indexOf(0x7b);
  let next = open + 1;
  while (
    next < body.length &&
    (body[next] === 0x20 || body[next] === 0x0a || body[next] === 0x0d || body[next] === 0x09)
  )
    next++;
  // An empty object gets the member without the comma.
  const insert =
    body[next] === 0x7d ? USAGE_REQUESTED.subarray(0, USAGE_REQUESTED.length - 1) : USAGE_REQUESTED;
  return Buffer.concat([body.subarray(0, open + 1), insert, body.subarray(open + 1)]);
}
