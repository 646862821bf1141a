import type { PluginFactory } from "../plugin.js";
import { HEADER_ALLOWLIST_PLUGIN, headerAllowlistPlugin } from "./header-allowlist.js";

// The plugins that ship with the gateway, by the name a configuration gives them (`builtin: "..."`). The
// master key is not among them: the loader adds it whenever a key is configured.

export const BUILTIN_PLUGINS: ReadonlyMap<string, PluginFactory> = new Map([
  [HEADER_ALLOWLIST_PLUGIN, headerAllowlistPlugin],
]);
