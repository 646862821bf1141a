import { apiBaseUrl, type CatalogEntry, catalogEntry } from "../config/provider-catalog.js";
import type { GatewayConfig, ProviderConfig, ProviderKey } from "../config/types.js";
import { adapterFor } from "../providers/registry.js";
import type { CompiledProvider, KeyEndpoint } from "../providers/route.js";
import type { BoundedCache } from "./bounded-cache.js";
import { compileGroups, type ModelPlan, newResolvedCache } from "./candidates.js";
import type { UpstreamHealth } from "./health.js";

// A configuration snapshot compiled for the hot path: everything a lane needs per request is precomputed
// here once per configuration change, so routing does no string building beyond the model name.

export interface RoutingTable {
  readonly config: GatewayConfig;
  readonly providers: ReadonlyMap<string, CompiledProvider>;
  /** Bare model names listed in keys' `models`, mapped to the first provider listing them. */
  readonly listedModels: ReadonlyMap<string, CompiledProvider>;
  /** Model groups and aliases by public name, with their candidates. */
  readonly groups: ReadonlyMap<string, ModelPlan>;
  /** Other names resolved so far (bounded; see candidates.ts). */
  readonly resolved: BoundedCache<ModelPlan>;
  /** The state all lanes share about upstreams; absent, routing picks by weight alone. */
  readonly health: UpstreamHealth | undefined;
}

function keyHeaders(provider: ProviderConfig, catalog: CatalogEntry, key: ProviderKey): string[] {
  const headers = ["content-type", "application/json"];
  if (key.value !== "") {
    if (catalog.auth === "bearer") headers.push("authorization", `Bearer ${key.value}`);
    else if (catalog.auth === "api-key") headers.push("api-key", key.value);
  }
  for (const [name, value] of Object.entries(provider.network.extraHeaders)) headers.push(name, value);
  return headers;
}

/** Providers without keys (Ollama, local vLLM) still need one entry to pick; one whose keys are all disabled gets none. */
const KEYLESS: ProviderKey = { name: "keyless", value: "", models: [], weight: 1 };

export function compileRoutingTable(config: GatewayConfig, health?: UpstreamHealth): RoutingTable {
  const providers = new Map<string, CompiledProvider>();
  const listedModels = new Map<string, CompiledProvider>();
  for (const provider of Object.values(config.providers)) {
    const route = compileProvider(provider);
    if (route === undefined) continue;
    providers.set(provider.name, route);
    for (const key of route.keys) {
      for (const model of key.models) if (!listedModels.has(model)) listedModels.set(model, route);
    }
  }
  const groups = compileGroups(config.modelGroups, config.aliases, providers);
  return { config, providers, listedModels, groups, resolved: newResolvedCache(), health };
}

function compileProvider(provider: ProviderConfig): CompiledProvider | undefined {
  const catalog = catalogEntry(provider.kind);
  const keys = provider.keys.length > 0 || provider.keysDisabled ? provider.keys : [KEYLESS];
  const custom = adapterFor(provider.kind).openAIEndpoint;
  let origin = "";
  let apiPath = "";
  // Azure keys name their own resources; the provider may have no base URL of its own.
  if (provider.network.baseUrl !== "") {
    const url = new URL(apiBaseUrl(provider.network.baseUrl, catalog.openaiPath));
    origin = url.origin;
    apiPath = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  }
  let endpoints: KeyEndpoint[];
  try {
    endpoints = keys.map((key): KeyEndpoint => {
      // Frozen: the upstream client checks and writes out a frozen header list once (see request-head.ts).
      const headers = Object.freeze(keyHeaders(provider, catalog, key));
      const base = apiPath;
      const standard: KeyEndpoint = { origin, headers, path: (operation) => base + operation };
      return custom === undefined ? standard : custom(provider, key, standard);
    });
  } catch {
    // The loaders reject a provider whose keys have nowhere to go; a snapshot built some other way
    // leaves that provider out rather than taking the lane down.
    return undefined;
  }
  return {
    name: provider.name,
    config: provider,
    catalog,
    origin: origin === "" ? (endpoints[0]?.origin ?? "") : origin,
    apiPath,
    keys,
    keyHeaders: endpoints.map((endpoint) => endpoint.headers),
    anyKeyAnyModel: keys.every((key) => key.models.length === 0),
    endpoints,
  };
}
