import type { RoutingStrategy } from "../config/types.js";
import type { CompiledProvider } from "../providers/route.js";

// The contract between the attempt loop (which tries candidates, retries and falls back) and the state
// every lane shares about upstreams (circuit breakers, in-flight counts, latency and error averages,
// provider concurrency limits), kept in SharedArrayBuffer by src/shm/.

/** One way to serve a request: a provider key and the model as that provider knows it. */
export interface Candidate {
  readonly provider: CompiledProvider;
  readonly keyIndex: number;
  readonly model: string;
  readonly weight: number;
  /** Lower is tried first under the "priority" strategy. */
  readonly order: number;
}

export type Outcome =
  /** 2xx, or a stream that completed. */
  | "ok"
  /** 429, 5xx, timeout or connection failure: counts against the circuit. */
  | "failure"
  /**
   * Says nothing about the upstream's health: a 4xx the client caused, the client's own (shorter) deadline,
   * the client leaving, a request the upstream client refused before it was sent. Frees a half-open probe's slot.
   */
  | "client-error";

export type Admission =
  | { readonly admitted: true; release(): void }
  | { readonly admitted: false; readonly status: 429 | 503; readonly retryAfterSeconds: number };

export interface UpstreamHealth {
  /**
   * Index into `candidates` of the next one to try by `strategy`, skipping those in `tried` and those
   * whose circuit is open (a half-open circuit admits one probe at a time); -1 when none is left.
   */
  choose(strategy: RoutingStrategy, candidates: readonly Candidate[], tried: ReadonlySet<number>): number;
  /** An attempt on `candidate` started; pair every call with `finished`. */
  started(candidate: Candidate): void;
  finished(candidate: Candidate, outcome: Outcome, latencyMs: number): void;
  /**
   * A candidate `choose` returned was not sent after all (its admission was refused, or the client left while
   * it waited): a half-open probe it held is handed back, with no verdict on the upstream.
   */
  withdrawn(candidate: Candidate): void;
  /** Milliseconds until the first of `candidates` whose circuit is open may be tried; 0 when none is open. */
  reopensInMs(candidates: readonly Candidate[]): number;
  /**
   * A place under the provider's concurrency limit: at once, after waiting in its bounded queue (up to
   * `deadlineMs`), or a refusal when the queue is full or `dropExcess` is set.
   */
  admit(provider: CompiledProvider, deadlineMs: number, dropExcess: boolean): Admission | Promise<Admission>;
}
