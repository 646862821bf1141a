import { setTimeout as sleep } from "node:timers/promises";
import { createClient, createCluster, createSentinel, type RedisClientOptions } from "redis";
import type { RedisTarget } from "../config/types.js";

// The one way cluster mode reaches Redis, whatever its topology: the few commands the leases and shared
// health use, on a connection that fails fast while Redis is away and reconnects by itself. Pub/sub gets a
// connection of its own, as Redis requires.

const MAX_RECONNECT_DELAY_MS = 2_000;
/** How often Sentinel and Cluster clients are looked at for a reconnection: neither announces one. */
const READY_POLL_MS = 20;

export interface ScriptCall {
  readonly keys: string[];
  readonly arguments: string[];
}

export interface ClusterRedis {
  /** Connected and answering commands. */
  readonly isReady: boolean;
  evalSha(sha: string, call: ScriptCall): Promise<unknown>;
  eval(script: string, call: ScriptCall): Promise<unknown>;
  /** Loads a script for evalSha (on every primary, where there are several). */
  scriptLoad(script: string): Promise<unknown>;
  hmGet(key: string, fields: string[]): Promise<(string | null)[]>;
  hGetAll(key: string): Promise<Record<string, string>>;
  hSet(key: string, values: Record<string, string>): Promise<unknown>;
  pExpire(key: string, ms: number): Promise<unknown>;
  get(key: string): Promise<string | null>;
  /** SET key value NX; true when it was set. */
  setIfAbsent(key: string, value: string): Promise<boolean>;
  publish(channel: string, message: string): Promise<unknown>;
  /** Listens on `channel` over a connection of its own; resolves once subscribed. */
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  /** Called on every (re)connection: scripts to load, state to announce. */
  onReady(listener: () => void): void;
  destroy(): void;
}

export interface ConnectOptions {
  readonly commandTimeoutMs: number;
  readonly onError: (error: Error) => void;
}

/** A client of `target`, connecting in the background; its errors go to `onError`. */
export function connectClusterRedis(target: RedisTarget, options: ConnectOptions): ClusterRedis {
  switch (target.kind) {
    case "standalone":
      return standalone(target.url, options);
    case "sentinel":
      return sentinel(target, options);
    case "cluster":
      return cluster(target.nodes, options);
  }
}

/** Options of every connection to a Redis node, whichever client makes it. */
function nodeOptions(commandTimeoutMs: number) {
  return {
    // Commands fail at once while disconnected instead of waiting in a queue for a reconnect.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: commandTimeoutMs * 4,
      reconnectStrategy: backoff,
    },
  } satisfies RedisClientOptions;
}

// Some of the Sentinel client's errors are strings.
const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

const backoff = (retries: number): number =>
  Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS);

type Commands = Pick<
  ReturnType<typeof createClient>,
  "evalSha" | "eval" | "scriptLoad" | "hmGet" | "hGetAll" | "hSet" | "pExpire" | "get" | "set" | "publish"
>;

/** The commands as every topology sends them; while `canSend` is false they fail at once. */
function commandsOf(
  client: Commands,
  canSend: () => boolean,
  loadScript = (script: string): Promise<unknown> => client.scriptLoad(script),
) {
  const send = <T>(command: () => Promise<T>): Promise<T> =>
    canSend() ? command() : Promise.reject(new Error("Redis is not connected"));
  return {
    evalSha: (sha: string, call: ScriptCall) => send(() => client.evalSha(sha, call)),
    eval: (script: string, call: ScriptCall) => send(() => client.eval(script, call)),
    scriptLoad: (script: string) => send(() => loadScript(script)),
    hmGet: (key: string, fields: string[]) =>
      send(() => client.hmGet(key, fields) as Promise<(string | null)[]>),
    hGetAll: (key: string) => send(() => client.hGetAll(key) as Promise<Record<string, string>>),
    hSet: (key: string, values: Record<string, string>) => send(() => client.hSet(key, values)),
    pExpire: (key: string, ms: number) => send(() => client.pExpire(key, ms)),
    get: (key: string) => send(() => client.get(key) as Promise<string | null>),
    setIfAbsent: async (key: string, value: string) =>
      (await send(() => client.set(key, value, { condition: "NX" }))) === "OK",
    publish: (channel: string, message: string) => send(() => client.publish(channel, message)),
  };
}

