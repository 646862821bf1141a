import { lookup } from "node:dns/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP } from "node:net";
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

// The portable front for platforms where the uWS binary does not load, and for clients the uWS binary
// cannot parse (docs/architecture.md). Node 20 cannot share a port between worker threads, so it serves
// from every lane only on sockets the addon opens in the port's SO_REUSEPORT group, else from one lane.

class NodeReply implements Reply {
  aborted = false;
  corsOrigin = "";
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

/** Node's own default backlog. */
const BACKLOG = 511;

export async function startNodeFront(
  host: string,
  port: number,
  handler: ExchangeHandler,
  needs: HeadNeeds,
): Promise<HttpFront> {
  const open = new Set<NodeReply>();
  // The addon binds an address, not a name; server.listen(port, name) would take lookup's first answer too.
  const fd =
    listenReusePort === undefined
      ? undefined
      : listenReusePort(isIP(host) === 0 ? (await lookup(host)).address : host, port, BACKLOG);
  const server = createServer({ keepAliveTimeout: 10_000, requestTimeout: 60_000 }, (req, res) => {
    const head = readHead(req, needs);
    handler(head, new NodeReply(req, res, head.requestId, open));
  });
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
        closeConnections: () => server.closeAllConnections(),
      });
    };
    if (fd === undefined) server.listen(port, host, listening);
    else server.listen({ fd }, listening);
  });
}
