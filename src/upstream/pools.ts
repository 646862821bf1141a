import { Pool } from "undici";
import type { NetworkConfig } from "../config/types.js";

// One keep-alive connection pool per upstream origin, per lane. Pools outlive configuration snapshots so
// that a reload keeps warm connections; `retain` closes the ones no provider uses any more.

const pools = new Map<string, Pool>();

/** `network` sets the connect timeout of a new pool (the first provider to use an origin decides). */
export function poolFor(origin: string, network?: NetworkConfig): Pool {
  let pool = pools.get(origin);
  if (pool === undefined) {
    const connectTimeout =
      network === undefined ? 10_000 : (network.connectTimeoutMs ?? network.requestTimeoutMs);
    pool = new Pool(origin, {
      // Concurrency is bounded by the gateway's own limits, not by the pool.
      connections: null,
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

export async function closeAllPools(): Promise<void> {
  const closing = [...pools.values()].map((pool) => pool.close());
  pools.clear();
  await Promise.allSettled(closing);
}
