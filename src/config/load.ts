// Where the configuration comes from: `--config FILE` if given, else `config.json` in the app directory,
// else the environment. Files are dispatched by extension: .yaml/.yml is LiteLLM's proxy config, anything
// else Bifrost's config.json.

import { existsSync, readFileSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { parseBifrostConfig } from "./bifrost.js";
import { cacheFromEnvironment } from "./cache.js";
import { clusterFromEnvironment } from "./cluster.js";
import { configFromEnvironment } from "./env.js";
import { ConfigError } from "./errors.js";
import { deepFreeze } from "./freeze.js";
import { parseLiteLLMConfig } from "./litellm.js";
import { logsFromEnvironment } from "./logs.js";
import { tracingFromEnvironment } from "./tracing.js";
import type { GatewayConfig } from "./types.js";

export interface LoadedConfig {
  readonly config: GatewayConfig;
  readonly warnings: string[];
  /** The file read, absolute; absent in environment mode. */
  readonly path?: string;
}

export interface LoadOptions {
  readonly configPath?: string;
  readonly appDir?: string;
  readonly env: NodeJS.ProcessEnv;
}

export function loadConfig(opts: LoadOptions): LoadedConfig {
  let path: string | undefined;
  if (opts.configPath !== undefined && opts.configPath !== "") path = resolve(opts.configPath);
  else if (opts.appDir !== undefined && opts.appDir !== "") {
    const candidate = resolve(join(opts.appDir, "config.json"));
    if (existsSync(candidate)) path = candidate;
  }
  if (path === undefined) {
    const fromEnv = configFromEnvironment(opts.env);
    return {
      ...fromEnv,
      config: fromEnvironment(fromEnv.config, opts.env),
    };
  }
  return { ...parseConfigText(readConfigFile(path), path, opts.env), path };
}

export function readConfigFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "file not found" : code === "EACCES" ? "permission denied" : (code ?? "unreadable");
    throw new ConfigError(path, [`cannot read the file: ${why}`]);
  }
}

/**
 * Parses a configuration file's text; `path` picks the format and names the source in errors. `includes`
 * lists the other files it read (LiteLLM's `include`), which hot reload watches too.
 */
export function parseConfigText(
  text: string,
  path: string,
  env: NodeJS.ProcessEnv,
): { config: GatewayConfig; warnings: string[]; includes?: string[] } {
  const ext = extname(path).toLowerCase();
  const parsed =
    ext === ".yaml" || ext === ".yml"
      ? parseLiteLLMConfig(text, path, env)
      : // Bifrost's file is JSON whatever its name, so any other extension is read as JSON.
        parseBifrostConfig(parseJson(text, path), env, path);
  return { ...parsed, config: fromEnvironment(parsed.config, env) };
}

/**
 * The gateway's own key from the environment when the file names none: SWITCHYARD_API_KEY, or LiteLLM's
 * LITELLM_MASTER_KEY so that a LiteLLM deployment moves over as it is; SWITCHYARD_METRICS_REQUIRE_KEY=true
 * puts /metrics behind it too.
 */
function withGatewayKey(config: GatewayConfig, env: NodeJS.ProcessEnv): GatewayConfig {
  const key = config.masterKey ?? (env.SWITCHYARD_API_KEY || env.LITELLM_MASTER_KEY || undefined);
  const metrics =
    config.metricsRequireKey ?? env.SWITCHYARD_METRICS_REQUIRE_KEY?.trim().toLowerCase() === "true";
  if (key === config.masterKey && metrics === (config.metricsRequireKey ?? false)) return config;
  return deepFreeze({
    ...config,
    ...(key !== undefined ? { masterKey: key } : {}),
    ...(metrics ? { metricsRequireKey: true } : {}),
  });
}

/** SWITCHYARD_BIFROST_METRICS=true adds Bifrost's metric names to /metrics, whatever the file. */
function withMetricsNames(config: GatewayConfig, env: NodeJS.ProcessEnv): GatewayConfig {
  if (config.bifrostMetrics === true || env.SWITCHYARD_BIFROST_METRICS?.trim().toLowerCase() !== "true")
    return config;
  return deepFreeze({ ...config, bifrostMetrics: true });
}

/** What the environment sets whatever the configuration's source: keys, metrics names, traces, the request log. */
function fromEnvironment(config: GatewayConfig, env: NodeJS.ProcessEnv): GatewayConfig {
  return withCluster(
    withCache(withLogs(withTracing(withMetricsNames(withGatewayKey(config, env), env), env), env), env),
    env,
  );
}

/**
 * Cluster mode's environment variables over the file's section (src/config/cluster.ts). Clustered, an answer
 * cache kept in memory moves to the cluster's Redis so that every instance shares it, unless
 * SWITCHYARD_CACHE=memory asks for each instance's own; the cache speaks to one Redis server, so a cluster
 * on Sentinel or a Redis Cluster keeps it in memory unless SWITCHYARD_CACHE_REDIS_URL names one.
 */
