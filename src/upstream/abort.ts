import { type GatewayError, gatewayError } from "../errors.js";

// Reasons an upstream request is aborted from outside its relay. The relay tells them apart: a client that
// left is no failure of anyone's, a passed deadline is the sender's verdict, not the provider's.

/** The client went away: the upstream request is dropped and the exchange recorded as 499. */
export class ClientGone extends Error {
  constructor() {
    super("client disconnected");
  }
}

/** The request's total deadline passed while this exchange was under way. */
export class DeadlineExceeded extends Error {
  readonly error: GatewayError;
  constructor(timeoutMs: number) {
    super("the request's deadline passed");
    this.error = gatewayError(
      "request_timeout",
      `The request did not complete within its timeout of ${timeoutMs / 1000} s.`,
    );
  }
}

export interface Abortable {
  abort(reason: Error): void;
}
