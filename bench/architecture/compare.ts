// Runs both data-plane prototypes against the same mock in one run, alternating A/B per round, and writes
// bench/results/architecture.json. Every piece runs in its own process: the mock, each prototype (fresh
// per measurement, so peak RSS belongs to that measurement) and each load generator.
// Usage: npm run build && node dist/bench/architecture/compare.js [--rounds 2] [--duration 10] [--workers 2,1]
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CHAT_BODY, flag } from "./common.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..", "..");
const require = createRequire(import.meta.url);
const autocannonBin = join(dirname(require.resolve("autocannon/package.json")), "autocannon.js");

const rounds = Number(flag("rounds", "2"));
const duration = Number(flag("duration", "10"));
const warmup = Number(flag("warmup", "2"));
const rate = Number(flag("rate", "1000"));
const slowRate = Number(flag("slow-rate", "2000"));
const slowLatency = Number(flag("slow-latency", "1500"));
const connections = Number(flag("connections", "100"));
const workerCounts = flag("workers", "2,1").split(",").map(Number);
const out = flag("out", join(root, "bench", "results", "architecture.json"));
const clkTck = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

type Shape = "lanes" | "ring";
interface Target {
  name: string;
  shape: Shape | "direct";
  workers: number;
}

interface Proc {
  child: ChildProcess;
  lines: string[];
}

function start(script: string, args: string[]): Promise<Proc> {
  const child = spawn(process.execPath, [join(here, script), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout?.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (line.includes('"type":"ready"')) resolve({ child, lines });
        nl = buf.indexOf("\n");
      }
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code} before ready`)));
  });
}

async function stop(p: Proc): Promise<Record<string, unknown>> {
  const exited = new Promise<void>((resolve) => p.child.once("exit", () => resolve()));
  p.child.kill("SIGTERM");
  await exited;
  const stats = p.lines.find((l) => l.includes('"type":"stats"'));
  return stats ? (JSON.parse(stats) as Record<string, unknown>) : {};
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cmd, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", () => {});
    child.once("exit", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clkTck;
}

function peakRssMB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let nextPort = 8810;

/** Starts a fresh prototype (or none for direct), runs `load` against it, returns load result + process stats. */
async function measure<T>(
  t: Target,
  upstream: string,
  load: (url: string) => Promise<T>,
): Promise<{ load: T; cpuUsPerReq?: number; peakRssMB?: number; servedPerWorker?: number[] }> {
  if (t.shape === "direct") return { load: await load(`${upstream}/v1/chat/completions`) };
  const port = nextPort++;
  const proc = await start(`${t.shape}.js`, [
    "--port",
    `${port}`,
    "--workers",
    `${t.workers}`,
    "--upstream",
    upstream,
  ]);
  const pid = proc.child.pid as number;
  await sleep(200);
  const cpu0 = cpuMs(pid);
  const result = await load(`http://127.0.0.1:${port}/v1/chat/completions`);
  const cpu1 = cpuMs(pid);
  const rss = peakRssMB(pid);
  const stats = await stop(proc);
  const servedPerWorker = (stats.servedPerWorker as number[] | undefined) ?? [];
  const served = servedPerWorker.reduce((a, b) => a + b, 0);
  return {
    load: result,
    cpuUsPerReq: served > 0 ? Math.round(((cpu1 - cpu0) * 1000) / served) : 0,
    peakRssMB: rss,
    servedPerWorker,
  };
}

interface DriverResult {
  sent: number;
  ok: number;
  successRate: number;
  maxInFlight: number;
  sendLagUs: { p99: number };
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number };
}

const driver = (url: string, r: number, d: number, w: number): Promise<DriverResult> =>
  run(join(here, "driver.js"), [
    "--url",
    url,
    "--rate",
    `${r}`,
    "--duration",
    `${d}`,
    "--warmup",
    `${w}`,
  ]).then((s) => JSON.parse(s) as DriverResult);

interface CannonResult {
  rps: number;
  total: number;
  ok: number;
  non2xx: number;
  errors: number;
  latencyMs: { p50: number; p99: number };
}

async function cannon(url: string, d: number): Promise<CannonResult> {
  const args = ["-j", "-c", `${connections}`, "-d", `${d}`, "-m", "POST"];
  args.push("-H", "content-type=application/json", "-b", CHAT_BODY.toString(), url);
  const j = JSON.parse(await run(autocannonBin, args)) as {
    requests: { average: number; total: number };
    "2xx": number;
    non2xx: number;
    errors: number;
    timeouts: number;
    latency: { p50: number; p99: number };
  };
  return {
    rps: Math.round(j.requests.average),
    total: j.requests.total,
    ok: j["2xx"],
    non2xx: j.non2xx,
    errors: j.errors + j.timeouts,
    latencyMs: { p50: j.latency.p50, p99: j.latency.p99 },
  };
}

