// Provider kinds the loaders know, whether or not their catalog entry has landed yet: the catalog's names plus
// the providers with native adapters. Azure, Vertex and Bedrock locate the upstream from each key's own
// configuration (resource endpoint, region), so they have no single default URL.

import { catalogEntry, PROVIDER_CATALOG } from "./provider-catalog.js";

/** Kinds whose keys carry a provider-specific key config (`azure`, `vertex`, `bedrock` on ProviderKey). */
export const KEY_CONFIG_KINDS: ReadonlySet<string> = new Set(["azure", "vertex", "bedrock"]);

/** Kinds served by native adapters; known to the loaders even before their catalog entry exists. */
export const ADAPTER_KINDS: readonly string[] = ["azure", "vertex", "bedrock", "cohere"];

const FALLBACK_BASE_URL: Readonly<Record<string, string>> = { cohere: "https://api.cohere.com" };

export function isKnownKind(kind: string): boolean {
  return ADAPTER_KINDS.includes(kind) || PROVIDER_CATALOG.some((e) => e.name === kind);
}

/**
 * The root URL a provider of this kind gets when none is configured. Empty for Azure, Vertex and Bedrock:
 * their adapters derive the origin from each key (endpoint, region), and a non-empty `network.baseUrl`
 * means the user pointed every key at one place (a proxy, a private endpoint, a mock).
 */
export function defaultBaseUrl(kind: string): string {
  if (KEY_CONFIG_KINDS.has(kind)) return "";
  const entry = catalogEntry(kind);
  if (entry.name === kind && entry.defaultBaseUrl !== "") return entry.defaultBaseUrl;
  return FALLBACK_BASE_URL[kind] ?? "";
}
