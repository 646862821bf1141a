/**
 * The cluster-mode targets, each governed as switchyard-governed is (bench/targets.ts) with cluster mode on
 * against a throwaway redis-server of its own (in memory, no snapshots):
 *   switchyard-cluster   one instance, its lanes as the other targets'; against switchyard-governed it shows
 *                        what cluster mode costs a request
 *   switchyard-lb1/lb3   one or three instances of one lane each (the bench machines have two cores) behind
 *                        the bench's TCP balancer (bench/lb.ts); the clients talk to the balancer
 * Each instance has its own app dir, since SQLite is not shared between processes, and the same virtual key:
 * its secret is given to each. The Redis and balancer processes count in the target's CPU and RSS.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TargetName } from "./args.js";
import {
  type Child,
  freePort,
  paths,
  printedUrl,
  probeChat,
  startChild,
  startSwitchyard,
  type Target,
  waitFor,
} from "./targets.js";

/** Lanes of each instance behind the balancer: three instances of two lanes would be six on two cores. */
const BALANCED_LANES = 1;
/**
 * The balancer's cap on open client connections: room for the in-flight scenario's ~7,500, while its two
 * descriptors per connection stay under the bench machines' limit of 20,000 open files.
 */
const BALANCER_MAX_CONNECTIONS = 9000;

/** A child that stops `stages` in order after itself (balancer, then gateways, then their Redis). */
function withStages(main: Child, stages: readonly (readonly Child[])[]): Child {
  const all = [main, ...stages.flat()];
  return {
    ...main,
    log: () => all.map((c) => `[${c.name}] ${c.log()}`).join("\n"),
    stop: async () => {
      await main.stop();
      for (const stage of stages) await Promise.all(stage.map((c) => c.stop()));
    },
  };
}

/** A redis-server on a free port, in memory only, in a temporary directory removed when it stops. */
async function startRedis(): Promise<{ child: Child; url: string }> {
  if (spawnSync("redis-server", ["--version"]).error !== undefined)
    throw new Error("skipped: redis-server is not installed (Debian's redis-server package)");
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-redis-"));
  const port = await freePort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
  ];
  const started = startChild("redis", args, {}, "redis-server");
  const child: Child = {
    ...started,
    stop: async () => {
      await started.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor("redis-server", child, async () => child.log().includes("Ready to accept connections"));
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { child, url: `redis://127.0.0.1:${port}` };
}

function clusterEnv(redisUrl: string, instances: number, instance: string): Record<string, string> {
  return {
    SWITCHYARD_REDIS_URL: redisUrl,
    SWITCHYARD_CLUSTER_INSTANCES: String(instances),
    SWITCHYARD_CLUSTER_NAME: instance,
  };
}

/** switchyard-cluster: switchyard-governed with cluster mode on, one instance. */
export async function startClusterTarget(mockUrl: string): Promise<{ child: Child; target: Target }> {
  const redis = await startRedis();
  try {
    const { child, target } = await startSwitchyard(mockUrl, "governed", {
      name: "switchyard-cluster",
      env: clusterEnv(redis.url, 1, "bench-1"),
    });
    return {
      child: withStages(child, [[redis.child]]),
      target: { ...target, extraPids: [redis.child.pid] },
    };
  } catch (err) {
    await redis.child.stop();
    throw err;
  }
}

/** switchyard-lb1 and switchyard-lb3: `instances` governed cluster instances behind the bench's balancer. */
export async function startBalancedTarget(
  mockUrl: string,
  name: TargetName,
  instances: number,
): Promise<{ child: Child; target: Target }> {
  const redis = await startRedis();
  const gateways: { child: Child; target: Target }[] = [];
  try {
    const keySecret = `sk-bench-${randomBytes(16).toString("hex")}`;
    for (let i = 1; i <= instances; i++)
      gateways.push(
        await startSwitchyard(mockUrl, "governed", {
          name,
          env: clusterEnv(redis.url, instances, `bench-${i}`),
          args: ["--lanes", String(BALANCED_LANES)],
          keySecret,
        }),
      );
    const first = gateways[0]?.target;
    if (first === undefined) throw new Error("no instance to balance");
    const backends = gateways.map((g) => new URL(g.target.origin).host).join(",");
    const balancer = startChild("balancer", [
      paths.balancer,
      "--backends",
      backends,
      "--max-connections",
      String(BALANCER_MAX_CONNECTIONS),
    ]);
    let target: Target;
    try {
      target = {
        ...first,
        name,
        origin: await printedUrl(balancer),
        pid: balancer.pid,
        extraPids: [...gateways.map((g) => g.child.pid), redis.child.pid],
        // One instance's histogram is the target's; of three, one instance's would be read as all of them.
        metricsUrl: instances === 1 ? first.metricsUrl : undefined,
      };
      const probe = await probeChat(target);
      if (probe.status !== 200)
        throw new Error(`${name} answered ${probe.status} through the balancer: ${probe.body}`);
    } catch (err) {
      await balancer.stop();
      throw err;
    }
    const child = withStages(balancer, [gateways.map((g) => g.child), [redis.child]]);
    return { child, target };
  } catch (err) {
    await Promise.all(gateways.map((g) => g.child.stop()));
    await redis.child.stop();
    throw err;
  }
}
