import type { CatalogEntry } from "../config/provider-catalog.js";
import type { ProviderConfig, ProviderKey } from "../config/types.js";

// A provider as a configuration snapshot compiles it for the hot path (src/routing/table.ts builds these):
// adapters read it from their Target, routing picks among them.

export interface CompiledProvider {
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
  /** Where each key's requests in OpenAI's wire format go (the byte path), built once per key. */
  readonly endpoints: readonly KeyEndpoint[];
}

/**
 * One key's target for OpenAI-format requests. Most providers put every key behind the same origin and
 * API path; Azure puts each key on its own resource, with the deployment in the path.
 */
export interface KeyEndpoint {
  /** scheme://host:port, the key of the connection pool. */
  readonly origin: string;
  /** Upstream request headers (auth, content type, configured extras). */
  readonly headers: readonly string[];
  /** The upstream path for an OpenAI API path ("/chat/completions", "/embeddings", ...) and model. */
  path(operation: string, model: string): string;
}
