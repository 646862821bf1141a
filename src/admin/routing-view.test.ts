import { describe, expect, it } from "vitest";
import { adminHarness, testConfig } from "../../test/helpers/admin-harness.js";
import type { GatewayConfig } from "../config/types.js";
import type { CompiledProvider } from "../providers/route.js";
import type { Candidate } from "../routing/health.js";
import { compileRoutingTable } from "../routing/table.js";
import { SharedUpstreamHealth } from "../routing/upstream-health.js";
import { capacityFor, createUpstreamBuffer } from "../shm/upstream.js";

// /api/routing over the test configuration (model groups gpt-4o → openai, claude → anthropic), with the
// shared upstream state written the way lanes write it: through SharedUpstreamHealth.

function withRouting(config: GatewayConfig): GatewayConfig {
  return {
    ...config,
    aliases: { smart: "gpt-4o" },
    routing: {
      strategy: "least-busy",
      numRetries: 2,
      retryBackoffInitialMs: 100,
      retryBackoffMaxMs: 1000,
      timeoutMs: 60_000,
      allowedFails: 2,
      cooldownMs: 30_000,
      fallbacks: { "gpt-4o": ["claude"] },
      contextWindowFallbacks: { claude: ["gpt-4o"] },
      contentPolicyFallbacks: {},
      retryPolicy: { RateLimitError: 4 },
    },
  };
}

describe("GET /api/routing", () => {
  it("lists groups, aliases, fallbacks and settings", async () => {
    const admin = await adminHarness(withRouting(testConfig()));
    const { status, json } = await admin.call("GET", "/api/routing");
    expect(status).toBe(200);
    expect(json.settings).toEqual({
      strategy: "least-busy",
      num_retries: 2,
      retry_backoff_initial_ms: 100,
      retry_backoff_max_ms: 1000,
      timeout_ms: 60_000,
      allowed_fails: 2,
      cooldown_ms: 30_000,
      retry_policy: { RateLimitError: 4 },
    });
    expect(json.model_groups.map((g: { name: string }) => g.name)).toEqual(["gpt-4o", "claude"]);
    expect(json.model_groups[0].deployments).toEqual([
      {
        provider: "openai",
        model: "gpt-4o",
        key: "gpt-4o#0",
        weight: 100,
        order: 0,
        rpm: 100,
        tpm: null,
        timeout_ms: null,
        live: null,
      },
    ]);
    expect(json.aliases).toEqual({ smart: "gpt-4o" });
    expect(json.fallbacks).toEqual({
      general: { "gpt-4o": ["claude"] },
      context_window: { claude: ["gpt-4o"] },
      content_policy: {},
    });
    await admin.close();
  });

  it("reads each provider's and deployment's live state from the shared buffer, claiming nothing", async () => {
    const config = withRouting(testConfig());
    const admin = await adminHarness(config);
    const upstream = createUpstreamBuffer(capacityFor(config));
    admin.upstream = upstream;
    const before = new Int32Array(upstream).slice();
    const untouched = await admin.call("GET", "/api/routing");
    expect(new Int32Array(upstream)).toEqual(before);
    expect(untouched.json.providers[0]).toMatchObject({
      name: "openai",
      in_flight: 0,
      queued: 0,
      latency_ms: null,
    });
    expect(untouched.json.providers[0].deployments).toEqual([
      { key: "gpt-4o#0", model: "gpt-4o", live: null },
    ]);

    const health = new SharedUpstreamHealth(upstream, config.routing);
    const table = compileRoutingTable(config);
    const openai: Candidate = {
      provider: table.providers.get("openai") as CompiledProvider,
      keyIndex: 0,
      model: "gpt-4o",
      weight: 1,
      order: 0,
    };
    health.started(openai);
    health.finished(openai, "ok", 120);
    health.started(openai);
    health.finished(openai, "failure", 50);
    health.started(openai);
    health.finished(openai, "failure", 50);
    health.started(openai);

    const { json } = await admin.call("GET", "/api/routing");
    const provider = json.providers[0];
    expect(provider).toMatchObject({ name: "openai", kind: "openai", latency_ms: 120 });
    expect(provider.keys).toEqual([{ name: "gpt-4o#0", open_circuits: 1 }]);
    const live = provider.deployments[0].live;
    expect(live).toMatchObject({
      in_flight: 1,
      circuit: "OPEN",
      latency_ms: 120,
      samples: 3,
      consecutive_fails: 2,
    });
    expect(live.error_rate).toBeGreaterThan(0);
    expect(live.error_rate).toBeLessThan(1);
    expect(json.model_groups[0].deployments[0].live).toEqual(live);
    expect(json.model_groups[1].deployments[0].live).toBeNull();
    await admin.close();
  });
});
