import { createRequire } from "node:module";
import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  us_listen_socket,
  us_socket_context_t,
  WebSocket,
} from "@trufflesuite/uws-js-unofficial";
import {
  type AbortListener,
  type ExchangeHandler,
  type HeadNeeds,
  type HttpFront,
  interruptReply,
  type Reply,
  type RequestHead,
  type ResponseHeaders,
  type ShutdownNotice,
} from "./exchange.js";
import { renderHeaders } from "./header-value.js";
import { OpenReplies, type OpenReply } from "./open-replies.js";
import { requestHead } from "./request-head.js";
import { statusLine } from "./status.js";
import {
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_UNSUPPORTED_DATA,
  WEBSOCKET_LIMITS,
  type WebSocketEndpoint,
  type WebSocketLimits,
  type WebSocketPeer,
} from "./websocket.js";

const NO_HEADERS: ResponseHeaders = [];

type UwsModule = {
  App(): TemplatedApp;
  us_listen_socket_close(socket: us_listen_socket): void;
  us_socket_local_port(socket: us_listen_socket): number;
};

export type UwsLoad = { ok: true; uws: UwsModule; path: string } | { ok: false; reason: string };

/**
 * Loads the uWebSockets.js binary itself. The package's own entry silently swaps in a slow node:http
 * emulation when the binary does not load; we want to know, say so, and use our own node:http front.
 */
