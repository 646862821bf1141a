import { lookup } from "node:dns/promises";
import { createServer, type IncomingMessage, type Server, ServerResponse, STATUS_CODES } from "node:http";
import { isIP, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { listenReusePort } from "../native/index.js";
import {
  type AbortListener,
  type ExchangeHandler,
  type HeaderSource,
  type HeadNeeds,
  type HttpFront,
  interruptReply,
  type Reply,
  type RequestHead,
  type ResponseHeaders,
  type ShutdownNotice,
} from "./exchange.js";
import { renderHeaders } from "./header-value.js";
import { requestHead } from "./request-head.js";
import {
  CLOSE_UNSUPPORTED_DATA,
  WEBSOCKET_LIMITS,
  type WebSocketEndpoint,
  type WebSocketLimits,
  type WebSocketPeer,
} from "./websocket.js";

// The portable front for platforms where the uWS binary does not load, and for clients the uWS binary
// cannot parse (docs/architecture.md). Node 20 cannot share a port between worker threads, so it serves
// from every lane only on sockets the addon opens in the port's SO_REUSEPORT group, else from one lane.

class NodeReply implements Reply {
  aborted = false;
  corsOrigin = "";
  cacheStatus = "";
  shutdownNotice: ShutdownNotice | undefined;
  /** What went to `start`, kept for the drain deadline only. */
  private sent: ResponseHeaders | undefined;
  private abortListener: AbortListener | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly requestId: string,
    /** The front's exchanges under way, which this one leaves when its response closes. */
    open: Set<NodeReply>,
  ) {
    open.add(this);
    res.on("close", () => {
      open.delete(this);
      if (!res.writableFinished) {
        this.aborted = true;
        this.abortListener?.clientAborted();
      }
    });
  }

  get committed(): boolean {
    return this.res.headersSent || this.res.writableEnded;
  }

  onAborted(listener: AbortListener): void {
    this.abortListener = listener;
  }

  readBody(limit: number, callback: (body: Buffer | null, tooLarge: boolean) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    this.req.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        this.req.pause();
        callback(null, true);
        return;
      }
      chunks.push(chunk);
    });
    this.req.on("end", () => {
      if (!refused)
        callback(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size), false);
    });
    this.req.on("error", () => {
      this.aborted = true;
    });
  }

  start(status: number, headers: ResponseHeaders): void {
    if (this.aborted || this.res.writableEnded) return;
    const res = this.res;
    this.sent = headers;
    res.statusCode = status;
    res.setHeader("x-request-id", this.requestId);
    if (this.cacheStatus !== "") res.setHeader("x-switchyard-cache", this.cacheStatus);
    if (this.corsOrigin !== "") {
      res.setHeader("access-control-allow-origin", this.corsOrigin);
      res.setHeader("vary", "Origin");
    }
    renderHeaders(headers, res, setHeader);
  }

  write(chunk: Uint8Array | string): boolean {
    if (this.aborted || this.res.writableEnded) return true;
    return this.res.write(chunk);
  }

  onWritable(callback: () => void): void {
    this.res.once("drain", callback);
  }

  end(body?: Uint8Array | string): void {
    if (this.aborted || this.res.writableEnded) return;
    if (body === undefined) this.res.end();
    else this.res.end(body);
  }

  destroy(): void {
    this.aborted = true;
    this.res.destroy();
  }

  /** The drain deadline has come (see HttpFront.interruptExchanges); false when the reply had ended. */
  interrupt(): boolean {
    if (this.aborted || this.res.writableEnded) return false;
    interruptReply(this, this.res.headersSent ? this.sent : undefined);
    return true;
  }
}

function setHeader(res: ServerResponse, name: string, value: string): void {
  res.setHeader(name, value);
}

/** Node's parsed headers as the pipeline reads them. */
class NodeHeaders implements HeaderSource {
  constructor(private readonly req: IncomingMessage) {}

  getHeader(name: string): string {
    const value = this.req.headers[name];
    return typeof value === "string" ? value : "";
  }

  forEach(callback: (name: string, value: string) => void): void {
    for (const [name, value] of Object.entries(this.req.headers))
      if (typeof value === "string") callback(name, value);
  }
}

function readHead(req: IncomingMessage, needs: HeadNeeds): RequestHead {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return requestHead(
    req.method ?? "GET",
    q === -1 ? url : url.slice(0, q),
    q === -1 ? "" : url.slice(q + 1),
    new NodeHeaders(req),
    needs,
  );
}

/** A `ws` socket as an endpoint's peer. */
class NodePeer implements WebSocketPeer {
  /** Whether the client has been heard from (a message or a pong) since the last ping. */
  alive = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly maxBufferedBytes: number,
  ) {}

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  send(text: string): boolean {
    if (this.ws.readyState !== OPEN) return false;
    if (this.ws.bufferedAmount + Buffer.byteLength(text) > this.maxBufferedBytes) return false;
    this.ws.send(text);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === OPEN) this.ws.close(code, reason);
  }

  /** Pings a client heard from since the last round; ends one that was not. */
  heartbeat(): void {
    if (!this.alive) this.ws.terminate();
    else if (this.ws.readyState === OPEN) {
      this.alive = false;
      this.ws.ping();
    }
  }
}

/** WebSocket.OPEN, without reaching for the class at run time for one number. */
const OPEN = 1;

