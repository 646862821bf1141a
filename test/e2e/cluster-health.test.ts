import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { eventually } from "../helpers/admin-api.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { startTestRedis, type TestRedis } from "../helpers/redis.js";

// Shared health in cluster mode: a circuit one instance opens on a failing deployment is open on the
// others within a second (src/cluster/shared-health.ts), so they answer 503 at once instead of each
// sending the dead provider its own share of failures. An instance with share_health off is the control:
// it finds out for itself.

const CONFIG = `
model_list:
  - model_name: broken
    litellm_params: { model: openai/mock-error-500, api_base: os.environ/MOCK_BASE, api_key: os.environ/MOCK_KEY }
  - model_name: plain
    litellm_params: { model: openai/gpt-4o-mini, api_base: os.environ/MOCK_BASE, api_key: os.environ/MOCK_KEY }

router_settings:
  num_retries: 0
  allowed_fails: 2
  cooldown_time: 30
`;
/** The stated propagation time: one poll period and a round trip, with room for a loaded machine. */
const WITHIN_MS = 1_000;

let redis: TestRedis;
let mock: MockServer;
let dir: string;
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  [redis, mock] = await Promise.all([startTestRedis({ throwaway: true }), startOpenAIMock()]);
  dir = mkdtempSync(join(tmpdir(), "switchyard-cluster-health-"));
  const config = join(dir, "config.yaml");
  writeFileSync(config, CONFIG);
  for (const [name, share] of [
    ["a", "true"],
    ["b", "true"],
    ["control", "false"],
  ] as const)
    gateways.push(
      await startGateway({
        env: {
          MOCK_BASE: `${mock.url}/v1`,
          MOCK_KEY: "sk-mock",
          SWITCHYARD_REDIS_URL: redis.url,
          SWITCHYARD_CLUSTER_NAME: `gw-${name}`,
          SWITCHYARD_CLUSTER_SHARE_HEALTH: share,
        },
        args: ["--config", config, "--lanes", "1", "--app-dir", join(dir, name)],
      }),
    );
}, 60_000);

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.stop()));
  await mock?.close();
  await redis?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const chat = async (gateway: RunningGateway, model: string): Promise<number> => {
  const reply = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  await reply.arrayBuffer();
  return reply.status;
};

describe("health shared between instances", () => {
  it("opens on every sharing instance the circuit one opened, within the stated time", async () => {
    const [a, b, control] = gateways as [RunningGateway, RunningGateway, RunningGateway];
    let status = await chat(a, "broken");
    for (let i = 0; i < 5 && status === 500; i++) status = await chat(a, "broken");
    expect(status).toBe(503);
    const openedAt = Date.now();
    // b is watched, not asked: requests to the broken deployment would fail on b and open b's own circuit,
    // which is not what this proves (and a's poll could then take b's open for the news, publishing nothing).
    await eventually(
      () => fetch(`${b.url}/metrics`).then((r) => r.text()),
      (metrics) => /^switchyard_circuit_open\{provider="custom",key="broken#0"\} 1$/m.test(metrics),
      WITHIN_MS,
    );
    expect(Date.now() - openedAt).toBeLessThan(WITHIN_MS * 2);
    // b never sent the broken deployment a request: its first answer is the open circuit's.
    expect(await chat(b, "broken")).toBe(503);
    // Other deployments of the same provider and key are not touched.
    expect(await chat(b, "plain")).toBe(200);
    // The instance that does not share health sends its own failures.
    expect(await chat(control, "broken")).toBe(500);
    // A publish is counted once Redis has answered all of its commands, which may be after b heard it; the
    // count has no stated bound (the time that matters, b's, is checked above), and on a loaded machine the
    // answers can take over a second to be read.
    await eventually(
      () => fetch(`${a.url}/metrics`).then((r) => r.text()),
      (metrics) => /^switchyard_cluster_health_published_total [1-9]/m.test(metrics),
      WITHIN_MS * 10,
    );
  });
});
