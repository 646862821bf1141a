import { createClient } from "redis";

// What the cache's two Redis users (redis-store.ts, redis-semantic.ts) share: a client that fails fast while
// Redis is away and reconnects by itself, and commands bounded in time and in number, so a Redis that is
// down or slow costs a request a miss, never a wait or unbounded memory.

export const DEFAULT_COMMAND_TIMEOUT_MS = 500;
export const DEFAULT_MAX_IN_FLIGHT = 1000;
const MAX_RECONNECT_DELAY_MS = 5000;

/** A client of `url`, connecting in the background; its errors go to `onError`. */
export function connectRedis(
  url: string,
  commandTimeoutMs: number,
  onError: (error: Error) => void,
): ReturnType<typeof createClient> {
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
  client.connect().catch((error: Error) => onError(error));
  return client;
}

export type BoundedCommand = <T>(send: () => Promise<T>) => Promise<T>;

/** Runs a command; its answer, or a throw when it fails, misses its deadline or too many are outstanding. */
export function boundedCommands(timeoutMs: number, maxInFlight: number): BoundedCommand {
  let inFlight = 0;
  return async <T>(send: () => Promise<T>): Promise<T> => {
    if (inFlight >= maxInFlight) throw new Error("too many Redis commands outstanding");
    const sent = send();
    inFlight += 1;
    // Past its deadline, a command still counts until Redis answers it.
    const answered = () => {
      inFlight -= 1;
    };
    sent.then(answered, answered);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("Redis command timed out")), timeoutMs);
    });
    try {
      return await Promise.race([sent, deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
}
