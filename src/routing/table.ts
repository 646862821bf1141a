import type { GatewayConfig, ProviderConfig, ProviderKey } from "../config/types.js";
import { apiBaseUrl, type CatalogEntry, catalogEntry } from "../providers/catalog.js";

// A configuration snapshot compiled for the hot path: everything a lane needs per request is precomputed
// here once per configuration change, so routing does no string building beyond the model name.

export interface ProviderRoute {
  readonly name: string;
  readonly config: ProviderConfig;
  readonly catalog: CatalogEntry;
  /** scheme://host:port of the upstream, the key of its connection pool. */
  readonly origin: string;
  /** Path of the OpenAI-compatible API on that origin, e.g. "/v1". */
  readonly apiPath: string;
  readonly keys: readonly ProviderKey[];
  /** Upstream request headers for each key (auth, content type, configured extras). */
  readonly keyHeaders: readonly (readonly string[])[];
  /** True when no key restricts its models, so every key can serve every model. */
  readonly anyKeyAnyModel: boolean;
}

export interface RoutingTable {
  readonly config: GatewayConfig;
  readonly providers: ReadonlyMap<string, ProviderRoute>;
  /** Bare model names listed in keys' `models`, mapped to the first provider listing them. */
  readonly listedModels: ReadonlyMap<string, ProviderRoute>;
}

function keyHeaders(provider: ProviderConfig, catalog: CatalogEntry, key: ProviderKey): string[] {
  const headers = ["content-type", "application/json"];
  if (catalog.auth === "bearer" && key.value !== "") headers.push("authorization", `Bearer ${key.value}`);
  for (const [name, value] of Object.entries(provider.network.extraHeaders)) headers.push(name, value);
  return headers;
}

/** Providers without keys (Ollama, local vLLM) still need one entry to pick. */
const KEYLESS: ProviderKey = { name: "keyless", value: "", models: [], weight: 1 };

export function compileRoutingTable(config: GatewayConfig): RoutingTable {
  const providers = new Map<string, ProviderRoute>();
  const listedModels = new Map<string, ProviderRoute>();
  for (const provider of Object.values(config.providers)) {
    const catalog = catalogEntry(provider.kind);
    const url = new URL(apiBaseUrl(provider.network.baseUrl, catalog.openaiPath));
    const keys = provider.keys.length > 0 ? provider.keys : [KEYLESS];
    const route: ProviderRoute = {
      name: provider.name,
      config: provider,
      catalog,
      origin: url.origin,
      apiPath: url.pathname === "/" ? "" : url.pathname.replace(/\/$/, ""),
      keys,
      keyHeaders: keys.map((key) => keyHeaders(provider, catalog, key)),
      anyKeyAnyModel: keys.every((key) => key.models.length === 0),
    };
    providers.set(provider.name, route);
    for (const key of keys) {
      for (const model of key.models) if (!listedModels.has(model)) listedModels.set(model, route);
    }
  }
  return { config, providers, listedModels };
}
