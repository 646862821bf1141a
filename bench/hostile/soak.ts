/**
 * The hostile soak: normal clients of every wire format share the gateway with clients that send the
 * hostile catalogue over and over. Proof: every normal request is served, RSS stays flat (last third
 * against first third), no lane restarts and the gateway lives. Hostile answers that miss their
 * expectation are counted per case and reported.
 */
import { Pool } from "undici";
import { RssWatcher } from "../load/proc.js";
import type { Row } from "../report.js";
import { hostileCases, MODELS, normalBody, type WireFormat } from "./cases.js";
import { startHostileEnvironment } from "./environment.js";

export interface HostilePlan {
  /** Traffic before the measured part: the heap and caches grow to their working size first. */
  warmupSeconds: number;
  seconds: number;
  normalClients: number;
  hostileClients: number;
  sampleMs: number;
  /** Fail the row when the last third's peak RSS exceeds the first third's by more than this share. */
  maxGrowth: number | undefined;
}

const NORMAL: ReadonlyArray<readonly [WireFormat, string]> = [
  ["openai", "/v1/chat/completions"],
  ["anthropic", "/anthropic/v1/messages"],
  ["gemini", `/genai/v1beta/models/${MODELS.gemini.slice("gemini/".length)}:generateContent`],
];

const peak = (xs: number[]): number => xs.reduce((m, x) => Math.max(m, x), 0);

