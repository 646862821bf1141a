import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Pool } from "undici";
import { parseCounter } from "./load/prom.js";
import { type Child, freePort, MOCK_KEY, startChild, startMock, waitFor } from "./targets.js";

// Two builds of Switchyard side by side, requests interleaved one at a time (A, B, B, A, ...), so that the
// machine's noise falls on both alike: the way to tell whether a change made the hot path slower.
//
//   npm run build && node dist/bench/ab.js --before ../old-checkout [--requests 20000] [--hooks]
//
// `--before` is another checkout, built. `--hooks` adds this build with the master key, and with the master
// key and a plugin that sees every request and reply byte (bench/plugins/reply-meter.ts).

interface Side {
  readonly name: string;
  readonly child: Child;
  readonly pool: Pool;
  readonly latencies: number[];
  /** switchyard_heap_allocated_bytes_total summed over the lanes, when the measured requests began. */
  heapAtStart: number | undefined;
}

function parse(argv: readonly string[]): { before: string; requests: number; hooks: boolean } {
  let before = "";
  let requests = 20_000;
  let hooks = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--before") before = resolve(argv[++i] ?? "");
    else if (flag === "--requests") requests = Number(argv[++i]);
    else if (flag === "--hooks") hooks = true;
    else throw new Error(`unknown flag ${flag} (known: --before, --requests, --hooks)`);
  }
  if (before === "" || !existsSync(join(before, "dist/server.js")))
    throw new Error("--before must name a built checkout (its dist/server.js)");
  if (!Number.isInteger(requests) || requests < 100) throw new Error("--requests must be an integer >= 100");
  return { before, requests, hooks };
}

async function startSide(
  name: string,
  checkout: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<Side> {
  const port = await freePort();
  const child = startChild(
    name,
    [join(checkout, "dist/server.js"), "--host", "127.0.0.1", "--port", String(port), ...args],
    env,
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitFor(name, child, async () => (await fetch(`${origin}/health`)).status === 200);
  return { name, child, pool: new Pool(origin, { connections: 1 }), latencies: [], heapAtStart: undefined };
}

/** What the side's lanes have allocated on their heaps so far; undefined when its build does not count it. */
async function heapBytes(side: Side): Promise<number | undefined> {
  const response = await side.pool.request({ path: "/metrics", method: "GET" });
  const text = await response.body.text();
  return response.statusCode === 200
    ? parseCounter(text, "switchyard_heap_allocated_bytes_total")
    : undefined;
}

const BODY = JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });

async function once(side: Side): Promise<number> {
  const started = performance.now();
  const response = await side.pool.request({
    path: "/v1/chat/completions",
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${MOCK_KEY}` },
    body: BODY,
  });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`${side.name} answered ${response.statusCode}`);
  return performance.now() - started;
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

async function main(): Promise<void> {
  const { before, requests, hooks } = parse(process.argv.slice(2));
  const here = resolve(new URL("../..", import.meta.url).pathname);
  const mock = await startMock();
  const env = { OPENAI_API_KEY: MOCK_KEY, OPENAI_BASE_URL: `${mock.url}/v1` };
  const sides: Side[] = [];
  try {
    sides.push(await startSide("before", before, [], env));
    sides.push(await startSide("after", here, [], env));
    if (hooks) {
      sides.push(await startSide("after + key", here, [], { ...env, SWITCHYARD_API_KEY: MOCK_KEY }));
      const config = join(mkdtempSync(join(tmpdir(), "switchyard-ab-")), "config.json");
      writeFileSync(
        config,
        JSON.stringify({
          providers: {
            openai: {
              keys: [{ name: "k", value: MOCK_KEY, models: [] }],
              network_config: { base_url: mock.url },
            },
          },
          plugins: [
            { enabled: true, name: "reply-meter", path: join(here, "dist/bench/plugins/reply-meter.js") },
          ],
        }),
      );
      sides.push(
        await startSide("after + key + plugin", here, ["--config", config], { SWITCHYARD_API_KEY: MOCK_KEY }),
      );
    }
    for (let i = 0; i < 3_000; i++) for (const side of sides) await once(side);
    for (const side of sides) side.heapAtStart = await heapBytes(side);
    const reversed = [...sides].reverse();
    for (let i = 0; i < requests; i++)
      for (const side of i % 2 === 0 ? sides : reversed) side.latencies.push(await once(side));
    process.stdout.write(`${requests} requests per side, interleaved, one at a time, 1.4 KB replies\n`);
    for (const side of sides) {
      const sorted = side.latencies.sort((a, b) => a - b);
      const us = (q: number) => `${Math.round(quantile(sorted, q) * 1000)}`;
      const heapAtEnd = await heapBytes(side);
      const heap =
        heapAtEnd === undefined || side.heapAtStart === undefined
          ? "–"
          : `${Math.round((heapAtEnd - side.heapAtStart) / requests)}`;
      process.stdout.write(
        `${side.name.padEnd(22)} p50 ${us(0.5)}  p90 ${us(0.9)}  p99 ${us(0.99)} µs  heap ${heap} B/req\n`,
      );
    }
  } finally {
    for (const side of sides) {
      await side.pool.close();
      await side.child.stop();
    }
    await mock.child.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
