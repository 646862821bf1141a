import { describe, expect, it } from "vitest";
import { describeRedisTarget } from "./cluster.js";
import { ConfigError } from "./errors.js";
import { loadConfig, parseConfigText } from "./load.js";

// Cluster mode's settings: the `cluster` section of either file, the environment over it, and what
// turning it on changes elsewhere (the answer cache moves to the cluster's Redis).

const YAML = `
model_list: []
cluster:
  redis_url: redis://:secret@redis.internal:6379/0
  instance_name: gw-a
  on_redis_down: local
  lease_expiry: reclaim
  expected_instances: 4
  lease_ttl_seconds: 5
  share_health: false
`;

describe("the cluster section", () => {
  it("reads LiteLLM's YAML", () => {
    const { config } = parseConfigText(YAML, "config.yaml", {});
    expect(config.cluster).toEqual({
      redis: { kind: "standalone", url: "redis://:secret@redis.internal:6379/0" },
      instanceName: "gw-a",
      keyPrefix: "sy:cluster:",
      onRedisDown: "local",
      leaseExpiry: "reclaim",
      expectedInstances: 4,
      leaseTtlMs: 5000,
      shareHealth: false,
    });
  });

  it("reads Bifrost's JSON, Sentinel and Redis Cluster, with secrets from the environment", () => {
    const sentinel = parseConfigText(
      JSON.stringify({
        providers: {},
        cluster: {
          redis_sentinel: {
            master_name: "main",
            sentinels: ["10.0.0.1:26379", "10.0.0.2:26379"],
            password: "env.PW",
          },
        },
      }),
      "config.json",
      { PW: "hunter2" },
    ).config.cluster;
    expect(sentinel?.redis).toEqual({
      kind: "sentinel",
      masterName: "main",
      sentinels: [
        { host: "10.0.0.1", port: 26379 },
        { host: "10.0.0.2", port: 26379 },
      ],
      password: "hunter2",
    });
    const nodes = parseConfigText(
      JSON.stringify({
        providers: {},
        cluster: { redis_cluster_nodes: ["redis://a:7000", "redis://b:7000"] },
      }),
      "config.json",
      {},
    ).config.cluster;
    expect(nodes?.redis).toEqual({ kind: "cluster", nodes: ["redis://a:7000", "redis://b:7000"] });
  });

  it("refuses what it cannot use, naming the key", () => {
    const bad = (section: unknown) => () =>
      parseConfigText(JSON.stringify({ providers: {}, cluster: section }), "config.json", {});
    expect(bad({ redis_url: "http://x" })).toThrow(/cluster\.redis_url: must be a redis/);
    expect(bad({ redis_url: "redis://x", on_redis_down: "open" })).toThrow(/cluster\.on_redis_down/);
    expect(bad({ redis_url: "redis://x", expected_instances: 0 })).toThrow(/cluster\.expected_instances/);
    expect(bad({ redis_url: "redis://x", redis_cluster_nodes: ["redis://y"] })).toThrow(/name one of/);
    expect(bad({ instance_name: "gw" })).toThrow(/needs Redis/);
    expect(bad({ redis_sentinel: { sentinels: ["nohost"] } })).toThrow(/redis_sentinel/);
  });

  it("is off without a section or SWITCHYARD_REDIS_URL, and nothing changes", () => {
    expect(loadConfig({ env: {} }).config.cluster).toBeUndefined();
    expect(parseConfigText("model_list: []\n", "c.yaml", {}).config.cluster).toBeUndefined();
  });
});

describe("cluster mode from the environment", () => {
  it("turns on with SWITCHYARD_REDIS_URL, and the other variables tune it", () => {
    const { config } = loadConfig({
      env: {
        SWITCHYARD_REDIS_URL: "redis://127.0.0.1:6379",
        SWITCHYARD_CLUSTER_NAME: "gw-b",
        SWITCHYARD_CLUSTER_INSTANCES: "3",
        SWITCHYARD_CLUSTER_LEASE_TTL_SECONDS: "2",
        SWITCHYARD_CLUSTER_ON_REDIS_DOWN: "local",
      },
    });
    expect(config.cluster).toMatchObject({
      redis: { kind: "standalone", url: "redis://127.0.0.1:6379" },
      instanceName: "gw-b",
      expectedInstances: 3,
      leaseTtlMs: 2000,
      onRedisDown: "local",
      leaseExpiry: "charge",
      shareHealth: true,
    });
  });

  it("names Redis for a section that says only how", () => {
    const { config } = parseConfigText("cluster:\n  expected_instances: 5\n", "c.yaml", {
      SWITCHYARD_REDIS_URL: "redis://r:6379",
    });
    expect(config.cluster).toMatchObject({ redis: { url: "redis://r:6379" }, expectedInstances: 5 });
  });

  it("reads Sentinel and Redis Cluster, and refuses malformed values", () => {
    expect(
      loadConfig({
        env: { SWITCHYARD_REDIS_SENTINELS: "s1:26379,s2:26379", SWITCHYARD_REDIS_SENTINEL_MASTER: "main" },
      }).config.cluster?.redis,
    ).toMatchObject({ kind: "sentinel", masterName: "main" });
    expect(
      loadConfig({ env: { SWITCHYARD_REDIS_CLUSTER_NODES: "redis://a:7000, redis://b:7000" } }).config.cluster
        ?.redis,
    ).toEqual({ kind: "cluster", nodes: ["redis://a:7000", "redis://b:7000"] });
    for (const env of [
      { SWITCHYARD_REDIS_URL: "localhost:6379" },
      { SWITCHYARD_REDIS_URL: "redis://a", SWITCHYARD_CLUSTER_INSTANCES: "many" },
      { SWITCHYARD_REDIS_URL: "redis://a", SWITCHYARD_CLUSTER_NAME: "a b" },
      { SWITCHYARD_REDIS_SENTINELS: "s1:26379" },
      { SWITCHYARD_CLUSTER_INSTANCES: "3" },
    ])
      expect(() => loadConfig({ env })).toThrow(ConfigError);
  });

  it("shares the answer cache through the cluster's Redis, unless SWITCHYARD_CACHE=memory", () => {
    const url = "redis://127.0.0.1:6390";
    expect(
      loadConfig({ env: { SWITCHYARD_REDIS_URL: url, SWITCHYARD_CACHE_TTL_SECONDS: "60" } }).config.cache,
    ).toMatchObject({
      store: "redis",
      redisUrl: url,
    });
    expect(
      loadConfig({ env: { SWITCHYARD_REDIS_URL: url, SWITCHYARD_CACHE: "memory" } }).config.cache?.store,
    ).toBe("memory");
    // No cache configured: clustering turns none on.
    expect(loadConfig({ env: { SWITCHYARD_REDIS_URL: url } }).config.cache).toBeUndefined();
  });

  it("shows where Redis is without its credentials", () => {
    expect(describeRedisTarget({ kind: "standalone", url: "redis://user:pw@host:6379/1" })).toBe(
      "redis://host:6379/1",
    );
    expect(describeRedisTarget({ kind: "cluster", nodes: ["redis://:pw@a:7000"] })).toBe(
      "cluster redis://a:7000",
    );
  });
});
