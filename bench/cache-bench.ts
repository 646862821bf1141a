/**
 * The cache scenario: what a hit costs and saves. One client, one request at a time, against a mock that
 * answers at once (so every microsecond left is the gateway's): requests through a gateway without a cache,
 * then with the exact cache (misses: each request new; hits: one request again and again), then with the
 * semantic cache too (misses pay the embedding; semantic hits are paraphrases of earlier questions, from
 * test/cache/hit-quality.json, embedded by the mock's toy embedding).
 */
import { readFileSync } from "node:fs";
import { Pool } from "undici";
import { MicroHistogram } from "./load/histogram.js";
import type { Row } from "./report.js";
import { type Child, MOCK_KEY, startMock, startSwitchyardEnv } from "./targets.js";

export interface CachePlan {
  /** Requests per variant. */
  requests: number;
}

interface Pair {
  readonly a: string;
  readonly b: string;
  readonly expect: "hit" | "miss";
}

const PAIRS_PATH = new URL("../../test/cache/hit-quality.json", import.meta.url);

const body = (content: string) =>
  JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content }] });

export async function runCacheBench(
  plan: CachePlan,
  children: Child[],
  log: (msg: string) => void,
): Promise<Row[]> {
  const mock = await startMock([], "mock-cache");
  children.push(mock.child);
  const env = { OPENAI_API_KEY: MOCK_KEY, OPENAI_BASE_URL: `${mock.url}/v1` };
  const rows: Row[] = [];
  const measure = async (
    variant: string,
    extraEnv: Record<string, string>,
    run: (send: (text: string) => Promise<string>, histogram: MicroHistogram) => Promise<void>,
  ) => {
    const gateway = await startSwitchyardEnv({ ...env, ...extraEnv }, ["--lanes", "1"]);
    children.push(gateway.child);
    const pool = new Pool(gateway.origin, { connections: 1, pipelining: 1 });
    const send = async (text: string): Promise<string> => {
      const response = await pool.request({
        path: "/v1/chat/completions",
        method: "POST",
        headers: { "content-type": "application/json" },
        body: text,
      });
      await response.body.dump();
      if (response.statusCode !== 200) throw new Error(`${variant}: status ${response.statusCode}`);
      const state = String(response.headers["x-switchyard-cache"] ?? "");
      return state === "hit" ? `hit ${String(response.headers["x-switchyard-cache-type"])}` : state;
    };
    const histogram = new MicroHistogram();
    try {
      await run(send, histogram);
    } finally {
      await pool.close();
      await gateway.child.stop();
    }
    const latencyUs = histogram.summary();
    log(`cache ${variant}: p50 ${latencyUs.p50} µs, p99 ${latencyUs.p99} µs over ${latencyUs.count}`);
    rows.push({
      scenario: "cache",
      variant,
      target: "switchyard",
      status: "ok",
      requests: latencyUs.count,
      // A request that is not answered 200 ends the run, so every one timed succeeded.
      successRate: 1,
      latencyUs,
    });
  };
  const timed = async (histogram: MicroHistogram, send: () => Promise<string>, expected: string) => {
    const started = performance.now();
    const state = await send();
    if (state === expected) histogram.recordSince(started);
    return state;
  };
  const n = plan.requests;
  let unique = 0;
  const fresh = () => body(`cache bench question ${(unique++).toString(36)} of a kind never asked before`);

  await measure("no cache: every request to the provider", {}, async (send, h) => {
    for (let i = 0; i < n; i++) await timed(h, () => send(fresh()), "");
  });
  await measure(
    "exact cache: miss (a new request, stored)",
    { SWITCHYARD_CACHE: "memory" },
    async (send, h) => {
      for (let i = 0; i < n; i++) await timed(h, () => send(fresh()), "miss");
    },
  );
  await measure("exact cache: hit", { SWITCHYARD_CACHE: "memory" }, async (send, h) => {
    const again = fresh();
    await send(again);
    for (let i = 0; i < n; i++) await timed(h, () => send(again), "hit exact");
  });
  const semantic = {
    SWITCHYARD_CACHE: "memory",
    SWITCHYARD_CACHE_EMBEDDING_MODEL: "openai/text-embedding-3-small",
  };
  await measure("semantic cache: miss (embedded, searched, stored)", semantic, async (send, h) => {
    for (let i = 0; i < n; i++) await timed(h, () => send(fresh()), "miss");
  });
  await measure("semantic cache: hit (a paraphrase)", semantic, async (send, h) => {
    const pairs = (JSON.parse(readFileSync(PAIRS_PATH, "utf8")) as { pairs: Pair[] }).pairs.filter(
      (pair) => pair.expect === "hit",
    );
    for (const pair of pairs) await send(body(pair.a));
    // Paraphrases the toy embedding does not see as such miss; only hits are timed, so ask until n are.
    const hits = pairs.map((pair) => body(pair.b));
    for (let i = 0, asked = 0; h.count < n && asked < n * 4; i = (i + 1) % hits.length, asked++)
      await timed(h, () => send(hits[i] as string), "hit semantic");
  });
  return rows;
}
