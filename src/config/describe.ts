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

/**
 * Start-up lines safe to log: one per provider with its name, kind, base URL (credentials and query removed),
 * key count and model restriction. Never a key value, never a header value.
 */
export function describeConfig(config: GatewayConfig): string[] {
  const providers = Object.values(config.providers);
  if (providers.length === 0) return [`no providers configured (source: ${config.source})`];
  return providers.map(
    (p) => `${p.name} (${p.kind}) ${redactUrl(p.network.baseUrl)}, ${describeKeys(p)}, ${describeModels(p)}`,
  );
}
