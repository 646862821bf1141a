import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createClient } from "redis";
import { type RedisServer, startRedisServer } from "./redis.js";

// Throwaway Redis Sentinel and Redis Cluster deployments of Debian's redis-server, for the topologies cluster
// mode supports besides one server. Each server has a port and directory of its own; stop() ends them all.

export interface TestRedisSentinel {
  readonly masterName: string;
  readonly primary: RedisServer;
  readonly sentinels: readonly RedisServer[];
  /** Where the sentinels listen, as a Sentinel target names them. */
  readonly addresses: readonly { readonly host: string; readonly port: number }[];
  stop(): Promise<void>;
}

/** A primary watched by `count` sentinels (quorum 1), once every sentinel knows it. */
export async function startTestRedisSentinel(count = 1): Promise<TestRedisSentinel> {
  const masterName = "sy-primary";
  const primary = await startRedisServer();
  const config = [
    `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} 1`,
    `sentinel down-after-milliseconds ${masterName} 1000`,
    "",
  ].join("\n");
  const sentinels: RedisServer[] = [];
  try {
    for (let i = 0; i < count; i++)
      sentinels.push(await startRedisServer({ config, args: ["--sentinel"], readyWhen: "+monitor master" }));
  } catch (error) {
    await Promise.all([primary, ...sentinels].map((server) => server.stop()));
    throw error;
  }
  return {
    masterName,
    primary,
    sentinels,
    addresses: sentinels.map((sentinel) => ({ host: "127.0.0.1", port: sentinel.port })),
    stop: async () => {
      await Promise.all([...sentinels, primary].map((server) => server.stop()));
    },
  };
}

export interface TestRedisCluster {
  /** redis:// URLs of the primaries, which hold the slots in order. */
  readonly nodes: readonly string[];
  readonly primaries: readonly RedisServer[];
  stop(): Promise<void>;
}

/**
 * `count` primaries and no replicas sharing all slots, once every node says the cluster is ok. A primary
 * taken down and brought up keeps its node id and slots (its nodes.conf stays in its directory), empty.
 */
export async function startTestRedisCluster(count = 3): Promise<TestRedisCluster> {
  const args = [
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    "nodes.conf",
    "--cluster-node-timeout",
    "1000",
  ];
  const primaries = await Promise.all(Array.from({ length: count }, () => startRedisServer({ args })));
  const stop = async () => {
    await Promise.all(primaries.map((server) => server.stop()));
  };
  try {
    await promisify(execFile)(
      "redis-cli",
      ["--cluster", "create", ...primaries.map((p) => `127.0.0.1:${p.port}`), "--cluster-yes"],
      { timeout: 20_000 },
    );
    for (const primary of primaries) await untilClusterOk(primary.url);
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes: primaries.map((p) => p.url), primaries, stop };
}

/** Waits until the node at `url` reports the whole cluster ok (every slot served). */
export async function untilClusterOk(url: string, timeoutMs = 10_000): Promise<void> {
  const client = createClient({ url });
  client.on("error", () => {});
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while (!(await client.clusterInfo()).includes("cluster_state:ok")) {
      if (Date.now() > deadline) throw new Error(`cluster at ${url} not ok after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    client.destroy();
  }
}
