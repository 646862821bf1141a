/**
 * `node dist/bench/flood.js [--seconds 20] [--concurrency 50] [--latency 200]`: a flood at twice a
 * provider's concurrency limit (concurrency_and_buffer_size with buffer = concurrency) against a slow mock,
 * sampling the gateway's RSS every second. Memory must stay flat: the excess waits in the bounded queue
 * or is refused with 429/503, never buffered without bound. Writes bench/results/flood.json.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { rssKb } from "./load/proc.js";
import { startOpenAIMock } from "./mock/openai-mock.js";
import { chatBody, freePort, MOCK_KEY, paths } from "./targets.js";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const seconds = flag("--seconds", 20);
const concurrency = flag("--concurrency", 50);
const latencyMs = flag("--latency", 200);
const clients = concurrency * 2;

const mock = await startOpenAIMock({ port: 0, latencyMs });
const dir = mkdtempSync(join(tmpdir(), "switchyard-flood-"));
const configPath = join(dir, "config.json");
writeFileSync(
  configPath,
  JSON.stringify({
    providers: {
      openai: {
        keys: [{ name: "mock", value: MOCK_KEY, models: ["*"], weight: 1 }],
        network_config: { base_url: `${mock.url}/v1` },
        concurrency_and_buffer_size: { concurrency, buffer_size: concurrency },
      },
    },
  }),
);
const port = await freePort();
const gateway: ChildProcess = spawn(
  process.execPath,
  [paths.switchyard, "--config", configPath, "--host", "127.0.0.1", "--port", String(port)],
  { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "" } },
);
let log = "";
gateway.stdout?.on("data", (c: Buffer) => {
  log += c.toString();
});
gateway.stderr?.on("data", (c: Buffer) => {
  log += c.toString();
});
const origin = `http://127.0.0.1:${port}`;
for (let i = 0; !/ready/.test(log); i++) {
  if (i > 300 || gateway.exitCode !== null) throw new Error(`gateway did not start:\n${log}`);
  await new Promise((r) => setTimeout(r, 50));
}

const pool = new Pool(origin, { connections: clients, pipelining: 1 });
const body = chatBody("openai/gpt-4o-mini", false);
const statuses: Record<string, number> = {};
const rss: { second: number; kb: number }[] = [];
const pid = gateway.pid as number;
const started = Date.now();
const end = started + seconds * 1000;
const sampler = setInterval(() => {
  rss.push({ second: Math.round((Date.now() - started) / 1000), kb: rssKb(pid) });
}, 1000);

async function client(): Promise<void> {
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
      // A refused client backs off briefly, as a client honouring Retry-After in bulk would not.
      if (res.statusCode !== 200) await new Promise((r) => setTimeout(r, 5));
    } catch {
      statuses.error = (statuses.error ?? 0) + 1;
    }
  }
}

await Promise.all(Array.from({ length: clients }, client));
clearInterval(sampler);
await pool.close();
gateway.kill("SIGTERM");
await mock.close();

const kbs = rss.map((r) => r.kb);
const firstHalf = kbs.slice(0, Math.ceil(kbs.length / 2));
const result = {
  scenario: "flood",
  seconds,
  concurrency,
  bufferSize: concurrency,
  clients,
  mockLatencyMs: latencyMs,
  statuses,
  rssKb: rss,
  peakRssKb: Math.max(...kbs),
  peakRssFirstHalfKb: Math.max(...firstHalf),
};
const out = fileURLToPath(new URL("../../bench/results/", import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "flood.json"), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify({ ...result, rssKb: kbs }));