function withCluster(config: GatewayConfig, env: NodeJS.ProcessEnv): GatewayConfig {
  const cluster = clusterFromEnvironment(config.cluster, env);
  if (cluster === undefined) return config;
  const cache = config.cache;
  const shareCache =
    cache?.store === "memory" &&
    cluster.redis.kind === "standalone" &&
    env.SWITCHYARD_CACHE?.trim().toLowerCase() !== "memory";
  if (cluster === config.cluster && !shareCache) return config;
  return deepFreeze({
    ...config,
    cluster,
    ...(shareCache && cluster.redis.kind === "standalone"
      ? { cache: { ...cache, store: "redis" as const, redisUrl: cluster.redis.url } }
      : {}),
  });
}

/** The cache's environment variables over the file's settings (src/config/cache.ts). */
function withCache(config: GatewayConfig, env: NodeJS.ProcessEnv): GatewayConfig {
  const cache = cacheFromEnvironment(config.cache, env);
  if (cache === config.cache) return config;
  if (cache !== undefined) return deepFreeze({ ...config, cache });
  const { cache: _off, ...rest } = config;
  return deepFreeze(rest);
}

/** The request log's environment variables over the file's settings (src/config/logs.ts). */
function withLogs(config: GatewayConfig, env: NodeJS.ProcessEnv): GatewayConfig {
  const logs = logsFromEnvironment(config.logs, env);
  return logs === config.logs || logs === undefined ? config : deepFreeze({ ...config, logs });
}

/** Traces from the OpenTelemetry environment variables, whichever source the rest came from. */
function withTracing(config: GatewayConfig, env: NodeJS.ProcessEnv): GatewayConfig {
  const tracing = tracingFromEnvironment(env);
  return tracing === undefined ? config : deepFreeze({ ...config, tracing });
}

function parseJson(text: string, path: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch {
    // V8's message quotes the surrounding text, which may hold a literal API key; report the position only.
    const offset = jsonErrorOffset(body);
    const { line, column } = lineAndColumn(body, offset);
    const what = offset >= body.length ? "unexpected end of input" : "unexpected character";
    throw new ConfigError(path, [`malformed JSON at line ${line}, column ${column}: ${what}`]);
  }
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * The offset of the first character that makes `text` invalid JSON (text.length for a premature end).
 * Only called after JSON.parse failed, so it only has to find where, not decide whether.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text.charAt(i))) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text.charAt(i) !== ch) fail();
      i++;
    }
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const code = text.charCodeAt(i);
      if (code === 34) {
        i++;
        return;
      }
      if (code < 0x20) fail();
      if (code === 92) {
        i++;
        const esc = text.charAt(i);
        if (esc === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text.charAt(i + k))) {
              i += k;
              fail();
            }
          }
          i += 5;
        } else if ('"\\/bfnrt'.includes(esc) && esc !== "") i++;
        else fail();
      } else i++;
    }
  };
  const digits = () => {
    if (!/[0-9]/.test(text.charAt(i))) fail();
    while (/[0-9]/.test(text.charAt(i))) i++;
  };
  const number = () => {
    if (text.charAt(i) === "-") i++;
    if (text.charAt(i) === "0") i++;
    else digits();
    if (text.charAt(i) === ".") {
      i++;
      digits();
    }
    if (text.charAt(i) === "e" || text.charAt(i) === "E") {
      i++;
      if (text.charAt(i) === "+" || text.charAt(i) === "-") i++;
      digits();
    }
  };
  const value = (): void => {
    ws();
    const ch = text.charAt(i);
    if (ch === "{") {
      i++;
      ws();
      if (text.charAt(i) === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text.charAt(i) !== '"') fail();
        string();
        ws();
        if (text.charAt(i) !== ":") fail();
        i++;
        value();
        ws();
        if (text.charAt(i) === ",") i++;
        else if (text.charAt(i) === "}") {
          i++;
          return;
        } else fail();
      }
    }
    if (ch === "[") {
      i++;
      ws();
      if (text.charAt(i) === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text.charAt(i) === ",") i++;
        else if (text.charAt(i) === "]") {
          i++;
          return;
        } else fail();
      }
    }
    if (ch === '"') string();
    else if (ch === "t") literal("true");
    else if (ch === "f") literal("false");
    else if (ch === "n") literal("null");
    else if (ch === "-" || /[0-9]/.test(ch)) number();
    else fail();
  };
  try {
    value();
    ws();
    return Math.min(i, text.length);
  } catch (at) {
    return Math.min(at as number, text.length);
  }
}
