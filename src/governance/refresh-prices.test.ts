import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { PriceFile } from "./prices.js";
import { LITELLM_PRICES_URL, refreshPriceFile, refreshPrices } from "./refresh-prices.js";

const FIXTURE = new URL("../../test/fixtures/prices/litellm-prices.json", import.meta.url);
const list = JSON.parse(readFileSync(FIXTURE, "utf8")) as Record<string, unknown>;

const table: PriceFile = {
  updated: "2026-01-01",
  source: ["https://example.test/old"],
  models: {
    "openai/gpt-4o": { input: 5e-6, output: 2e-5, reasoning: 1e-5, maxOutputTokens: 4096 },
    "anthropic/claude-sonnet-4": {
      input: 1e-6,
      output: 1e-6,
      aliases: ["claude-sonnet-4-0"],
      litellm: "claude-sonnet-4-20250514",
    },
    "groq/llama-3.3-70b-versatile": { input: 5.9e-7, output: 7.9e-7 },
  },
};

describe("refreshPrices", () => {
  it("rewrites the listed models' rates and limits from LiteLLM's fields, keeping aliases and keys", () => {
    const { file, missing } = refreshPrices(table, list, { today: "2026-12-04" });
    expect(file.models["openai/gpt-4o"]).toEqual({
      input: 2.5e-6,
      output: 1e-5,
      cacheRead: 1.25e-6,
      maxOutputTokens: 16384,
      contextWindow: 128000,
    });
    expect(file.models["anthropic/claude-sonnet-4"]).toEqual({
      input: 3e-6,
      output: 1.5e-5,
      cacheRead: 3e-7,
      cacheWrite: 3.75e-6,
      maxOutputTokens: 64000,
      contextWindow: 1000000,
      aliases: ["claude-sonnet-4-0"],
      litellm: "claude-sonnet-4-20250514",
    });
    expect(missing).toEqual(["groq/llama-3.3-70b-versatile"]);
    expect(file.models["groq/llama-3.3-70b-versatile"]).toEqual(table.models["groq/llama-3.3-70b-versatile"]);
  });

  it("stamps the day and the sources", () => {
    const { file } = refreshPrices(table, list, { today: "2026-12-04" });
    expect(file.updated).toBe("2026-12-04");
    expect(file.source[0]).toBe(LITELLM_PRICES_URL);
    expect(
      refreshPrices(table, list, { today: "2026-12-04", source: "https://x.test/p.json" }).file.source[0],
    ).toBe("https://x.test/p.json");
  });

  it("adds models by name under the provider's LiteLLM prefix, checking LiteLLM's provider", () => {
    const { file, missing } = refreshPrices(table, list, {
      today: "2026-12-04",
      add: [
        "gemini/gemini-2.5-flash",
        "vertex/gemini-2.5-flash",
        "azure/gpt-4o",
        "mistral/mistral-embed",
        "cohere/embed-english-v3.0",
        "openai/whisper-1",
        "openai/claude-sonnet-4-20250514",
      ],
    });
    expect(file.models["gemini/gemini-2.5-flash"]).toMatchObject({
      input: 3e-7,
      reasoning: 2.5e-6,
      cacheRead: 3e-8,
    });
    expect(file.models["vertex/gemini-2.5-flash"]).toMatchObject({ input: 9e-7, output: 9e-6 });
    expect(file.models["azure/gpt-4o"]).toMatchObject({ input: 2.75e-6, output: 1.1e-5 });
    expect(file.models["mistral/mistral-embed"]).toEqual({ input: 1e-7, output: 0, contextWindow: 8192 });
    expect(file.models["cohere/embed-english-v3.0"]).toMatchObject({ inputPerImage: 0.0001 });
    // Billed per second, not per token; and a key of another provider's model.
    expect(missing).toEqual(expect.arrayContaining(["openai/whisper-1", "openai/claude-sonnet-4-20250514"]));
    expect(Object.keys(file.models)).toEqual([...Object.keys(file.models)].sort());
  });

  it("takes an explicit LiteLLM key after =, and refuses a malformed --add", () => {
    const { file } = refreshPrices(table, list, {
      today: "2026-12-04",
      add: ["anthropic/claude-sonnet-4-x=claude-sonnet-4-20250514"],
    });
    expect(file.models["anthropic/claude-sonnet-4-x"]).toMatchObject({ litellm: "claude-sonnet-4-20250514" });
    expect(() => refreshPrices(table, list, { today: "2026-12-04", add: ["gpt-4o"] })).toThrow(
      /provider\/model/,
    );
  });
});

describe("refreshPriceFile", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("rewrites the prices file in place and reports what it left alone", () => {
    dir = mkdtempSync(join(tmpdir(), "prices-"));
    const out = join(dir, "prices.json");
    writeFileSync(out, JSON.stringify(table));
    const missing = refreshPriceFile(FIXTURE.pathname, out, { today: "2026-12-04" });
    expect(missing).toEqual(["groq/llama-3.3-70b-versatile"]);
    const written = JSON.parse(readFileSync(out, "utf8")) as PriceFile;
    expect(written.updated).toBe("2026-12-04");
    expect(written.models["openai/gpt-4o"]?.input).toBe(2.5e-6);
  });

  it("refuses a LiteLLM file that is not an object of models", () => {
    const scratch = mkdtempSync(join(tmpdir(), "prices-"));
    dir = scratch;
    const bad = join(scratch, "list.json");
    writeFileSync(bad, "[]");
    expect(() => refreshPriceFile(bad, join(scratch, "prices.json"), { today: "2026-12-04" })).toThrow(
      /not a JSON object/,
    );
  });
});
