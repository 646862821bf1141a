import type { RetryClass, RoutingConfig } from "../config/types.js";
import { type GatewayError, gatewayError } from "../errors.js";
import type { AbortListener, Reply, ResponseHeaders } from "../http/exchange.js";
import type { ErrorBody } from "../http/internal-error.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import { type Abortable, DeadlineExceeded } from "../upstream/abort.js";
import { crashFailure } from "../upstream/relay-core.js";
import type { ExchangeReport, ReplyObserver, UpstreamFailure } from "../upstream/report.js";
import type { ModelPlan, PlanCandidate } from "./candidates.js";
import type { Admission, Outcome, UpstreamHealth } from "./health.js";
import {
  backoffMs,
  classifyReply,
  type FailureKind,
  retriesByDefault,
  retryClassOf,
  retryDelayMs,
} from "./retry.js";
import { pick } from "./strategies.js";
import type { RoutingTable } from "./table.js";

// The attempt loop of one request: pick a candidate, send it, and when it fails before anything reached
// the client, try another key or deployment, wait and retry, or move down a fallback chain, within the
// request's deadline. A request with one candidate and nothing to retry takes a shorter way (see
// `needsLoop`): its `SoleAttempt` keeps the circuit and concurrency limit but sets up no loop. The relays
// know none of this: each reports to the attempt it was sent with (an ExchangeReport).

/** The attempt a relay reports to, with what hooks see of it. */
export interface AttemptReport extends ExchangeReport {
  readonly candidate: PlanCandidate;
  /** Retries over the whole request before this attempt. */
  readonly retries: number;
  /** 0 for the requested model, n for the n-th model of its fallback chain. */
  readonly fallbackIndex: number;
}

/** A request as the attempt loop reads it; the pipeline's request record is one. */
export interface AttemptsInput {
  readonly table: RoutingTable;
  readonly metrics: LaneMetrics;
  readonly reply: Reply;
  /** performance.now() when the request body was complete. */
  readonly startedAt: number;
  readonly plan: ModelPlan;
  /** The request's own fallbacks (Bifrost's `fallbacks` body field), replacing the configured chain. */
  readonly fallbacks: readonly string[] | undefined;
  /** The request's total time in milliseconds, all attempts included; 0 when unbounded. */
  readonly deadlineMs: number;
  /** A gateway-made error in the client's format. */
  readonly errorBody: ErrorBody;
  /** The request's hooks, when a plugin observes replies. */
  readonly hooks: ReplyObserver | undefined;
  /** Sends one attempt upstream; its relay reports through `attempt`. */
  send(candidate: PlanCandidate, attempt: AttemptReport): void;
  /** A fallback model as its candidates, narrowed as the request's own model was (its virtual key's models). */
  resolve(model: string): ModelPlan | GatewayError;
}

/**
 * Runs the attempt loop when a second attempt could be needed; otherwise the one candidate is sent as the
 * request's sole attempt.
 */
export function runAttempts(input: AttemptsInput): void {
  if (needsLoop(input.table, input.plan, input.fallbacks, input.deadlineMs)) {
    new AttemptLoop(input).start();
    return;
  }
  new SoleAttempt(input, input.plan.candidates[0] as PlanCandidate).start();
}

/**
 * `input.send` with an unexpected error answered as a 500 that ends the request: the same request would
 * meet the same error at every candidate, so it is neither retried nor sent down a fallback chain.
 */
function sendGuarded(input: AttemptsInput, candidate: PlanCandidate, attempt: AttemptReport): void {
  try {
    input.send(candidate, attempt);
  } catch (error) {
    attempt.failed(crashFailure(input.reply, input.metrics, input.errorBody, error, false));
  }
}

/** What routing makes of a failure: whether to retry, which fallback chain, the provider's health. */
export function failureKind(failure: UpstreamFailure): FailureKind {
  switch (failure.source) {
    case "reply":
      return classifyReply(failure.status, failure.code, failure.message);
    case "transport":
      return failure.timedOut ? "timeout" : "connection";
    case "deadline":
      return "timeout";
    default:
      return "client";
  }
}

/**
 * True when the request needs the loop: more than one candidate, retries or fallbacks configured, or a
 * deadline. Otherwise the one candidate is the only attempt.
 */
