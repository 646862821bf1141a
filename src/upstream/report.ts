import type { ErrorClass } from "../errors.js";
import type { ResponseHeaders } from "../http/exchange.js";
import type { Usage } from "../observability/usage.js";
import type { Abortable } from "./abort.js";

// What a relay tells whoever sent its exchange, and what it shows the request's observers. A relay knows
// nothing of retries, fallbacks or breakers: it hands back every failure that reached the client with
// nothing, and the sender (the attempt loop) decides whether the client ever sees it.

/** Why an exchange failed before anything reached the client. */
export type FailureSource =
  /** The provider answered with an error status. */
  | "reply"
  /** The provider could not be reached, broke off, or did not answer in time. */
  | "transport"
  /** The sender's deadline aborted the exchange. */
  | "deadline"
  /** The request could not be sent or built as the client wrote it: its own fault, never the provider's. */
  | "request"
  /** The gateway's own code failed: the same request would fail again anywhere. */
  | "gateway";

export interface UpstreamFailure {
  readonly source: FailureSource;
  readonly status: number;
  /** The provider's error code, or the catalog's for the gateway's own errors; null when none. */
  readonly code: string | number | null;
  readonly message: string;
  /** A transport failure was a timeout (connect, first byte, idle). */
  readonly timedOut: boolean;
  /** The provider's Retry-After in milliseconds; -1 when it gave none. */
  readonly retryAfterMs: number;
  /** Answers the client with this failure, adding the sender's headers. */
  deliver(headers: ResponseHeaders): void;
}

/** The sender's side of one exchange. */
export interface ExchangeReport {
  /** The x-switchyard-* headers this exchange answers with. */
  readonly headers: ResponseHeaders;
  /** Lets the sender abort the upstream request (its deadline), once the client has started it. */
  attach(upstream: Abortable): void;
  /** Nothing reached the client. Called at most once, and then `settled` is not. */
  failed(failure: UpstreamFailure): void;
  /** The exchange answered the client, or broke off after it had started to, with `status`. */
  settled(status: number): void;
}

/**
 * What the request's hooks see of a reply, in the client's wire format. Absent when no plugin observes
 * replies, so the common path calls nothing.
 */
export interface ReplyObserver {
  /**
   * Whether `response` must be shown the usage as it is called (a plugin, governance's settlement, a span or
   * the cache reads it then). When not, a gathered reply's usage is read after its bytes have gone: the
   * object `response` was given is filled before any later turn of the lane's work.
   */
  readonly usageNow: boolean;
  /** A whole reply of status < 400, just before it is sent, with the usage the provider reported. */
  response(status: number, body: Uint8Array | string, usage: Usage | undefined): void;
  /** A piece of a streamed reply as it is sent. */
  chunk(chunk: Uint8Array | string): void;
  /** A streamed reply ended with `status` (499 when the client left), with the usage reported so far. */
  streamEnd(status: number, usage: Usage): void;
  /**
   * The client was answered with an error; `usage` is what a provider reported of a reply that broke off
   * after it had started (undefined when no provider reply reached the client).
   */
  error(
    status: number,
    code: string | number | null,
    errorClass: ErrorClass,
    message: string,
    usage?: Usage,
  ): void;
}
