import { Pool } from "undici";

// One keep-alive connection pool per upstream origin, per lane. Pools outlive configuration snapshots so
// that a reload keeps warm connections; `retain` closes the ones no provider uses any more.

const pools = new Map<string, Pool>();

export function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (pool === undefined) {
    pool = new Pool(origin, {
      // Concurrency is bounded by the gateway's own limits, not by the pool.
      connections: null,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connect: { timeout: 10_000, noDelay: true },
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
