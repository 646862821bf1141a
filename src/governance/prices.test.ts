import { describe, expect, it } from "vitest";
import { PROVIDER_CATALOG } from "../config/provider-catalog.js";
import { emptyUsage, type Usage } from "../observability/usage.js";
import {
  costMicros,
  estimateMicros,
  type ModelPrice,
  PRICE_FIELDS,
  type PriceFile,
  PriceTable,
} from "./prices.js";
import shippedFile from "./prices.json" with { type: "json" };

const usage = (parts: Partial<Usage>): Usage => ({ ...emptyUsage(), ...parts });

const SONNET: ModelPrice = { input: 3e-6, output: 15e-6, cacheRead: 0.3e-6, cacheWrite: 3.75e-6 };

const table = PriceTable.fromFile({
  updated: "2026-12-01",
  source: ["https://example.test/prices"],
  models: {
    "openai/gpt-4o": { input: 2.5e-6, output: 10e-6, cacheRead: 1.25e-6 },
    "openai/gpt-4o-2024-05-13": { input: 5e-6, output: 15e-6 },
    "anthropic/claude-sonnet-4-5": SONNET,
    "anthropic/claude-sonnet-4": { input: 3e-6, output: 15e-6, aliases: ["claude-sonnet-4-0"] },
    "gemini/gemini-2.5-pro": { input: 1.25e-6, output: 10e-6 },
    "bedrock/amazon.nova-pro-v1:0": { input: 0.8e-6, output: 3.2e-6 },
  },
});

describe("costMicros", () => {
  it("prices plain input, cache reads, cache writes and output each at its own rate", () => {
    // Anthropic's reply: 21 plain input tokens, 1500 read from the cache, 188 written to it, 393 out.
    const micros = costMicros(
      SONNET,
      usage({ prompt: 1709, cachedRead: 1500, cacheWrite: 188, completion: 393 }),
    );
    expect(micros).toBe(63 + 450 + 705 + 5895);
  });

  it("prices reasoning tokens at the reasoning rate when there is one, else as output", () => {
    const thinking = usage({ prompt: 0, completion: 100, reasoning: 40 });
    expect(costMicros({ input: 1e-6, output: 2e-6, reasoning: 5e-6 }, thinking)).toBe(60 * 2 + 40 * 5);
    expect(costMicros({ input: 1e-6, output: 2e-6 }, thinking)).toBe(200);
  });

  it("prices cached tokens as plain input when the model has no cache rates", () => {
    expect(
      costMicros({ input: 1e-6, output: 0 }, usage({ prompt: 1000, cachedRead: 600, cacheWrite: 100 })),
    ).toBe(1000);
  });

  it("rounds the total up to a whole micro-dollar, without floating-point slop", () => {
    expect(costMicros({ input: 1.1e-6, output: 0 }, usage({ prompt: 1 }))).toBe(2);
    expect(costMicros({ input: 1.1e-6, output: 0 }, usage({ prompt: 1000 }))).toBe(1100);
    expect(costMicros({ input: 5e-9, output: 0 }, usage({ prompt: 1 }))).toBe(1);
    expect(costMicros({ input: 0.3e-6, output: 0.7e-6 }, usage({ prompt: 10, completion: 10 }))).toBe(10);
    expect(costMicros(SONNET, emptyUsage())).toBe(0);
  });

  it("never counts negative plain input when a provider's parts exceed its total", () => {
    expect(costMicros({ input: 1e-6, output: 1e-6, cacheRead: 0 }, usage({ prompt: 5, cachedRead: 9 }))).toBe(
      0,
    );
  });
});

describe("estimateMicros", () => {
  it("counts every prompt token at the plain rate and the output limit at the dearer output rate", () => {
    expect(estimateMicros({ input: 1e-6, output: 2e-6 }, 1000, 500)).toBe(2000);
    expect(estimateMicros({ input: 1e-6, output: 2e-6, reasoning: 4e-6 }, 1000, 500)).toBe(3000);
    expect(estimateMicros({ input: 1.1e-6, output: 0 }, 1, 0)).toBe(2);
  });
});

