// Micro-benchmark of the request log's stages, per record, for the request the load scenarios send (a 1.4 KB
// chat request and a 1.4 KB reply): what a lane pays to make and push a record (with warm caches, and with
// its caches emptied between records as a lane's other work empties them), then what the log worker pays
// to read and decode it, and to insert it into SQLite in batches. The worker's figures are CPU time (this
// process's user + system), since its writes also wait on the disk.
// Usage: npm run build && node dist/bench/request-log-micro.js [--smoke]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_LOGS } from "../src/config/logs.js";
import type { RequestHead } from "../src/http/exchange.js";
import { decodeRecord } from "../src/observability/request-log/codec.js";
import type { RecordToStore } from "../src/observability/request-log/record.js";
import { LaneRequestLog, LoggedRequest, type RequestParty } from "../src/pipeline/request-log.js";
import { findRoute, type InferenceRoute } from "../src/pipeline/routes.js";
import type { AttemptReport } from "../src/routing/attempts.js";
import { createLogRings, LogRingReader, LogRingWriter } from "../src/shm/log-ring.js";
import { openSqliteLogStore } from "../src/store/logs/sqlite.js";
import { formatNs, measure, median, ROUNDS, sink, smoke, writeMicroResult } from "./micro.js";
import { chatBody } from "./targets.js";

const BATCH = 2_000;
const BATCHES = smoke ? 2 : 20;
/** Bytes touched between two records in the cold case: more than a core's L2 cache. */
const EVICT_BYTES = 4 * 1024 * 1024;

const route = findRoute("/v1/chat/completions") as InferenceRoute;
const party: RequestParty = { virtualKey: "", team: "", customer: "", logContent: true };
const head = { requestId: "0b8f5d1e-6c1a-4d51-9d7e-2f0a8f9b1c33", metadata: [] } as unknown as RequestHead;
const body = Buffer.from(chatBody("gpt-4o-mini", false));
const reply = Buffer.from(
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: "x".repeat(1200) }, finish_reason: "stop" }],
    usage: { prompt_tokens: 350, completion_tokens: 300, total_tokens: 650 },
  }),
);
const attempt = {
  candidate: { provider: { name: "openai", keys: [{ name: "bench" }] }, model: "gpt-4o-mini", keyIndex: 0 },
  retries: 0,
  fallbackIndex: 0,
} as unknown as AttemptReport;
const usage = { prompt: 350, completion: 300, cachedRead: 0, cacheWrite: 0, reasoning: 0 };
const end = { status: 200, errorCode: "", errorClass: "" as const, errorMessage: "", usage };

const rings = createLogRings(1, 64 * 1024 * 1024);
const log = new LaneRequestLog(new LogRingWriter(rings, 0), DEFAULT_LOGS, undefined);
const reader = new LogRingReader(rings, 0);

/** One request's record, made and pushed as a lane does it at a reply's end. */
function writeOne(): number {
  const request = new LoggedRequest(log, head, route, "gpt-4o-mini", false, party, body, 0);
  request.reply(reply);
  request.end(attempt, end);
  // The ring is emptied now and then, as the log worker does.
  if (reader.pending > 32 * 1024 * 1024) reader.commit(reader.read(1_000_000).end);
  return 1;
}

const evicted = new Uint8Array(EVICT_BYTES);
let evictions = 0;
function evict(): void {
  for (let at = 0; at < evicted.length; at += 64) evicted[at] = (evicted[at] as number) + 1;
  evictions++;
}

function laneFigures(): { warmNs: number; coldNs: number } {
  const warm: number[] = [];
  const cold: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    warm.push(measure(writeOne));
    // Timed one by one, the eviction outside the clock.
    let total = 0n;
    const count = smoke ? 200 : 20_000;
    for (let i = 0; i < count; i++) {
      evict();
      const t0 = process.hrtime.bigint();
      writeOne();
      total += process.hrtime.bigint() - t0;
    }
    cold.push(Number(total) / count);
  }
  return { warmNs: median(warm), coldNs: median(cold) };
}

const cpuNs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) * 1000;
};

/**
 * The worker's side, CPU ns per record: ring batches read and decoded alone, then read, decoded and inserted
 * as the log worker does it (each record decoded as the store takes it).
 */
async function workerFigures(): Promise<{ decodeNs: number; storeNs: number; bytesPerRecord: number }> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-log-micro-"));
  const store = openSqliteLogStore(join(dir, "logs.db"));
  await store.migrate();
  let decodeNs = 0;
  let storeNs = 0;
  let bytes = 0;
  let records = 0;
  const decoded = function* (batch: readonly Uint8Array[]): Generator<RecordToStore> {
    for (const record of batch) {
      const value = decodeRecord(record);
      if (value instanceof Error) throw value;
      yield value;
    }
  };
  try {
    reader.commit(reader.read(1_000_000).end);
    for (let batch = 0; batch < BATCHES; batch++) {
      for (let i = 0; i < BATCH; i++) writeOne();
      const decoding = process.cpuUsage();
      let read = reader.read(BATCH);
      for (const record of decoded(read.records))
        bytes += (record.input?.length ?? 0) + (record.output?.length ?? 0);
      decodeNs += cpuNs(decoding);
      const storing = process.cpuUsage();
      read = reader.read(BATCH);
      await store.insert(decoded(read.records));
      storeNs += cpuNs(storing);
      reader.commit(read.end);
      records += read.records.length;
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { decodeNs: decodeNs / records, storeNs: storeNs / records, bytesPerRecord: bytes / records };
}

const lane = laneFigures();
const worker = await workerFigures();
const total = lane.coldNs + worker.storeNs;
const rows: [string, number][] = [
  ["lane: make and push a record, warm caches", lane.warmNs],
  ["lane: make and push a record, caches emptied first", lane.coldNs],
  ["log worker: read from the ring and decode, alone (CPU)", worker.decodeNs],
  ["log worker: read, decode and insert into SQLite (CPU)", worker.storeNs],
  ["per record in all (cold lane + worker)", total],
];
console.log(`request log, per record (${Math.round(worker.bytesPerRecord)} bytes of content)\n`);
for (const [what, ns] of rows) console.log(`${what.padEnd(60)} ${formatNs(Math.round(ns))}`);
const file = writeMicroResult("request-log-micro", {
  contentBytes: Math.round(worker.bytesPerRecord),
  laneWarmNs: Math.round(lane.warmNs),
  laneColdNs: Math.round(lane.coldNs),
  workerDecodeCpuNs: Math.round(worker.decodeNs),
  workerStoreCpuNs: Math.round(worker.storeNs),
  totalNs: Math.round(total),
  sink: sink() + evictions,
});
console.log(`\nwrote ${file}`);