export function needsLoop(
  table: RoutingTable,
  plan: ModelPlan,
  requestFallbacks: readonly string[] | undefined,
  deadlineMs: number,
): boolean {
  if (plan.candidates.length !== 1 || deadlineMs > 0) return true;
  if (requestFallbacks !== undefined && requestFallbacks.length > 0) return true;
  const routing = table.config.routing;
  if (routing === undefined)
    return (plan.candidates[0] as PlanCandidate).provider.config.network.maxRetries > 0;
  return (
    routing.numRetries > 0 ||
    hasRetryPolicy(routing) ||
    routing.fallbacks[plan.name] !== undefined ||
    routing.fallbacks["*"] !== undefined ||
    routing.contextWindowFallbacks[plan.name] !== undefined ||
    routing.contentPolicyFallbacks[plan.name] !== undefined
  );
}

function hasRetryPolicy(routing: RoutingConfig): boolean {
  for (const key in routing.retryPolicy) if ((routing.retryPolicy[key as RetryClass] ?? 0) > 0) return true;
  return false;
}

const JSON_TYPE: [string, string] = ["content-type", "application/json"];
/** A Retry-After longer than this is not waited out: the failure (or the fallback chain) answers instead. */
const LONGEST_WAIT_MS = 60_000;
/** Strings of small counts, so the usual response headers are not built per request. */
const COUNTS = Array.from({ length: 16 }, (_, i) => String(i));
const count = (n: number) => COUNTS[n] ?? String(n);

/** The loop over the attempts of one request. */
export class AttemptLoop implements AbortListener {
  private plan: ModelPlan;
  private tried = new Set<number>();
  /** Retries spent on the current model. */
  private retries = 0;
  /** Retries over the whole request, for the response header. */
  private totalRetries = 0;
  private fallbackIndex = 0;
  private chain: readonly string[] | undefined;
  private current: Attempt | undefined;
  private lastFailure: UpstreamFailure | undefined;
  private lastKind: FailureKind | undefined;
  private lastCandidate: PlanCandidate | undefined;
  private waiting: ReturnType<typeof setTimeout> | undefined;
  private deadline: ReturnType<typeof setTimeout> | undefined;
  private deadlineAt = Number.POSITIVE_INFINITY;
  /** Set once the deadline aborted the attempt in flight: its failure is answered with the deadline's 504. */
  private deadlineHit = false;
  /**
   * The deadline is the client's own (header or body `timeout`), shorter than the gateway's: an attempt it
   * cuts short says nothing about the provider, so one client cannot open a circuit for everyone.
   */
  private readonly clientDeadline: boolean;
  /** The soonest an open circuit met on the way reopens, for the Retry-After of a 503 when all were open. */
  private soonestReopenMs = 0;
  private dispatched = 0;
  private done = false;
  private readonly numRetries: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;

  constructor(private readonly input: AttemptsInput) {
    this.plan = input.plan;
    const routing = input.table.config.routing;
    const network = (input.plan.candidates[0] as PlanCandidate).provider.config.network;
    this.numRetries = routing?.numRetries ?? network.maxRetries;
    this.backoffInitialMs = routing?.retryBackoffInitialMs ?? network.retryBackoffInitialMs;
    this.backoffMaxMs = routing?.retryBackoffMaxMs ?? network.retryBackoffMaxMs;
    const own = routing?.timeoutMs ?? 0;
    this.clientDeadline = input.deadlineMs > 0 && (own <= 0 || input.deadlineMs < own);
  }

  start(): void {
    const deadlineMs = this.input.deadlineMs;
    if (deadlineMs > 0) {
      this.deadlineAt = performance.now() + deadlineMs;
      this.deadline = setTimeout(() => this.expire(), deadlineMs);
    }
    this.next(this.choose());
  }

  /** The client left while the loop waited to retry. */
  clientAborted(): void {
    this.close();
  }

  /** Milliseconds left before the deadline (Infinity when there is none). */
  remainingMs(): number {
    return this.deadlineAt - performance.now();
  }

  /** The x-switchyard-* headers for an attempt on `candidate` now. */
  private headersFor(candidate: PlanCandidate): ResponseHeaders {
    if (this.totalRetries === 0 && this.fallbackIndex === 0) return candidate.firstHeaders;
    return [
      ...candidate.identity,
      ["x-switchyard-retries", count(this.totalRetries)],
      ["x-switchyard-fallback-index", count(this.fallbackIndex)],
    ];
  }

  private choose(): number {
    const health = this.input.table.health;
    const candidates = this.plan.candidates;
    if (health !== undefined)
      return health.choose(this.input.table.config.routing?.strategy ?? "weighted", candidates, this.tried);
    return chooseUntried(candidates, this.tried);
  }