/** The WebSocket side of a node:http front: upgrades on the endpoint's path, within `limits`. */
class NodeWebSockets {
  private readonly server: WebSocketServer;
  private readonly peers = new Map<WebSocket, NodePeer>();
  /** Upgrades handed to `ws` and not yet open, counted against the cap. */
  private upgrading = 0;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly endpoint: WebSocketEndpoint,
    private readonly limits: WebSocketLimits,
  ) {
    // `ws` closes a socket whose message passes maxPayload with 1009 itself.
    this.server = new WebSocketServer({
      noServer: true,
      maxPayload: limits.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.heartbeat = setInterval(
      () => {
        for (const peer of this.peers.values()) peer.heartbeat();
      },
      (limits.idleTimeoutSeconds * 1000) / 2,
    );
    this.heartbeat.unref();
  }

  /** Whether `req` is a WebSocket handshake this front serves (any other upgrade is plain HTTP). */
  serves(req: IncomingMessage): boolean {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    return (
      req.method === "GET" &&
      (q === -1 ? url : url.slice(0, q)) === this.endpoint.path &&
      req.headers.upgrade?.toLowerCase() === "websocket"
    );
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.peers.size + this.upgrading >= this.limits.maxSockets) {
      refuseUpgrade(socket, 503);
      return;
    }
    const authorization = req.headers.authorization ?? "";
    this.upgrading++;
    let opened = false;
    socket.once("close", () => {
      // A handshake `ws` refused (or a client gone mid-handshake) never reaches the callback.
      if (!opened) this.upgrading--;
    });
    this.server.handleUpgrade(req, socket, head, (ws) => {
      opened = true;
      this.upgrading--;
      this.open(ws, authorization);
    });
  }

  private open(ws: WebSocket, authorization: string): void {
    const peer = new NodePeer(ws, this.limits.maxBufferedBytes);
    this.peers.set(ws, peer);
    ws.on("error", () => {
      // `ws` closes the socket after a protocol error; the close event tells the endpoint.
    });
    ws.on("pong", () => {
      peer.alive = true;
    });
    ws.on("message", (data, isBinary) => {
      peer.alive = true;
      if (isBinary) peer.close(CLOSE_UNSUPPORTED_DATA, "text messages only");
      else this.endpoint.message(peer, (data as Buffer).toString("utf8"));
    });
    ws.on("close", () => {
      this.peers.delete(ws);
      this.endpoint.close(peer);
    });
    this.endpoint.open(peer, authorization);
  }

  /** Ends every socket at once; the last step of a drain. */
  closeAll(): void {
    clearInterval(this.heartbeat);
    for (const ws of this.peers.keys()) ws.terminate();
  }
}

/** Answers an upgrade request on its raw socket with a bare status and closes the connection. */
function refuseUpgrade(socket: Duplex, status: number): void {
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

/**
 * Serves an upgrade request that is not the endpoint's handshake (an h2c upgrade, or a WebSocket on another
 * path) as the plain request it would be without the `upgrade` listener: once node:http has handed the
 * socket over there is no parser left, so the response is written on the socket, which then closes. A body
 * would arrive unparsed, so such a request with one is refused.
 */
function serveUpgradeAsRequest(
  req: IncomingMessage,
  socket: Duplex,
  serve: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  const length = req.headers["content-length"];
  if ((length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined) {
    refuseUpgrade(socket, 400);
    return;
  }
  // The parser that would have ended the (empty) body is gone.
  req.push(null);
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.on("finish", () => socket.end());
  serve(req, res);
}

function listenForUpgrades(
  server: Server,
  webSockets: NodeWebSockets,
  serve: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // node:http takes its own error listener off a socket it hands over.
    socket.on("error", () => socket.destroy());
    if (webSockets.serves(req)) webSockets.upgrade(req, socket, head);
    else serveUpgradeAsRequest(req, socket, serve);
  });
}

/** Node's own default backlog. */
const BACKLOG = 511;

/**
 * Serves HTTP on `host:port`, and WebSocket upgrades on `webSocket`'s path when one is given (an upgrade
 * on any other path is an ordinary request).
 */
export async function startNodeFront(
  host: string,
  port: number,
  handler: ExchangeHandler,
  needs: HeadNeeds,
  webSocket?: WebSocketEndpoint,
  limits: WebSocketLimits = WEBSOCKET_LIMITS,
): Promise<HttpFront> {
  const open = new Set<NodeReply>();
  // The addon binds an address, not a name; server.listen(port, name) would take lookup's first answer too.
  const fd =
    listenReusePort === undefined
      ? undefined
      : listenReusePort(isIP(host) === 0 ? (await lookup(host)).address : host, port, BACKLOG);
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const head = readHead(req, needs);
    handler(head, new NodeReply(req, res, head.requestId, open));
  };
  const server = createServer({ keepAliveTimeout: 10_000, requestTimeout: 60_000 }, serve);
  const webSockets = webSocket === undefined ? undefined : new NodeWebSockets(webSocket, limits);
  // Without a WebSocket endpoint node:http serves upgrade requests as plain ones, as it always has.
  if (webSockets !== undefined) listenForUpgrades(server, webSockets, serve);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const listening = () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address !== null ? address.port : port,
        stopListening: () => server.close(),
        interruptExchanges: () => {
          let count = 0;
          for (const reply of [...open]) if (reply.interrupt()) count++;
          return count;
        },
        closeConnections: () => {
          server.closeAllConnections();
          // Upgraded sockets have left node:http's list.
          webSockets?.closeAll();
        },
      });
    };
    if (fd === undefined) server.listen(port, host, listening);
    else server.listen({ fd }, listening);
  });
}
