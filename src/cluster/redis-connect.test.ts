import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRedis, type TestRedis } from "../../test/helpers/redis.js";
import { startTestRedisCluster, startTestRedisSentinel } from "../../test/helpers/redis-topologies.js";
import type { RedisTarget } from "../config/types.js";
import { type ClusterRedis, connectClusterRedis } from "./redis-connect.js";

// Each topology cluster mode supports, on real servers: the commands the leases and shared health send, pub/sub,
// and a Redis that goes away and comes back while the client keeps running.

interface Deployment {
  readonly target: RedisTarget;
  /** A server holding data, which takeDown() stops and bringUp() starts again, empty. */
  readonly server: TestRedis;
  /** The servers a client finds Redis through. */
  readonly entries: readonly TestRedis[];
  stop(): Promise<void>;
}

const deployments: Record<RedisTarget["kind"], () => Promise<Deployment>> = {
  standalone: async () => {
    const redis = await startTestRedis({ throwaway: true });
    return {
      target: { kind: "standalone", url: redis.url },
      server: redis,
      entries: [redis],
      stop: redis.stop,
    };
  },
  sentinel: async () => {
    const { masterName, addresses, primary, sentinels, stop } = await startTestRedisSentinel();
    return {
      target: { kind: "sentinel", masterName, sentinels: addresses },
      server: primary,
      entries: sentinels,
      stop,
    };
  },
  cluster: async () => {
    const { nodes, primaries, stop } = await startTestRedisCluster();
    // One node named is enough: the client finds the others.
    const target: RedisTarget = { kind: "cluster", nodes: [nodes[1] as string] };
    return { target, server: primaries[0] as TestRedis, entries: primaries, stop };
  },
};

// Its keys share one hash tag, as the lease script's do, so a cluster runs it on one primary.
const SCRIPT =
  "redis.call('HSET', KEYS[1], 'n', ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return ARGV[1]";
const scriptKeys = (id: number) => [`t:{${id}}:hash`, `t:{${id}}:plain`];
const IDS = Array.from({ length: 30 }, (_, i) => i);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** How long `command` took to fail; it must fail. */
async function failureTime(command: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await expect(command()).rejects.toThrow();
  return performance.now() - started;
}

describe.each(["standalone", "sentinel", "cluster"] as const)("%s Redis", (kind) => {
  let deployment: Deployment;
  let redis: ClusterRedis;
  let sha = "";
  let readyCalls = 0;
  let destroyed = false;
  const errors: Error[] = [];

  beforeAll(async () => {
    deployment = await deployments[kind]();
    redis = connectClusterRedis(deployment.target, { commandTimeoutMs: 250, onError: (e) => errors.push(e) });
    // As the leases do: the script loaded on every connection.
    redis.onReady(() => {
      readyCalls += 1;
      redis.scriptLoad(SCRIPT).then(
        (loaded) => {
          sha = kind === "cluster" ? ((loaded as string[])[0] as string) : (loaded as string);
        },
        (error: Error) => errors.push(error),
      );
    });
    await until(() => redis.isReady && sha !== "");
  });

  afterAll(async () => {
    if (!destroyed) redis?.destroy();
    await deployment?.stop();
  });

  it("runs a loaded script over keys of one hash tag, on every primary there is", async () => {
    expect(readyCalls).toBe(1);
    for (const id of IDS) {
      expect(await redis.evalSha(sha, { keys: scriptKeys(id), arguments: [`v${id}`] })).toBe(`v${id}`);
      expect(await redis.hmGet(scriptKeys(id)[0] as string, ["n", "missing"])).toEqual([`v${id}`, null]);
      expect(await redis.get(scriptKeys(id)[1] as string)).toBe(`v${id}`);
    }
  });

  it("reads, writes and expires hashes and plain keys", async () => {
    expect(await redis.hGetAll("h:{x}")).toEqual({});
    await redis.hSet("h:{x}", { a: "1", b: "2" });
    expect(await redis.hGetAll("h:{x}")).toEqual({ a: "1", b: "2" });
    expect(await redis.hmGet("h:{x}", ["b", "c"])).toEqual(["2", null]);
    await redis.pExpire("h:{x}", 30);
    await until(async () => Object.keys(await redis.hGetAll("h:{x}")).length === 0, 1_000);
    expect(await redis.get("once")).toBeNull();
    expect(await redis.setIfAbsent("once", "first")).toBe(true);
    expect(await redis.setIfAbsent("once", "second")).toBe(false);
    expect(await redis.get("once")).toBe("first");
  });

  it("delivers what is published to a subscriber", async () => {
    const heard: string[] = [];
    await redis.subscribe("news", (message) => heard.push(message));
    for (const word of ["one", "two", "three"]) await redis.publish("news", word);
    await until(() => heard.length === 3, 2_000);
    // A cluster sends each PUBLISH to any node, so their order is not kept.
    expect(heard.sort()).toEqual(["one", "three", "two"]);
  });

  it("fails fast while Redis is down and recovers by itself, loading the script again", async () => {
    const heard: string[] = [];
    await redis.subscribe("after", (message) => heard.push(message));
    // A key the server taken down holds (on a cluster, only some keys live on it).
    const raw = createClient({ url: deployment.server.url });
    await raw.connect();
    const local = await raw.keys("t:*:plain").finally(() => raw.destroy());
    const held = IDS.findIndex((id) => local.includes(scriptKeys(id)[1] as string));
    expect(held).toBeGreaterThanOrEqual(0);
    const [hash, plain] = scriptKeys(held) as [string, string];

    await deployment.server.takeDown();
    await until(() => !redis.isReady, 2_000);
    const slowest = Math.max(
      await failureTime(() => redis.get(plain)),
      await failureTime(() => redis.hmGet(hash, ["n"])),
      await failureTime(() => redis.evalSha(sha, { keys: [hash, plain], arguments: ["down"] })),
      await failureTime(() => redis.setIfAbsent(plain, "down")),
    );
    expect(slowest).toBeLessThan(100);
    expect(redis.isReady).toBe(false);

    await deployment.server.bringUp();
    await until(() => redis.isReady);
    // The restarted server is empty: only a script loaded again on reconnection runs by its SHA.
    await until(() => readyCalls >= 2);
    await until(async () => {
      try {
        return (await redis.evalSha(sha, { keys: [hash, plain], arguments: ["back"] })) === "back";
      } catch {
        return false;
      }
    });
    expect(await redis.get(plain)).toBe("back");
    // The subscription came back with the connection.
    await until(async () => {
      await redis.publish("after", "back");
      return heard.length > 0;
    });
    expect(heard[0]).toBe("back");
    expect(errors.length).toBeGreaterThan(0);
  });

  it("started while Redis is away, connects once it is back", async () => {
    // A Sentinel client that loses every sentinel prints each failed rediscovery: not in the test output.
    redis.destroy();
    destroyed = true;
    for (const server of deployment.entries) await server.takeDown();
    const late = connectClusterRedis(deployment.target, { commandTimeoutMs: 250, onError: () => {} });
    try {
      await sleep(300);
      expect(late.isReady).toBe(false);
      expect(await failureTime(() => late.get("late"))).toBeLessThan(100);
      for (const server of deployment.entries) await server.bringUp();
      await until(
        async () => late.isReady && (await late.setIfAbsent("late", "1").catch(() => false)),
        10_000,
      );
      expect(await late.get("late")).toBe("1");
    } finally {
      late.destroy();
    }
  });
});
