import type { BuiltinPluginName } from "../../config/types.js";
import type { PluginFactory } from "../plugin.js";
import { headerAllowlistPlugin } from "./header-allowlist.js";

// The plugins that ship with the gateway, by the name a configuration gives them (`builtin: "..."`; the
// names are config's, BUILTIN_PLUGIN_NAMES). The master key is not among them: the loader adds it whenever
// a key is configured.

const FACTORIES: Record<BuiltinPluginName, PluginFactory> = {
  header_allowlist: headerAllowlistPlugin,
};

export const BUILTIN_PLUGINS: ReadonlyMap<string, PluginFactory> = new Map(Object.entries(FACTORIES));
