// What models cost: the price table shipped in prices.json (refreshed from LiteLLM's public price list by
// scripts/refresh-prices.ts), configured overrides on top, and the cost of one exchange's usage in integer
// micro-dollars. A model the table does not know has no price here; the caller decides what that costs.
import { readFileSync } from "node:fs";
import type { Usage } from "../observability/usage.js";

/** USD per token unless named otherwise. Optional rates fall back as documented on each. */
export interface ModelPrice {
  /** Input tokens at the plain rate (neither read from nor written to a prompt cache). */
  readonly input: number;
  /** Output tokens, reasoning included unless `reasoning` prices it apart. */
  readonly output: number;
  /** Input tokens read from the prompt cache; absent: `input`. */
  readonly cacheRead?: number;
  /** Input tokens written to the prompt cache; absent: `input`. */
  readonly cacheWrite?: number;
  /** Reasoning output tokens; absent: `output`. */
  readonly reasoning?: number;
  /** USD per input image, for providers that bill images apart from tokens. */
  readonly inputPerImage?: number;
  /** USD per second of input audio or video. */
  readonly inputPerSecond?: number;
  /** USD per second of generated audio or video. */
  readonly outputPerSecond?: number;
  readonly maxOutputTokens?: number;
  /** The most input tokens the model takes (LiteLLM's max_input_tokens). */
  readonly contextWindow?: number;
}

/** One model in prices.json. */
export interface PriceEntry extends ModelPrice {
  /** Other names of the model under the same provider (e.g. "claude-sonnet-4-0"). */
  readonly aliases?: readonly string[];
  /** The key of the model in LiteLLM's price list, when the refresh cannot derive it (see litellmKeys). */
  readonly litellm?: string;
}

/** prices.json: `models` keyed "provider/model", the provider being a Switchyard provider kind. */
export interface PriceFile {
  /** The day the prices were last refreshed, YYYY-MM-DD. */
  readonly updated: string;
  /** Where the prices come from: the providers' pricing pages and LiteLLM's price list. */
  readonly source: readonly string[];
  readonly models: Readonly<Record<string, PriceEntry>>;
}

export const PRICE_FIELDS = [
  "input",
  "output",
  "cacheRead",
  "cacheWrite",
  "reasoning",
  "inputPerImage",
  "inputPerSecond",
  "outputPerSecond",
  "maxOutputTokens",
  "contextWindow",
] as const satisfies readonly (keyof ModelPrice)[];

/**
 * LiteLLM's name for each rate and limit (model_prices_and_context_window.json, and the custom pricing of a
 * config.yaml's litellm_params and model_info): USD per token, second or image.
 */
export const LITELLM_PRICE_FIELDS: Readonly<Record<(typeof PRICE_FIELDS)[number], string>> = {
  input: "input_cost_per_token",
  output: "output_cost_per_token",
  cacheRead: "cache_read_input_token_cost",
  cacheWrite: "cache_creation_input_token_cost",
  reasoning: "output_cost_per_reasoning_token",
  inputPerImage: "input_cost_per_image",
  inputPerSecond: "input_cost_per_second",
  outputPerSecond: "output_cost_per_second",
  maxOutputTokens: "max_output_tokens",
  contextWindow: "max_input_tokens",
};

/** Models that run on one's own hardware cost nothing per token. */
const LOCAL_KINDS = new Set(["ollama", "vllm", "lmstudio"]);
const FREE: ModelPrice = Object.freeze({ input: 0, output: 0 });

/**
 * A trailing snapshot date or version the provider adds to a model's name: -2024-08-06 (OpenAI),
 * -20250929 (Anthropic), @20250929 and @default (Vertex), -v1:0 and :0 (Bedrock).
 */
const SNAPSHOT_SUFFIX = /(?:-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|@default|@latest|-v\d+(?::\d+)?|:\d+)$/;

/** Bedrock's cross-region inference profiles put a geography before the model id. */
const BEDROCK_GEOGRAPHY = /^(?:us|eu|apac|global|us-gov|jp|au|ca)\./;

/** OpenRouter's vendor prefixes → the provider kind that serves the same model. */
const OPENROUTER_VENDORS: Readonly<Record<string, string>> = {
  openai: "openai",
  anthropic: "anthropic",
  google: "gemini",
  mistralai: "mistral",
  deepseek: "deepseek",
  "x-ai": "xai",
  cohere: "cohere",
};

const PICO_PER_USD = 1e12;
const PICO_PER_MICRO = 1e6;

/** Integer pico-dollars, so that sums of many tokens do not gather floating-point error. */
const picos = (usd: number): number => Math.round(usd * PICO_PER_USD);

export class PriceTable {
  private constructor(private readonly models: ReadonlyMap<string, ModelPrice>) {}

  private static shippedTable: PriceTable | undefined;

  /** The table in prices.json, read once. */
  static shipped(): PriceTable {
    PriceTable.shippedTable ??= PriceTable.fromFile(
      JSON.parse(readFileSync(new URL("./prices.json", import.meta.url), "utf8")) as PriceFile,
    );
    return PriceTable.shippedTable;
  }

  /** Each model under its key and under its aliases (same provider). */
  static fromFile(file: PriceFile): PriceTable {
    const models = new Map<string, ModelPrice>();
    for (const [key, entry] of Object.entries(file.models)) {
      const price = Object.freeze(ratesOf(entry) as ModelPrice);
      models.set(key, price);
      const provider = key.slice(0, key.indexOf("/"));
      for (const alias of entry.aliases ?? []) models.set(`${provider}/${alias}`, price);
    }
    return new PriceTable(models);
  }

