import type { Readiness } from "../shm/readiness.js";
import type { GovernanceStore } from "../store/types.js";

// The store's reachability for /ready: pinged on a timer from the control plane, the answer written where
// every lane reads it. A change is logged once, not once per ping.

export interface StoreWatch {
  stop(): void;
}

export function watchStore(
  store: GovernanceStore,
  readiness: Readiness,
  log: (line: string) => void,
  intervalMs = 5_000,
  timeoutMs = 2_000,
): StoreWatch {
  let pinging = false;
  const ping = async () => {
    if (pinging) return;
    pinging = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([store.ping(), deadline]);
      if (!readiness.store) log("store: reachable again");
      readiness.store = true;
    } catch (error) {
      if (readiness.store)
        log(`store: unreachable (${error instanceof Error ? error.message : String(error)}); /ready says so`);
      readiness.store = false;
    } finally {
      clearTimeout(timer);
      pinging = false;
    }
  };
  const interval = setInterval(() => void ping(), intervalMs);
  interval.unref();
  return { stop: () => clearInterval(interval) };
}
