import { hostname } from "node:os";
import type { CacheReader } from "./cache.js";
import { ConfigError } from "./errors.js";
import type { ClusterConfig, RedisTarget } from "./types.js";

// Cluster mode's settings: a `cluster` section in either file (the same keys in LiteLLM's YAML and Bifrost's
// JSON) and the environment over it. Without either nothing changes and no Redis client is loaded.
//   SWITCHYARD_REDIS_URL=redis://...                 one Redis server (turns cluster mode on)
//   SWITCHYARD_REDIS_SENTINELS=host:port,...         Sentinel, with SWITCHYARD_REDIS_SENTINEL_MASTER=name
//   SWITCHYARD_REDIS_CLUSTER_NODES=redis://...,...   a Redis Cluster, by some of its nodes
//   SWITCHYARD_REDIS_PASSWORD=...                    the Sentinel-watched primary's password
//   SWITCHYARD_CLUSTER_NAME=gw-a                     this instance's name (default: the host name)
//   SWITCHYARD_CLUSTER_ON_REDIS_DOWN=refuse|local
//   SWITCHYARD_CLUSTER_LEASE_EXPIRY=charge|reclaim
//   SWITCHYARD_CLUSTER_INSTANCES=N                   how many instances share the limits
//   SWITCHYARD_CLUSTER_LEASE_TTL_SECONDS=N           a lease its holder does not renew lapses after this
//   SWITCHYARD_CLUSTER_SHARE_HEALTH=true|false
// The store's database (DATABASE_URL) is the governance store's setting, read with it.

export const DEFAULT_CLUSTER: Omit<ClusterConfig, "redis" | "instanceName"> = {
  keyPrefix: "sy:cluster:",
  onRedisDown: "refuse",
  leaseExpiry: "charge",
  expectedInstances: 2,
  leaseTtlMs: 10_000,
  shareHealth: true,
};

const MAX_INSTANCES = 1024;
const MAX_LEASE_TTL_S = 3600;
const INSTANCE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const KEY_PREFIX = /^[A-Za-z0-9_.:{}-]{1,64}$/;
const REDIS_URL = /^rediss?:\/\/[^\s]+$/;
const MAX_NODES = 64;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** This host's name as an instance name: characters Redis keys and log lines take as they are. */
function defaultInstanceName(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9_.-]/g, "-")
    .slice(0, 64);
  return name === "" ? "gateway" : name;
}

/** "host:port" as Sentinel lists its peers. */
function sentinelAddress(text: string): { host: string; port: number } | undefined {
  const match = /^\[?([A-Za-z0-9_.:-]+?)\]?:(\d{1,5})$/.exec(text.trim());
  if (match === null) return undefined;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535 ? { host: match[1] as string, port } : undefined;
}

