import { type GatewayError, gatewayError } from "../errors.js";
import type { CompiledProvider } from "../providers/route.js";
import type { RoutingTable } from "./table.js";

export interface ResolvedModel {
  readonly provider: CompiledProvider;
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
