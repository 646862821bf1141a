import { rootCertificates } from "node:tls";
import { type ConnectionOwner, type ConnectionTarget, H1Connection } from "./connection.js";
import { UpstreamError } from "./errors.js";
import type { UpstreamController, UpstreamHandler, UpstreamRequestOptions } from "./exchange.js";
import { headLength } from "./request-head.js";

// Keep-alive connections to one origin, one per concurrent request (the gateway's own admission limits how
// many). Free connections wait on a stack, so taking one is O(1) however many are open, and the ones at its
// bottom, idle longest, are the ones that time out when load falls.

export interface PoolOptions {
  readonly connectTimeoutMs: number;
  /** How long an idle connection is kept when the provider sends no Keep-Alive hint. */
  readonly keepAliveMs: number;
  /** PEM certificates trusted besides the system's roots. */
  readonly caCertPem?: string | undefined;
}

export class H1Pool implements ConnectionOwner {
  private readonly target: ConnectionTarget;
  private readonly idleStack: H1Connection[] = [];
  private readonly open = new Set<H1Connection>();
  private closing = false;
  tlsSession: Buffer | undefined;

  constructor(origin: string, options: PoolOptions) {
    this.target = targetOf(origin, options);
  }

  /** Connections open now, busy or idle. */
  get connections(): number {
    return this.open.size;
  }

  /**
   * Sends one request. A request the client will not write (a header with a line break in it) is refused
   * before any connection is taken: the handler hears onRequestStart, then onResponseError with
   * UPSTREAM_INVALID_REQUEST.
   */
  dispatch(request: UpstreamRequestOptions, handler: UpstreamHandler): void {
    const body = request.body;
    const edit = request.bodyEdit;
    const bodyLength =
      body === undefined
        ? -1
        : typeof body === "string"
          ? Buffer.byteLength(body)
          : edit === undefined
            ? body.length
            : body.length - (edit.end - edit.start) + edit.replacement.length;
    let head: number;
    try {
      head = headLength(request, this.target.hostLine, bodyLength);
    } catch (error) {
      handler.onRequestStart(UNSENT);
      handler.onResponseError(UNSENT, error as Error);
      return;
    }
    this.take().send(request, head, bodyLength, handler);
  }

  idle(connection: H1Connection): void {
    if (this.closing) {
      connection.destroy(POOL_CLOSED);
      return;
    }
    connection.idleIndex = this.idleStack.length;
    this.idleStack.push(connection);
  }

  gone(connection: H1Connection): void {
    this.open.delete(connection);
    const at = connection.idleIndex;
    if (at < 0) return;
    connection.idleIndex = -1;
    const last = this.idleStack.pop() as H1Connection;
    if (last !== connection) {
      this.idleStack[at] = last;
      last.idleIndex = at;
    }
  }

  /** No new connections stay open: idle ones close now, busy ones when their exchange is over. */
  close(): void {
    this.closing = true;
    for (const connection of this.idleStack.splice(0)) {
      connection.idleIndex = -1;
      connection.destroy(POOL_CLOSED);
    }
  }

  /** Every connection closes now; exchanges still open fail with UPSTREAM_POOL_CLOSED. */
  destroy(): void {
    this.close();
    for (const connection of this.open) connection.destroy(POOL_CLOSED);
    this.open.clear();
  }

  private take(): H1Connection {
    for (;;) {
      const connection = this.idleStack.pop();
      if (connection === undefined) break;
      connection.idleIndex = -1;
      if (connection.usable) return connection;
    }
    const connection = new H1Connection(this.target, this);
    this.open.add(connection);
    return connection;
  }
}

const POOL_CLOSED = new UpstreamError(
  "UPSTREAM_POOL_CLOSED",
  "the gateway closed its connections to the provider",
);

/** The controller of a request refused before it had a connection: there is nothing left to steer. */
const UNSENT: UpstreamController = { abort() {}, pause() {}, resume() {} };

function targetOf(origin: string, options: PoolOptions): ConnectionTarget {
  const url = new URL(origin);
  const tls = url.protocol === "https:";
  if (!tls && url.protocol !== "http:")
    throw new Error(`an upstream origin must be http or https: ${origin}`);
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return {
    host,
    port: url.port === "" ? (tls ? 443 : 80) : Number(url.port),
    tls,
    hostLine: `host: ${url.host}\r\n`,
    connectTimeoutMs: options.connectTimeoutMs,
    keepAliveMs: options.keepAliveMs,
    // Node's `ca` replaces the system's roots; a private CA is trusted beside them, not instead.
    ca: options.caCertPem === undefined ? undefined : [...rootCertificates, options.caCertPem],
  };
}
