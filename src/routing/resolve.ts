import { type GatewayError, gatewayError } from "../errors.js";
import type { ProviderRoute } from "../providers/route.js";
import type { RoutingTable } from "./table.js";

export interface ResolvedModel {
  readonly provider: ProviderRoute;
  /** The model name as the provider knows it (the `provider/` prefix removed). */
  readonly model: string;
}

/**
 * `provider/model` goes to that provider; a bare name goes to the provider whose keys list it, then to
 * the first configured provider whose well-known model families match it.
 */
export function resolveModel(table: RoutingTable, requested: string): ResolvedModel | GatewayError {
  const slash = requested.indexOf("/");
  if (slash > 0) {
    const provider = table.providers.get(requested.slice(0, slash));
    // An unknown prefix is part of the name: vLLM and OpenRouter serve models like "meta-llama/Llama-3".
    if (provider !== undefined) return { provider, model: requested.slice(slash + 1) };
  }
  const listed = table.listedModels.get(requested);
  if (listed !== undefined) return { provider: listed, model: requested };
  for (const provider of table.providers.values()) {
    for (const family of provider.catalog.modelFamilies) {
      if (family.test(requested)) return { provider, model: requested };
    }
  }
  return unknownModel(table, requested);
}

function unknownModel(table: RoutingTable, requested: string): GatewayError {
  const providers = [...table.providers.keys()];
  const listed = [...table.listedModels.keys()].slice(0, 20);
  const hint =
    providers.length === 0
      ? "No providers are configured: set a provider key such as OPENAI_API_KEY, or pass --config."
      : `Use "provider/model" with a configured provider (${providers.join(", ")})` +
        (listed.length > 0 ? ` or one of the configured models (${listed.join(", ")}).` : ".");
  return gatewayError(
    "model_not_found",
    `The model '${requested}' does not match any configured provider. ${hint}`,
    "model",
  );
}

/** Weighted random choice among the provider's keys that may serve `model`; -1 when none may. */
export function pickKey(provider: ProviderRoute, model: string): number {
  const keys = provider.keys;
  if (keys.length === 1) return provider.anyKeyAnyModel || servesModel(keys[0]?.models, model) ? 0 : -1;
  let total = 0;
  for (const key of keys) if (servesModel(key.models, model)) total += key.weight;
  if (total <= 0) return -1;
  let point = Math.random() * total;
  let lastEligible = -1;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as (typeof keys)[number];
    if (!servesModel(key.models, model)) continue;
    lastEligible = i;
    point -= key.weight;
    if (point < 0) return i;
  }
  // Floating-point rounding can leave `point` at a hair above zero after the last eligible key.
  return lastEligible;
}

function servesModel(models: readonly string[] | undefined, model: string): boolean {
  return models === undefined || models.length === 0 || models.includes(model);
}
