// Refreshes prices.json from a copy of LiteLLM's model_prices_and_context_window.json: the models the table
// already lists (and any added by name) get LiteLLM's current rates and limits; the table's own keys,
// aliases and LiteLLM keys stay. Facts from LiteLLM's list, read by field name; none of its code.
import { readFileSync, writeFileSync } from "node:fs";
import {
  LITELLM_PRICE_FIELDS,
  type ModelPrice,
  PRICE_FIELDS,
  type PriceEntry,
  type PriceFile,
} from "./prices.js";

export const LITELLM_PRICES_URL =
  "https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json";

/** The providers' own pricing pages, stamped beside LiteLLM's list as the table's sources. */
export const PROVIDER_PRICING_PAGES = [
  "https://openai.com/api/pricing/",
  "https://www.anthropic.com/pricing#api",
  "https://ai.google.dev/gemini-api/docs/pricing",
  "https://cloud.google.com/vertex-ai/generative-ai/pricing",
  "https://aws.amazon.com/bedrock/pricing/",
  "https://azure.microsoft.com/en-us/pricing/details/cognitive-services/openai-service/",
  "https://cohere.com/pricing",
  "https://groq.com/pricing",
  "https://mistral.ai/pricing#api-pricing",
  "https://api-docs.deepseek.com/quick_start/pricing",
  "https://docs.x.ai/docs/models",
  "https://www.together.ai/pricing",
  "https://fireworks.ai/pricing",
  "https://www.cerebras.ai/pricing",
  "https://docs.perplexity.ai/getting-started/pricing",
] as const;

/** Switchyard provider kind → LiteLLM's provider prefix in its keys and litellm_provider values. */
const LITELLM_PREFIX: Readonly<Record<string, string>> = {
  openai: "openai",
  azure: "azure",
  anthropic: "anthropic",
  gemini: "gemini",
  vertex: "vertex_ai",
  bedrock: "bedrock",
  cohere: "cohere",
  groq: "groq",
  mistral: "mistral",
  deepseek: "deepseek",
  xai: "xai",
  together: "together_ai",
  fireworks: "fireworks_ai",
  cerebras: "cerebras",
  perplexity: "perplexity",
};

export interface RefreshOptions {
  /** "provider/model" or "provider/model=litellm-key" to add to the table. */
  readonly add?: readonly string[];
  /** YYYY-MM-DD stamped as `updated`. */
  readonly today: string;
  /** Stamped as the first `source`; default LITELLM_PRICES_URL. */
  readonly source?: string;
}

export interface RefreshResult {
  readonly file: PriceFile;
  /** Models of the table LiteLLM's list has no token prices for; their entries are kept as they were. */
  readonly missing: readonly string[];
}

/**
 * The keys LiteLLM may list a model under, most specific first: the entry's own `litellm` key, then
 * "prefix/model" (gemini/gemini-2.5-pro, groq/..., azure/...), then the bare model (gpt-4o, claude-...,
 * Bedrock's anthropic.claude-...). A key only counts when LiteLLM's litellm_provider starts with the
 * provider's prefix (vertex_ai-language-models, bedrock_converse and cohere_chat do).
 */
function litellmKeys(provider: string, model: string, litellm?: string): string[] {
  const prefix = LITELLM_PREFIX[provider] ?? provider;
  const keys = [`${prefix}/${model}`, model];
  return litellm === undefined ? keys : [litellm, ...keys];
}

/** The table's entry rebuilt from LiteLLM's list, or undefined when the list has no token prices for it. */
function entryFromLiteLLM(
  list: Readonly<Record<string, unknown>>,
  key: string,
  current: PriceEntry | undefined,
  litellm?: string,
): PriceEntry | undefined {
  const slash = key.indexOf("/");
  const provider = key.slice(0, slash);
  const prefix = LITELLM_PREFIX[provider] ?? provider;
  const wanted = litellm ?? current?.litellm;
  for (const candidate of litellmKeys(provider, key.slice(slash + 1), wanted)) {
    const found = list[candidate];
    if (!isRecord(found)) continue;
    const owner = found.litellm_provider;
    if (typeof owner !== "string" || !owner.startsWith(prefix)) continue;
    const rates: Partial<Record<keyof ModelPrice, number>> = {};
    for (const field of PRICE_FIELDS) {
      const value = found[LITELLM_PRICE_FIELDS[field]];
      if (typeof value === "number" && Number.isFinite(value) && value >= 0) rates[field] = value;
      // LiteLLM leaves out the output rate of some embedding models, which have no output tokens.
      else if (field === "output" && found.mode === "embedding") rates.output = 0;
    }
    if (rates.input === undefined || rates.output === undefined) return undefined;
    return {
      ...(rates as ModelPrice),
      ...(current?.aliases !== undefined ? { aliases: current.aliases } : {}),
      ...(wanted !== undefined ? { litellm: wanted } : {}),
    };
  }
  return undefined;
}

/** The table with LiteLLM's prices for the models it lists, plus `options.add`, stamped. */
export function refreshPrices(
  table: PriceFile,
  list: Readonly<Record<string, unknown>>,
  options: RefreshOptions,
): RefreshResult {
  const models: Record<string, PriceEntry> = { ...table.models };
  const missing: string[] = [];
  const wanted = new Map<string, string | undefined>(Object.keys(models).map((k) => [k, undefined]));
  for (const spec of options.add ?? []) {
    const [key, litellm] = spec.split("=", 2) as [string, string | undefined];
    if (!/^[a-z][a-z0-9_-]*\/\S+$/.test(key))
      throw new Error(`--add ${spec}: not "provider/model[=litellm-key]"`);
    wanted.set(key, litellm);
  }
  for (const [key, litellm] of wanted) {
    const entry = entryFromLiteLLM(list, key, models[key], litellm);
    if (entry === undefined) missing.push(key);
    else models[key] = entry;
  }
  const sorted = Object.fromEntries(Object.entries(models).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    file: {
      updated: options.today,
      source: [options.source ?? LITELLM_PRICES_URL, ...PROVIDER_PRICING_PAGES],
      models: sorted,
    },
    missing,
  };
}

/** Reads both files, rewrites `pricesFile`; returns the models left as they were. */
export function refreshPriceFile(
  litellmFile: string,
  pricesFile: string,
  options: RefreshOptions,
): readonly string[] {
  const list: unknown = JSON.parse(readFileSync(litellmFile, "utf8"));
  if (!isRecord(list)) throw new Error(`${litellmFile}: not a JSON object of models`);
  const table = JSON.parse(readFileSync(pricesFile, "utf8")) as PriceFile;
  const { file, missing } = refreshPrices(table, list, options);
  writeFileSync(pricesFile, `${JSON.stringify(file, null, 2)}\n`);
  return missing;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
