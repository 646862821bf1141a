import { describe, expect, it } from "vitest";
import { parseBifrostConfig } from "./bifrost.js";
import { describeConfig } from "./describe.js";
import { configFromEnvironment } from "./env.js";

const SECRET = "sk-live-0123456789abcdef";

describe("describeConfig", () => {
  it("prints one line per provider with kind, base URL, key count and model restriction", () => {
    const { config } = parseBifrostConfig(
      {
        providers: {
          openai: {
            keys: [
              { name: "a", value: "env.OPENAI_API_KEY", models: ["gpt-4o", "gpt-4o-mini"], weight: 1 },
              { name: "b", value: "env.OPENAI_API_KEY", models: ["gpt-4o"], weight: 1 },
            ],
          },
          anthropic: { keys: [{ name: "a", value: "env.OPENAI_API_KEY", models: ["*"] }] },
          "my-vllm": { network_config: { base_url: "http://10.0.0.5:8000/v1" } },
        },
      },
      { OPENAI_API_KEY: SECRET },
      "config.json",
    );
    expect(describeConfig(config)).toEqual([
      "openai (openai) https://api.openai.com, 2 keys, models: restricted to gpt-4o, gpt-4o-mini",
      "anthropic (anthropic) https://api.anthropic.com, 1 key, models: any",
      "my-vllm (custom) http://10.0.0.5:8000/v1, no keys, models: any",
    ]);
  });

  it("caps the model list", () => {
    const models = ["m1", "m2", "m3", "m4", "m5", "m6", "m7"];
    const { config } = parseBifrostConfig(
      { providers: { groq: { keys: [{ name: "k", value: "x", models }] } } },
      {},
      "c.json",
    );
    expect(describeConfig(config)).toEqual([
      "groq (groq) https://api.groq.com, 1 key, models: restricted to m1, m2, m3, m4, m5, +2 more",
    ]);
  });

  it("never prints a secret: key values, header values, or credentials in the base URL", () => {
    const { config } = parseBifrostConfig(
      {
        providers: {
          openai: {
            keys: [{ name: "primary", value: SECRET, models: ["*"] }],
            network_config: {
              base_url: `https://proxy-user:${SECRET}@proxy.example.com/v1`,
              extra_headers: { Authorization: `Bearer ${SECRET}` },
            },
          },
        },
      },
      {},
      "c.json",
    );
    const lines = describeConfig(config);
    expect(lines).toEqual(["openai (openai) https://proxy.example.com/v1, 1 key, models: any"]);
    expect(lines.join("\n")).not.toContain(SECRET);

    const fromEnv = configFromEnvironment({ OPENAI_API_KEY: SECRET, ANTHROPIC_API_KEY: SECRET });
    expect(describeConfig(fromEnv.config).join("\n")).not.toContain(SECRET);
  });

  it("says when nothing is configured", () => {
    expect(describeConfig(configFromEnvironment({}).config)).toEqual([
      "no providers configured (source: environment)",
    ]);
  });
});
