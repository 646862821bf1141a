import { ConfigError } from "./errors.js";
import type { GatewayConfig, LogsConfig } from "./types.js";

// The request log's settings: the configuration file's, then the environment's over them, then defaults.
//   SWITCHYARD_LOGS=false                 no records at all
//   SWITCHYARD_LOG_CONTENT=false          records without input and output
//   SWITCHYARD_LOG_CONTENT_BYTES=N        each side cut at N bytes
//   SWITCHYARD_LOG_RETENTION_DAYS=N       records older than N days pruned (0: never by age)
//   SWITCHYARD_LOG_MAX_MB=N               the log kept under N MiB (0: no bound)
//   SWITCHYARD_LOG_RING_MB=N              each lane's ring
//   SWITCHYARD_LOG_FLUSH_MS=N             the longest a record waits before it is written

const DAY_MS = 24 * 60 * 60 * 1000;
const MIB = 1024 * 1024;

export const DEFAULT_LOGS: LogsConfig = {
  enabled: true,
  content: true,
  maxContentBytes: 16 * 1024,
  retentionMs: 30 * DAY_MS,
  maxBytes: 1024 * MIB,
  ringBytes: 16 * MIB,
  flushMs: 200,
};

/** Bounds that keep a configured value from turning the log into a hazard (a gigabyte per record, a busy loop). */
const MAX_CONTENT_BYTES = 4 * MIB;
const MAX_RING_MB = 256;
const FLUSH_MS: readonly [number, number] = [10, 60_000];

/** The settings the gateway runs with. */
export function logSettings(config: GatewayConfig): LogsConfig {
  return { ...DEFAULT_LOGS, ...config.logs };
}

/** The file's settings with the environment's over them; a malformed value is a configuration error. */
export function logsFromEnvironment(
  base: Partial<LogsConfig> | undefined,
  env: NodeJS.ProcessEnv,
): Partial<LogsConfig> | undefined {
  const problems: string[] = [];
  const out: { -readonly [K in keyof LogsConfig]?: LogsConfig[K] } = {};
  const flag = (name: string): boolean | undefined => {
    const text = env[name]?.trim().toLowerCase();
    if (text === undefined || text === "") return undefined;
    if (text === "true" || text === "1") return true;
    if (text === "false" || text === "0") return false;
    problems.push(`${name}: must be true or false`);
    return undefined;
  };
  const whole = (name: string, min: number, max: number): number | undefined => {
    const text = env[name]?.trim();
    if (text === undefined || text === "") return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      problems.push(`${name}: must be a whole number from ${min} to ${max}`);
      return undefined;
    }
    return value;
  };
  const enabled = flag("SWITCHYARD_LOGS");
  if (enabled !== undefined) out.enabled = enabled;
  const content = flag("SWITCHYARD_LOG_CONTENT");
  if (content !== undefined) out.content = content;
  const contentBytes = whole("SWITCHYARD_LOG_CONTENT_BYTES", 0, MAX_CONTENT_BYTES);
  if (contentBytes !== undefined) out.maxContentBytes = contentBytes;
  const days = whole("SWITCHYARD_LOG_RETENTION_DAYS", 0, 36_500);
  if (days !== undefined) out.retentionMs = retentionFromDays(days);
  const maxMb = whole("SWITCHYARD_LOG_MAX_MB", 0, 16 * MIB);
  if (maxMb !== undefined) out.maxBytes = maxMb * MIB;
  const ringMb = whole("SWITCHYARD_LOG_RING_MB", 1, MAX_RING_MB);
  if (ringMb !== undefined) out.ringBytes = ringMb * MIB;
  const flushMs = whole("SWITCHYARD_LOG_FLUSH_MS", ...FLUSH_MS);
  if (flushMs !== undefined) out.flushMs = flushMs;
  if (problems.length > 0) throw new ConfigError("environment", problems);
  return Object.keys(out).length === 0 ? base : { ...base, ...out };
}

/** Retention in days as Bifrost's log_retention_days and SWITCHYARD_LOG_RETENTION_DAYS give it. */
export function retentionFromDays(days: number): number {
  return days * DAY_MS;
}
