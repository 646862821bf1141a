// The configuration's plugin lists, read into PluginSpecs: Bifrost's `plugins` array (its own Go plugins are
// named in warnings, JavaScript modules and Switchyard's built-ins are loaded), Switchyard's own
// `switchyard_plugins` list in a LiteLLM config.yaml, and the header-forwarding settings each maps onto the
// built-in header_allowlist. Only shapes are checked here; src/hooks/load.ts checks what a plugin makes of
// its options when it loads them.

import { dirname, extname, resolve } from "node:path";
import { type Collector, isObject } from "./collect.js";
import { ENVIRONMENT_SOURCE } from "./env.js";
import {
  BUILTIN_PLUGIN_NAMES,
  type BuiltinPluginName,
  type GatewayConfig,
  MODULE_EXTENSIONS,
  type PluginSpec,
} from "./types.js";

export const HEADER_ALLOWLIST: BuiltinPluginName = "header_allowlist";

const isBuiltin = (name: string): boolean => (BUILTIN_PLUGIN_NAMES as readonly string[]).includes(name);

/** Plugins Bifrost ships (auto-loaded or opt-in); an entry naming one has no effect here. */
export const BIFROST_PLUGINS = new Set([
  "telemetry",
  "logging",
  "governance",
  "semantic_cache",
  "otel",
  "maxim",
  "datadog",
  "mocker",
  "jsonparser",
  "compat",
  "litellmcompat",
  "prompts",
]);

const BIFROST_ENTRY_KEYS = new Set(["enabled", "name", "config", "path", "version", "placement", "order"]);
const SWITCHYARD_ENTRY_KEYS = new Set(["name", "path", "builtin", "options", "enabled"]);

const builtinList = (): string => BUILTIN_PLUGIN_NAMES.join(", ");
const isModulePath = (path: string): boolean =>
  (MODULE_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase());

export function headerAllowlistSpec(headers: readonly string[], name = HEADER_ALLOWLIST): PluginSpec {
  return { name, builtin: HEADER_ALLOWLIST, options: { headers: [...headers] }, enabled: true };
}

/**
 * Bifrost's `plugins` entries ({"enabled", "name", "config", "path"}). An entry whose `path` is a
 * JavaScript module loads it with `config` as options; a built-in's name loads the built-in; Bifrost's own
 * plugins and Go plugins (.so) are named in a warning. As in Bifrost, an entry loads only with
 * `"enabled": true`.
 */
const BIFROST_TELEMETRY = "telemetry";
const BIFROST_SEMANTIC_CACHE = "semantic_cache";

/** The `config` of Bifrost's semantic_cache plugin when `raw` (a config.json's `plugins`) enables it. */
export function bifrostSemanticCacheConfig(raw: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(raw)) return undefined;
  const entry = raw.find(
    (e: unknown) => isObject(e) && e.name === BIFROST_SEMANTIC_CACHE && e.enabled === true && !e.path,
  ) as Record<string, unknown> | undefined;
  if (entry === undefined) return undefined;
  return isObject(entry.config) ? entry.config : {};
}

/** Bifrost's telemetry plugin is on in `raw` (a config.json's `plugins`): /metrics then carries Bifrost's names. */
export function bifrostTelemetryOn(raw: unknown): boolean {
  return (
    Array.isArray(raw) &&
    raw.some(
      (entry: unknown) =>
        isObject(entry) &&
        entry.name === BIFROST_TELEMETRY &&
        entry.enabled === true &&
        (entry.path === undefined || entry.path === null || entry.path === ""),
    )
  );
}