export function loadUws(env: NodeJS.ProcessEnv = process.env): UwsLoad {
  if (env.SWITCHYARD_HTTP === "node") return { ok: false, reason: "SWITCHYARD_HTTP=node" };
  const require = createRequire(import.meta.url);
  const path = `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  try {
    const uws = require(path) as UwsModule;
    if (typeof uws.App !== "function") return { ok: false, reason: `${path} has no App()` };
    return { ok: true, uws, path };
  } catch (error) {
    return { ok: false, reason: (error as Error).message.split("\n")[0] ?? "load failed" };
  }
}

class UwsReply implements Reply, OpenReply<UwsReply> {
  aborted = false;
  corsOrigin = "";
  cacheStatus = "";
  shutdownNotice: ShutdownNotice | undefined;
  private ended = false;
  /** The headers that went out with the status line; undefined until then (a 503 can still replace it). */
  private sent: ResponseHeaders | undefined;
  /** Status and headers given to `start` and not yet written; 0 when written or not started. */
  private status = 0;
  private headers: ResponseHeaders | undefined;
  private abortListener: AbortListener | undefined;
  /** Neighbours in the front's OpenReplies while this exchange is under way. */
  previousOpen: UwsReply | undefined;
  nextOpen: UwsReply | undefined;

  constructor(
    private readonly res: HttpResponse,
    readonly requestId: string,
    /** The front's exchanges under way, which this one leaves when it ends. */
    private readonly open: OpenReplies<UwsReply>,
  ) {
    open.add(this);
    res.onAborted(() => {
      this.aborted = true;
      open.delete(this);
      if (!this.ended) this.abortListener?.clientAborted();
    });
  }

  get committed(): boolean {
    return this.ended || this.sent !== undefined;
  }

  onAborted(listener: AbortListener): void {
    this.abortListener = listener;
  }

  readBody(limit: number, callback: (body: Buffer | null, tooLarge: boolean) => void): void {
    let chunks: Buffer[] | undefined;
    let size = 0;
    let refused = false;
    this.res.onData((chunk, isLast) => {
      if (refused) return;
      size += chunk.byteLength;
      if (size > limit) {
        refused = true;
        callback(null, true);
        return;
      }
      // uWS reuses the ArrayBuffer after this callback returns, so every chunk is copied.
      const copy = Buffer.from(new Uint8Array(chunk));
      if (isLast) {
        callback(chunks === undefined ? copy : Buffer.concat([...chunks, copy], size), false);
      } else {
        if (chunks === undefined) chunks = [copy];
        else chunks.push(copy);
      }
    });
  }

  start(status: number, headers: ResponseHeaders): void {
    // Held until the first write or end, so a whole small reply leaves in one corked write.
    this.status = status;
    this.headers = headers;
  }

  /** The drain deadline has come (see HttpFront.interruptExchanges); false when the reply had ended. */
  interrupt(): boolean {
    if (this.aborted || this.ended) return false;
    interruptReply(this, this.sent);
    return true;
  }

  private writeHead(): void {
    const res = this.res;
    this.sent = this.headers ?? NO_HEADERS;
    res.writeStatus(statusLine(this.status));
    res.writeHeader("x-request-id", this.requestId);
    if (this.cacheStatus !== "") res.writeHeader("x-switchyard-cache", this.cacheStatus);
    if (this.corsOrigin !== "") {
      res.writeHeader("access-control-allow-origin", this.corsOrigin);
      res.writeHeader("vary", "Origin");
    }
    const headers = this.headers;
    if (headers !== undefined) renderHeaders(headers, res, writeHeader);
    this.headers = undefined;
    this.status = 0;
  }

  write(chunk: Uint8Array | string): boolean {
    if (this.aborted || this.ended) return true;
    return sendCorked(this, chunk, false);
  }

  /** Sends `chunk` (with the head when it has not gone out), ending the reply when `last`; run corked. */
  sendNow(chunk: Uint8Array | string | undefined, last: boolean): boolean {
    if (this.status !== 0) this.writeHead();
    if (!last) return this.res.write(chunk as Uint8Array | string);
    this.res.end(chunk);
    return true;
  }

  onWritable(callback: () => void): void {
    this.res.onWritable(() => {
      callback();
      return true;
    });
  }

  end(body?: Uint8Array | string): void {
    if (this.aborted || this.ended) return;
    this.ended = true;
    this.open.delete(this);
    sendCorked(this, body, true);
  }

  /** For sendCorked. */
  cork(callback: () => void): void {
    this.res.cork(callback);
  }

  destroy(): void {
    if (this.aborted || this.ended) return;
    this.ended = true;
    this.aborted = true;
    this.open.delete(this);
    this.res.close();
  }
}

// uWS runs a cork callback before `cork` returns, so one callback serves every reply, with the reply and
// what it sends in these slots: a closure per write or end was an allocation each. sendInCork empties them
// before it sends anything, so a write made meanwhile (from a uWS callback) finds them free.
let corkedReply: UwsReply | undefined;
let corkedChunk: Uint8Array | string | undefined;
let corkedLast = false;
let corkedWritten = true;

function sendCorked(reply: UwsReply, chunk: Uint8Array | string | undefined, last: boolean): boolean {
  corkedReply = reply;
  corkedChunk = chunk;
  corkedLast = last;
  corkedWritten = true;
  reply.cork(sendInCork);
  return corkedWritten;
}

function sendInCork(): void {
  const reply = corkedReply as UwsReply;
  const chunk = corkedChunk;
  corkedReply = undefined;
  corkedChunk = undefined;
  corkedWritten = reply.sendNow(chunk, corkedLast);
}

function writeHeader(res: HttpResponse, name: string, value: string): void {
  res.writeHeader(name, value);
}

/** uWS gives methods in lower case; the usual ones are upper-cased once, here. */
const UPPER_METHODS = new Map(
  ["GET", "POST", "OPTIONS", "HEAD", "PUT", "PATCH", "DELETE"].map((method) => [
    method.toLowerCase(),
    method,
  ]),
);

function readHead(req: HttpRequest, needs: HeadNeeds): RequestHead {
  const method = req.getMethod();
  return requestHead(
    UPPER_METHODS.get(method) ?? method.toUpperCase(),
    req.getUrl(),
    req.getQuery() ?? "",
    req,
    needs,
  );
}

/** A uWS WebSocket as an endpoint's peer; uWS throws on any use of a socket after its close event. */
class UwsPeer implements WebSocketPeer {
  closed = false;

  constructor(
    private readonly ws: WebSocket<PeerSlot>,
    private readonly maxBufferedBytes: number,
  ) {}

  get bufferedBytes(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  send(text: string): boolean {
    if (this.closed) return false;
    // Checked here as well as by uWS, which takes one message past its maxBackpressure before dropping.
    if (this.ws.getBufferedAmount() + Buffer.byteLength(text) > this.maxBufferedBytes) return false;
    return this.ws.send(text, false) !== SEND_DROPPED;
  }

  close(code: number, reason: string): void {
    if (!this.closed) this.ws.end(code, reason);
  }
}

/** Filled in by `open`: uWS gives the socket's user data to every later event. */
interface PeerSlot {
  peer: UwsPeer | undefined;
  authorization: string;
}

/** WebSocket.send's answer when uWS dropped the message for backpressure. */
const SEND_DROPPED = 2;
/**
 * uWS ends a socket whose message passes maxPayloadLength without a close frame; a message up to this many
 * times the bound is read, and closed with 1009 by the handler, so an ordinary client learns why.
 */
const PAYLOAD_SLACK = 4;

function serveWebSocket(app: TemplatedApp, endpoint: WebSocketEndpoint, limits: WebSocketLimits): void {
  let sockets = 0;
  app.ws<PeerSlot>(endpoint.path, {
    maxPayloadLength: limits.maxMessageBytes * PAYLOAD_SLACK,
    maxBackpressure: limits.maxBufferedBytes,
    idleTimeout: limits.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
      if (sockets >= limits.maxSockets) {
        res.writeStatus(statusLine(503)).writeHeader("retry-after", "5").end("", true);
        return;
      }
      res.upgrade<PeerSlot>(
        { peer: undefined, authorization: req.getHeader("authorization") },
        req.getHeader("sec-websocket-key"),
        req.getHeader("sec-websocket-protocol"),
        req.getHeader("sec-websocket-extensions"),
        context,
      );
    },
    open: (ws) => {
      sockets++;
      const slot = ws.getUserData();
      slot.peer = new UwsPeer(ws, limits.maxBufferedBytes);
      endpoint.open(slot.peer, slot.authorization);
    },
    message: (ws, message, isBinary) => {
      const peer = ws.getUserData().peer as UwsPeer;
      if (isBinary) peer.close(CLOSE_UNSUPPORTED_DATA, "text messages only");
      else if (message.byteLength > limits.maxMessageBytes)
        peer.close(CLOSE_MESSAGE_TOO_BIG, "message too big");
      else endpoint.message(peer, Buffer.from(message).toString("utf8"));
    },
    close: (ws) => {
      sockets--;
      const peer = ws.getUserData().peer as UwsPeer;
      peer.closed = true;
      endpoint.close(peer);
    },
  });
}

/**
 * Serves HTTP on `host:port`, and WebSocket upgrades on `webSocket`'s path when one is given (an upgrade
 * on any other path is an ordinary request).
 */
export function startUwsFront(
  uws: UwsModule,
  host: string,
  port: number,
  handler: ExchangeHandler,
  needs: HeadNeeds,
  webSocket?: WebSocketEndpoint,
  limits: WebSocketLimits = WEBSOCKET_LIMITS,
): Promise<HttpFront> {
  const app = uws.App();
  const open = new OpenReplies<UwsReply>();
  if (webSocket !== undefined) serveWebSocket(app, webSocket, limits);
  app.any("/*", (res, req) => {
    const head = readHead(req, needs);
    handler(head, new UwsReply(res, head.requestId, open));
  });
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (socket === false) {
        reject(new Error(`uWS could not listen on ${host}:${port}`));
        return;
      }
      resolve({
        port: uws.us_socket_local_port(socket),
        stopListening: () => uws.us_listen_socket_close(socket),
        interruptExchanges: () => {
          let count = 0;
          for (const reply of open.toArray()) if (reply.interrupt()) count++;
          return count;
        },
        // Present in the binary, missing from the package's typings; closes WebSockets too.
        closeConnections: () => (app as TemplatedApp & { close(): void }).close(),
      });
    });
  });
}
