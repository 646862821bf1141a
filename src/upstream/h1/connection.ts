import { connect as connectTcp, isIP, type Socket } from "node:net";
import { connect as connectTls, type TLSSocket } from "node:tls";
import { UpstreamError } from "./errors.js";
import type { BodyEdit, UpstreamController, UpstreamHandler, UpstreamRequestOptions } from "./exchange.js";
import { writeHead } from "./request-head.js";
import { ResponseParser, type ResponseSink, type UpstreamHeaders } from "./response-parser.js";

// One keep-alive HTTP/1.1 connection to a provider, carrying one exchange at a time. It is the gateway's
// upstream client on the hot path: one socket, one reused reply parser and one reused timer per connection,
// and per request only the request head string and a small exchange object. Its pool hands it requests
// while it is idle and hears when it is idle again or gone.

export interface ConnectionTarget {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** `host: host[:port]\r\n`, the Host header of every request that does not carry its own. */
  readonly hostLine: string;
  readonly connectTimeoutMs: number;
  /** How long an idle connection is kept when the provider sends no Keep-Alive hint. */
  readonly keepAliveMs: number;
  /** The certificates TLS may chain to; the system's roots when undefined. */
  readonly ca: readonly string[] | undefined;
}

export interface ConnectionOwner {
  /** The connection finished an exchange and may carry another. */
  idle(connection: H1Connection): void;
  /** The connection is closed (by either side); it must not be handed requests any more. */
  gone(connection: H1Connection): void;
  /** A TLS session to resume with, and where to keep the latest one. */
  tlsSession: Buffer | undefined;
}

enum Timer {
  Off,
  Connect,
  Headers,
  Body,
  /** Idle between exchanges: the keep-alive time. */
  KeepAlive,
}

/** A provider's Keep-Alive hint is cut by this much, so that the gateway never writes to a link the provider is closing. */
const KEEP_ALIVE_MARGIN_MS = 1000;

export class H1Connection implements ResponseSink {
  private readonly socket: Socket | TLSSocket;
  private readonly parser = new ResponseParser(this);
  private exchange: Exchange | undefined;
  private connected = false;
  private closed = false;
  private timerKind = Timer.Off;
  private readonly timers: (NodeJS.Timeout | undefined)[] = [];
  private readonly timerMs: number[] = [];
  private keepAliveMs: number;
  /** The provider's last Keep-Alive header, read again only when it changes. */
  private keepAliveHint: string | string[] | undefined;
  /** Where this connection sits on its pool's idle stack, -1 when it is not on it. */
  idleIndex = -1;