/** What the file's `cluster` section says; `resolve` reads a string value's secret reference (os.environ/, env.). */
export function readClusterSection(
  c: CacheReader,
  raw: unknown,
  resolve: (value: unknown, path: string) => unknown,
  env: NodeJS.ProcessEnv,
): ClusterConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) {
    c.problem("cluster", "must be a mapping");
    return undefined;
  }
  const path = (key: string) => `cluster.${key}`;
  const known = new Set([
    "enabled",
    "redis_url",
    "redis_sentinel",
    "redis_cluster_nodes",
    "instance_name",
    "key_prefix",
    "on_redis_down",
    "lease_expiry",
    "expected_instances",
    "lease_ttl_seconds",
    "share_health",
  ]);
  for (const key of Object.keys(raw)) if (!known.has(key)) c.warn(path(key), "unknown key; ignored");
  if (raw.enabled === false) return undefined;

  const text = (key: string, pattern: RegExp, what: string): string | undefined => {
    const value = resolve(raw[key], path(key));
    if (value === undefined) return undefined;
    if (typeof value !== "string" || !pattern.test(value)) {
      c.problem(path(key), what);
      return undefined;
    }
    return value;
  };
  const choice = <T extends string>(key: string, options: readonly T[]): T | undefined => {
    const value = raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || !options.includes(value as T)) {
      c.problem(path(key), `must be one of ${options.join(", ")}`);
      return undefined;
    }
    return value as T;
  };
  const whole = (key: string, min: number, max: number): number | undefined => {
    const value = raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      c.problem(path(key), `must be a whole number from ${min} to ${max}`);
      return undefined;
    }
    return value;
  };

  let redis: RedisTarget | undefined;
  const url = text("redis_url", REDIS_URL, "must be a redis:// or rediss:// URL");
  if (url !== undefined) redis = { kind: "standalone", url };
  if (raw.redis_sentinel !== undefined) {
    const s = raw.redis_sentinel;
    const sentinels = isObj(s) && Array.isArray(s.sentinels) ? s.sentinels.map(String) : [];
    const addresses = sentinels.map(sentinelAddress);
    const masterName = isObj(s) ? resolve(s.master_name, "cluster.redis_sentinel.master_name") : undefined;
    const password = isObj(s) ? resolve(s.password, "cluster.redis_sentinel.password") : undefined;
    if (
      typeof masterName !== "string" ||
      masterName === "" ||
      addresses.length === 0 ||
      addresses.length > MAX_NODES ||
      addresses.some((a) => a === undefined)
    )
      c.problem("cluster.redis_sentinel", "needs master_name and sentinels: a list of host:port");
    else
      redis = {
        kind: "sentinel",
        masterName,
        sentinels: addresses as { host: string; port: number }[],
        ...(typeof password === "string" && password !== "" ? { password } : {}),
      };
  }
  if (raw.redis_cluster_nodes !== undefined) {
    const nodes = Array.isArray(raw.redis_cluster_nodes)
      ? raw.redis_cluster_nodes.map((n, i) => resolve(n, `cluster.redis_cluster_nodes[${i}]`))
      : [];
    if (
      nodes.length === 0 ||
      nodes.length > MAX_NODES ||
      nodes.some((n) => typeof n !== "string" || !REDIS_URL.test(n))
    )
      c.problem("cluster.redis_cluster_nodes", "must be a list of redis:// URLs");
    else redis = { kind: "cluster", nodes: nodes as string[] };
  }
  const given = [url, raw.redis_sentinel, raw.redis_cluster_nodes].filter((v) => v !== undefined);
  if (given.length > 1) c.problem("cluster", "name one of redis_url, redis_sentinel and redis_cluster_nodes");
  const instanceName = text("instance_name", INSTANCE_NAME, "1 to 64 letters, digits and _ . -");
  const keyPrefix = text("key_prefix", KEY_PREFIX, "1 to 64 letters, digits and _ . : { } -");
  const onRedisDown = choice("on_redis_down", ["refuse", "local"] as const);
  const leaseExpiry = choice("lease_expiry", ["charge", "reclaim"] as const);
  const expectedInstances = whole("expected_instances", 1, MAX_INSTANCES);
  const leaseTtl = whole("lease_ttl_seconds", 1, MAX_LEASE_TTL_S);
  let shareHealth: boolean | undefined;
  if (raw.share_health !== undefined) {
    if (typeof raw.share_health !== "boolean") c.problem(path("share_health"), "must be true or false");
    else shareHealth = raw.share_health;
  }
  // The file may say how and leave where to the environment (clusterFromEnvironment reads it over this).
  const envNamesRedis = [
    "SWITCHYARD_REDIS_URL",
    "SWITCHYARD_REDIS_SENTINELS",
    "SWITCHYARD_REDIS_CLUSTER_NODES",
  ].some((name) => (env[name]?.trim() ?? "") !== "");
  if (redis === undefined) {
    if (given.length === 0 && !envNamesRedis)
      c.problem(
        "cluster",
        "needs Redis: redis_url, redis_sentinel or redis_cluster_nodes (or SWITCHYARD_REDIS_URL)",
      );
    if (!envNamesRedis) return undefined;
  }
  return {
    ...DEFAULT_CLUSTER,
    // A placeholder the environment's target replaces; never used as it is.
    redis: redis ?? { kind: "standalone", url: "redis://environment" },
    instanceName: instanceName ?? defaultInstanceName(),
    ...defined({ keyPrefix, onRedisDown, leaseExpiry, expectedInstances, shareHealth }),
    ...(leaseTtl === undefined ? {} : { leaseTtlMs: leaseTtl * 1000 }),
  };
}

