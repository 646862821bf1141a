// Micro-benchmark of the request log's stages, per record, for the request the load scenarios send (a 1.4 KB
// chat request and a 1.4 KB reply): what a lane pays to make and push a record (with warm caches, and with
// its caches emptied between records as a lane's other work empties them), then what the log worker pays
// to read and decode it, and to insert it into SQLite in batches. The worker's figures are CPU time (this
// process's user + system), since its writes also wait on the disk. Then the floors under those: msgpackr's
// encode and decode of the record alone, and SQLite taking the same rows into a table without any index or
// constraint. All of it twice: with the content, and with content logging off.
// Usage: npm run build && node dist/bench/request-log-micro.js [--smoke]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { DEFAULT_LOGS } from "../src/config/logs.js";
import type { RequestHead } from "../src/http/exchange.js";
import { scanRequest } from "../src/native/index.js";
import type { ScanOk } from "../src/native/types.js";
import { decodeRecord, RecordEncoder } from "../src/observability/request-log/codec.js";
import type { RecordToStore } from "../src/observability/request-log/record.js";
import { LaneRequestLog, LoggedRequest, type RequestParty } from "../src/pipeline/request-log.js";
import { findRoute, type InferenceRoute } from "../src/pipeline/routes.js";
import type { AttemptReport } from "../src/routing/attempts.js";
import { createLogRings, LogRingReader, LogRingWriter } from "../src/shm/log-ring.js";
import { ALL_COLUMNS, rowValues } from "../src/store/logs/columns.js";
import { openSqliteLogStore, SQLITE_LOG_PRAGMAS, SQLITE_ROW } from "../src/store/logs/sqlite.js";
import { formatNs, measure, median, ROUNDS, sink, smoke, writeMicroResult } from "./micro.js";
import { chatBody } from "./targets.js";

const BATCH = 2_000;
const BATCHES = smoke ? 2 : 20;
/** Bytes touched between two records in the cold case: more than a core's L2 cache. */
const EVICT_BYTES = 4 * 1024 * 1024;

const route = findRoute("/v1/chat/completions") as InferenceRoute;
const head = { requestId: "0b8f5d1e-6c1a-4d51-9d7e-2f0a8f9b1c33", metadata: [] } as unknown as RequestHead;
const body = Buffer.from(chatBody("gpt-4o-mini", false));
const scanned = scanRequest(body);
if (!scanned.ok) throw new Error(`the bench's body does not scan: ${scanned.error}`);
const bodyScan: ScanOk = scanned;
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
const reader = new LogRingReader(rings, 0);

/** A lane's log and the request shape it logs: with its content, or with content logging off. */
interface Case {
  readonly log: LaneRequestLog;
  readonly party: RequestParty;
}

function laneCase(content: boolean): Case {
  return {
    log: new LaneRequestLog(new LogRingWriter(rings, 0), DEFAULT_LOGS, undefined),
    party: { virtualKey: "", team: "", customer: "", logContent: content },
  };
}

