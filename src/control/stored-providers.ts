import { DEFAULT_CONCURRENCY, defaultNetwork } from "../config/defaults.js";
import { deepFreeze } from "../config/freeze.js";
import { defaultBaseUrl, isKnownKind, KEY_CONFIG_KINDS } from "../config/kinds.js";
import { catalogEntry } from "../config/provider-catalog.js";
import type { GatewayConfig, ProviderConfig, ProviderKey } from "../config/types.js";
import { normalizeBaseUrl } from "../config/url.js";
import type { StoredProvider, StoredProviderKey } from "../store/types.js";

// Providers added through the management API, turned into what lanes route to: the configuration the
// file (or environment) gives, with the store's providers beside its own. A name the file defines stays the
// file's. Rows are checked again here, not trusted from the store: a row an older version wrote, or one
// written to the database by hand, is left out with its reason rather than sending traffic somewhere odd.

export interface MergedConfig {
  readonly config: GatewayConfig;
  /** Why a stored provider is not served; names only, never a secret. */
  readonly warnings: string[];
}

/** The configuration with every usable stored provider added; `config` itself when none is. */
export function withStoredProviders(
  config: GatewayConfig,
  providers: readonly StoredProvider[],
  keys: readonly StoredProviderKey[],
): MergedConfig {
  const warnings: string[] = [];
  const added: Record<string, ProviderConfig> = {};
  for (const stored of providers) {
    const label = `stored provider ${JSON.stringify(stored.name)}`;
    if (Object.hasOwn(config.providers, stored.name)) {
      warnings.push(`${label}: the configuration file defines this name too; the file's is served`);
      continue;
    }
    const built = providerConfig(
      stored,
      keys.filter((key) => key.provider === stored.name),
    );
    if (typeof built === "string") warnings.push(`${label}: ${built}; not served`);
    else added[stored.name] = built;
  }
  if (Object.keys(added).length === 0) return { config, warnings };
  return {
    config: deepFreeze({ ...config, providers: { ...config.providers, ...added } }),
    warnings,
  };
}

/** The ProviderConfig a stored provider stands for, or why it has none. */
function providerConfig(
  stored: StoredProvider,
  storedKeys: readonly StoredProviderKey[],
): ProviderConfig | string {
  // Clients write provider/model: a name with "/" or spaces could never be asked for.
  if (stored.name === "" || /[/\s]/.test(stored.name)) return 'its name is empty or has "/" or spaces';
  const { kind } = stored;
  if (KEY_CONFIG_KINDS.has(kind))
    return `kind ${kind} needs per-key settings only the configuration file gives`;
  if (kind !== "custom" && !isKnownKind(kind)) return `kind ${JSON.stringify(kind)} is unknown`;
  let baseUrl = defaultBaseUrl(kind);
  if (stored.baseUrl !== undefined) {
    const normalized = normalizeBaseUrl(stored.baseUrl);
    if (normalized === undefined) return "its base URL is not an absolute http(s) URL";
    baseUrl = normalized;
  }
  if (baseUrl === "") return `kind ${kind} has no default URL and none is set`;
  const keys = storedKeys.filter((key) => key.enabled).map(providerKey);
  // Served without a key, so that requests to it are refused as disabled rather than as unknown.
  const keysDisabled = storedKeys.length > 0 && keys.length === 0;
  // As the LiteLLM loader: local servers and OpenAI-compatible servers of one's own may run without a key;
  // a public API may not (its keyless requests would only be refused upstream).
  const keyless = catalogEntry(kind).auth === "none" || kind === "custom" || kind === "vllm";
  if (keys.length === 0 && !keysDisabled && !keyless) return "it has no keys";
  return {
    name: stored.name,
    kind,
    keys,
    ...(keysDisabled ? { keysDisabled: true } : {}),
    network: {
      ...defaultNetwork(baseUrl),
      extraHeaders: { ...stored.extraHeaders },
      ...(stored.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: stored.requestTimeoutMs }),
      ...(stored.maxRetries === undefined ? {} : { maxRetries: stored.maxRetries }),
    },
    concurrency: DEFAULT_CONCURRENCY,
  };
}

function providerKey(stored: StoredProviderKey): ProviderKey {
  // "*" among the models means any model, as the configuration loaders read it.
  const models = stored.models.includes("*") ? [] : [...new Set(stored.models)];
  return { name: stored.name, value: stored.secret, models, weight: stored.weight };
}
