import { describe, expect, it } from "vitest";
import { bifrostConfig, bifrostSkipReason, litellmConfig, litellmSkipReason } from "./peers.js";
import { MOCK_KEY } from "./targets.js";

describe("bifrostConfig", () => {
  const config = bifrostConfig("http://127.0.0.1:4321") as {
    client: Record<string, unknown>;
    framework: { pricing: { pricing_url: string } };
    providers: {
      openai: {
        keys: { value: string }[];
        network_config: { base_url: string; max_retries: number };
        concurrency_and_buffer_size: { concurrency: number; buffer_size: number };
      };
    };
  };

  it("points the provider and the pricing sheet at the mock", () => {
    expect(config.providers.openai.network_config.base_url).toBe("http://127.0.0.1:4321");
    expect(config.framework.pricing.pricing_url).toBe("http://127.0.0.1:4321/datasheet");
    expect(config.providers.openai.keys[0]?.value).toBe(MOCK_KEY);
  });

  it("uses Switchyard's limits with logging, governance and retries off", () => {
    expect(config.providers.openai.concurrency_and_buffer_size).toEqual({
      concurrency: 20_000,
      buffer_size: 40_000,
    });
    expect(config.providers.openai.network_config.max_retries).toBe(0);
    expect(config.client.enable_logging).toBe(false);
    expect(config.client.enable_governance).toBe(false);
  });
});

describe("bifrostSkipReason", () => {
  it("names the missing variable or file", () => {
    expect(bifrostSkipReason({})).toBe("skipped: BIFROST_BIN not set (see bench/README.md)");
    expect(bifrostSkipReason({ BIFROST_BIN: "" })).toBe("skipped: BIFROST_BIN not set (see bench/README.md)");
    expect(bifrostSkipReason({ BIFROST_BIN: "/nonexistent/bifrost-http" })).toBe(
      "skipped: BIFROST_BIN=/nonexistent/bifrost-http does not exist",
    );
  });

  it("lets an existing binary start", () => {
    expect(bifrostSkipReason({ BIFROST_BIN: process.execPath })).toBeUndefined();
  });
});

describe("litellm", () => {
  it("runs only when named in --targets or asked for with BENCH_LITELLM=1", () => {
    expect(litellmSkipReason({}, false)).toMatch(/^skipped: not asked for/);
    expect(litellmSkipReason({ BENCH_LITELLM: "0" }, false)).toMatch(/^skipped: not asked for/);
    expect(litellmSkipReason({ BENCH_LITELLM: "1" }, false)).toBeUndefined();
    expect(litellmSkipReason({}, true)).toBeUndefined();
  });

  it("routes its one model to the mock without a master key", () => {
    const yaml = litellmConfig("http://127.0.0.1:4321");
    expect(yaml).toContain("      api_base: http://127.0.0.1:4321/v1\n");
    expect(yaml).toContain(`      api_key: ${MOCK_KEY}\n`);
    expect(yaml).toContain("  dangerously_permit_weak_or_unset_master_key: true\n");
  });
});