  private next(index: number): void {
    if (this.done) return;
    if (this.input.reply.aborted) {
      this.close();
      clientLeft(this.input);
      return;
    }
    if (index < 0) {
      // Every candidate is tried or has its circuit open: the fallback chain, else the last failure stands.
      this.noteOpenCircuits();
      this.exhausted();
      return;
    }
    this.tried.add(index);
    const candidate = this.plan.candidates[index] as PlanCandidate;
    const health = this.input.table.health;
    if (health === undefined) {
      this.dispatch(candidate, undefined);
      return;
    }
    const remaining = this.remainingMs();
    const admission = health.admit(
      candidate.provider,
      Number.isFinite(remaining) ? remaining : candidate.firstByteTimeoutMs,
      this.input.table.config.client.dropExcessRequests,
    );
    if (!(admission instanceof Promise)) {
      this.admitted(candidate, admission);
      return;
    }
    admission.then(
      (result) => this.admitted(candidate, result),
      () => {
        health.withdrawn(candidate);
        this.refuse(503, 1, undefined);
      },
    );
  }

  private noteOpenCircuits(): void {
    const ms = this.input.table.health?.reopensInMs(this.plan.candidates) ?? 0;
    if (ms > 0 && (this.soonestReopenMs === 0 || ms < this.soonestReopenMs)) this.soonestReopenMs = ms;
  }

  private admitted(candidate: PlanCandidate, admission: Admission): void {
    if (!admission.admitted) {
      this.input.table.health?.withdrawn(candidate);
      this.lastCandidate = candidate;
      this.refuse(admission.status, admission.retryAfterSeconds, undefined);
      return;
    }
    if (this.done || this.input.reply.aborted) {
      admission.release();
      this.input.table.health?.withdrawn(candidate);
      if (!this.done) clientLeft(this.input);
      this.close();
      return;
    }
    this.dispatch(candidate, admission);
  }

  private dispatch(candidate: PlanCandidate, admission: Admitted | undefined): void {
    const attempt = new Attempt(
      this,
      candidate,
      this.headersFor(candidate),
      admission,
      this.totalRetries,
      this.fallbackIndex,
    );
    this.current = attempt;
    this.dispatched++;
    this.input.table.health?.started(candidate);
    sendGuarded(this.input, candidate, attempt);
  }

  /** Reported once by each attempt when it is over; `failure` when it was handed back unanswered. */
  ended(attempt: Attempt, status: number, failure: UpstreamFailure | undefined): void {
    if (this.current === attempt) this.current = undefined;
    const kind = failure === undefined ? undefined : failureKind(failure);
    this.input.table.health?.finished(
      attempt.candidate,
      attempt.cutShort && this.clientDeadline ? "client-error" : outcomeOf(status, kind),
      performance.now() - attempt.startedAt,
    );
    if (failure === undefined || kind === undefined) {
      this.close();
      return;
    }
    if (this.done) return;
    this.lastFailure = failure;
    this.lastKind = kind;
    this.lastCandidate = attempt.candidate;
    if (this.deadlineHit || this.remainingMs() <= 0) {
      this.refuse(504, 0, new DeadlineExceeded(this.input.deadlineMs).error);
      return;
    }
    this.retryOrFallBack(failure, kind);
  }

  private retryOrFallBack(failure: UpstreamFailure, kind: FailureKind): void {
    const retryClass = retryClassOf(kind, failure.status);
    const byClass =
      retryClass === undefined ? undefined : this.input.table.config.routing?.retryPolicy[retryClass];
    const allowed = kind === "client" ? 0 : (byClass ?? (retriesByDefault(kind) ? this.numRetries : 0));
    if (this.retries < allowed) {
      // Another key or deployment goes at once; waiting is for when all of them have been tried.
      const untried = this.choose();
      if (untried >= 0) {
        this.retries++;
        this.totalRetries++;
        this.input.metrics.retries++;
        this.next(untried);
        return;
      }
      const delay = retryDelayMs(
        backoffMs(this.retries, this.backoffInitialMs, this.backoffMaxMs),
        failure.retryAfterMs,
        Math.min(this.remainingMs(), LONGEST_WAIT_MS),
      );
      if (delay >= 0) {
        this.retries++;
        this.totalRetries++;
        this.input.metrics.retries++;
        this.tried.clear();
        this.wait(delay);
        return;
      }
    }
    this.exhausted();
  }

  private wait(delayMs: number): void {
    // No attempt is in flight to notice the client leaving.
    this.input.reply.onAborted(this);
    this.waiting = setTimeout(() => {
      this.waiting = undefined;
      this.next(this.choose());
    }, delayMs);
  }

