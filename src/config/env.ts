// Zero-config mode: with no config file, every catalog provider whose API key is in the environment is
// configured with Bifrost's defaults. Client settings come from four optional variables:
//   SWITCHYARD_MAX_BODY_MB            request body limit in MiB (default 100, as Bifrost)
//   SWITCHYARD_COUNT_TOKENS_MAX_BODY_MB  the same for count_tokens (default 4)
//   SWITCHYARD_CONVERTED_MAX_BODY_MB  the same for bodies converted between wire formats (default 32)
//   SWITCHYARD_ALLOWED_ORIGINS        comma-separated CORS origins, or "*" (default none: no CORS headers)
//   SWITCHYARD_DROP_EXCESS_REQUESTS   "true" sheds load with 429 when a provider's queue is full (default false)
// and SWITCHYARD_FORWARD_HEADERS, comma-separated request headers passed on to providers (header_allowlist).
// Governance takes two more:
//   SWITCHYARD_REQUIRE_VIRTUAL_KEY    "true" refuses inference without a virtual key (or the master key)
//   SWITCHYARD_DATABASE_URL           postgres:// URL of the store (default: SQLite in --app-dir)

import { checkDatabaseUrl } from "./database-url.js";
import { DEFAULT_CLIENT, DEFAULT_CONCURRENCY, defaultNetwork, MIB } from "./defaults.js";
import { ADAPTER_ENV_HINT, adapterProvidersFromEnvironment } from "./env-kinds.js";
import { ConfigError } from "./errors.js";
import { deepFreeze } from "./freeze.js";
import { ADAPTER_KINDS } from "./kinds.js";
import { headerAllowlistSpec } from "./plugin-specs.js";
import { PROVIDER_CATALOG } from "./provider-catalog.js";
import type { ClientConfig, GatewayConfig, GovernanceConfig, ProviderConfig } from "./types.js";
import { normalizeBaseUrl, normalizeOrigin } from "./url.js";

export const ENVIRONMENT_SOURCE = "environment";

function firstSet(
  env: NodeJS.ProcessEnv,
  names: readonly string[],
): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") return { name, value: value.trim() };
  }
  return undefined;
}

function clientFromEnvironment(env: NodeJS.ProcessEnv, problems: string[]): ClientConfig {
  const mib = (name: string, fallback: number): number => {
    const text = env[name]?.trim();
    if (!text) return fallback;
    if (!/^\d+$/.test(text) || Number(text) < 1) {
      problems.push(`${name}: must be a whole number of MiB, at least 1`);
      return fallback;
    }
    return Number(text) * MIB;
  };
  const maxRequestBodyBytes = mib("SWITCHYARD_MAX_BODY_MB", DEFAULT_CLIENT.maxRequestBodyBytes);
  const maxCountTokensBodyBytes = mib(
    "SWITCHYARD_COUNT_TOKENS_MAX_BODY_MB",
    DEFAULT_CLIENT.maxCountTokensBodyBytes,
  );
  const maxConvertedBodyBytes = mib("SWITCHYARD_CONVERTED_MAX_BODY_MB", DEFAULT_CLIENT.maxConvertedBodyBytes);

  let allowedOrigins: string[] = [];
  const origins = env.SWITCHYARD_ALLOWED_ORIGINS?.trim();
  if (origins) {
    for (const raw of origins.split(",")) {
      if (raw.trim() === "") continue;
      const origin = normalizeOrigin(raw);
      if (origin === undefined)
        problems.push(
          `SWITCHYARD_ALLOWED_ORIGINS: "${raw.trim()}" must be "*" or an origin such as https://app.example.com`,
        );
      else if (!allowedOrigins.includes(origin)) allowedOrigins.push(origin);
    }
    if (allowedOrigins.includes("*")) allowedOrigins = ["*"];
  }

  let dropExcessRequests = DEFAULT_CLIENT.dropExcessRequests;
  const drop = env.SWITCHYARD_DROP_EXCESS_REQUESTS?.trim().toLowerCase();
  if (drop) {
    if (drop === "true" || drop === "1") dropExcessRequests = true;
    else if (drop === "false" || drop === "0") dropExcessRequests = false;
    else problems.push("SWITCHYARD_DROP_EXCESS_REQUESTS: must be true or false");
  }

  return {
    maxRequestBodyBytes,
    maxCountTokensBodyBytes,
    maxConvertedBodyBytes,
    allowedOrigins,
    dropExcessRequests,
  };
}

/**
 * Builds the configuration from environment variables alone. A provider is present when one of its key
 * variables is set (ollama, which needs no key, when OLLAMA_BASE_URL is set; Azure, Bedrock, Vertex and
 * Cohere as env-kinds.ts describes). Throws ConfigError for values that are set but unusable, such as a
 * malformed *_BASE_URL, rather than sending traffic somewhere else.
 */