export function parseBifrostPlugins(c: Collector, raw: unknown): PluginSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    c.problem("plugins", "must be an array");
    return [];
  }
  const specs: PluginSpec[] = [];
  raw.forEach((entry: unknown, i) => {
    const at = `plugins[${i}]`;
    if (!isObject(entry)) {
      c.problem(at, "must be an object");
      return;
    }
    const { enabled, name, path } = entry;
    if (enabled !== undefined && enabled !== null && typeof enabled !== "boolean")
      c.problem(`${at}.enabled`, "must be true or false");
    if (typeof name !== "string" || name.trim() === "") {
      c.problem(`${at}.name`, "must be a non-empty string");
      return;
    }
    const hasPath = path !== undefined && path !== null && path !== "";
    if (hasPath && typeof path !== "string") {
      c.problem(`${at}.path`, "must be a string");
      return;
    }
    if (enabled !== true) return;
    for (const key of Object.keys(entry)) {
      if (!BIFROST_ENTRY_KEYS.has(key)) c.warn(`${at}.${key}`, "unknown key; ignored");
      else if ((key === "placement" || key === "order") && entry[key] !== null)
        c.warn(`${at}.${key}`, "not read: plugins run in the order they are listed");
    }
    const options = entry.config ?? {};
    if (hasPath) {
      if (isModulePath(path as string)) specs.push({ name, path: path as string, options, enabled: true });
      else
        c.warn(
          `${at}.path`,
          `"${name}" is a Go plugin for Bifrost; Switchyard loads JavaScript modules (${MODULE_EXTENSIONS.join(", ")}); ignored`,
        );
    } else if (isBuiltin(name)) specs.push({ name, builtin: name, options, enabled: true });
    else if (name === BIFROST_TELEMETRY) {
      // Served by /metrics itself, under Bifrost's names too (bifrostTelemetryOn).
    } else if (name === BIFROST_SEMANTIC_CACHE) {
      // The gateway's own cache, read by readBifrostCache (src/config/cache.ts).
    } else if (BIFROST_PLUGINS.has(name))
      c.warn(at, `Bifrost's ${name} plugin is not supported yet; ignored`);
    else
      c.warn(
        `${at}.name`,
        `"${name}" is neither a Switchyard built-in (${builtinList()}) nor a Bifrost plugin, and has no path; ignored`,
      );
  });
  return specs;
}

/**
 * Switchyard's `switchyard_plugins` list in a LiteLLM config.yaml: entries of `path` (a JavaScript module,
 * relative to the configuration file) or `builtin`, with `options`, an optional `name` and `enabled`
 * (default true).
 */
export function parseSwitchyardPlugins(c: Collector, raw: unknown, at: string): PluginSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    c.problem(at, "must be a list");
    return [];
  }
  const specs: PluginSpec[] = [];
  raw.forEach((entry: unknown, i) => {
    const p = `${at}[${i}]`;
    if (!isObject(entry)) {
      c.problem(p, "must be a mapping with a path or a builtin");
      return;
    }
    const before = c.problems.length;
    for (const key of Object.keys(entry))
      if (!SWITCHYARD_ENTRY_KEYS.has(key)) c.warn(`${p}.${key}`, "unknown key; ignored");
    const { name, path, builtin, enabled } = entry;
    if (name !== undefined && (typeof name !== "string" || name.trim() === ""))
      c.problem(`${p}.name`, "must be a non-empty string");
    if (enabled !== undefined && typeof enabled !== "boolean")
      c.problem(`${p}.enabled`, "must be true or false");
    if ((path === undefined) === (builtin === undefined))
      c.problem(p, `give either path (a JavaScript module) or builtin (one of ${builtinList()})`);
    else if (path !== undefined) {
      if (typeof path !== "string" || path.trim() === "") c.problem(`${p}.path`, "must be a file path");
      else if (!isModulePath(path))
        c.problem(`${p}.path`, `must be a JavaScript module (${MODULE_EXTENSIONS.join(", ")})`);
    } else if (typeof builtin !== "string" || !isBuiltin(builtin))
      c.problem(`${p}.builtin`, `must be one of ${builtinList()}`);
    if (c.problems.length > before) return;
    specs.push({
      ...(name !== undefined ? { name: name as string } : {}),
      ...(path !== undefined ? { path: path as string } : { builtin: builtin as string }),
      options: entry.options ?? {},
      enabled: enabled !== false,
    });
  });
  return specs;
}

/** The module files of the enabled plugins, absolute: hot reload watches them beside the configuration. */
export function pluginModuleFiles(config: GatewayConfig): string[] {
  const base = pluginBaseDirectory(config);
  return (config.plugins ?? []).flatMap((spec) =>
    spec.enabled && spec.path !== undefined ? [resolve(base, spec.path)] : [],
  );
}

/** Module paths are relative to the configuration file, or to the working directory without one. */
export function pluginBaseDirectory(config: GatewayConfig): string {
  return config.source === ENVIRONMENT_SOURCE ? process.cwd() : dirname(resolve(config.source));
}
