import type { GatewayConfig } from "../config/types.js";
import { loadPluginChain } from "../hooks/load.js";

// The control plane loads a configuration's plugins once on the main thread before any lane does: a plugin
// that cannot load stops start-up, or is refused on reload while the running configuration stays, with
// its reason in the log rather than in each lane's.

/** Loads the configuration's plugins as a lane will, then releases them; resolves with their names. */
export async function checkPlugins(config: GatewayConfig): Promise<readonly string[]> {
  const chain = await loadPluginChain(config);
  await chain.close();
  return chain.names;
}

/**
 * A reload handler that publishes each configuration whose plugins load, one at a time and in the order
 * the configurations came, so a slow plugin cannot let an older configuration be published last.
 */
export function pluginCheckedReloads<W>(
  publish: (config: GatewayConfig, warnings: W, plugins: readonly string[]) => void,
  refuse: (error: Error) => void,
): (config: GatewayConfig, warnings: W) => Promise<void> {
  let queue = Promise.resolve();
  return (config, warnings) => {
    const done = queue.then(async () => {
      let names: readonly string[];
      try {
        names = await checkPlugins(config);
      } catch (error) {
        refuse(error as Error);
        return;
      }
      publish(config, warnings, names);
    });
    // A publish that throws fails its own reload, not every one after it.
    queue = done.catch(() => undefined);
    return done;
  };
}