  /**
   * This table with `overrides` ("provider/model" → rates) laid over it: given rates replace the table's,
   * the rest stay. A model the table lacks gets the given rates, 0 for a missing input or output rate.
   */
  withOverrides(overrides: Readonly<Record<string, Partial<ModelPrice>>>): PriceTable {
    const models = new Map(this.models);
    for (const [key, override] of Object.entries(overrides)) {
      const base = models.get(key) ?? FREE;
      models.set(key, Object.freeze({ ...base, ...ratesOf(override) }));
    }
    return new PriceTable(models);
  }

  /**
   * The price of `model` at `provider`, tried in this order:
   * 1. "provider/model" as given (configured overrides may name a provider as the configuration does);
   * 2. under `kind`, the provider's catalog kind, the model as given and then without its snapshot
   *    suffix (gpt-4o-2024-08-06 → gpt-4o, claude-sonnet-4-5-20250929 → claude-sonnet-4-5);
   * 3. the same model at the provider that makes it: Azure OpenAI → openai; Bedrock, less its region
   *    prefix and "vendor.", anthropic.* → anthropic; Vertex claude-* → anthropic and gemini-* → gemini;
   *    OpenRouter "vendor/model" → that vendor (its dotted Claude versions, claude-sonnet-4.5, read as
   *    Anthropic's claude-sonnet-4-5).
   * Local kinds (ollama, vllm, lmstudio) are free; anything else is undefined.
   */
  find(provider: string, model: string, kind = provider): ModelPrice | undefined {
    const exact = this.models.get(`${provider}/${model}`);
    if (exact !== undefined) return exact;
    const own = this.inKind(kind, model);
    if (own !== undefined) return own;
    const maker = makerOf(kind, model);
    if (maker !== undefined) {
      const found = this.inKind(maker.kind, maker.model);
      if (found !== undefined) return found;
    }
    return LOCAL_KINDS.has(kind) ? FREE : undefined;
  }

  /** `model` under `kind`, then less one snapshot suffix after another (Bedrock ids carry two). */
  private inKind(kind: string, model: string): ModelPrice | undefined {
    for (let name = model; ; ) {
      const found = this.models.get(`${kind}/${name}`);
      if (found !== undefined) return found;
      const stripped = name.replace(SNAPSHOT_SUFFIX, "");
      if (stripped === name || stripped === "") return undefined;
      name = stripped;
    }
  }
}

/** The provider kind and model name of the model's maker, for kinds that resell others' models. */
function makerOf(kind: string, model: string): { kind: string; model: string } | undefined {
  if (kind === "azure") return { kind: "openai", model };
  if (kind === "bedrock") {
    const id = model.replace(BEDROCK_GEOGRAPHY, "");
    return id.startsWith("anthropic.") ? { kind: "anthropic", model: id.slice(10) } : { kind, model: id };
  }
  if (kind === "vertex") {
    if (model.startsWith("claude-")) return { kind: "anthropic", model };
    if (model.startsWith("gemini-")) return { kind: "gemini", model };
    return undefined;
  }
  if (kind === "openrouter") {
    const slash = model.indexOf("/");
    const vendor = slash > 0 ? OPENROUTER_VENDORS[model.slice(0, slash)] : undefined;
    if (vendor === undefined) return undefined;
    const name = model.slice(slash + 1).replace(/:[a-z]+$/, "");
    return { kind: vendor, model: vendor === "anthropic" ? name.replace(/(\d)\.(\d)/g, "$1-$2") : name };
  }
  return undefined;
}

/**
 * What `usage` costs at `price`, in micro-dollars rounded up: plain input, cache reads, cache writes,
 * plain output and reasoning, each at its own rate.
 */
export function costMicros(price: ModelPrice, usage: Usage): number {
  const plainInput = Math.max(0, usage.prompt - usage.cachedRead - usage.cacheWrite);
  const plainOutput = Math.max(0, usage.completion - usage.reasoning);
  const total =
    plainInput * picos(price.input) +
    usage.cachedRead * picos(price.cacheRead ?? price.input) +
    usage.cacheWrite * picos(price.cacheWrite ?? price.input) +
    plainOutput * picos(price.output) +
    usage.reasoning * picos(price.reasoning ?? price.output);
  return Math.ceil(total / PICO_PER_MICRO);
}

/**
 * The most a request can cost before it runs, in micro-dollars rounded up: every prompt token at the plain
 * input rate and `maxOutputTokens` at the dearer of the output and reasoning rates.
 */
export function estimateMicros(price: ModelPrice, promptTokens: number, maxOutputTokens: number): number {
  const output = Math.max(picos(price.output), picos(price.reasoning ?? price.output));
  return Math.ceil((promptTokens * picos(price.input) + maxOutputTokens * output) / PICO_PER_MICRO);
}

/** The rates `from` gives, and nothing else (aliases, LiteLLM keys, undefined fields). */
export function ratesOf(from: Partial<ModelPrice>): Partial<ModelPrice> {
  const rates: Partial<Record<keyof ModelPrice, number>> = {};
  for (const field of PRICE_FIELDS) {
    const value = from[field];
    if (value !== undefined) rates[field] = value;
  }
  return rates;
}