  /** The current model can do no more: the next model of the fallback chain, else the last failure is the answer. */
  private exhausted(): void {
    const failure = this.lastFailure;
    // The client's own mistake is answered as it is, wherever in the chain it happens.
    if (this.lastKind !== "client") {
      this.chain ??= this.chainFor(this.lastKind ?? "server");
      const chain = this.chain;
      while (chain !== undefined && this.fallbackIndex < chain.length) {
        const name = chain[this.fallbackIndex] as string;
        this.fallbackIndex++;
        const plan = this.input.resolve(name);
        if ("status" in plan) continue;
        this.plan = plan;
        this.tried.clear();
        this.retries = 0;
        this.input.metrics.fallbacks++;
        this.next(this.choose());
        return;
      }
    }
    if (failure !== undefined) {
      this.close();
      failure.deliver(this.headersFor(this.lastCandidate ?? (this.plan.candidates[0] as PlanCandidate)));
      return;
    }
    this.refuse(503, this.soonestReopenMs / 1000, undefined);
  }

  private chainFor(kind: FailureKind): readonly string[] | undefined {
    const routing = this.input.table.config.routing;
    const name = this.plan.name;
    if (kind === "context-window") return routing?.contextWindowFallbacks[name];
    if (kind === "content-policy") return routing?.contentPolicyFallbacks[name];
    // "*": LiteLLM's chain for every model without its own.
    return this.input.fallbacks ?? routing?.fallbacks[name] ?? routing?.fallbacks["*"];
  }

  /** The gateway answers the request itself: no capacity (429/503), or out of time (504). */
  private refuse(status: 429 | 503 | 504, retryAfterSeconds: number, error: GatewayError | undefined): void {
    if (this.done) return;
    this.close();
    const candidate = this.lastCandidate ?? (this.plan.candidates[0] as PlanCandidate);
    refuseRequest(this.input, this.headersFor(candidate), candidate, status, retryAfterSeconds, error);
    // Attempts record themselves; a request turned away before any is recorded here.
    if (this.dispatched === 0) this.input.metrics.recordAnswered(status, "policy");
  }

  private expire(): void {
    this.deadline = undefined;
    if (this.done) return;
    const current = this.current;
    if (current === undefined) {
      this.refuse(504, 0, new DeadlineExceeded(this.input.deadlineMs).error);
      return;
    }
    // The attempt's handler reports back: a failure held before any byte (answered with 504 above),
    // or an error event when the stream had started.
    this.deadlineHit = true;
    current.abort(new DeadlineExceeded(this.input.deadlineMs));
  }

  private close(): void {
    this.done = true;
    if (this.deadline !== undefined) clearTimeout(this.deadline);
    if (this.waiting !== undefined) clearTimeout(this.waiting);
    this.deadline = undefined;
    this.waiting = undefined;
  }
}

/** The client left before any provider was asked: the request's observers (and its admission) are told. */
function clientLeft(input: AttemptsInput): void {
  input.hooks?.error(499, null, "client", "The client left before the request was sent.");
}

/** Answers the request with the gateway's own refusal: no capacity (429/503), or out of time (504). */
function refuseRequest(
  input: AttemptsInput,
  attemptHeaders: ResponseHeaders,
  candidate: PlanCandidate,
  status: 429 | 503 | 504,
  retryAfterSeconds: number,
  error: GatewayError | undefined,
): void {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  const body: GatewayError =
    error ??
    (status === 429
      ? gatewayError(
          "rate_limit_exceeded",
          `Too many requests are waiting for ${candidate.provider.name}; retry after ${seconds} s.`,
        )
      : gatewayError(
          "overloaded",
          `${candidate.provider.name} has no capacity for this request now; retry after ${seconds} s.`,
        ));
  const headers: (readonly [string, string])[] = [JSON_TYPE, ...attemptHeaders];
  if (status !== 504) headers.push(["retry-after", String(seconds)]);
  input.reply.start(status, headers);
  input.reply.end(input.errorBody(body));
  input.hooks?.error(status, body.code, "policy", body.message);
  input.metrics.refused(body.code);
}

/**
 * The only attempt of a request with one candidate, nothing to retry and no deadline: the circuit and the
 * provider's concurrency limit are consulted and the outcome reported, as the loop would, with less to set
 * up on every request. Without shared upstream state it goes straight to the provider.
 */
class SoleAttempt implements AttemptReport {
  readonly headers: ResponseHeaders;
  readonly retries = 0;
  readonly fallbackIndex = 0;
  private admission: Admitted | undefined;
  private over = false;

  constructor(
    private readonly input: AttemptsInput,
    readonly candidate: PlanCandidate,
  ) {
    this.headers = candidate.firstHeaders;
  }

