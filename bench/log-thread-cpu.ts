// Where a logged request's CPU goes in the running gateway, thread by thread. The same fixed-rate load goes
// to the gateway with the request log off, with the log and content logging off, and with the log and its
// content (the default); each run's CPU per request is split into the threads at normal priority (the lanes
// and the control plane) and the log worker (the one thread at nice 10, workers/log-worker.ts), beside the
// whole machine's. The micro-benchmark (request-log-micro.ts) times the log's own code; this shows what the
// lanes pay around it as well (the reply observed, its usage read before it goes, the hooks' objects).
// Targets run in turn, round after round, so the machine's drift falls on each alike; medians are reported.
// Usage: npm run build && node dist/bench/log-thread-cpu.js [--smoke]
import { runOpenLoop } from "./load/open-loop.js";
import { cpuMicros, machineBusyMicros, threadCpuMicrosByNice } from "./load/proc.js";
import { formatNs, median, smoke, writeMicroResult } from "./micro.js";
import { chatBody, type SwitchyardVariant, startMock, startSwitchyard } from "./targets.js";

const RATE = smoke ? 200 : 10_000;
const SECONDS = smoke ? 1 : 15;
const ROUNDS = smoke ? 1 : 3;
/** The log worker's nice value (workers/log-worker.ts): its thread is told from the others by it. */
const LOG_WORKER_NICE = 10;
const VARIANTS: readonly SwitchyardVariant[] = ["plain", "logged-meta", "logged"];

interface Figures {
  /** CPU ns per request. */
  readonly gateway: number;
  readonly logWorker: number;
  readonly others: number;
  readonly machine: number;
}

async function measureOnce(mockUrl: string, variant: SwitchyardVariant): Promise<Figures> {
  const { child, target } = await startSwitchyard(mockUrl, variant);
  try {
    const spec = {
      origin: target.origin,
      path: target.path,
      method: "POST" as const,
      headers: target.headers,
      body: chatBody(target.model, false),
    };
    await runOpenLoop({ ...spec, rate: RATE, durationMs: smoke ? 500 : 3_000 });
    const gateway0 = cpuMicros(child.pid);
    const threads0 = threadCpuMicrosByNice(child.pid);
    const machine0 = machineBusyMicros();
    const result = await runOpenLoop({ ...spec, rate: RATE, durationMs: SECONDS * 1000 });
    const gateway = cpuMicros(child.pid) - gateway0;
    const threads1 = threadCpuMicrosByNice(child.pid);
    const machine = machineBusyMicros() - machine0;
    const logWorker = (threads1.get(LOG_WORKER_NICE) ?? 0) - (threads0.get(LOG_WORKER_NICE) ?? 0);
    // A few of 150,000 may fail on this shared machine (a connection refused under a burst): said, and counted.
    if (result.failed > 0)
      process.stderr.write(`[bench] ${variant}: ${result.failed} of ${result.sent} failed\n`);
    const perRequestNs = (micros: number) => (micros * 1000) / (result.ok + result.failed);
    return {
      gateway: perRequestNs(gateway),
      logWorker: perRequestNs(logWorker),
      others: perRequestNs(gateway - logWorker),
      machine: perRequestNs(machine),
    };
  } finally {
    await child.stop();
  }
}

const mock = await startMock();
const runs = new Map<SwitchyardVariant, Figures[]>(VARIANTS.map((variant) => [variant, []]));
try {
  for (let round = 0; round < ROUNDS; round++)
    for (const variant of VARIANTS) runs.get(variant)?.push(await measureOnce(mock.url, variant));
} finally {
  await mock.child.stop();
}

const medianOf = (variant: SwitchyardVariant, key: keyof Figures): number =>
  median((runs.get(variant) ?? []).map((figures) => figures[key]));
console.log(`CPU per request at ${RATE} RPS, ${SECONDS} s, median of ${ROUNDS} rounds\n`);
const COLUMNS = [
  ["lanes + control", "others", 18],
  ["log worker", "logWorker", 14],
  ["gateway", "gateway", 12],
  ["machine", "machine", 12],
] as const;
console.log(`${"target".padEnd(14)}${COLUMNS.map(([title, , width]) => title.padStart(width)).join("")}`);
const figures: Record<string, number> = {};
for (const variant of VARIANTS) {
  const cells = COLUMNS.map(([, key, width]) => formatNs(Math.round(medianOf(variant, key))).padStart(width));
  console.log(`${variant.padEnd(14)}${cells.join("")}`);
  for (const [, key] of COLUMNS) figures[`${variant}.${key}Ns`] = Math.round(medianOf(variant, key));
}
const file = writeMicroResult("log-thread-cpu", { rate: RATE, seconds: SECONDS, rounds: ROUNDS, ...figures });
console.log(`\nwrote ${file}`);
