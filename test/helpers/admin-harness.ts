import { randomBytes } from "node:crypto";
import { beforeEach } from "vitest";
import type { AdminContext, BudgetState, ConfigStatus } from "../../src/admin/handler.js";
import { handleAdmin } from "../../src/admin/handler.js";
import { parseLiteLLMConfig } from "../../src/config/litellm.js";
import type { GatewayConfig } from "../../src/config/types.js";
import { SecretCipher } from "../../src/store/cipher.js";
import { openSqliteLogStore } from "../../src/store/logs/sqlite.js";
import type { LogStore } from "../../src/store/logs/types.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import type { GovernanceStore } from "../../src/store/types.js";

// The management API against a real SQLite store (in memory) and a real configuration (LiteLLM YAML), with a
// stand-in for the lead's control plane: `changed` and `flushSpend` count their calls, live budget state is
// a Map the test fills.

export const PROVIDER_SECRET = "sk-openai-REAL-SECRET-1234";

const CONFIG_YAML = `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: ${PROVIDER_SECRET}
      rpm: 100
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_key: sk-ant-REAL-SECRET-5678
`;

export interface Answer {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field in assertions
  readonly json: any;
}

export interface AdminHarness {
  readonly store: GovernanceStore;
  /** The request log /api/logs reads (SQLite in memory). */
  readonly logs: LogStore;
  readonly context: AdminContext;
  readonly live: Map<string, BudgetState>;
  readonly clock: { now: number };
  /** What /api/config says of the configuration's warnings and reloads; tests change it. */
  configStatus: ConfigStatus;
  /** The shared upstream state /api/routing reads; tests set it. */
  upstream: SharedArrayBuffer | undefined;
  changes(): number;
  flushes(): number;
  call(method: string, path: string, body?: unknown, query?: string): Promise<Answer>;
  /** Sends the body bytes as they are. */
  raw(method: string, path: string, body: string, query?: string): Promise<Answer>;
  close(): Promise<void>;
}

export function testConfig(): GatewayConfig {
  return parseLiteLLMConfig(CONFIG_YAML, "/tmp/admin-test-config.yaml", {}).config;
}

/** A fresh harness of the test configuration for each test of the suite: `use` gets it before the test; it closes after. */
export function adminHarnessEachTest(use: (admin: AdminHarness) => void): void {
  beforeEach(async () => {
    const admin = await adminHarness();
    use(admin);
    return () => admin.close();
  });
}

export async function adminHarness(config: GatewayConfig = testConfig()): Promise<AdminHarness> {
  const store = openSqliteStore(":memory:", new SecretCipher(randomBytes(32)));
  await store.migrate();
  const logs = openSqliteLogStore(":memory:");
  await logs.migrate();
  const live = new Map<string, BudgetState>();
  const clock = { now: Date.parse("2026-03-01T12:00:00Z") };
  let changes = 0;
  let flushes = 0;
  const context: AdminContext = {
    store,
    async changed() {
      changes++;
    },
    async flushSpend() {
      flushes++;
    },
    budgetState: (id) => live.get(id),
    config: () => config,
    fileConfig: () => config,
    now: () => clock.now,
    configStatus: () => harness.configStatus,
    upstreamState: () => harness.upstream,
    logs: {
      query: (query) => logs.query(query),
      get: async (id) => (await logs.get(id)) ?? null,
      stats: (query) => logs.stats(query),
    },
  };
  const raw = async (method: string, path: string, body: string, query = ""): Promise<Answer> => {
    const answer = await handleAdmin(context, { method, path, query, body: Buffer.from(body) });
    return {
      status: answer.status,
      headers: answer.headers ?? [],
      text: answer.body,
      json: JSON.parse(answer.body),
    };
  };
  const harness: AdminHarness = {
    store,
    logs,
    context,
    live,
    clock,
    configStatus: { startupWarnings: [], reloadWarnings: [], apiWarnings: [], watching: false },
    upstream: undefined,
    changes: () => changes,
    flushes: () => flushes,
    raw,
    call: (method, path, body, query) =>
      raw(method, path, body === undefined ? "" : JSON.stringify(body), query),
    close: async () => {
      await Promise.all([store.close(), logs.close()]);
    },
  };
  return harness;
}
