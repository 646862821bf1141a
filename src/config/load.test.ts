import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "./errors.js";
import { jsonErrorOffset, loadConfig } from "./load.js";

const SECRET = "sk-proj-SECRET-in-file-9d8e";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "switchyard-load-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return path;
}

function loadError(opts: Parameters<typeof loadConfig>[0]): ConfigError {
  try {
    loadConfig(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

const fileConfig = {
  providers: { groq: { keys: [{ name: "g", value: "env.GROQ_API_KEY", models: ["*"] }] } },
};

describe("loadConfig", () => {
  it("reads --config FILE first, even when the app dir has a config.json", () => {
    const chosen = write("chosen.json", fileConfig);
    write("config.json", { providers: {} });
    const { config, path } = loadConfig({ configPath: chosen, appDir: dir, env: { GROQ_API_KEY: "gk" } });
    expect(path).toBe(chosen);
    expect(config.source).toBe(chosen);
    expect(Object.keys(config.providers)).toEqual(["groq"]);
  });

  it("reads config.json from the app dir when no file is named", () => {
    const expected = write("config.json", fileConfig);
    const { config, path } = loadConfig({ appDir: dir, env: { GROQ_API_KEY: "gk", OPENAI_API_KEY: "ok" } });
    expect(path).toBe(expected);
    expect(Object.keys(config.providers)).toEqual(["groq"]);
  });

  it("falls back to the environment when there is no file", () => {
    const { config, path, warnings } = loadConfig({ appDir: dir, env: { OPENAI_API_KEY: "ok" } });
    expect(path).toBeUndefined();
    expect(config.source).toBe("environment");
    expect(Object.keys(config.providers)).toEqual(["openai"]);
    expect(warnings).toEqual([]);
    expect(loadConfig({ env: {} }).config.source).toBe("environment");
  });

  it("fails, without falling back, when the named file is missing", () => {
    const missing = join(dir, "nope.json");
    const err = loadError({ configPath: missing, env: { OPENAI_API_KEY: "ok" } });
    expect(err.problems).toEqual(["cannot read the file: file not found"]);
    expect(err.message).toContain(missing);
  });

  it("names the file, line and column of malformed JSON without quoting its text", () => {
    const path = write(
      "config.json",
      `{\n  "providers": {\n    "openai": { "keys": [{ "value": "${SECRET}" }] }\n  },,\n}`,
    );
    const err = loadError({ configPath: path, env: {} });
    expect(err.message).toContain(path);
    expect(err.problems).toEqual(["malformed JSON at line 4, column 5: unexpected character"]);
    expect(err.message).not.toContain(SECRET);
  });

  it("reports a truncated file as an unexpected end", () => {
    const path = write("config.json", '{ "providers": {');
    expect(loadError({ configPath: path, env: {} }).problems).toEqual([
      "malformed JSON at line 1, column 17: unexpected end of input",
    ]);
  });

  it("accepts a UTF-8 byte order mark", () => {
    const path = write("config.json", `\uFEFF${JSON.stringify(fileConfig)}`);
    expect(
      Object.keys(loadConfig({ configPath: path, env: { GROQ_API_KEY: "g" } }).config.providers),
    ).toEqual(["groq"]);
  });

  it("reads .yaml and .yml as LiteLLM's config.yaml", () => {
    for (const name of ["litellm.yaml", "config.YML"]) {
      const path = write(
        name,
        "model_list:\n  - model_name: fast\n    litellm_params:\n      model: groq/llama-3.1-8b-instant\n      api_key: os.environ/GROQ_API_KEY\n",
      );
      const loaded = loadConfig({ configPath: path, env: { GROQ_API_KEY: "g" } });
      expect(loaded.path).toBe(path);
      expect(loaded.config.modelGroups?.fast).toEqual([
        { provider: "groq", model: "llama-3.1-8b-instant", key: "fast#0", weight: 1, order: 0 },
      ]);
      expect(loadError({ configPath: path, env: {} }).problems).toEqual([
        "model_list[0].litellm_params.api_key: environment variable GROQ_API_KEY is not set",
      ]);
    }
  });

  it("passes validation errors through with the file as their source", () => {
    const path = write("config.json", { providers: { openai: { keys: [{ value: "env.NOT_SET" }] } } });
    const err = loadError({ configPath: path, env: {} });
    expect(err.source).toBe(path);
    expect(err.problems).toEqual(["providers.openai.keys[0].value: environment variable NOT_SET is not set"]);
  });
});

describe("the gateway's own key", () => {
  it("comes from SWITCHYARD_API_KEY, else LITELLM_MASTER_KEY, in every mode; a file's master_key wins", () => {
    expect(loadConfig({ env: { SWITCHYARD_API_KEY: "sk-sy" } }).config.masterKey).toBe("sk-sy");
    expect(loadConfig({ env: { LITELLM_MASTER_KEY: "sk-ll" } }).config.masterKey).toBe("sk-ll");
    expect(loadConfig({ env: {} }).config.masterKey).toBeUndefined();
    const json = write("config.json", fileConfig);
    expect(
      loadConfig({ configPath: json, env: { GROQ_API_KEY: "g", SWITCHYARD_API_KEY: "sk-sy" } }).config
        .masterKey,
    ).toBe("sk-sy");
    const yaml = write(
      "config.yaml",
      "model_list: []\ngeneral_settings:\n  master_key: sk-file\nlitellm_settings:\n  require_auth_for_metrics_endpoint: true\n",
    );
    const fromFile = loadConfig({ configPath: yaml, env: { SWITCHYARD_API_KEY: "sk-sy" } }).config;
    expect(fromFile.masterKey).toBe("sk-file");
    expect(fromFile.metricsRequireKey).toBe(true);
  });

  it("guards /metrics too with SWITCHYARD_METRICS_REQUIRE_KEY=true", () => {
    const env = { SWITCHYARD_API_KEY: "sk-sy", SWITCHYARD_METRICS_REQUIRE_KEY: "true" };
    expect(loadConfig({ env }).config.metricsRequireKey).toBe(true);
    expect(loadConfig({ env: { SWITCHYARD_API_KEY: "sk-sy" } }).config.metricsRequireKey).toBeUndefined();
  });
});

describe("Bifrost's metric names", () => {
  it("are offered with SWITCHYARD_BIFROST_METRICS=true, from the environment and over a file", () => {
    expect(loadConfig({ env: { SWITCHYARD_BIFROST_METRICS: "true" } }).config.bifrostMetrics).toBe(true);
    expect(loadConfig({ env: {} }).config.bifrostMetrics).toBeUndefined();
    const json = write("config.json", fileConfig);
    const env = { GROQ_API_KEY: "g", SWITCHYARD_BIFROST_METRICS: "TRUE" };
    expect(loadConfig({ configPath: json, env }).config.bifrostMetrics).toBe(true);
  });
});

describe("jsonErrorOffset", () => {
  it.each([
    ["{", 1],
    ['{"a" 1}', 5],
    ['{"a": tru}', 9],
    ["[1, 2,]", 6],
    ['{"a": "x\\q"}', 9],
    ['{"a": 01}', 7],
    ["[1] 2", 4],
    ['{"a": "\\u12G4"}', 11],
    ["", 0],
  ])("finds the first bad character in %j", (text, offset) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorOffset(text)).toBe(offset);
  });
});
