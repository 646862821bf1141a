import type { GatewayConfig, ProviderConfig } from "./types.js";
import { redactUrl } from "./url.js";

const MAX_MODELS_LISTED = 5;

function describeModels(p: ProviderConfig): string {
  if (p.keys.length === 0 || p.keys.some((k) => k.models.length === 0)) return "models: any";
  const models = [...new Set(p.keys.flatMap((k) => k.models))];
  const shown = models.slice(0, MAX_MODELS_LISTED).join(", ");
  const more = models.length > MAX_MODELS_LISTED ? `, +${models.length - MAX_MODELS_LISTED} more` : "";
  return `models: restricted to ${shown}${more}`;
}

function describeKeys(p: ProviderConfig): string {
  if (p.keys.length === 0) return "no keys";
  return p.keys.length === 1 ? "1 key" : `${p.keys.length} keys`;
}

const MAX_DETAILS_LISTED = 3;

/** Where each key goes, for the kinds located by key: endpoint, project and region. Never credentials. */
function describeKeyConfigs(p: ProviderConfig): string {
  const details = new Set<string>();
  for (const k of p.keys) {
    if (k.azure) details.add(`${redactUrl(k.azure.endpoint)} api-version ${k.azure.apiVersion}`);
    if (k.vertex) details.add(`project ${k.vertex.projectId} in ${k.vertex.region}`);
    if (k.bedrock) details.add(`region ${k.bedrock.region}`);
  }
  if (details.size === 0) return "";
  const list = [...details];
  const shown = list.slice(0, MAX_DETAILS_LISTED).join("; ");
  const more = list.length > MAX_DETAILS_LISTED ? `; +${list.length - MAX_DETAILS_LISTED} more` : "";
  return ` (${shown}${more})`;
}

function describeUrl(p: ProviderConfig): string {
  return p.network.baseUrl === "" ? "upstream per key" : redactUrl(p.network.baseUrl);
}

/**
 * Start-up lines safe to log: one per provider with its name, kind, base URL (credentials and query removed),
 * key count (with each key's endpoint, project or region for Azure, Vertex and Bedrock) and model restriction.
 * Never a key value, a header value, a service account, an AWS secret or a session token.
 */
export function describeConfig(config: GatewayConfig): string[] {
  const providers = Object.values(config.providers);
  if (providers.length === 0) return [`no providers configured (source: ${config.source})`];
  return providers.map(
    (p) =>
      `${p.name} (${p.kind}) ${describeUrl(p)}, ${describeKeys(p)}${describeKeyConfigs(p)}, ${describeModels(p)}`,
  );
}

const MAX_GROUPS_LISTED = 20;

/**
 * Start-up lines for model groups and aliases: each public name with its deployment count and providers,
 * then the routing strategy. Names only, never a key or a URL.
 */
export function describeModelGroups(config: GatewayConfig): string[] {
  const groups = Object.entries(config.modelGroups ?? {});
  const aliases = Object.entries(config.aliases ?? {});
  if (groups.length === 0 && aliases.length === 0) return [];
  const lines = groups.slice(0, MAX_GROUPS_LISTED).map(([name, deployments]) => {
    const providers = [...new Set(deployments.map((d) => d.provider))].join(", ");
    const count = deployments.length === 1 ? "1 deployment" : `${deployments.length} deployments`;
    return `model group ${name}: ${count} (${providers})`;
  });
  if (groups.length > MAX_GROUPS_LISTED)
    lines.push(`model groups: +${groups.length - MAX_GROUPS_LISTED} more`);
  if (aliases.length > 0)
    lines.push(
      `aliases: ${aliases
        .slice(0, MAX_GROUPS_LISTED)
        .map(([a, t]) => `${a} → ${t}`)
        .join(", ")}`,
    );
  const r = config.routing;
  if (r !== undefined) {
    const fallbacks = Object.keys(r.fallbacks).length;
    lines.push(
      `routing: ${r.strategy}, ${r.numRetries} retries, fallbacks for ${fallbacks} ${fallbacks === 1 ? "model" : "models"}`,
    );
  }
  return lines;
}

/** Whether the gateway asks for a key, without ever saying the key. */
export function describeAuth(config: GatewayConfig): string {
  if (config.masterKey === undefined || config.masterKey === "")
    return "auth: none; the gateway is open to anyone who reaches it (set SWITCHYARD_API_KEY or general_settings.master_key)";
  return `auth: master key required on inference routes and /v1/models${config.metricsRequireKey === true ? " and /metrics" : ""}`;
}

/** The plugins that run, by name (their options may hold secrets and are never logged). */
export function describePlugins(names: readonly string[]): string {
  return `plugins: ${names.length === 0 ? "none" : names.join(", ")}`;
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Governance at start-up: how many virtual keys, teams and customers the configuration defines, whether
 * inference needs a virtual key, and where the store lives (the database URL without credentials or query).
 * Never a key, a hash or a password.
 */
export function describeGovernance(config: GatewayConfig): string {
  const g = config.governance;
  if (g === undefined) return "governance: virtual keys not required; store: SQLite in --app-dir";
  const entities = [
    count(g.virtualKeys.length, "virtual key", "virtual keys"),
    count(g.teams.length, "team", "teams"),
    count(g.customers.length, "customer", "customers"),
  ].join(", ");
  const required = g.requireVirtualKey
    ? "virtual key required on inference routes"
    : "virtual keys not required";
  const store =
    g.databaseUrl === undefined ? "SQLite in --app-dir" : `PostgreSQL ${redactUrl(g.databaseUrl)}`;
  const keyParams = [
    g.keyDefaults === undefined ? "" : "defaults",
    g.keyUpperBounds === undefined ? "" : "upper bounds",
  ].filter((s) => s !== "");
  const forNewKeys = keyParams.length === 0 ? "" : `; ${keyParams.join(" and ")} for new keys`;
  return `governance: ${entities} from ${config.source}; ${required}; store: ${store}${forNewKeys}`;
}
