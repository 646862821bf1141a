/**
 * The flood scenario: twice a provider's concurrency limit in clients, each sending again as soon as it
 * has an answer, against a slow mock, with Switchyard's concurrency_and_buffer_size small. The excess
 * waits in the bounded queue or is refused at once with 429/503 and Retry-After; the gateway's RSS,
 * sampled over the run, must stay flat (last third against first third), and the gateway must live.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool, request } from "undici";
import { RssWatcher, rssKb } from "./load/proc.js";
import type { Row } from "./report.js";
import { type Child, chatBody, MOCK_KEY, startMock, startSwitchyardWith } from "./targets.js";

export interface FloodPlan {
  seconds: number;
  concurrency: number;
  bufferSize: number;
  mockLatencyMs: number;
  sampleMs: number;
  /** Fail the row when the last third's peak RSS exceeds the first third's by more than this share. */
  maxGrowth: number | undefined;
}

const peak = (xs: number[]): number => xs.reduce((m, x) => Math.max(m, x), 0);

export async function runFlood(plan: FloodPlan, children: Child[], log: (msg: string) => void): Promise<Row> {
  const clients = plan.concurrency * 2;
  const variant = `${clients} clients vs concurrency ${plan.concurrency} + buffer ${plan.bufferSize}, ${plan.mockLatencyMs} ms mock`;
  const base = { scenario: "flood", variant, target: "switchyard" } as const;
  const mock = await startMock(["--latency", String(plan.mockLatencyMs)], "mock-flood");
  children.push(mock.child);
  const configPath = join(mkdtempSync(join(tmpdir(), "switchyard-flood-")), "config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      providers: {
        openai: {
          keys: [{ name: "flood", value: "env.OPENAI_API_KEY", models: ["*"], weight: 1 }],
          network_config: { base_url: mock.url },
          concurrency_and_buffer_size: { concurrency: plan.concurrency, buffer_size: plan.bufferSize },
        },
      },
    }),
  );
  let gateway: { child: Child; origin: string };
  try {
    gateway = await startSwitchyardWith(configPath, { OPENAI_API_KEY: MOCK_KEY });
  } catch (err) {
    await mock.child.stop();
    const msg = (err as Error).message.replace(/\s+/g, " ").slice(0, 400);
    return { ...base, status: "skipped", note: msg.startsWith("skipped:") ? msg : `failed to start: ${msg}` };
  }
  children.push(gateway.child);
  const pid = gateway.child.pid;
  const pool = new Pool(gateway.origin, { connections: clients, pipelining: 1 });
  const body = chatBody("openai/gpt-4o-mini", false);
  const statuses: Record<string, number> = {};
  let refusedWithoutRetryAfter = 0;
  let errors = 0;
  const samples: { ms: number; rssKb: number; upstreamInFlight: number }[] = [];
  let upstreamPeak = 0;
  try {
    log(`flood: ${variant} for ${plan.seconds} s`);
    const rss = new RssWatcher(pid);
    rss.start();
    const started = Date.now();
    const end = started + plan.seconds * 1000;
    const sampler = setInterval(() => {
      const sample = { ms: Date.now() - started, rssKb: rssKb(pid), upstreamInFlight: -1 };
      samples.push(sample);
      // The mock's in-flight count shows the limit holding upstream.
      void request(`${mock.url}/__mock/stats`)
        .then((res) => res.body.json() as Promise<{ inFlight: number }>)
        .then((s) => {
          sample.upstreamInFlight = s.inFlight;
          upstreamPeak = Math.max(upstreamPeak, s.inFlight);
        })
        .catch(() => undefined);
    }, plan.sampleMs);

    const client = async (): Promise<void> => {
      while (Date.now() < end) {
        try {
          const res = await pool.request({
            path: "/v1/chat/completions",
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${MOCK_KEY}` },
            body,
          });
          await res.body.dump();
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          if (res.statusCode !== 200) {
            if (res.headers["retry-after"] === undefined) refusedWithoutRetryAfter++;
            // A flood ignores Retry-After; the short pause only keeps the driver off the CPU it shares.
            await new Promise((r) => setTimeout(r, 5));
          }
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: clients }, client));
    clearInterval(sampler);
    const peakKb = rss.stop();
    const elapsedS = (Date.now() - started) / 1000;
    const health = await request(`${gateway.origin}/health`)
      .then(async (res) => {
        await res.body.dump();
        return res.statusCode;
      })
      .catch(() => 0);
    const alive = gateway.child.proc.exitCode === null && health === 200;

    const kbs = samples.map((s) => s.rssKb);
    const third = Math.max(1, Math.floor(kbs.length / 3));
    const firstKb = peak(kbs.slice(0, third));
    const lastKb = peak(kbs.slice(-third));
    const growth = firstKb > 0 ? lastKb / firstKb - 1 : 0;
    const total = Object.values(statuses).reduce((n, x) => n + x, 0) + errors;
    const ok = statuses[200] ?? 0;
    const unexpected = Object.keys(statuses).filter((s) => !["200", "429", "503"].includes(s));
    const problems: string[] = [];
    if (!alive) problems.push(`the gateway is gone (health ${health})`);
    if (ok === 0) problems.push("nothing was served");
    if (unexpected.length > 0) problems.push(`unexpected statuses ${unexpected.join(", ")}`);
    if (errors > 0) problems.push(`${errors} connection errors`);
    if (refusedWithoutRetryAfter > 0)
      problems.push(`${refusedWithoutRetryAfter} refusals without Retry-After`);
    if (upstreamPeak > plan.concurrency)
      problems.push(`${upstreamPeak} upstream requests in flight (limit ${plan.concurrency})`);
    if (plan.maxGrowth !== undefined && growth > plan.maxGrowth)
      problems.push(`RSS grew ${(growth * 100).toFixed(0)}% (allowed ${(plan.maxGrowth * 100).toFixed(0)}%)`);
    const refused = total - ok - errors;
    const mb = (kb: number) => (kb / 1024).toFixed(1);
    const summary =
      `served ${ok}, refused ${refused} (${Object.entries(statuses)
        .filter(([s]) => s !== "200")
        .map(([s, n]) => `${s}×${n}`)
        .join(", ")}, all with Retry-After: ${refusedWithoutRetryAfter === 0 ? "yes" : "no"}); ` +
      `RSS peak first third ${mb(firstKb)} MB, last third ${mb(lastKb)} MB (${growth >= 0 ? "+" : ""}${(growth * 100).toFixed(1)}%); ` +
      `upstream in flight ≤ ${upstreamPeak} (limit ${plan.concurrency}); gateway ${alive ? "alive" : "DOWN"}`;
    return {
      ...base,
      status: problems.length === 0 ? "ok" : "failed",
      requests: total,
      successRate: total === 0 ? 0 : ok / total,
      rps: total / elapsedS,
      peakRssMb: peakKb / 1024,
      errors: {
        ...Object.fromEntries(Object.entries(statuses).filter(([s]) => s !== "200")),
        ...(errors > 0 ? { error: errors } : {}),
      },
      note: problems.length === 0 ? summary : `${problems.join("; ")}. ${summary}`,
      details: {
        clients,
        concurrency: plan.concurrency,
        bufferSize: plan.bufferSize,
        mockLatencyMs: plan.mockLatencyMs,
        statuses,
        connectionErrors: errors,
        refusedWithoutRetryAfter,
        servedPerSecond: ok / elapsedS,
        rssFirstThirdPeakKb: firstKb,
        rssLastThirdPeakKb: lastKb,
        rssGrowth: growth,
        upstreamInFlightPeak: upstreamPeak,
        gatewayAlive: alive,
        samples,
        problems,
      },
    };
  } finally {
    await pool.close().catch(() => undefined);
    await Promise.allSettled([gateway.child.stop(), mock.child.stop()]);
  }
}