async function main(): Promise<void> {
  const fast = await start("fixed-mock.js", ["--port", "9190", "--latency", "0", "--response-bytes", "1400"]);
  const slow = await start("fixed-mock.js", [
    "--port",
    "9191",
    "--latency",
    `${slowLatency}`,
    "--response-bytes",
    "1400",
  ]);
  const fastUrl = "http://127.0.0.1:9190";
  const slowUrl = "http://127.0.0.1:9191";
  const raw: Record<string, unknown>[] = [];
  const log = (o: Record<string, unknown>): void => {
    raw.push(o);
    console.error(JSON.stringify(o));
  };
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg();

  for (let round = 0; round < rounds; round++) {
    const order: Shape[] = round % 2 === 0 ? ["lanes", "ring"] : ["ring", "lanes"];
    const targets: Target[] = [];
    for (const n of workerCounts)
      for (const s of order) targets.push({ name: `${s}-${n}`, shape: s, workers: n });
    const direct: Target = { name: "direct", shape: "direct", workers: 0 };

    // (1) added latency at a fixed moderate rate; a direct baseline before each pair.
    for (const [i, t] of targets.entries()) {
      if (i % order.length === 0) {
        const m = await measure(direct, fastUrl, (u) => driver(u, rate, duration, warmup));
        log({ phase: "latency", round, target: direct.name, ...m });
      }
      const m = await measure(t, fastUrl, (u) => driver(u, rate, duration, warmup));
      log({ phase: "latency", round, target: t.name, ...m });
    }
    // (2) max RPS, closed loop.
    for (const t of [direct, ...targets]) {
      const m = await measure(t, fastUrl, async (u) => {
        await cannon(u, warmup);
        return cannon(u, duration);
      });
      log({ phase: "max", round, target: t.name, ...m });
    }
    // (3) thousands in flight against a slow mock.
    for (const t of targets) {
      const m = await measure(t, slowUrl, (u) => driver(u, slowRate, duration, 0));
      log({ phase: "slow", round, target: t.name, ...m });
    }
  }
  await stop(fast);
  await stop(slow);

  const summary: Record<string, Record<string, number | number[]>> = {};
  const mean = (xs: number[]): number => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
  const names = [...new Set(raw.map((r) => r.target as string))].filter((n) => n !== "direct");
  for (const name of names) {
    const lat = raw.filter((r) => r.phase === "latency" && r.target === name);
    const added = (q: "p50" | "p90" | "p99"): number =>
      mean(
        lat.map((r) => {
          const idx = raw.indexOf(r);
          const base = raw
            .slice(0, idx)
            .reverse()
            .find((b) => b.phase === "latency" && b.target === "direct") as { load: DriverResult };
          return (r.load as DriverResult).latencyUs[q] - base.load.latencyUs[q];
        }),
      );
    const max = raw.filter((r) => r.phase === "max" && r.target === name);
    const slowRuns = raw.filter((r) => r.phase === "slow" && r.target === name);
    summary[name] = {
      addedP50Us: added("p50"),
      addedP90Us: added("p90"),
      addedP99Us: added("p99"),
      cpuUsPerReqAt1k: mean(lat.map((r) => r.cpuUsPerReq as number)),
      maxRps: mean(max.map((r) => (r.load as CannonResult).rps)),
      maxRpsOkShare: Math.min(
        ...max.map((r) => (r.load as CannonResult).ok / (r.load as CannonResult).total),
      ),
      cpuUsPerReqAtMax: mean(max.map((r) => r.cpuUsPerReq as number)),
      servedPerWorkerAtMax: (max[0]?.servedPerWorker as number[]) ?? [],
      slowSuccessRate: Math.min(...slowRuns.map((r) => (r.load as DriverResult).successRate)),
      slowMaxInFlight: Math.max(...slowRuns.map((r) => (r.load as DriverResult).maxInFlight)),
      slowP99Ms: mean(slowRuns.map((r) => (r.load as DriverResult).latencyUs.p99 / 1000)),
      slowPeakRssMB: Math.max(...slowRuns.map((r) => r.peakRssMB as number)),
    };
  }
  const directMax = raw.filter((r) => r.phase === "max" && r.target === "direct");
  const directLat = raw.filter((r) => r.phase === "latency" && r.target === "direct");
  summary.direct = {
    p50Us: mean(directLat.map((r) => (r.load as DriverResult).latencyUs.p50)),
    p90Us: mean(directLat.map((r) => (r.load as DriverResult).latencyUs.p90)),
    p99Us: mean(directLat.map((r) => (r.load as DriverResult).latencyUs.p99)),
    maxRps: mean(directMax.map((r) => (r.load as CannonResult).rps)),
  };
  const result = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memGB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      loadavgBefore: loadBefore,
      loadavgAfter: os.loadavg(),
    },
    config: {
      rounds,
      duration,
      warmup,
      rate,
      slowRate,
      slowLatency,
      connections,
      workerCounts,
      bodyBytes: CHAT_BODY.length,
    },
    mock: "bench/architecture/fixed-mock.ts (uWS, fixed 1400-byte chat.completion)",
    summary,
    runs: raw,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