describe("PriceTable.find", () => {
  it("finds provider/model as given, then under the provider's kind", () => {
    expect(table.find("openai", "gpt-4o")?.input).toBe(2.5e-6);
    expect(table.find("openai-2", "gpt-4o", "openai")?.input).toBe(2.5e-6);
    expect(table.find("openai", "gpt-4o-mini")).toBeUndefined();
  });

  it("strips a snapshot date unless the dated snapshot has a price of its own", () => {
    expect(table.find("openai", "gpt-4o-2024-08-06")?.input).toBe(2.5e-6);
    expect(table.find("openai", "gpt-4o-2024-05-13")?.input).toBe(5e-6);
    expect(table.find("anthropic", "claude-sonnet-4-5-20250929")).toBe(
      table.find("anthropic", "claude-sonnet-4-5"),
    );
  });

  it("finds aliases under their provider only", () => {
    expect(table.find("anthropic", "claude-sonnet-4-0")?.output).toBe(15e-6);
    expect(table.find("openai", "claude-sonnet-4-0")).toBeUndefined();
  });

  it("finds resold models at their maker: Azure, Bedrock, Vertex and OpenRouter", () => {
    const sonnet = table.find("anthropic", "claude-sonnet-4-5");
    expect(table.find("my-azure", "gpt-4o", "azure")?.input).toBe(2.5e-6);
    expect(table.find("bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0")).toBe(sonnet);
    expect(table.find("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")).toBe(sonnet);
    expect(table.find("bedrock", "eu.amazon.nova-pro-v1:0")?.input).toBe(0.8e-6);
    expect(table.find("vertex", "claude-sonnet-4-5@20250929")).toBe(sonnet);
    expect(table.find("vertex", "gemini-2.5-pro")?.input).toBe(1.25e-6);
    expect(table.find("openrouter", "anthropic/claude-sonnet-4.5")).toBe(sonnet);
    expect(table.find("openrouter", "openai/gpt-4o")?.input).toBe(2.5e-6);
    expect(table.find("openrouter", "meta-llama/llama-3.3-70b-instruct")).toBeUndefined();
  });

  it("prices local models at nothing and leaves unknown models to the caller", () => {
    expect(table.find("ollama", "llama3.2")).toEqual({ input: 0, output: 0 });
    expect(table.find("my-vllm", "qwen", "vllm")).toEqual({ input: 0, output: 0 });
    expect(table.find("custom", "anything")).toBeUndefined();
    expect(table.find("groq", "llama-3.3-70b-versatile")).toBeUndefined();
  });
});

describe("PriceTable.withOverrides", () => {
  it("replaces given rates, keeps the rest, adds new models and leaves the original table alone", () => {
    const overridden = table.withOverrides({
      "openai/gpt-4o": { input: 2e-6 },
      "custom/my-model": { input: 1e-6 },
      "my-azure/gpt-4o": { output: 9e-6, cacheRead: undefined },
    });
    expect(overridden.find("openai", "gpt-4o")).toEqual({ input: 2e-6, output: 10e-6, cacheRead: 1.25e-6 });
    expect(overridden.find("custom", "my-model")).toEqual({ input: 1e-6, output: 0 });
    expect(overridden.find("my-azure", "gpt-4o", "azure")).toEqual({ input: 0, output: 9e-6 });
    expect(overridden.find("openai", "gpt-4o-2024-08-06")?.input).toBe(2e-6);
    expect(table.find("openai", "gpt-4o")?.input).toBe(2.5e-6);
  });
});

describe("the shipped prices.json", () => {
  const file = shippedFile as PriceFile;
  const kinds = new Set(PROVIDER_CATALOG.map((e) => e.name));

  it("says when and where from", () => {
    expect(file.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(file.source.length).toBeGreaterThan(0);
    for (const url of file.source) expect(url).toMatch(/^https:\/\//);
  });

  it("gives every model input and output rates, and only non-negative numbers", () => {
    const entries = Object.entries(file.models);
    expect(entries.length).toBeGreaterThan(50);
    for (const [key, entry] of entries) {
      expect(kinds.has(key.slice(0, key.indexOf("/"))), key).toBe(true);
      expect(typeof entry.input, key).toBe("number");
      expect(typeof entry.output, key).toBe("number");
      for (const field of PRICE_FIELDS) {
        const value = entry[field];
        if (value !== undefined) expect(Number.isFinite(value) && value >= 0, `${key}.${field}`).toBe(true);
      }
    }
  });

  it("names no alias that is also a model of the same provider", () => {
    for (const [key, entry] of Object.entries(file.models)) {
      const provider = key.slice(0, key.indexOf("/"));
      for (const alias of entry.aliases ?? [])
        expect(file.models[`${provider}/${alias}`], alias).toBeUndefined();
    }
  });

  it("is what PriceTable.shipped reads", () => {
    const shipped = PriceTable.shipped();
    expect(shipped).toBe(PriceTable.shipped());
    expect(shipped.find("openai", "gpt-4o-mini-2024-07-18")).toBeDefined();
    expect(shipped.find("anthropic", "claude-sonnet-4-5-20250929")?.cacheRead).toBeDefined();
    expect(shipped.find("bedrock", "global.anthropic.claude-haiku-4-5-20251001-v1:0")).toBeDefined();
  });
});
