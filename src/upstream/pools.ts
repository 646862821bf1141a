import { Client, Dispatcher, Pool } from "undici";
import type { NetworkConfig } from "../config/types.js";
import type { ExchangeAccount } from "../observability/account.js";
import type { SendUpstream, UpstreamReply } from "../providers/adapter.js";

// One keep-alive connection pool per upstream origin, per lane. Pools outlive configuration snapshots so
// that a reload keeps warm connections; `retain` closes the ones no provider uses any more.

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;

/**
 * undici's Pool looks for a free connection by scanning all of them on every dispatch; with thousands of
 * requests in flight to one provider (a slow model at a few thousand requests a second) that scan costs
 * more than the rest of the request. Here free connections wait on a stack, so a dispatch is O(1).
 */
export class UpstreamPool extends Dispatcher {
  private readonly idle: Client[] = [];
  private readonly clients = new Set<Client>();

  /** Connections opened so far (each is one Client). */
  get connections(): number {
    return this.clients.size;
  }

  /** Low-volume callers of undici's request() API (model lists, signing helpers) use a plain Pool. */
  private plain: Pool | undefined;
  private closed = false;

  constructor(
    private readonly origin: string,
    private readonly options: Client.Options,
  ) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Handler): boolean {
    if (typeof handler.onResponseStart !== "function") {
      this.plain ??= new Pool(this.origin, this.options);
      return this.plain.dispatch(options, handler);
    }
    let client = this.idle.pop();
    if (client === undefined) {
      client = new Client(this.origin, this.options);
      this.clients.add(client);
    }
    return client.dispatch(options, new Lease(this, client, handler));
  }

  release(client: Client): void {
    if (this.closed) client.close().catch(() => {});
    else this.idle.push(client);
  }

  override async close(): Promise<void> {
    this.closed = true;
    this.idle.length = 0;
    const closing = [...this.clients].map((client) => client.close());
    if (this.plain !== undefined) closing.push(this.plain.close());
    this.clients.clear();
    await Promise.allSettled(closing);
  }

  override async destroy(): Promise<void> {
    this.closed = true;
    this.idle.length = 0;
    const destroying = [...this.clients].map((client) => client.destroy());
    if (this.plain !== undefined) destroying.push(this.plain.destroy());
    this.clients.clear();
    await Promise.allSettled(destroying);
  }
}

/** Passes one exchange through to its handler and puts the connection back when the exchange is over. */
class Lease implements Handler {
  private released = false;

  constructor(
    private readonly pool: UpstreamPool,
    private readonly client: Client,
    private readonly inner: Handler,
  ) {}

  onRequestStart(controller: Controller, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }

  onResponseStart(
    controller: Controller,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    message?: string,
  ): void {
    this.inner.onResponseStart?.(controller, status, headers as never, message);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: Record<string, string | string[] | undefined>): void {
    this.inner.onResponseEnd?.(controller, trailers as never);
    this.release();
  }

  onResponseError(controller: Controller, error: Error): void {
    this.inner.onResponseError?.(controller, error);
    // A client whose socket failed reconnects on its next dispatch, so it goes back on the stack too.
    this.release();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.pool.release(this.client);
  }
}

const pools = new Map<string, UpstreamPool>();

/** `network` sets the connect timeout of a new pool (the first provider to use an origin decides). */
export function poolFor(origin: string, network?: NetworkConfig): UpstreamPool {
  let pool = pools.get(origin);
  if (pool === undefined) {
    const connectTimeout =
      network === undefined ? 10_000 : (network.connectTimeoutMs ?? network.requestTimeoutMs);
    pool = new UpstreamPool(origin, {
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connect: { timeout: connectTimeout, noDelay: true },
    });
    pools.set(origin, pool);
  }
  return pool;
}

/** Gracefully closes pools for origins not in `inUse`; their in-flight requests finish first. */
export function retainPools(inUse: ReadonlySet<string>): void {
  for (const [origin, pool] of pools) {
    if (!inUse.has(origin)) {
      pools.delete(origin);
      void pool.close();
    }
  }
}

/** The end of a drain: upstream requests still open (their clients have been answered) are dropped. */
export async function closeAllPools(): Promise<void> {
  const closing = [...pools.values()].map((pool) => pool.destroy());
  pools.clear();
  await Promise.allSettled(closing);
}

/**
 * Hands one upstream request to its origin's pool. The provider's share of the time starts here, so
 * writing the request to the socket counts as the provider call, as Bifrost counts it in its overhead
 * figure; the gateway's share is everything before this and everything after the last byte came back.
 */
export function dispatchUpstream(
  origin: string,
  network: NetworkConfig | undefined,
  options: Dispatcher.DispatchOptions,
  handler: Handler,
  account: ExchangeAccount,
): void {
  account.dispatched();
  poolFor(origin, network).dispatch(options, handler);
}

/** The SendUpstream adapters are given: one request through its origin's pool, the whole reply read. */
export const sendUpstream: SendUpstream = async (request, timeoutMs): Promise<UpstreamReply> => {
  const reply = await poolFor(request.origin).request({
    path: request.path,
    method: request.method,
    headers: request.headers,
    body: request.body,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  return {
    status: reply.statusCode,
    headers: reply.headers,
    body: Buffer.from(await reply.body.arrayBuffer()),
  };
};
