import type { GatewayConfig } from "../../config/types.js";
import { costMicros, estimateMicros, type ModelPrice, PriceTable } from "../../governance/prices.js";
import type { Usage } from "../../observability/usage.js";
import type { Pricing } from "./pricing.js";

// The shipped price table with the configuration's overrides, as governance asks it: by the provider's
// configured name, looked up under its kind (an "openai-eu" provider prices as OpenAI).

/** Lookups remembered per configuration; the models asked about are the routing table's. */
const REMEMBERED = 4096;

export function pricingFor(config: GatewayConfig): Pricing {
  const shipped = PriceTable.shipped();
  const table = config.prices === undefined ? shipped : shipped.withOverrides(config.prices);
  // Per provider, per model: no string is built per lookup.
  const found = new Map<string, Map<string, ModelPrice | null>>();
  let remembered = 0;
  const priceOf = (provider: string, model: string): ModelPrice | undefined => {
    let models = found.get(provider);
    let price = models?.get(model);
    if (price === undefined) {
      price = table.find(provider, model, config.providers[provider]?.kind ?? provider) ?? null;
      if (remembered++ >= REMEMBERED) {
        found.clear();
        remembered = 0;
        models = undefined;
      }
      if (models === undefined) {
        models = new Map();
        found.set(provider, models);
      }
      models.set(model, price);
    }
    return price ?? undefined;
  };
  return {
    cost(provider: string, model: string, usage: Usage): number {
      const price = priceOf(provider, model);
      return price === undefined ? 0 : costMicros(price, usage);
    },
    estimate(provider: string, model: string, promptTokens: number, outputTokens: number): number {
      const price = priceOf(provider, model);
      return price === undefined ? 0 : estimateMicros(price, promptTokens, outputTokens);
    },
    maxOutputTokens(provider: string, model: string): number | undefined {
      return priceOf(provider, model)?.maxOutputTokens;
    },
  };
}