function standalone(url: string, { commandTimeoutMs, onError }: ConnectOptions): ClusterRedis {
  const make = () => {
    const client = createClient({ url, ...nodeOptions(commandTimeoutMs) });
    // Without a listener an error event would throw; the client reconnects by itself.
    client.on("error", (error: Error) => onError(error));
    return client;
  };
  const client = make();
  const subscribers: ReturnType<typeof make>[] = [];
  client.connect().catch((error: Error) => onError(error));
  return {
    get isReady() {
      return client.isReady;
    },
    ...commandsOf(client, () => true),
    subscribe: async (channel, listener) => {
      const subscriber = make();
      subscribers.push(subscriber);
      await subscriber.connect();
      await subscriber.subscribe(channel, (message: string) => listener(message));
    },
    onReady: (listener) => {
      client.on("ready", listener);
      if (client.isReady) listener();
    },
    destroy: () => {
      client.destroy();
      for (const subscriber of subscribers) subscriber.destroy();
    },
  };
}

function sentinel(
  target: Extract<RedisTarget, { kind: "sentinel" }>,
  { commandTimeoutMs, onError }: ConnectOptions,
): ClusterRedis {
  const client = createSentinel({
    name: target.masterName,
    sentinelRootNodes: target.sentinels.map(({ host, port }) => ({ host, port })),
    nodeClientOptions: {
      username: target.username,
      password: target.password,
      ...nodeOptions(commandTimeoutMs),
    },
    sentinelClientOptions: { socket: { connectTimeout: commandTimeoutMs * 4 } },
    // Errors of the primary's connections are otherwise dropped.
    passthroughClientErrorEvents: true,
    // A command whose connection drops fails rather than rediscovering the primary again and again, and a
    // first connection that fails gives up at once (topology() tries again) instead of after 16 s.
    maxCommandRediscovers: 0,
  });
  client.on("error", (error: unknown) => onError(asError(error)));
  // Its own isReady stays true while the primary is away: a connection to the primary that is up counts.
  const isReady = () => client.getMasterNode() !== undefined;
  const connect = async () => {
    try {
      await client.connect();
    } catch (error) {
      // It opens again only once destroyed.
      await client.destroy();
      throw error;
    }
  };
  return topology({ client, isReady, connect, commands: commandsOf(client, isReady) }, onError);
}

function cluster(nodes: readonly string[], { commandTimeoutMs, onError }: ConnectOptions): ClusterRedis {
  // Nodes found through the ones named get their credentials from the first URL.
  const first = new URL(nodes[0] ?? "redis://");
  const client = createCluster({
    rootNodes: nodes.map((url) => ({ url })),
    defaults: {
      username: decodeURIComponent(first.username) || undefined,
      password: decodeURIComponent(first.password) || undefined,
      ...nodeOptions(commandTimeoutMs),
    },
  });
  client.on("error", (error: Error) => onError(error));
  client.on("node-error", (error: Error) => onError(error));
  // The cluster client has no isReady: it is ready when every primary's connection is, each slot served.
  const isReady = () =>
    client.masters.length > 0 && client.masters.every((node) => node.client?.isReady === true);
  // Slots known: a command for a primary that is away fails at once on that primary's connection.
  const discovered = () => client.masters.length > 0;
  // EVALSHA goes to the primary of its first key's slot: every primary needs the script.
  const loadScript = (script: string) =>
    Promise.all(client.masters.map(async (node) => (await client.nodeClient(node)).scriptLoad(script)));
  const commands = commandsOf(client, discovered, loadScript);
  return topology({ client, isReady, connect: () => client.connect(), commands }, onError);
}

interface Topology {
  readonly client: {
    subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
    destroy(): unknown;
  };
  readonly isReady: () => boolean;
  /** Tried until it succeeds: these clients give up on a first connection that fails. */
  readonly connect: () => Promise<unknown>;
  readonly commands: ReturnType<typeof commandsOf>;
}

/** A Sentinel or Cluster client, whose pub/sub goes over the connection it keeps for it. */
function topology(
  { client, isReady, connect, commands }: Topology,
  onError: (error: Error) => void,
): ClusterRedis {
  const report = (error: unknown) => onError(asError(error));
  const close = () => Promise.resolve(client.destroy()).catch(report);
  let destroyed = false;
  const connected = (async () => {
    for (let retries = 0; !destroyed; retries++) {
      try {
        await connect();
        if (destroyed) await close();
        return;
      } catch (error) {
        report(error);
        await sleep(backoff(retries), undefined, { ref: false });
      }
    }
  })();
  const listeners: (() => void)[] = [];
  let wasReady = false;
  const poll = setInterval(() => {
    const ready = isReady();
    if (ready && !wasReady) for (const listener of listeners) listener();
    wasReady = ready;
  }, READY_POLL_MS);
  poll.unref();
  return {
    get isReady() {
      return isReady();
    },
    ...commands,
    subscribe: async (channel, listener) => {
      await connected;
      await client.subscribe(channel, (message: string) => listener(message));
    },
    onReady: (listener) => {
      listeners.push(listener);
      // Else the poll calls it once it sees the client ready.
      if (wasReady) listener();
    },
    destroy: () => {
      destroyed = true;
      clearInterval(poll);
      void close();
    },
  };
}