  constructor(
    private readonly target: ConnectionTarget,
    private readonly owner: ConnectionOwner,
  ) {
    this.keepAliveMs = target.keepAliveMs;
    this.socket = target.tls
      ? connectTls({
          host: target.host,
          port: target.port,
          servername: isIP(target.host) === 0 ? target.host : undefined,
          ALPNProtocols: ["http/1.1"],
          session: owner.tlsSession,
          ca: target.ca as string[] | undefined,
        })
      : connectTcp({ host: target.host, port: target.port });
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, 60_000);
    this.socket.on(target.tls ? "secureConnect" : "connect", () => this.onConnect());
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("end", () => this.onEnd());
    this.socket.on("error", (error: Error) => this.destroy(error));
    this.socket.on("close", () => this.onClose());
    if (target.tls) this.socket.on("session", (session: Buffer) => (owner.tlsSession = session));
  }

  /** False once the socket is closing or closed: the pool skips such a connection. */
  get usable(): boolean {
    return !this.closed && this.exchange === undefined && !this.socket.destroyed;
  }

  /**
   * Sends one request whose head has been checked and measured (`headLength` in request-head.ts); the
   * handler hears everything from here on, failures included.
   */
  send(
    request: UpstreamRequestOptions,
    headLength: number,
    bodyLength: number,
    handler: UpstreamHandler,
  ): void {
    const exchange = new Exchange(this, handler, request.bodyTimeout);
    this.exchange = exchange;
    handler.onRequestStart(exchange);
    if (exchange.done) return;
    exchange.written = true;
    this.parser.expect(request.method);
    writeRequest(this.socket, request, this.target.hostLine, headLength, bodyLength);
    if (this.connected) this.arm(Timer.Headers, request.headersTimeout);
    else {
      exchange.headersTimeout = request.headersTimeout;
      this.arm(Timer.Connect, this.target.connectTimeoutMs);
    }
  }

  // --- The exchange's controls -------------------------------------------------------------------------------

  abortExchange(exchange: Exchange, reason: Error): void {
    if (exchange !== this.exchange) return;
    if (exchange.written) {
      this.destroy(reason);
      return;
    }
    // Aborted from onRequestStart, before anything was written: the connection is still clean.
    exchange.done = true;
    this.exchange = undefined;
    exchange.handler.onResponseError(exchange, reason);
    if (this.closed || this.socket.destroyed) return;
    this.arm(Timer.KeepAlive, this.keepAliveMs);
    this.owner.idle(this);
  }

  pauseExchange(exchange: Exchange): void {
    if (exchange !== this.exchange) return;
    this.parser.halt();
    this.socket.pause();
    if (this.timerKind === Timer.Body) this.timerKind = Timer.Off;
  }

  resumeExchange(exchange: Exchange): void {
    if (exchange !== this.exchange || !exchange.paused) return;
    exchange.paused = false;
    this.arm(Timer.Body, exchange.bodyTimeout);
    this.parser.resume();
    // The held-back bytes may have paused it again.
    if (!(this.exchange === exchange && exchange.paused)) this.socket.resume();
  }

  // --- The reply, from the parser ----------------------------------------------------------------------------

  onHead(status: number, headers: UpstreamHeaders): void {
    const exchange = this.exchange as Exchange;
    const hint = headers["keep-alive"];
    if (hint !== this.keepAliveHint) {
      this.keepAliveHint = hint;
      this.keepAliveMs =
        typeof hint === "string" ? keepAliveFromHint(hint, this.target.keepAliveMs) : this.target.keepAliveMs;
    }
    this.arm(Timer.Body, exchange.bodyTimeout);
    exchange.handler.onResponseStart(exchange, status, headers);
  }

  onBody(chunk: Buffer): void {
    const exchange = this.exchange as Exchange;
    if (this.timerKind === Timer.Body) this.timers[Timer.Body]?.refresh();
    exchange.handler.onResponseData(exchange, chunk);
  }

  onComplete(reusable: boolean): void {
    const exchange = this.exchange as Exchange;
    exchange.done = true;
    this.exchange = undefined;
    this.timerKind = Timer.Off;
    exchange.handler.onResponseEnd(exchange);
    if (reusable && this.keepAliveMs > 0 && !this.closed && !this.socket.destroyed) {
      if (exchange.paused) this.socket.resume();
      this.arm(Timer.KeepAlive, this.keepAliveMs);
      this.owner.idle(this);
    } else this.socket.destroy();
  }

  // --- The socket --------------------------------------------------------------------------------------------

  private onConnect(): void {
    this.connected = true;
    const tls = this.socket as TLSSocket;
    if (this.target.tls && tls.alpnProtocol !== false && tls.alpnProtocol !== "http/1.1") {
      this.destroy(
        new UpstreamError("UPSTREAM_BAD_REPLY", `the provider chose ${tls.alpnProtocol} over http/1.1`),
      );
      return;
    }
    const exchange = this.exchange;
    if (exchange !== undefined && this.timerKind === Timer.Connect)
      this.arm(Timer.Headers, exchange.headersTimeout);
  }

  private onData(chunk: Buffer): void {
    try {
      this.parser.feed(chunk);
    } catch (error) {
      this.destroy(error as Error);
    }
  }

  private onEnd(): void {
    if (this.exchange !== undefined && this.parser.end()) return;
    this.destroy(
      new UpstreamError(
        "UPSTREAM_CLOSED",
        "the provider closed the connection before its reply was complete",
      ),
    );
  }

  private onClose(): void {
    this.closed = true;
    this.timerKind = Timer.Off;
    for (const timer of this.timers) if (timer !== undefined) clearTimeout(timer);
    this.destroy(
      new UpstreamError(
        "UPSTREAM_CLOSED",
        "the connection to the provider closed before the reply was complete",
      ),
    );
    this.owner.gone(this);
  }

  /** Closes the connection; an exchange under way fails with `error` (the socket's state is unknown). */
  destroy(error: Error): void {
    const exchange = this.exchange;
    if (exchange === undefined) {
      if (!this.closed) this.socket.destroy();
      return;
    }
    exchange.done = true;
    this.exchange = undefined;
    this.timerKind = Timer.Off;
    this.parser.reset();
    this.socket.destroy();
    exchange.handler.onResponseError(exchange, error);
  }

  // --- Timers -----------------------------------------------------------------------------------------------

  /**
   * One Timeout per phase and connection, re-armed with refresh() while its duration stays the same (a
   * provider's timeouts rarely change), so a request makes no timer of its own. Only the current phase's
   * timer counts: one that fires for another phase does nothing.
   */
  private arm(kind: Timer, ms: number): void {
    if (ms <= 0) {
      this.timerKind = Timer.Off;
      return;
    }
    this.timerKind = kind;
    const timer = this.timers[kind];
    if (timer !== undefined && this.timerMs[kind] === ms) {
      timer.refresh();
      return;
    }
    if (timer !== undefined) clearTimeout(timer);
    this.timerMs[kind] = ms;
    this.timers[kind] = setTimeout(this.onTimer, ms, kind).unref();
  }

  private readonly onTimer = (kind: Timer): void => {
    if (kind !== this.timerKind) return;
    const ms = this.timerMs[kind];
    switch (kind) {
      case Timer.Connect:
        this.destroy(new UpstreamError("UPSTREAM_CONNECT_TIMEOUT", `no connection within ${ms} ms`));
        return;
      case Timer.Headers:
        this.destroy(new UpstreamError("UPSTREAM_HEADERS_TIMEOUT", `no reply within ${ms} ms`));
        return;
      case Timer.Body:
        this.destroy(new UpstreamError("UPSTREAM_BODY_TIMEOUT", `no reply bytes for ${ms} ms`));
        return;
      case Timer.KeepAlive:
        this.timerKind = Timer.Off;
        this.socket.destroy();
        return;
    }
  };
}

