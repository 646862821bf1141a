import { createClient } from "redis";
import type { RedisTarget } from "../config/types.js";

// The one way cluster mode reaches Redis, whatever its topology: the few commands the leases and shared
// health use, on a connection that fails fast while Redis is away and reconnects by itself. Pub/sub gets a
// connection of its own, as Redis requires.

const MAX_RECONNECT_DELAY_MS = 2_000;

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
    case "cluster":
      throw new Error(`Redis ${target.kind} is not supported by this build`);
  }
}

function standalone(url: string, { commandTimeoutMs, onError }: ConnectOptions): ClusterRedis {
  const make = () => {
    const client = createClient({
      url,
      // Commands fail at once while disconnected instead of waiting in a queue for a reconnect.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: commandTimeoutMs * 4,
        reconnectStrategy: (retries) => Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS),
      },
    });
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
    evalSha: (sha, call) => client.evalSha(sha, call),
    eval: (script, call) => client.eval(script, call),
    scriptLoad: (script) => client.scriptLoad(script),
    hmGet: (key, fields) => client.hmGet(key, fields) as Promise<(string | null)[]>,
    hGetAll: (key) => client.hGetAll(key) as Promise<Record<string, string>>,
    hSet: (key, values) => client.hSet(key, values),
    pExpire: (key, ms) => client.pExpire(key, ms),
    get: (key) => client.get(key) as Promise<string | null>,
    setIfAbsent: async (key, value) => (await client.set(key, value, { condition: "NX" })) === "OK",
    publish: (channel, message) => client.publish(channel, message),
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
