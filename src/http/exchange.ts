// The contract between an HTTP backend (uWS or node:http) and the pipeline. Both fronts capture the
// request head up front because uWS only lets handlers read the request synchronously.

export interface RequestHead {
  readonly method: string;
  readonly path: string;
  /** Raw query string without the leading "?" ("" when absent). */
  readonly query: string;
  /** -1 when the client sent no Content-Length (chunked or no body). */
  readonly contentLength: number;
  /** The Content-Type header as sent ("" when absent). */
  readonly contentType: string;
  /** The client's x-request-id when it is a safe token, else a generated one. */
  readonly requestId: string;
  readonly origin: string;
  /** Access-Control-Request-Headers of a preflight, plain tokens only (see header-value.ts); "" for other methods. */
  readonly corsRequestHeaders: string;
  /** The client's `anthropic-beta` flags on /anthropic routes ("" otherwise), passed on to Anthropic. */
  readonly anthropicBeta: string;
  /** The client's `x-switchyard-timeout` in seconds, as sent ("" when absent). */
  readonly timeout: string;
  /**
   * The API key the client presented (see credentials.ts); "" when none, and "" when the gateway asks for
   * no key (the front does not read it then). Never logged.
   */
  readonly apiKey: string;
  /**
   * The values of `HeadNeeds.pluginHeaders`, in the same order, "" for a header not sent; one shared empty
   * array when no plugin reads a header.
   */
  readonly pluginHeaderValues: readonly string[];
  /** The client's W3C `traceparent` as sent, read only when traces are on ("" otherwise). */
  readonly traceparent: string;
  /**
   * The client's `x-switchyard-metadata-<name>` headers as flat name/value pairs (names without the prefix),
   * bounded (see request-head.ts); read only when the request log is on, else one shared empty array.
   */
  readonly metadata: readonly string[];
  /**
   * The values of src/cache/controls.ts's CACHE_REQUEST_HEADERS, in that order, "" for one not sent; read
   * only when the cache is on, else one shared empty array.
   */
  readonly cacheHeaders: readonly string[];
}

/** A request's headers by lower-case name, "" when absent; uWS's HttpRequest is one as it is. */
export interface HeaderSource {
  getHeader(name: string): string;
  /** Every header, names in lower case. */
  forEach(callback: (name: string, value: string) => void): void;
}

export type ResponseHeaders = ReadonlyArray<readonly [string, string]>;

/** How a reply still under way at the drain deadline is ended, in its client's wire format. */
export interface ShutdownNotice {
  /** The whole 503 body (JSON) for a reply that has sent nothing yet. */
  readonly body: string;
  /** The event that ends a started event stream. */
  readonly sseEvent: string;
}

/** Headers of the 503 a reply that has sent nothing gets at the drain deadline. */
export const SHUTDOWN_HEADERS: ResponseHeaders = [
  ["content-type", "application/json"],
  ["retry-after", "1"],
];

/** Whether headers given to `start` open an event stream. */
export function isEventStream(headers: ResponseHeaders): boolean {
  for (const [name, value] of headers) {
    if (name === "content-type") return value.startsWith("text/event-stream");
  }
  return false;
}

/**
 * Ends an exchange still open at the drain deadline: a reply that has sent nothing gets a 503, a started
 * event stream its format's error event, anything else a closed connection. `sent` is what went to
 * `start`, undefined when nothing has gone out yet; it is read only here, so the hot path keeps no state.
 */
export function interruptReply(reply: Reply, sent: ResponseHeaders | undefined): void {
  const notice = reply.shutdownNotice;
  if (sent === undefined) {
    reply.start(503, SHUTDOWN_HEADERS);
    reply.end(notice?.body);
  } else if (notice !== undefined && isEventStream(sent)) {
    reply.end(notice.sseEvent);
  } else {
    reply.destroy();
  }
}

/** Told when a client leaves before its reply has ended (Reply.onAborted). */
export interface AbortListener {
  clientAborted(): void;
}

/** The response side of one exchange. Methods are no-ops once the client has gone away. */
export interface Reply {
  readonly aborted: boolean;
  /** The request's id (x-request-id), named in error messages and logs. */
  readonly requestId: string;
  /** True once the status line has gone out or the reply has ended: an error can no longer replace it. */
  readonly committed: boolean;
  /** Set by the pipeline when the request's Origin is allowed; `start` then adds the CORS headers. */
  corsOrigin: string;
  /**
   * Set by the cache stage to one of its fixed words ("miss", "bypass"); when set, `start` adds it as
   * `x-switchyard-cache`. A hit's headers come with the answer instead.
   */
  cacheStatus: string;
  /** Set by the pipeline from the route's wire format; unset, the 503 has no body and a stream is cut. */
  shutdownNotice: ShutdownNotice | undefined;
  /**
   * `listener` is told at most once, when the client disconnects before the reply has ended. An object
   * rather than a callback: every request's relay listens, and a closure would be one allocation more.
   */
  onAborted(listener: AbortListener): void;
  /** Buffers the whole request body, refusing it past `limit` bytes. */
  readBody(limit: number, callback: (body: Buffer | null, tooLarge: boolean) => void): void;
  /** Writes status and headers; the front adds `x-request-id` and, when `corsOrigin` is set, CORS headers. */
  start(status: number, headers: ResponseHeaders): void;
  /** Writes a chunk; false means the client is not keeping up: wait for `onWritable`. */
  write(chunk: Uint8Array | string): boolean;
  onWritable(callback: () => void): void;
  end(body?: Uint8Array | string): void;
  /** Closes the connection at once, e.g. when an upstream dies mid-response. */
  destroy(): void;
}

export type ExchangeHandler = (head: RequestHead, reply: Reply) => void;

/** What a front needs to know of the gateway while it reads a request head. */
export interface HeadNeeds {
  /** Whether a key is configured, so that the client's key must be read. */
  readonly apiKey: boolean;
  /** Request headers the plugins read (lower case, see PluginChain.requestHeaders), captured with the head. */
  readonly pluginHeaders: readonly string[];
  /** Traces are on, so the client's `traceparent` is read. */
  readonly traceparent: boolean;
  /** The request log is on, so the client's metadata headers are read. */
  readonly metadata: boolean;
  /** The cache is on, so the client's cache headers are read. */
  readonly cache: boolean;
}

export interface HttpFront {
  /** The port actually bound (useful when 0 was asked for). */
  readonly port: number;
  /** Stops accepting connections; exchanges already under way go on. */
  stopListening(): void;
  /**
   * Ends every exchange still under way (the drain deadline has come): a reply that has sent nothing gets a
   * 503, a started event stream its notice's error event, any other started reply a closed connection.
   * Returns how many there were.
   */
  interruptExchanges(): number;
  /** Closes every connection, idle keep-alive ones included; the last step of a drain. */
  closeConnections(): void;
}
