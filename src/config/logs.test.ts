import { describe, expect, it } from "vitest";
import { parseBifrostConfig } from "./bifrost.js";
import { ConfigError } from "./errors.js";
import { parseLiteLLMConfig } from "./litellm.js";
import { parseConfigText } from "./load.js";
import { DEFAULT_LOGS, logSettings, logsFromEnvironment } from "./logs.js";

const DAY = 86_400_000;

describe("request log settings", () => {
  it("log every request with its content by default", () => {
    const { config } = parseBifrostConfig({ providers: {} }, {}, "config.json");
    expect(logSettings(config)).toEqual(DEFAULT_LOGS);
    expect(DEFAULT_LOGS).toMatchObject({ enabled: true, content: true, retentionMs: 30 * DAY });
  });

  it("take Bifrost's logging switches, retention and logs_store.enabled", () => {
    const bifrost = (json: object) =>
      logSettings(parseBifrostConfig({ providers: {}, ...json }, {}, "c.json").config);
    expect(
      bifrost({ client: { enable_logging: true, disable_content_logging: true, log_retention_days: 7 } }),
    ).toMatchObject({ enabled: true, content: false, retentionMs: 7 * DAY });
    expect(bifrost({ client: { enable_logging: false } }).enabled).toBe(false);
    expect(bifrost({ logs_store: { enabled: false } }).enabled).toBe(false);
    expect(() => bifrost({ client: { log_retention_days: "week" } })).toThrow(ConfigError);
  });

  it("take LiteLLM's spend-log settings, prompts kept only when it would keep them", () => {
    const litellm = (yaml: string) =>
      logSettings(parseLiteLLMConfig(`model_list: []\n${yaml}`, "c.yaml", {}).config);
    expect(litellm("")).toMatchObject({ enabled: true, content: false });
    expect(litellm("general_settings:\n  store_prompts_in_spend_logs: true\n")).toMatchObject({
      content: true,
    });
    expect(
      litellm(
        "general_settings:\n  store_prompts_in_spend_logs: true\nlitellm_settings:\n  turn_off_message_logging: true\n",
      ).content,
    ).toBe(false);
    expect(
      litellm('general_settings:\n  disable_spend_logs: true\n  maximum_spend_logs_retention_period: "7d"\n'),
    ).toMatchObject({ enabled: false, retentionMs: 7 * DAY });
    expect(() => litellm('general_settings:\n  maximum_spend_logs_retention_period: "soon"\n')).toThrow(
      ConfigError,
    );
  });

  it("let the environment override the file", () => {
    const { config } = parseConfigText(
      JSON.stringify({ providers: {}, client: { disable_content_logging: true } }),
      "config.json",
      {
        SWITCHYARD_LOG_CONTENT: "true",
        SWITCHYARD_LOG_RETENTION_DAYS: "3",
        SWITCHYARD_LOG_MAX_MB: "10",
        SWITCHYARD_LOG_RING_MB: "2",
        SWITCHYARD_LOG_FLUSH_MS: "50",
        SWITCHYARD_LOG_CONTENT_BYTES: "100",
      },
    );
    expect(logSettings(config)).toEqual({
      enabled: true,
      content: true,
      maxContentBytes: 100,
      retentionMs: 3 * DAY,
      maxBytes: 10 * 1024 * 1024,
      ringBytes: 2 * 1024 * 1024,
      flushMs: 50,
    });
  });

  it("leave the file's settings as they are when the environment sets none", () => {
    const base = { content: false };
    expect(logsFromEnvironment(base, {})).toBe(base);
  });

  it("refuse malformed and out-of-bounds values by name", () => {
    expect(() => logsFromEnvironment(undefined, { SWITCHYARD_LOGS: "maybe" })).toThrow(/SWITCHYARD_LOGS/);
    expect(() => logsFromEnvironment(undefined, { SWITCHYARD_LOG_FLUSH_MS: "1" })).toThrow(
      /SWITCHYARD_LOG_FLUSH_MS/,
    );
    expect(() => logsFromEnvironment(undefined, { SWITCHYARD_LOG_RING_MB: "1e3" })).toThrow(
      /SWITCHYARD_LOG_RING_MB/,
    );
  });
});