export function configFromEnvironment(env: NodeJS.ProcessEnv): { config: GatewayConfig; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const providers: Record<string, ProviderConfig> = {};

  for (const entry of PROVIDER_CATALOG) {
    // Their keys are more than one variable (endpoint, region, credentials file): see env-kinds.ts.
    if (ADAPTER_KINDS.includes(entry.name)) continue;
    const key = firstSet(env, entry.keyEnv);
    const rawBaseUrl = entry.baseUrlEnv === "" ? undefined : env[entry.baseUrlEnv]?.trim() || undefined;
    const present = entry.auth === "none" ? rawBaseUrl !== undefined : key !== undefined;
    if (!present) {
      if (rawBaseUrl !== undefined)
        warnings.push(
          `${entry.baseUrlEnv}: set, but ${entry.keyEnv.join(" / ")} is not; ${entry.name} is not configured`,
        );
      continue;
    }

    let baseUrl = entry.defaultBaseUrl;
    if (rawBaseUrl !== undefined) {
      const normalized = normalizeBaseUrl(rawBaseUrl);
      if (normalized === undefined) {
        problems.push(
          `${entry.baseUrlEnv}: must be an absolute http:// or https:// URL without query or fragment`,
        );
        continue;
      }
      baseUrl = normalized;
    }

    providers[entry.name] = {
      name: entry.name,
      kind: entry.name,
      // The key's name is the variable it came from: useful in logs, never the secret itself.
      keys: key ? [{ name: key.name, value: key.value, models: [], weight: 1 }] : [],
      network: defaultNetwork(baseUrl),
      concurrency: DEFAULT_CONCURRENCY,
    };
  }

  for (const p of adapterProvidersFromEnvironment(env, { problems, warnings })) providers[p.name] = p;

  const client = clientFromEnvironment(env, problems);
  const forwarded = forwardedHeaders(env, problems);
  const governance = governanceFromEnvironment(env, problems);
  if (problems.length > 0) throw new ConfigError(ENVIRONMENT_SOURCE, problems);

  if (Object.keys(providers).length === 0) {
    const vars = PROVIDER_CATALOG.filter((e) => !ADAPTER_KINDS.includes(e.name)).flatMap((e) =>
      e.auth === "none" ? [e.baseUrlEnv] : e.keyEnv,
    );
    vars.push(...ADAPTER_ENV_HINT);
    warnings.push(`environment: no provider configured; set one of ${vars.join(", ")} or pass --config FILE`);
  }
  const plugins = forwarded.length > 0 ? [headerAllowlistSpec(forwarded)] : [];
  return {
    config: deepFreeze({
      providers,
      client,
      ...(plugins.length > 0 ? { plugins } : {}),
      ...(governance === undefined ? {} : { governance }),
      source: ENVIRONMENT_SOURCE,
    }),
    warnings,
  };
}

/** SWITCHYARD_FORWARD_HEADERS as names; the header_allowlist plugin checks each when it loads. */
function forwardedHeaders(env: NodeJS.ProcessEnv, problems: string[]): string[] {
  const text = env.SWITCHYARD_FORWARD_HEADERS?.trim();
  if (!text) return [];
  const names = text
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  if (names.length === 0)
    problems.push("SWITCHYARD_FORWARD_HEADERS: must list header names, e.g. x-trace-id,x-tenant");
  return names;
}

/** SWITCHYARD_REQUIRE_VIRTUAL_KEY and SWITCHYARD_DATABASE_URL; undefined when neither is set. */
function governanceFromEnvironment(env: NodeJS.ProcessEnv, problems: string[]): GovernanceConfig | undefined {
  let requireVirtualKey = false;
  const requireText = env.SWITCHYARD_REQUIRE_VIRTUAL_KEY?.trim().toLowerCase();
  if (requireText) {
    if (requireText === "true" || requireText === "1") requireVirtualKey = true;
    else if (requireText !== "false" && requireText !== "0")
      problems.push("SWITCHYARD_REQUIRE_VIRTUAL_KEY: must be true or false");
  }
  let databaseUrl: string | undefined;
  const url = env.SWITCHYARD_DATABASE_URL?.trim();
  if (url) {
    const checked = checkDatabaseUrl(url);
    if ("error" in checked) problems.push(`SWITCHYARD_DATABASE_URL: ${checked.error}`);
    else databaseUrl = checked.url;
  }
  if (!requireText && databaseUrl === undefined) return undefined;
  return {
    requireVirtualKey,
    virtualKeys: [],
    teams: [],
    customers: [],
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
  };
}
