// Builds the plugin chain a configuration names: the master key first when one is set, then each enabled
// spec in order, a built-in by name or a JavaScript module by path. Run by every lane at start and on every
// reload, and once on the main thread before either, so that a plugin that cannot load is reported there.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { pluginBaseDirectory } from "../config/plugin-specs.js";
import { type GatewayConfig, MODULE_EXTENSIONS, type PluginSpec } from "../config/types.js";
import { BUILTIN_PLUGINS } from "./builtin/index.js";
import { masterKeyPlugin } from "./builtin/master-key.js";
import { describeError, PluginChain } from "./chain.js";
import type { Plugin, PluginFactory } from "./plugin.js";

/** One plugin as a configuration names it. */
/** A factory still busy after this long is taken for hung: start-up and reloads must not wait forever. */
export const FACTORY_TIMEOUT_MS = 10_000;

const require = createRequire(import.meta.url);

export async function loadPluginChain(config: GatewayConfig): Promise<PluginChain> {
  const specs = (config.plugins ?? []).filter((spec) => spec.enabled);
  const key = config.masterKey ?? "";
  if (specs.length === 0 && key === "") return PluginChain.empty;
  const base = pluginBaseDirectory(config);
  const plugins: Plugin[] = [];
  try {
    if (key !== "") plugins.push(masterKeyPlugin(key));
    for (const spec of specs) plugins.push(await loadPlugin(spec, base));
    return new PluginChain(plugins);
  } catch (error) {
    await closeAll(plugins);
    throw error;
  }
}

/** How errors and start-up lines name a spec. */
export function describeSpec(spec: PluginSpec): string {
  const named = spec.name !== undefined && spec.name !== spec.builtin ? `plugin "${spec.name}" ` : "";
  if (spec.builtin !== undefined) return `${named}built-in ${spec.builtin}`.trimStart();
  return `${named || "plugin "}module ${spec.path ?? "(no path)"}`;
}

async function loadPlugin(spec: PluginSpec, base: string): Promise<Plugin> {
  const label = describeSpec(spec);
  const fail = (reason: string): never => {
    throw new Error(`${label}: ${reason}`);
  };
  if ((spec.builtin === undefined) === (spec.path === undefined))
    fail("give either a path (a JavaScript module) or the name of a built-in plugin");
  let factory: PluginFactory;
  if (spec.builtin !== undefined) {
    const builtin = BUILTIN_PLUGINS.get(spec.builtin);
    if (builtin === undefined)
      return fail(`no such built-in plugin; the built-ins are ${[...BUILTIN_PLUGINS.keys()].join(", ")}`);
    factory = builtin;
  } else factory = await moduleFactory(resolve(base, spec.path as string), fail);
  let plugin: unknown;
  try {
    plugin = await withTimeout(Promise.resolve().then(() => factory(spec.options)));
  } catch (error) {
    return fail(`its factory failed: ${describeError(error)}`);
  }
  if (typeof plugin !== "object" || plugin === null)
    fail(`its factory returned ${plugin === null ? "null" : typeof plugin}, not a plugin object`);
  return plugin as Plugin;
}

/**
 * The module's factory. Its URL carries a digest of the file, so an edited module is imported afresh on the
 * next reload while an unchanged one is not imported again (a module, once imported, is never unloaded).
 */
async function moduleFactory(file: string, fail: (reason: string) => never): Promise<PluginFactory> {
  if (!(MODULE_EXTENSIONS as readonly string[]).includes(extname(file).toLowerCase()))
    fail(`a plugin module must be JavaScript (${MODULE_EXTENSIONS.join(", ")})`);
  let text: Buffer;
  try {
    text = await readFile(file);
  } catch (error) {
    return fail(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? describeError(error)}`);
  }
  const url = pathToFileURL(file);
  url.searchParams.set("v", createHash("sha256").update(text).digest("hex").slice(0, 16));
  // A CommonJS module is evaluated through require's cache, keyed by file name alone.
  if (extname(file).toLowerCase() !== ".mjs") delete require.cache[file];
  let exports: Record<string, unknown>;
  try {
    exports = (await import(url.href)) as Record<string, unknown>;
  } catch (error) {
    return fail(`cannot import it: ${describeError(error)}`);
  }
  const fallback = exports.default as { createPlugin?: unknown } | undefined;
  const factory =
    typeof exports.default === "function"
      ? exports.default
      : typeof exports.createPlugin === "function"
        ? exports.createPlugin
        : typeof fallback?.createPlugin === "function"
          ? fallback.createPlugin
          : undefined;
  if (factory === undefined)
    fail("exports no factory: export a default function (options) => plugin, or one named createPlugin");
  return factory as PluginFactory;
}

function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`did not finish within ${FACTORY_TIMEOUT_MS / 1000} s`)),
      FACTORY_TIMEOUT_MS,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function closeAll(plugins: readonly Plugin[]): Promise<void> {
  for (const plugin of plugins) {
    try {
      await plugin.close?.();
    } catch (error) {
      console.error(`[switchyard] plugin ${String(plugin.name)} failed to close: ${describeError(error)}`);
    }
  }
}
