import type { NetworkConfig } from "../config/types.js";
import type { ExchangeAccount } from "../observability/account.js";
import type { SendUpstream, UpstreamReply } from "../providers/adapter.js";
import { UpstreamError } from "./h1/errors.js";
import type { UpstreamController, UpstreamHandler, UpstreamRequestOptions } from "./h1/exchange.js";
import { H1Pool } from "./h1/pool.js";
import type { UpstreamHeaders } from "./h1/response-parser.js";

// One keep-alive connection pool per upstream origin, per lane. Pools outlive configuration snapshots so
// that a reload keeps warm connections; `retainPools` closes the ones no provider uses any more.

const pools = new Map<string, H1Pool>();

/**
 * `network` sets the connect timeout and the trusted CAs of a new pool (the first provider to use an origin
 * decides).
 */
export function poolFor(origin: string, network?: NetworkConfig): H1Pool {
  let pool = pools.get(origin);
  if (pool === undefined) {
    const connectTimeoutMs =
      network === undefined ? 10_000 : (network.connectTimeoutMs ?? network.requestTimeoutMs);
    pool = new H1Pool(origin, { connectTimeoutMs, keepAliveMs: 30_000, caCertPem: network?.caCertPem });
    pools.set(origin, pool);
  }
  return pool;
}

/** Closes pools for origins not in `inUse`; their in-flight requests finish first. */
export function retainPools(inUse: ReadonlySet<string>): void {
  for (const [origin, pool] of pools) {
    if (!inUse.has(origin)) {
      pools.delete(origin);
      pool.close();
    }
  }
}

/** The end of a drain: upstream requests still open (their clients have been answered) are dropped. */
export function closeAllPools(): void {
  for (const pool of pools.values()) pool.destroy();
  pools.clear();
}

/**
 * Hands one upstream request to its origin's pool. The provider's share of the time starts here, so
 * writing the request to the socket counts as the provider call, as Bifrost counts it in its overhead
 * figure; the gateway's share is everything before this and everything after the last byte came back.
 */
export function dispatchUpstream(
  origin: string,
  network: NetworkConfig | undefined,
  request: UpstreamRequestOptions,
  handler: UpstreamHandler,
  account: ExchangeAccount,
): void {
  account.dispatched();
  poolFor(origin, network).dispatch(request, handler);
}

const NO_HEADERS: readonly string[] = [];

/** Replies an adapter or the gateway reads whole (a model list, a signing step) are refused past this. */
const WHOLE_REPLY_LIMIT = 16 * 1024 * 1024;

/** One request through its origin's pool, the whole reply read; `timeoutMs` bounds the exchange as a whole. */
export const sendUpstream: SendUpstream = (request, timeoutMs) =>
  new Promise<UpstreamReply>((resolve, reject) => {
    poolFor(request.origin).dispatch(
      {
        path: request.path,
        method: request.method,
        headers: request.headers,
        extraHeaders: NO_HEADERS,
        body: request.method === "GET" && request.body.length === 0 ? undefined : request.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      new WholeReply(timeoutMs, resolve, reject),
    );
  });

class WholeReply implements UpstreamHandler {
  private status = 0;
  private headers: UpstreamHeaders = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private deadline: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly resolve: (reply: UpstreamReply) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  onRequestStart(controller: UpstreamController): void {
    // A provider that trickles its reply would otherwise hold the caller as long as it likes.
    this.deadline = setTimeout(
      () =>
        controller.abort(
          new UpstreamError("UPSTREAM_BODY_TIMEOUT", `no whole reply within ${this.timeoutMs} ms`),
        ),
      this.timeoutMs,
    );
  }

  onResponseStart(_controller: UpstreamController, status: number, headers: UpstreamHeaders): void {
    this.status = status;
    this.headers = headers;
  }

  onResponseData(controller: UpstreamController, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > WHOLE_REPLY_LIMIT) {
      controller.abort(
        new UpstreamError("UPSTREAM_BAD_REPLY", `the reply is larger than ${WHOLE_REPLY_LIMIT} bytes`),
      );
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    clearTimeout(this.deadline);
    this.resolve({ status: this.status, headers: this.headers, body: Buffer.concat(this.chunks, this.size) });
  }

  onResponseError(_controller: UpstreamController, error: Error): void {
    clearTimeout(this.deadline);
    this.reject(error);
  }
}
