/**
 * The chaos scenario: the closed-loop throughput run against Switchyard started with a LiteLLM config.yaml
 * whose model group is served by provider A (two keys), where A fails a share of requests with 500, and
 * falls back to a healthy provider B. Clients must see 100% success, and no request may reach the
 * upstreams more often than the policy allows; the mocks count sends per x-request-id (the gateway
 * forwards the client's id, or one it made, on every attempt).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { runOnce } from "./load/closed-loop.js";
import { cpuMicros, RssWatcher } from "./load/proc.js";
import type { Row } from "./report.js";
import { type Child, chatBody, configureMock, startMock, startSwitchyardWith } from "./targets.js";

export interface ChaosPlan {
  connections: number;
  seconds: number;
  warmupSeconds: number;
  /** Share of provider A's chat requests answered 500. */
  failRate: number;
  numRetries: number;
}

const MODEL = "chat";
const FALLBACK = "chat-fallback";

// LiteLLM's own format, as a team would write it. allowed_fails is raised from LiteLLM's 3 so that the
// retries, not the circuit breaker, carry the load at a 10% failure rate (three failures in a row would
// otherwise open a key's circuit about once a second); an open circuit would only move more to B.
function configYaml(numRetries: number): string {
  return `model_list:
  - model_name: ${MODEL}
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: os.environ/CHAOS_A_BASE
      api_key: os.environ/CHAOS_A_KEY_1
  - model_name: ${MODEL}
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: os.environ/CHAOS_A_BASE
      api_key: os.environ/CHAOS_A_KEY_2
  - model_name: ${FALLBACK}
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: os.environ/CHAOS_B_BASE
      api_key: os.environ/CHAOS_B_KEY
router_settings:
  routing_strategy: simple-shuffle
  num_retries: ${numRetries}
  allowed_fails: 10
  cooldown_time: 1
  fallbacks: [{"${MODEL}": ["${FALLBACK}"]}]
`;
}

interface MockCounts {
  requests: number;
  injectedFailures: number;
  inFlight: number;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000 });
  if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
  return (await res.body.json()) as T;
}

const stats = (url: string) => getJson<MockCounts>(`${url}/__mock/stats`);
const sends = (url: string) => getJson<Record<string, number>>(`${url}/__mock/sends`);

function maxOf(counts: Iterable<number>): number {
  let m = 0;
  for (const n of counts) if (n > m) m = n;
  return m;
}