/** Bodies up to this size go out in one buffer with the head (one write); larger ones are not copied. */
const ONE_BUFFER_LIMIT = 64 * 1024;

function writeRequest(
  socket: Socket,
  request: UpstreamRequestOptions,
  hostLine: string,
  headLength: number,
  bodyLength: number,
): void {
  const body = request.body;
  const edit = request.bodyEdit;
  if (body === undefined || bodyLength > ONE_BUFFER_LIMIT) {
    const head = Buffer.allocUnsafe(headLength);
    writeHead(request, hostLine, bodyLength, head);
    if (body === undefined) {
      socket.write(head);
      return;
    }
    socket.cork();
    socket.write(head);
    if (typeof body === "string" || edit === undefined) socket.write(body);
    else {
      socket.write(body.subarray(0, edit.start));
      socket.write(edit.replacement);
      socket.write(body.subarray(edit.end));
    }
    socket.uncork();
    return;
  }
  const out = Buffer.allocUnsafe(headLength + bodyLength);
  // The body goes in before the head: an edited body may spill into the head's place (see copyEdited).
  if (typeof body === "string") out.write(body, headLength, "utf8");
  else if (edit === undefined) out.set(body, headLength);
  else copyEdited(body, edit, out, headLength);
  writeHead(request, hostLine, bodyLength, out);
  socket.write(out);
}

/**
 * Copies `body` into `out` from `at` with the edit made. Copying part of a Buffer makes a view object, so
 * the whole body is copied at once, placed so that the part after the edit lands where it belongs; the part
 * before it then moves within `out` and the replacement goes between. A body shorter after the edit starts
 * left of `at`, inside the head's place, which the head overwrites after.
 */
function copyEdited(body: Buffer, edit: BodyEdit, out: Buffer, at: number): void {
  const placed = at - (edit.end - edit.start) + edit.replacement.length;
  if (placed < 0) {
    // Only when more is cut than the head is long: rare enough for the plain copies.
    body.copy(out, at, 0, edit.start);
    out.set(edit.replacement, at + edit.start);
    body.copy(out, at + edit.start + edit.replacement.length, edit.end);
    return;
  }
  out.set(body, placed);
  out.copyWithin(at, placed, placed + edit.start);
  out.set(edit.replacement, at + edit.start);
}

/** One request on a connection, and the controller its handler steers it with. */
class Exchange implements UpstreamController {
  done = false;
  paused = false;
  /** The request's bytes went to the socket: an abort now leaves the connection in an unknown state. */
  written = false;
  /** Armed once the connection is up. */
  headersTimeout = 0;

  constructor(
    private readonly connection: H1Connection,
    readonly handler: UpstreamHandler,
    readonly bodyTimeout: number,
  ) {}

  abort(reason: Error): void {
    if (!this.done) this.connection.abortExchange(this, reason);
  }

  pause(): void {
    if (this.done || this.paused) return;
    this.paused = true;
    this.connection.pauseExchange(this);
  }

  resume(): void {
    if (!this.done) this.connection.resumeExchange(this);
  }
}

/** Idle connections are never kept longer than this, whatever a provider's Keep-Alive hint says. */
const KEEP_ALIVE_MAX_MS = 600_000;

/** `timeout=N` of a Keep-Alive header, less a margin; 0 closes the connection after the reply. */
function keepAliveFromHint(hint: string, defaultMs: number): number {
  const match = /(?:^|[,;\s])timeout\s*=\s*(\d{1,9})/i.exec(hint);
  if (match === null) return defaultMs;
  return Math.min(KEEP_ALIVE_MAX_MS, Math.max(0, Number(match[1]) * 1000 - KEEP_ALIVE_MARGIN_MS));
}
