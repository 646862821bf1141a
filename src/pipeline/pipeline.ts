import { type GatewayError, gatewayError } from "../errors.js";
import type { PluginChain } from "../hooks/chain.js";
import type { HookRefusal, RequestVerdict } from "../hooks/plugin.js";
import type { Reply, RequestHead } from "../http/exchange.js";
import { type ErrorBody, internalFailure } from "../http/internal-error.js";
import { rewriteModel, scanRequest } from "../native/index.js";
import type { ScanOk } from "../native/types.js";
import { ExchangeAccount } from "../observability/account.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import { typeForStatus } from "../providers/provider-error.js";
import { type AttemptReport, type AttemptsInput, runAttempts } from "../routing/attempts.js";
import { candidatesFor, type ModelPlan, type PlanCandidate } from "../routing/candidates.js";
import { checkModelName } from "../routing/model-name.js";
import type { RoutingTable } from "../routing/table.js";
import { ByteRelay } from "../upstream/byte-relay.js";
import type { BodyEdit } from "../upstream/h1/exchange.js";
import { checkBodyModels, parseLimitOf, requestDeadline, scanBody } from "./body-fields.js";
import { type CanonicalBody, sendConverted } from "./convert.js";
import { dispatchAttempt, refuse, refusedAttempt } from "./inbound.js";
import { RequestHooks } from "./request-hooks.js";
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
}

export function serveInference(lane: Lane, route: InferenceRoute, head: RequestHead, reply: Reply): void {
  const errorBody = errorBodyIn(route.format);
  if (!authenticate(lane, route.name, head, reply, errorBody)) return;
  readBody(lane, route, head, reply, errorBody, lane.table.config.client.maxRequestBodyBytes, bodyReceived);
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
): void {
  const scanned = scanOwnFields(lane, route, received);
  if ("status" in scanned) {
    refuse(reply, lane.metrics, errorBody, scanned);
    return;
  }
  const plan = resolveCandidates(lane.table, scanned.model);
  if ("status" in plan) {
    refuse(reply, lane.metrics, errorBody, plan);
    return;
  }
  const hooks = requestHooksFor(lane.plugins, route, head, scanned);
  const request = new InboundRequest(lane, route, head, reply, startedAt, scanned, plan, errorBody, hooks);
  runRequestHooks(lane.plugins, request);
}

/**
 * Step 1: the plugins' `authenticate` (the master key among them), before the body is read, so a client
 * without a key never makes the lane buffer or parse anything. Shared with the routes that need a key but
 * take no model (/v1/models, a guarded /metrics).
 */
export function authenticate(
  lane: Lane,
  routeName: string,
  head: RequestHead,
  reply: Reply,
  errorBody: ErrorBody,
): boolean {
  if (!lane.plugins.authenticates) return true;
  const refusal = lane.plugins.authenticate(head.apiKey, routeName);
  if (refusal === undefined) return true;
  refuse(reply, lane.metrics, errorBody, refusalError(refusal, "invalid_api_key"), "policy");
  return false;
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
): void {
  if (head.contentLength > limit) {
    refuseTooLarge(lane, reply, errorBody, limit);
    return;
  }
  reply.readBody(limit, (body, overLimit) => {
    try {
      if (body !== null) onBody(lane, route, head, reply, errorBody, body, performance.now());
      else if (overLimit) refuseTooLarge(lane, reply, errorBody, limit);
    } catch (error) {
      internalFailure(reply, lane.metrics, errorBody, error);
    }
  });
}

function refuseTooLarge(lane: Lane, reply: Reply, errorBody: ErrorBody, limit: number): void {
  refuse(
    reply,
    lane.metrics,
    errorBody,
    gatewayError(
      "request_too_large",
      `The request body is larger than the gateway's limit of ${limit} bytes.`,
    ),
  );
}

export interface Scanned {
  readonly body: Buffer;
  readonly scan: ScanOk;
  readonly model: string;
  readonly stream: boolean;
  readonly fallbacks: readonly string[] | undefined;
  readonly timeoutMs: number;
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
  /** The model the client asked for (checked: see model-name.ts). */
  readonly model: string;
  readonly stream: boolean;
  /** The client's own fallback chain (Bifrost's `fallbacks` body field). */
  readonly fallbacks: readonly string[] | undefined;
  /** The request's deadline in ms, all attempts included; 0 when none. */
  readonly deadlineMs: number;
  /** The body parsed for the convert leg, once a candidate needed it. */
  canonical: CanonicalBody | GatewayError | undefined = undefined;

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
  ) {
    this.table = lane.table;
    this.metrics = lane.metrics;
    this.body = scanned.body;
    this.scan = scanned.scan;
    this.model = scanned.model;
    this.stream = scanned.stream;
    this.fallbacks = scanned.fallbacks;
    this.deadlineMs = requestDeadline(lane.table, head.timeout, scanned.timeoutMs);
  }

  /**
   * Per candidate, not per request: a provider that speaks the client's wire format gets the bytes (byte
   * leg); any other gets the request converted (convert leg). A model group may mix both.
   */
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
  };
}

/** Step 4: the model as its candidates (deployments of a group, keys of a provider), or why there are none. */
function resolveCandidates(table: RoutingTable, model: string): ModelPlan | GatewayError {
  return candidatesFor(table, model);
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
    internalFailure(request.reply, request.metrics, request.errorBody, error);
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
        return;
      }
      applyVerdict(request, settled);
    },
    (error: unknown) => internalFailure(request.reply, request.metrics, request.errorBody, error),
  );
}

function applyVerdict(request: InboundRequest, verdict: RequestVerdict): void {
  if (verdict === undefined) {
    attemptLoop(request);
    return;
  }
  const { reply, metrics } = request;
  if ("answer" in verdict) {
    const { status, headers, body } = verdict.answer;
    if (status < 400) request.hooks?.response(status, body);
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
  const { route, scan } = request;
  const { provider, model } = candidate;
  // The model is rewritten as the body is written to the socket: one copy of the body, not two.
  const edit: BodyEdit | undefined =
    scan.modelType !== "string" || model === scan.model
      ? undefined
      : { start: scan.modelStart, end: scan.modelEnd, replacement: candidate.modelJson };
  const upstream = route.bytes.upstream(candidate, route.upstreamPath, request.body, request.head);
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
  );
  dispatchAttempt(request, candidate, upstream, relay, account, edit);
}

/** The plugins' view of the request, when some plugin looks at requests or replies. */
function requestHooksFor(
  chain: PluginChain,
  route: InferenceRoute,
  head: RequestHead,
  scanned: Scanned,
): RequestHooks | undefined {
  if (!chain.hasRequestHooks && !chain.observesReplies) return undefined;
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
