import type { ProviderConfig, ProviderKey } from "../../config/types.js";
import { pathSegment } from "../path.js";
import type { KeyEndpoint } from "../route.js";

// Azure OpenAI serves each model from a deployment on the customer's own resource:
//   {endpoint}/openai/deployments/{deployment}/chat/completions?api-version={version}
// with the key in an `api-key` header. The body is OpenAI's, so OpenAI clients' requests still pass through
// as bytes; only the origin, path and auth header differ, and those are fixed per key.

/** The latest generally available dated API version; a key's `azure.apiVersion` overrides it. */
export const DEFAULT_AZURE_API_VERSION = "2024-10-21";

/**
 * The endpoint of one Azure key: its resource (`azure.endpoint`, else the provider's base URL), API version
 * and model → deployment map. A model without a deployment entry is taken as the deployment's name.
 */
export function azureEndpoint(
  provider: ProviderConfig,
  key: ProviderKey,
  standard: KeyEndpoint,
): KeyEndpoint {
  const configured = key.azure?.endpoint || provider.network.baseUrl;
  if (configured === "") {
    throw new Error(
      `provider '${provider.name}' key '${key.name}': no Azure endpoint (set azure_key_config.endpoint or the provider's base URL)`,
    );
  }
  const url = new URL(configured);
  // An endpoint behind a gateway (API Management) may carry a path prefix; a trailing /openai is the
  // API's own and is added below.
  let prefix = url.pathname.replace(/\/+$/, "");
  if (prefix.endsWith("/openai")) prefix = prefix.slice(0, -"/openai".length);
  const query = `?api-version=${encodeURIComponent(key.azure?.apiVersion || DEFAULT_AZURE_API_VERSION)}`;
  const deploymentsBase = `${prefix}/openai/deployments/`;
  const deployments = key.azure?.deployments ?? {};
  return {
    origin: url.origin,
    headers: standard.headers,
    path(operation: string, model: string): string {
      if (operation === "/models") return `${prefix}/openai/models${query}`;
      const deployment = Object.hasOwn(deployments, model) ? (deployments[model] as string) : model;
      return deploymentsBase + pathSegment(deployment) + operation + query;
    },
  };
}
