import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// /metrics after real traffic: cost, stream timing, retries, fallbacks, refusals by reason and the virtual
// key and team series, Bifrost's names beside Switchyard's, and every metric the shipped Grafana dashboard
// (docs/grafana/switchyard.json) queries.

const KEY = "sk-bf-metrics-virtual-key-0001";
const DISABLED_KEY = "sk-bf-metrics-virtual-key-0002";
const DASHBOARD = join(import.meta.dirname, "../../docs/grafana/switchyard.json");

let good: MockServer;
let failing: MockServer;
let gateway: RunningGateway;
let dir: string;
let scrape: string;

const chat = (body: Record<string, unknown>, key?: string) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    },
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], ...body }),
  });

beforeAll(async () => {
  good = await startOpenAIMock({ streamChunks: 4 });
  failing = await startOpenAIMock({ failRate: 1 });
  dir = mkdtempSync(join(tmpdir(), "switchyard-metrics-"));
  const path = join(dir, "config.json");
  const key = (value: string) => [{ name: "k", value, models: ["*"], weight: 1 }];
  writeFileSync(
    path,
    JSON.stringify({
      providers: {
        openai: { keys: key("sk-mock"), network_config: { base_url: `${good.url}/v1` } },
        mistral: {
          keys: key("sk-mock"),
          network_config: {
            base_url: `${failing.url}/v1`,
            max_retries: 1,
            retry_backoff_initial: 100,
            retry_backoff_max: 100,
          },
        },
      },
      plugins: [
        { enabled: true, name: "telemetry" },
        {
          enabled: true,
          name: "semantic_cache",
          config: {
            provider: "openai",
            embedding_model: "text-embedding-3-small",
            ttl: "5m",
            threshold: 0.9,
          },
        },
      ],
      governance: {
        teams: [{ id: "team-metrics", name: "metrics" }],
        virtual_keys: [
          { id: "vk-metrics", name: "app", value: KEY, is_active: true, team_id: "team-metrics" },
          { id: "vk-off", name: "off", value: DISABLED_KEY, is_active: false },
        ],
      },
    }),
  );
  // The cache answers only the requests that ask for it, so the traffic below still reaches the providers.
  gateway = await startGateway({
    args: ["--config", path, "--app-dir", dir, "--lanes", "2"],
    env: { SWITCHYARD_CACHE_MODE: "default_off" },
  });

  expect((await chat({ model: "openai/gpt-4o-mini" }, KEY)).status).toBe(200);
  const stream = await chat({ model: "openai/gpt-4o-mini", stream: true }, KEY);
  expect(stream.status).toBe(200);
  await stream.text();
  expect((await chat({ model: "openai/gpt-4o-mini" })).status).toBe(200);
  const fellBack = await chat({ model: "mistral/mistral-small-latest", fallbacks: ["openai/gpt-4o-mini"] });
  expect(fellBack.status).toBe(200);
  expect((await chat({ model: "openai/gpt-4o-mini" }, DISABLED_KEY)).status).toBe(401);
  // The same question twice, asking for the cache: a miss, then a hit.
  for (const expected of ["miss", "hit"]) {
    const cached = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-switchyard-cache": "on" },
      body: JSON.stringify({
        model: "openai/gpt-4o-mini",
        messages: [{ role: "user", content: "cache me" }],
      }),
    });
    expect(cached.headers.get("x-switchyard-cache")).toBe(expected);
    await cached.text();
  }
  scrape = await (await fetch(`${gateway.url}/metrics`)).text();
});

