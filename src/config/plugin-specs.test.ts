import { describe, expect, it } from "vitest";
import { parseBifrostConfig } from "./bifrost.js";
import { configFromEnvironment } from "./env.js";
import { ConfigError } from "./errors.js";
import { parseLiteLLMConfig } from "./litellm.js";

const env = { OPENAI_API_KEY: "sk-test" };
const providers = {
  openai: { keys: [{ name: "k", value: "env.OPENAI_API_KEY", models: ["*"], weight: 1 }] },
};

const bifrost = (plugins: unknown) =>
  parseBifrostConfig({ providers, plugins }, env, "/etc/switchyard/config.json");

const litellm = (yaml: string) =>
  parseLiteLLMConfig(
    `model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: os.environ/OPENAI_API_KEY\n${yaml}`,
    "/etc/switchyard/config.yaml",
    env,
  );

function problemsOf(parse: () => unknown): readonly string[] {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("Bifrost's plugins array", () => {
  it("loads JavaScript modules by path with config as options, and Switchyard's built-ins by name", () => {
    const { config, warnings } = bifrost([
      { enabled: true, name: "audit", path: "./plugins/audit.mjs", config: { level: 2 } },
      { enabled: true, name: "cjs", path: "plugins/legacy.CJS" },
      { enabled: true, name: "header_allowlist", config: { headers: ["x-trace-id"] } },
    ]);
    expect(warnings).toEqual([]);
    expect(config.plugins).toEqual([
      { name: "audit", path: "./plugins/audit.mjs", options: { level: 2 }, enabled: true },
      { name: "cjs", path: "plugins/legacy.CJS", options: {}, enabled: true },
      {
        name: "header_allowlist",
        builtin: "header_allowlist",
        options: { headers: ["x-trace-id"] },
        enabled: true,
      },
    ]);
  });

  it("names Bifrost's own plugins, Go plugins and unknown names in warnings, and loads none of them", () => {
    const { config, warnings } = bifrost([
      { enabled: true, name: "otel", config: {} },
      { enabled: true, name: "maxim", config: {} },
      { enabled: true, name: "hello", path: "/opt/plugins/hello.so" },
      { enabled: true, name: "header_alowlist" },
    ]);
    expect(config.plugins).toBeUndefined();
    expect(warnings).toEqual([
      "plugins[0]: Bifrost's otel plugin is not supported yet; ignored",
      "plugins[1]: Bifrost's maxim plugin is not supported yet; ignored",
      'plugins[2].path: "hello" is a Go plugin for Bifrost; Switchyard loads JavaScript modules (.js, .mjs, .cjs); ignored',
      'plugins[3].name: "header_alowlist" is neither a Switchyard built-in (header_allowlist) nor a Bifrost plugin, and has no path; ignored',
    ]);
  });

  it('loads an entry only with "enabled": true, as Bifrost does, and says nothing of the others', () => {
    const { config, warnings } = bifrost([
      { enabled: false, name: "semantic_cache" },
      { name: "audit", path: "audit.mjs" },
    ]);
    expect(config.plugins).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it("says that placement and order are not read, and names unknown keys", () => {
    const { warnings } = bifrost([
      { enabled: true, name: "a", path: "a.mjs", placement: "pre_builtin", order: 1, colour: "red" },
    ]);
    expect(warnings).toEqual([
      "plugins[0].placement: not read: plugins run in the order they are listed",
      "plugins[0].order: not read: plugins run in the order they are listed",
      "plugins[0].colour: unknown key; ignored",
    ]);
  });

  it("refuses entries that are not objects, names that are not strings and a plugins value that is no array", () => {
    expect(problemsOf(() => bifrost({ audit: true }))).toEqual(["plugins: must be an array"]);
    expect(
      problemsOf(() => bifrost(["audit.mjs", { enabled: true, name: 3 }, { enabled: "yes", name: "a" }])),
    ).toEqual([
      "plugins[0]: must be an object",
      "plugins[1].name: must be a non-empty string",
      "plugins[2].enabled: must be true or false",
    ]);
  });
});

describe("LiteLLM's config.yaml", () => {
  it("reads switchyard_plugins: modules by path, built-ins by name, enabled by default", () => {
    const { config, warnings } = litellm(`switchyard_plugins:
  - path: ./plugins/audit.mjs
    options:
      level: 2
  - builtin: header_allowlist
    name: forward
    options:
      headers: [x-trace-id]
  - path: off.js
    enabled: false
`);
    expect(warnings).toEqual([]);
    expect(config.plugins).toEqual([
      { path: "./plugins/audit.mjs", options: { level: 2 }, enabled: true },
      { name: "forward", builtin: "header_allowlist", options: { headers: ["x-trace-id"] }, enabled: true },
      { path: "off.js", options: {}, enabled: false },
    ]);
  });

  it("refuses switchyard_plugins entries it cannot load, naming each", () => {
    expect(
      problemsOf(() =>
        litellm(`switchyard_plugins:
  - path: a.mjs
    builtin: header_allowlist
  - options: {}
  - builtin: semantic_cache
  - path: plugin.ts
  - path: a.mjs
    enabled: maybe
  - just-a-string
`),
      ),
    ).toEqual([
      "switchyard_plugins[0]: give either path (a JavaScript module) or builtin (one of header_allowlist)",
      "switchyard_plugins[1]: give either path (a JavaScript module) or builtin (one of header_allowlist)",
      "switchyard_plugins[2].builtin: must be one of header_allowlist",
      "switchyard_plugins[3].path: must be a JavaScript module (.js, .mjs, .cjs)",
      "switchyard_plugins[4].enabled: must be true or false",
      "switchyard_plugins[5]: must be a mapping with a path or a builtin",
    ]);
    expect(problemsOf(() => litellm("switchyard_plugins: audit.mjs\n"))).toEqual([
      "switchyard_plugins: must be a list",
    ]);
  });

  it("maps general_settings.forward_openai_org_id onto header_allowlist for OpenAI-Organization", () => {
    const { config, warnings } = litellm("general_settings:\n  forward_openai_org_id: true\n");
    expect(warnings).toEqual([]);
    expect(config.plugins).toEqual([
      {
        name: "header_allowlist",
        builtin: "header_allowlist",
        options: { headers: ["openai-organization"] },
        enabled: true,
      },
    ]);
    expect(litellm("general_settings:\n  forward_openai_org_id: false\n").config.plugins).toBeUndefined();
  });

  it("refuses forward_openai_org_id beside a header_allowlist of switchyard_plugins: one list says it all", () => {
    expect(
      problemsOf(() =>
        litellm(`general_settings:
  forward_openai_org_id: true
switchyard_plugins:
  - builtin: header_allowlist
    options: { headers: [x-trace-id] }
`),
      ),
    ).toEqual([
      "general_settings.forward_openai_org_id: switchyard_plugins has a header_allowlist already: add openai-organization to its headers instead",
    ]);
  });

  it("warns that forward_client_headers_to_llm_api, which forwards every x- header, is not applied", () => {
    const { config, warnings } = litellm("general_settings:\n  forward_client_headers_to_llm_api: true\n");
    expect(config.plugins).toBeUndefined();
    expect(warnings).toEqual([
      "general_settings.forward_client_headers_to_llm_api: LiteLLM forwards every x- header; Switchyard forwards only headers it is given by name: list them under switchyard_plugins with builtin: header_allowlist; ignored",
    ]);
  });
});

describe("SWITCHYARD_FORWARD_HEADERS", () => {
  it("becomes a header_allowlist of the names listed", () => {
    const { config } = configFromEnvironment({
      ...env,
      SWITCHYARD_FORWARD_HEADERS: " x-trace-id, ,X-Tenant ",
    });
    expect(config.plugins).toEqual([
      {
        name: "header_allowlist",
        builtin: "header_allowlist",
        options: { headers: ["x-trace-id", "X-Tenant"] },
        enabled: true,
      },
    ]);
    expect(configFromEnvironment(env).config.plugins).toBeUndefined();
  });

  it("must name at least one header when set", () => {
    expect(problemsOf(() => configFromEnvironment({ ...env, SWITCHYARD_FORWARD_HEADERS: " , " }))).toEqual([
      "SWITCHYARD_FORWARD_HEADERS: must list header names, e.g. x-trace-id,x-tenant",
    ]);
  });
});