  start(): void {
    const health = this.input.table.health;
    if (health === undefined) {
      sendGuarded(this.input, this.candidate, this);
      return;
    }
    const input = this.input;
    const strategy = input.table.config.routing?.strategy ?? "weighted";
    if (health.choose(strategy, input.plan.candidates, NOTHING_TRIED) < 0) {
      this.refuse(503, health.reopensInMs(input.plan.candidates) / 1000);
      return;
    }
    const admission = health.admit(
      this.candidate.provider,
      this.candidate.firstByteTimeoutMs,
      input.table.config.client.dropExcessRequests,
    );
    if (!(admission instanceof Promise)) {
      this.admitted(health, admission);
      return;
    }
    admission.then(
      (result) => this.admitted(health, result),
      () => {
        health.withdrawn(this.candidate);
        this.refuse(503, 1);
      },
    );
  }

  private admitted(health: UpstreamHealth, admission: Admission): void {
    if (!admission.admitted) {
      health.withdrawn(this.candidate);
      this.refuse(admission.status, admission.retryAfterSeconds);
      return;
    }
    if (this.input.reply.aborted) {
      admission.release();
      health.withdrawn(this.candidate);
      clientLeft(this.input);
      return;
    }
    this.admission = admission;
    health.started(this.candidate);
    sendGuarded(this.input, this.candidate, this);
  }

  private refuse(status: 429 | 503, retryAfterSeconds: number): void {
    refuseRequest(this.input, this.headers, this.candidate, status, retryAfterSeconds, undefined);
    this.input.metrics.recordAnswered(status, "policy");
  }

  /** No deadline to enforce: the upstream request ends by its own timeouts or when the client leaves. */
  attach(): void {}

  failed(failure: UpstreamFailure): void {
    if (this.end(failure.status, failure)) failure.deliver(this.headers);
  }

  settled(status: number): void {
    this.end(status, undefined);
  }

  private end(status: number, failure: UpstreamFailure | undefined): boolean {
    if (this.over) return false;
    this.over = true;
    this.admission?.release();
    // The request's start stands for the attempt's: it is the only one, and a clock read less.
    this.input.table.health?.finished(
      this.candidate,
      outcomeOf(status, failure === undefined ? undefined : failureKind(failure)),
      performance.now() - this.input.startedAt,
    );
    return true;
  }
}

const NOTHING_TRIED: ReadonlySet<number> = new Set();

type Admitted = Admission & { readonly admitted: true };

function outcomeOf(status: number, kind: FailureKind | undefined): Outcome {
  if (kind !== undefined) return retriesByDefault(kind) ? "failure" : "client-error";
  if (status < 400) return "ok";
  // 499: the client went away, which says nothing about the upstream.
  return status === 429 || (status >= 500 && status !== 499) ? "failure" : "client-error";
}

/** One attempt of the loop. */
class Attempt implements AttemptReport {
  readonly startedAt = performance.now();
  private upstream: Abortable | undefined;
  private abortedWith: Error | undefined;
  private over = false;

  constructor(
    private readonly loop: AttemptLoop,
    readonly candidate: PlanCandidate,
    readonly headers: ResponseHeaders,
    private readonly admission: Admitted | undefined,
    readonly retries: number,
    readonly fallbackIndex: number,
  ) {}

  attach(upstream: Abortable): void {
    this.upstream = upstream;
    // The deadline passed while the request was still being built (signing, token exchange).
    if (this.abortedWith !== undefined) upstream.abort(this.abortedWith);
  }

  abort(reason: Error): void {
    this.abortedWith = reason;
    this.upstream?.abort(reason);
  }

  /** The request's deadline aborted this attempt. */
  get cutShort(): boolean {
    return this.abortedWith !== undefined;
  }

  failed(failure: UpstreamFailure): void {
    if (this.over) return;
    this.over = true;
    this.admission?.release();
    this.loop.ended(this, failure.status, failure);
  }

  settled(status: number): void {
    if (this.over) return;
    this.over = true;
    this.admission?.release();
    this.loop.ended(this, status, undefined);
  }
}

/**
 * Without shared upstream state: weighted random among the candidates not yet tried (the "weighted"
 * strategy with nothing measured); -1 when all were.
 */
export function chooseUntried(
  candidates: readonly PlanCandidate[],
  tried: ReadonlySet<number>,
  random: () => number = Math.random,
): number {
  const eligible = new Uint8Array(candidates.length);
  for (let i = 0; i < candidates.length; i++) eligible[i] = tried.has(i) ? 0 : 1;
  return pick("weighted", candidates, eligible, {
    inFlight: () => 0,
    latencyUs: () => 0,
    errorPpm: () => 0,
    nextRoundRobin: () => 0,
    random,
  });
}