/** One request's record, made and pushed as a lane does it at a reply's end. */
function writeOne(lane: Case): number {
  const request = new LoggedRequest(
    lane.log,
    head,
    route,
    "gpt-4o-mini",
    false,
    lane.party,
    body,
    bodyScan,
    0,
  );
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

function laneFigures(lane: Case): { warmNs: number; coldNs: number } {
  const warm: number[] = [];
  const cold: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    warm.push(measure(() => writeOne(lane)));
    // Timed one by one, the eviction outside the clock.
    let total = 0n;
    const count = smoke ? 200 : 20_000;
    for (let i = 0; i < count; i++) {
      evict();
      const t0 = process.hrtime.bigint();
      writeOne(lane);
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

const decoded = function* (batch: readonly Uint8Array[]): Generator<RecordToStore> {
  for (const record of batch) {
    const value = decodeRecord(record);
    if (value instanceof Error) throw value;
    yield value;
  }
};

/** A fresh SQLite file for `use`, removed after it. */
async function inTempDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-log-micro-"));
  try {
    return await use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface WorkerFigures {
  readonly decodeNs: number;
  readonly storeNs: number;
  /** SQLite alone, the floor under storeNs: the same rows' values, already made, into a table without index. */
  readonly bareRowNs: number;
  readonly bytesPerRecord: number;
}

/**
 * The worker's side, CPU ns per record: ring batches read and decoded alone, then read, decoded and inserted
 * as the log worker does it (each record decoded as the store takes it), then the same rows into a table
 * of the same columns without any index, their values made beforehand.
 */
function workerFigures(lane: Case): Promise<WorkerFigures> {
  return inTempDir(async (dir) => {
    const store = openSqliteLogStore(join(dir, "logs.db"));
    await store.migrate();
    const bare = bareTable(join(dir, "bare.db"));
    let decodeNs = 0;
    let storeNs = 0;
    let bareRowNs = 0;
    let bytes = 0;
    let records = 0;
    try {
      reader.commit(reader.read(1_000_000).end);
      for (let batch = 0; batch < BATCHES; batch++) {
        for (let i = 0; i < BATCH; i++) writeOne(lane);
        const decoding = process.cpuUsage();
        let read = reader.read(BATCH);
        for (const record of decoded(read.records))
          bytes += (record.input?.length ?? 0) + (record.output?.length ?? 0);
        decodeNs += cpuNs(decoding);
        const storing = process.cpuUsage();
        read = reader.read(BATCH);
        await store.insert(decoded(read.records));
        storeNs += cpuNs(storing);
        // Views of the reader's copy: inserted before the next read.
        const rows = Array.from(decoded(read.records), (record) => rowValues(record, SQLITE_ROW));
        const bareStoring = process.cpuUsage();
        bare.insert(rows);
        bareRowNs += cpuNs(bareStoring);
        reader.commit(read.end);
        records += read.records.length;
      }
    } finally {
      await store.close();
      bare.close();
    }
    return {
      decodeNs: decodeNs / records,
      storeNs: storeNs / records,
      bareRowNs: bareRowNs / records,
      bytesPerRecord: bytes / records,
    };
  });
}

/** The store's columns without types, constraint or index, as its file is set up: SQLite's own floor. */
function bareTable(path: string): { insert(rows: readonly unknown[][]): void; close(): void } {
  const db = new Database(path);
  for (const pragma of SQLITE_LOG_PRAGMAS) db.pragma(pragma);
  db.exec(`CREATE TABLE bare (${ALL_COLUMNS.join(", ")})`);
  const insert = db.prepare(`INSERT INTO bare VALUES (${ALL_COLUMNS.map(() => "?").join(", ")})`);
  const insertAll = db.transaction((rows: readonly unknown[][]) => {
    for (const row of rows) insert.run(...row);
  });
  return { insert: insertAll, close: () => db.close() };
}

/** msgpackr's share: the lane's encoder and the worker's decoder on one record, nothing else. */
function codecFigures(lane: Case): { encodeNs: number; decodeNs: number } {
  reader.commit(reader.read(1_000_000).end);
  writeOne(lane);
  const [bytes] = reader.read(1).records;
  if (bytes === undefined) throw new Error("no record to measure");
  const copy = Uint8Array.from(bytes);
  reader.commit(reader.read(1_000_000).end);
  const record = decodeRecord(copy);
  if (record instanceof Error) throw record;
  // The lane hands the encoder a UUID's 16 bytes; which ones does not change the cost.
  const inTransit = { ...record, id: new Uint8Array(16) };
  const encoder = new RecordEncoder();
  return {
    encodeNs: median(Array.from({ length: ROUNDS }, () => measure(() => encoder.encode(inTransit).length))),
    decodeNs: median(
      Array.from({ length: ROUNDS }, () =>
        measure(() => {
          const value = decodeRecord(copy);
          return value instanceof Error ? 0 : value.status;
        }),
      ),
    ),
  };
}

const figures: Record<string, number> = {};
for (const content of [true, false]) {
  const lane = laneCase(content);
  const laneNs = laneFigures(lane);
  const worker = await workerFigures(lane);
  const codec = codecFigures(lane);
  const total = laneNs.coldNs + worker.storeNs;
  const floor = codec.encodeNs + codec.decodeNs + worker.bareRowNs;
  const rows: [string, number][] = [
    ["lane: make and push a record, warm caches", laneNs.warmNs],
    ["lane: make and push a record, caches emptied first", laneNs.coldNs],
    ["log worker: read from the ring and decode, alone (CPU)", worker.decodeNs],
    ["log worker: read, decode and insert into SQLite (CPU)", worker.storeNs],
    ["per record in all (cold lane + worker)", total],
    ["floor: msgpackr encode of the record, warm", codec.encodeNs],
    ["floor: msgpackr decode of the record, warm", codec.decodeNs],
    ["floor: SQLite, the row's values into a bare table (CPU)", worker.bareRowNs],
    ["floor in all (encode + decode + bare row)", floor],
  ];
  const title = content
    ? `with content (${Math.round(worker.bytesPerRecord)} bytes a record)`
    : "content logging off";
  console.log(`request log, per record, ${title}\n`);
  for (const [what, ns] of rows) console.log(`${what.padEnd(60)} ${formatNs(Math.round(ns))}`);
  console.log("");
  const prefix = content ? "" : "noContent.";
  Object.assign(figures, {
    ...(content ? { contentBytes: Math.round(worker.bytesPerRecord) } : {}),
    [`${prefix}laneWarmNs`]: Math.round(laneNs.warmNs),
    [`${prefix}laneColdNs`]: Math.round(laneNs.coldNs),
    [`${prefix}workerDecodeCpuNs`]: Math.round(worker.decodeNs),
    [`${prefix}workerStoreCpuNs`]: Math.round(worker.storeNs),
    [`${prefix}totalNs`]: Math.round(total),
    [`${prefix}floorEncodeNs`]: Math.round(codec.encodeNs),
    [`${prefix}floorDecodeNs`]: Math.round(codec.decodeNs),
    [`${prefix}floorBareRowCpuNs`]: Math.round(worker.bareRowNs),
    [`${prefix}floorNs`]: Math.round(floor),
  });
}
const file = writeMicroResult("request-log-micro", { ...figures, sink: sink() + evictions });
console.log(`wrote ${file}`);