function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The file's cluster settings with the environment's over them; a malformed value is a configuration error. */
export function clusterFromEnvironment(
  base: ClusterConfig | undefined,
  env: NodeJS.ProcessEnv,
): ClusterConfig | undefined {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  let redis: RedisTarget | undefined;
  const url = text("SWITCHYARD_REDIS_URL");
  if (url !== undefined) {
    if (REDIS_URL.test(url)) redis = { kind: "standalone", url };
    else problems.push("SWITCHYARD_REDIS_URL: must be a redis:// or rediss:// URL");
  }
  const sentinels = text("SWITCHYARD_REDIS_SENTINELS");
  if (sentinels !== undefined) {
    const addresses = sentinels.split(",").map(sentinelAddress);
    const masterName = text("SWITCHYARD_REDIS_SENTINEL_MASTER");
    const password = text("SWITCHYARD_REDIS_PASSWORD");
    if (masterName === undefined || addresses.length > MAX_NODES || addresses.some((a) => a === undefined))
      problems.push(
        "SWITCHYARD_REDIS_SENTINELS: a comma-separated list of host:port, with SWITCHYARD_REDIS_SENTINEL_MASTER",
      );
    else
      redis = {
        kind: "sentinel",
        masterName,
        sentinels: addresses as { host: string; port: number }[],
        ...(password === undefined ? {} : { password }),
      };
  }
  const nodes = text("SWITCHYARD_REDIS_CLUSTER_NODES");
  if (nodes !== undefined) {
    const list = nodes.split(",").map((n) => n.trim());
    if (list.length > MAX_NODES || list.some((n) => !REDIS_URL.test(n)))
      problems.push("SWITCHYARD_REDIS_CLUSTER_NODES: a comma-separated list of redis:// URLs");
    else redis = { kind: "cluster", nodes: list };
  }
  if ([url, sentinels, nodes].filter((v) => v !== undefined).length > 1)
    problems.push(
      "name one of SWITCHYARD_REDIS_URL, SWITCHYARD_REDIS_SENTINELS and SWITCHYARD_REDIS_CLUSTER_NODES",
    );
  const name = text("SWITCHYARD_CLUSTER_NAME");
  if (name !== undefined && !INSTANCE_NAME.test(name))
    problems.push("SWITCHYARD_CLUSTER_NAME: 1 to 64 letters, digits and _ . -");
  const onRedisDown = text("SWITCHYARD_CLUSTER_ON_REDIS_DOWN");
  if (onRedisDown !== undefined && onRedisDown !== "refuse" && onRedisDown !== "local")
    problems.push("SWITCHYARD_CLUSTER_ON_REDIS_DOWN: must be refuse or local");
  const expiry = text("SWITCHYARD_CLUSTER_LEASE_EXPIRY");
  if (expiry !== undefined && expiry !== "charge" && expiry !== "reclaim")
    problems.push("SWITCHYARD_CLUSTER_LEASE_EXPIRY: must be charge or reclaim");
  const instancesText = text("SWITCHYARD_CLUSTER_INSTANCES");
  const instances = instancesText === undefined ? undefined : Number(instancesText);
  if (instances !== undefined && (!Number.isInteger(instances) || instances < 1 || instances > MAX_INSTANCES))
    problems.push(`SWITCHYARD_CLUSTER_INSTANCES: must be a whole number from 1 to ${MAX_INSTANCES}`);
  const ttlText = text("SWITCHYARD_CLUSTER_LEASE_TTL_SECONDS");
  const ttl = ttlText === undefined ? undefined : Number(ttlText);
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_LEASE_TTL_S))
    problems.push(
      `SWITCHYARD_CLUSTER_LEASE_TTL_SECONDS: must be a whole number from 1 to ${MAX_LEASE_TTL_S}`,
    );
  const health = text("SWITCHYARD_CLUSTER_SHARE_HEALTH")?.toLowerCase();
  if (health !== undefined && health !== "true" && health !== "false")
    problems.push("SWITCHYARD_CLUSTER_SHARE_HEALTH: must be true or false");
  if (problems.length > 0) throw new ConfigError("environment", problems);

  const target = redis ?? base?.redis;
  const tuned =
    name !== undefined ||
    onRedisDown !== undefined ||
    expiry !== undefined ||
    instances !== undefined ||
    ttl !== undefined ||
    health !== undefined;
  if (target === undefined) {
    if (tuned)
      throw new ConfigError("environment", [
        "cluster mode needs Redis: set SWITCHYARD_REDIS_URL (or the cluster section's redis_url, redis_sentinel or redis_cluster_nodes)",
      ]);
    return undefined;
  }
  if (redis === undefined && !tuned) return base;
  return {
    ...DEFAULT_CLUSTER,
    instanceName: defaultInstanceName(),
    ...base,
    redis: target,
    ...(name === undefined ? {} : { instanceName: name }),
    ...(onRedisDown === "refuse" || onRedisDown === "local" ? { onRedisDown } : {}),
    ...(expiry === "charge" || expiry === "reclaim" ? { leaseExpiry: expiry } : {}),
    ...(instances === undefined ? {} : { expectedInstances: instances }),
    ...(ttl === undefined ? {} : { leaseTtlMs: ttl * 1000 }),
    ...(health === undefined ? {} : { shareHealth: health === "true" }),
  };
}

/** The Redis target as start-up and /api/config show it: no credentials. */
export function describeRedisTarget(target: RedisTarget): string {
  const bare = (url: string) => url.replace(/\/\/[^@/]*@/, "//");
  switch (target.kind) {
    case "standalone":
      return bare(target.url);
    case "sentinel":
      return `sentinel ${target.masterName} via ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(",")}`;
    case "cluster":
      return `cluster ${target.nodes.map(bare).join(",")}`;
  }
}