afterAll(async () => {
  await gateway?.stop();
  await good?.close();
  await failing?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** The value of the one sample named `name` with exactly these labels, or undefined. */
function sample(name: string, labels: Record<string, string> = {}): number | undefined {
  const rendered = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",");
  const head = rendered === "" ? `${name} ` : `${name}{${rendered}} `;
  const line = scrape.split("\n").find((l) => l.startsWith(head));
  return line === undefined ? undefined : Number(line.slice(head.length));
}

describe("/metrics after traffic", () => {
  it("prices each provider's usage per model", () => {
    expect(
      sample("switchyard_cost_dollars_total", { provider: "openai", model: "gpt-4o-mini" }),
    ).toBeGreaterThan(0);
  });

  it("times the stream's first token and its pace", () => {
    expect(sample("switchyard_time_to_first_token_seconds_count", { provider: "openai" })).toBe(1);
    expect(sample("switchyard_inter_token_latency_seconds_count", { provider: "openai" })).toBe(1);
  });

  it("counts the retry and the fallback", () => {
    expect(sample("switchyard_retries_total")).toBe(1);
    expect(sample("switchyard_fallbacks_total")).toBe(1);
  });

  it("counts the gateway's own refusal by its reason", () => {
    expect(sample("switchyard_refusals_total", { reason: "virtual_key_inactive" })).toBe(1);
  });

  it("keeps requests, tokens and cost per virtual key and team, for keyed requests only", () => {
    const labels = { virtual_key: "vk-metrics", team: "team-metrics" };
    expect(sample("switchyard_key_requests_total", labels)).toBe(2);
    expect(sample("switchyard_key_tokens_input_total", labels)).toBeGreaterThan(0);
    expect(sample("switchyard_key_tokens_output_total", labels)).toBeGreaterThan(0);
    expect(sample("switchyard_key_cost_dollars_total", labels)).toBeGreaterThan(0);
    expect(scrape).not.toMatch(/switchyard_key_requests_total\{virtual_key="vk-off"/);
  });

  it("carries Bifrost's names when its telemetry plugin is on", () => {
    const labels = { provider: "openai", model: "gpt-4o-mini" };
    // Four requests above and the cache's miss; its hit asked no provider.
    expect(sample("bifrost_upstream_requests_total", labels)).toBe(5);
    expect(sample("bifrost_success_requests_total", labels)).toBe(5);
    expect(
      sample("bifrost_error_requests_total", { provider: "mistral", model: "mistral-small-latest" }),
    ).toBe(2);
    expect(sample("bifrost_input_tokens_total", labels)).toBe(
      sample("switchyard_tokens_input_total", labels),
    );
    expect(sample("bifrost_cost_total", labels)).toBe(sample("switchyard_cost_dollars_total", labels));
    expect(sample("bifrost_upstream_latency_seconds_count", { provider: "openai" })).toBe(5);
    expect(sample("bifrost_stream_first_token_latency_seconds_count", { provider: "openai" })).toBe(1);
    expect(sample("bifrost_cache_hits_total")).toBe(1);
  });

  it("counts the cache's lookups by result, summed over the lanes", () => {
    expect(sample("switchyard_cache_lookups_total", { result: "exact_hit" })).toBe(1);
    expect(sample("switchyard_cache_lookups_total", { result: "miss" })).toBe(1);
    // The requests that did not ask for the cache (it is default_off here) passed it by.
    expect(sample("switchyard_cache_lookups_total", { result: "bypass" })).toBeGreaterThanOrEqual(4);
    // The miss found its scope empty (no nearest entry to measure) and the hit was exact.
    expect(sample("switchyard_cache_similarity_count")).toBe(0);
  });
});

const PROMQL_WORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "offset",
  "and",
  "or",
  "unless",
  "inf",
  "nan",
]);

/** The metric names a PromQL expression reads: identifiers that are neither functions, labels nor keywords. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names: string[] = [];
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0];
    const at = match.index ?? 0;
    const before = bare[at - 1];
    if (before !== undefined && /[0-9.$]/.test(before)) continue;
    if (/^\s*\(/.test(bare.slice(at + name.length))) continue;
    if (!PROMQL_WORDS.has(name.toLowerCase())) names.push(name);
  }
  return names;
}

interface Panel {
  readonly title: string;
  readonly targets?: readonly { readonly expr: string }[];
}

describe("the Grafana dashboard", () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
    panels: readonly Panel[];
    templating: { list: readonly { query?: unknown }[] };
  };
  const exprs = [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dashboard.templating.list
      .map((v) => v.query)
      .filter((q): q is string => typeof q === "string" && q.startsWith("label_values("))
      .map((q) => q.slice("label_values(".length, q.lastIndexOf(","))),
  ];

  it("reads metric names out of PromQL, and only those", () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, provider) (rate(a_bucket{provider=~"$p"}[5m]))) / on (x) b + 3 * c_total',
      ),
    ).toEqual(["a_bucket", "b", "c_total"]);
  });

  it("queries only metrics a gateway that served traffic exposes", () => {
    // A series sampled, or a metric declared that has no series yet (no queue rejection happened).
    const exposed = new Set<string>();
    for (const line of scrape.split("\n")) {
      const declared = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (declared !== null) {
        const [, name, type] = declared as unknown as [string, string, string];
        exposed.add(name);
        if (type === "histogram") for (const end of ["_bucket", "_sum", "_count"]) exposed.add(name + end);
      } else if (line !== "" && !line.startsWith("#")) exposed.add(line.split(/[{ ]/)[0] as string);
    }
    const queried = new Set(exprs.flatMap(metricNames));
    expect(queried.size).toBeGreaterThan(15);
    expect([...queried].filter((name) => !exposed.has(name))).toEqual([]);
  });
});
