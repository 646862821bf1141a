// Why an upstream exchange failed below HTTP, as the gateway's own HTTP/1.1 client reports it. The codes
// are what `transport-error.ts` maps to the gateway's answers; they also show in its messages.

export type UpstreamErrorCode =
  /** The request was never sent: a header or path the client will not write. The request's fault. */
  | "UPSTREAM_INVALID_REQUEST"
  | "UPSTREAM_CONNECT_TIMEOUT"
  /** No response head within the first-byte timeout. */
  | "UPSTREAM_HEADERS_TIMEOUT"
  /** No body bytes within the idle timeout. */
  | "UPSTREAM_BODY_TIMEOUT"
  /** The provider closed the connection before its reply was complete. */
  | "UPSTREAM_CLOSED"
  /** The reply is not HTTP/1.1 the client can read (a bad head, bad chunk framing, bytes nobody asked for). */
  | "UPSTREAM_BAD_REPLY"
  /** The pool was closed with the exchange still open. */
  | "UPSTREAM_POOL_CLOSED";

export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A reply that breaks HTTP/1.1's framing; the connection it came on cannot be trusted any more. */
export function badReply(message: string): UpstreamError {
  return new UpstreamError("UPSTREAM_BAD_REPLY", message);
}