export async function runChaos(plan: ChaosPlan, children: Child[], log: (msg: string) => void): Promise<Row> {
  const variant = `${plan.failRate * 100}% of A fails, fallback B, num_retries ${plan.numRetries}, ${plan.connections} conns`;
  const base = { scenario: "chaos", variant, target: "switchyard" } as const;
  const a = await startMock(["--fail-rate", String(plan.failRate)], "mock-a");
  children.push(a.child);
  const b = await startMock([], "mock-b");
  children.push(b.child);
  const dir = mkdtempSync(join(tmpdir(), "switchyard-chaos-"));
  const configPath = join(dir, "config.yaml");
  writeFileSync(configPath, configYaml(plan.numRetries));
  let gateway: { child: Child; origin: string };
  try {
    gateway = await startSwitchyardWith(configPath, {
      CHAOS_A_BASE: `${a.url}/v1`,
      CHAOS_B_BASE: `${b.url}/v1`,
      CHAOS_A_KEY_1: "mock-key-a1",
      CHAOS_A_KEY_2: "mock-key-a2",
      CHAOS_B_KEY: "mock-key-b",
    });
  } catch (err) {
    await Promise.all([a.child.stop(), b.child.stop()]);
    const msg = (err as Error).message.replace(/\s+/g, " ").slice(0, 400);
    return { ...base, status: "skipped", note: msg.startsWith("skipped:") ? msg : `failed to start: ${msg}` };
  }
  children.push(gateway.child);
  const load = {
    url: `${gateway.origin}/v1/chat/completions`,
    // No x-request-id: every request then gets its own from the gateway.
    headers: { "content-type": "application/json", authorization: "Bearer client-key" },
    body: chatBody(MODEL, false),
    timeoutSeconds: 10,
  };
  try {
    if (plan.warmupSeconds > 0) {
      log(`chaos: warm-up ${plan.warmupSeconds} s`);
      await runOnce({ ...load, stepSeconds: plan.warmupSeconds }, plan.connections);
      await settle(a.url, b.url);
    }
    // configure() clears the mocks' sends per id, so only the measured run is counted.
    await configureMock(a.url, { failRate: plan.failRate });
    await configureMock(b.url, { failRate: 0 });
    const [a0, b0] = await Promise.all([stats(a.url), stats(b.url)]);
    const rss = new RssWatcher(gateway.child.pid);
    rss.start();
    const cpu0 = cpuMicros(gateway.child.pid);
    log(`chaos: ${variant} for ${plan.seconds} s`);
    const r = await runOnce({ ...load, stepSeconds: plan.seconds }, plan.connections);
    const cpu1 = cpuMicros(gateway.child.pid);
    const peakKb = rss.stop();
    // Attempts of requests the driver abandoned at its end still land; count them too.
    await settle(a.url, b.url);
    const [a1, b1, sendsA, sendsB] = await Promise.all([
      stats(a.url),
      stats(b.url),
      sends(a.url),
      sends(b.url),
    ]);
    const alive = gateway.child.proc.exitCode === null && gateway.child.proc.signalCode === null;

    const total = new Map<string, number>();
    for (const m of [sendsA, sendsB])
      for (const [id, n] of Object.entries(m)) total.set(id, (total.get(id) ?? 0) + n);
    const histogram: Record<string, number> = {};
    for (const n of total.values()) histogram[n] = (histogram[n] ?? 0) + 1;
    const sentA = a1.requests - a0.requests;
    const sentB = b1.requests - b0.requests;
    const injected = a1.injectedFailures - a0.injectedFailures + (b1.injectedFailures - b0.injectedFailures);
    const max = {
      a: maxOf(Object.values(sendsA)),
      b: maxOf(Object.values(sendsB)),
      total: maxOf(total.values()),
    };
    // Retries count per model of the chain (the loop starts each fallback model afresh), so each model
    // gets 1 + num_retries attempts, and the request 1 + num_retries for each model of [chat, chat-fallback].
    const perModel = 1 + plan.numRetries;
    const allowed = { a: perModel, b: perModel, total: perModel * 2 };
    // Every send beyond a request's first must follow a failed one: no work is duplicated.
    const extraSends = sentA + sentB - total.size;

    // requests.total counts responses of any status; errors and timeouts got none.
    const completed = r.requests.total;
    const sent = completed + r.errors;
    const ok = r["2xx"];
    const successRate = sent === 0 ? 0 : ok / sent;
    const problems: string[] = [];
    if (!(sent > 0)) problems.push("no request completed");
    if (ok < sent) problems.push(`client success ${(successRate * 100).toFixed(3)}% < 100%`);
    if (max.a > allowed.a) problems.push(`an id reached A ${max.a}× (allowed ${allowed.a})`);
    if (max.b > allowed.b) problems.push(`an id reached B ${max.b}× (allowed ${allowed.b})`);
    if (max.total > allowed.total) problems.push(`an id was sent ${max.total}× (allowed ${allowed.total})`);
    if (extraSends > injected) problems.push(`${extraSends} repeat sends for ${injected} injected failures`);
    if (sentA + sentB > 0 && total.size === 0) problems.push("the gateway sent no x-request-id upstream");
    if (!alive) problems.push("the gateway exited");
    const errors: Record<string, number> = {};
    for (const [status, { count }] of Object.entries(r.statusCodeStats))
      if (!status.startsWith("2")) errors[status] = count;
    if (r.errors - r.timeouts > 0) errors.error = r.errors - r.timeouts;
    if (r.timeouts > 0) errors.timeouts = r.timeouts;
    const summary =
      `A ${sentA} sends (${injected} failed on purpose), B ${sentB} (fallbacks: ${Object.keys(sendsB).length} requests); ` +
      `max sends of one id A ${max.a} / B ${max.b} / total ${max.total}, allowed ${allowed.a} / ${allowed.b} / ${allowed.total}; ` +
      `repeat sends ${extraSends} ≤ injected ${injected}`;
    return {
      ...base,
      status: problems.length === 0 ? "ok" : "failed",
      requests: sent,
      successRate,
      rps: r.requests.average,
      latencyUs: {
        count: ok,
        p50: r.latency.p50 * 1000,
        p90: r.latency.p90 * 1000,
        p99: r.latency.p99 * 1000,
        p999: Number.NaN,
        max: Number.NaN,
        mean: r.latency.average * 1000,
      },
      cpuUsPerRequest: (cpu1 - cpu0) / Math.max(1, sent),
      peakRssMb: peakKb / 1024,
      errors,
      note: problems.length === 0 ? summary : `${problems.join("; ")}. ${summary}`,
      details: {
        config: "LiteLLM config.yaml: model group on A (2 keys), fallbacks chat → chat-fallback (B)",
        failRate: plan.failRate,
        numRetries: plan.numRetries,
        clients: { sent, ok, statuses: r.statusCodeStats, errors: r.errors, timeouts: r.timeouts },
        upstream: {
          sentA,
          sentB,
          injectedFailures: injected,
          requestIds: total.size,
          fellBackToB: Object.keys(sendsB).length,
          repeatSends: extraSends,
          maxSendsPerId: max,
          allowedSendsPerId: allowed,
          requestsBySends: histogram,
        },
        gatewayAlive: alive,
        problems,
      },
    };
  } finally {
    await Promise.allSettled([gateway.child.stop(), a.child.stop(), b.child.stop()]);
  }
}

/** Waits (up to 5 s) until no mock has had a request in flight for two readings in a row. */
async function settle(...mocks: string[]): Promise<void> {
  const deadline = Date.now() + 5000;
  let quiet = 0;
  while (Date.now() < deadline && quiet < 2) {
    await new Promise((r) => setTimeout(r, 100));
    const all = await Promise.all(mocks.map(stats));
    quiet = all.every((s) => s.inFlight === 0) ? quiet + 1 : 0;
  }
}