export async function runHostile(plan: HostilePlan, log: (msg: string) => void): Promise<Row> {
  const variant = `${plan.normalClients} normal + ${plan.hostileClients} hostile clients, 2 lanes`;
  const base = { scenario: "hostile", variant, target: "switchyard" } as const;
  let env: Awaited<ReturnType<typeof startHostileEnvironment>>;
  try {
    env = await startHostileEnvironment("uws", 2);
  } catch (err) {
    const msg = (err as Error).message.replace(/\s+/g, " ").slice(0, 400);
    return { ...base, status: "skipped", note: msg.startsWith("skipped:") ? msg : `failed to start: ${msg}` };
  }
  const pool = new Pool(env.origin, { connections: plan.normalClients, pipelining: 1 });
  const cases = hostileCases();
  const normal = { sent: 0, ok: 0, failures: {} as Record<string, number> };
  const hostile = {
    sent: 0,
    missed: {} as Record<string, number>,
    examples: {} as Record<string, string>,
    /** Cases the uWS binary drops in its own parser (see HostileCase.uwsDrops): sent, not judged. */
    droppedByUws: 0,
  };
  const samples: { ms: number; rssKb: number }[] = [];
  try {
    log(`hostile: ${variant}, ${plan.warmupSeconds} s of warm-up, then ${plan.seconds} s measured`);
    const rss = new RssWatcher(env.gateway.pid);
    const began = Date.now();
    const started = began + plan.warmupSeconds * 1000;
    const end = started + plan.seconds * 1000;
    let sampler: NodeJS.Timeout | undefined;
    const measuring = setTimeout(() => {
      rss.start();
      sampler = setInterval(
        () => samples.push({ ms: Date.now() - started, rssKb: env.rssKb() }),
        plan.sampleMs,
      );
    }, plan.warmupSeconds * 1000);

    const normalClient = async (client: number): Promise<void> => {
      for (let i = client; Date.now() < end; i++) {
        const [format, path] = NORMAL[i % NORMAL.length] as readonly [WireFormat, string];
        normal.sent++;
        try {
          const res = await pool.request({
            path,
            method: "POST",
            headers: { "content-type": "application/json" },
            body: normalBody(format),
            headersTimeout: 10_000,
            bodyTimeout: 10_000,
          });
          await res.body.dump();
          if (res.statusCode === 200) normal.ok++;
          else
            normal.failures[`${format} ${res.statusCode}`] =
              (normal.failures[`${format} ${res.statusCode}`] ?? 0) + 1;
        } catch (err) {
          const key = `${format} ${(err as Error).message.slice(0, 60)}`;
          normal.failures[key] = (normal.failures[key] ?? 0) + 1;
        }
      }
    };
    const hostileClient = async (client: number): Promise<void> => {
      for (let i = client; Date.now() < end; i++) {
        const hostileCase = cases[i % cases.length];
        if (hostileCase === undefined) return;
        hostile.sent++;
        if (hostileCase.uwsDrops !== undefined) {
          hostile.droppedByUws++;
          await hostileCase.run(env.origin, 1_500);
          continue;
        }
        const problems = await hostileCase.run(env.origin).catch((err: Error) => [err.message]);
        if (problems.length > 0) {
          hostile.missed[hostileCase.name] = (hostile.missed[hostileCase.name] ?? 0) + 1;
          hostile.examples[hostileCase.name] ??= problems.join("; ").slice(0, 300);
        }
      }
    };
    await Promise.all([
      ...Array.from({ length: plan.normalClients }, (_, i) => normalClient(i)),
      ...Array.from({ length: plan.hostileClients }, (_, i) => hostileClient(i * 7)),
    ]);
    clearTimeout(measuring);
    clearInterval(sampler);
    const peakKb = rss.stop();
    const elapsedS = (Date.now() - began) / 1000;

    const gatewayLog = env.gateway.log();
    const laneRestarts = (gatewayLog.match(/lane \d+ exited/g) ?? []).length;
    const alive = env.gateway.proc.exitCode === null;
    const kbs = samples.map((s) => s.rssKb);
    const third = Math.max(1, Math.floor(kbs.length / 3));
    const firstKb = peak(kbs.slice(0, third));
    const lastKb = peak(kbs.slice(-third));
    const growth = firstKb > 0 ? lastKb / firstKb - 1 : 0;
    const missed = Object.values(hostile.missed).reduce((n, x) => n + x, 0);

    const problems: string[] = [];
    if (!alive) problems.push("the gateway is gone");
    if (laneRestarts > 0) problems.push(`${laneRestarts} lane restarts`);
    if (normal.ok !== normal.sent) problems.push(`${normal.sent - normal.ok} normal requests failed`);
    if (normal.ok === 0) problems.push("nothing was served");
    if (plan.maxGrowth !== undefined && growth > plan.maxGrowth)
      problems.push(`RSS grew ${(growth * 100).toFixed(0)}% (allowed ${(plan.maxGrowth * 100).toFixed(0)}%)`);
    const mb = (kb: number) => (kb / 1024).toFixed(1);
    const summary =
      `normal ${normal.ok}/${normal.sent} served; hostile ${hostile.sent} sent over ${cases.length} cases, ` +
      `${missed} answered off expectation, ${hostile.droppedByUws} of the kinds the uWS binary drops; RSS peak first third ${mb(firstKb)} MB, last third ${mb(lastKb)} MB ` +
      `(${growth >= 0 ? "+" : ""}${(growth * 100).toFixed(1)}%); lane restarts ${laneRestarts}; gateway ${alive ? "alive" : "DOWN"}`;
    return {
      ...base,
      status: problems.length === 0 ? "ok" : "failed",
      requests: normal.sent + hostile.sent,
      successRate: normal.sent === 0 ? 0 : normal.ok / normal.sent,
      rps: (normal.sent + hostile.sent) / elapsedS,
      peakRssMb: peakKb / 1024,
      errors: normal.failures,
      note: problems.length === 0 ? summary : `${problems.join("; ")}. ${summary}`,
      details: {
        normal,
        hostile,
        laneRestarts,
        gatewayAlive: alive,
        rssFirstThirdPeakKb: firstKb,
        rssLastThirdPeakKb: lastKb,
        rssGrowth: growth,
        samples,
        problems,
      },
    };
  } finally {
    await pool.close().catch(() => undefined);
    await env.stop();
  }
}
