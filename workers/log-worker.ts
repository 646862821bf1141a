import { existsSync, rmSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import type { FromLogWorker, LogQuestion, LogWorkerData, ToLogWorker } from "../src/control/messages.js";
import { lowerThreadPriority } from "../src/native/index.js";
import { decodeRecord } from "../src/observability/request-log/codec.js";
import type { RecordToStore } from "../src/observability/request-log/record.js";
import { LogRingReader, ringCount, waitForRecords } from "../src/shm/log-ring.js";
import { contentBytes } from "../src/store/logs/columns.js";
import { LogQueryError } from "../src/store/logs/errors.js";
import { openLogStore } from "../src/store/logs/open.js";
import type { LogStore, LogSummary } from "../src/store/logs/types.js";

// The log worker: drains the lanes' rings into the log store in batches, answers the management API's log
// queries, and prunes the log to its retention. A ring's records leave it only once the store has
// committed them, so this thread may die at any point without losing a record the lanes handed over.

const data = workerData as LogWorkerData;
const port = parentPort;
if (port === null) throw new Error("workers/log-worker.js runs as a worker thread");
const send = (message: FromLogWorker) => port.postMessage(message);

/** Records per insert: one transaction (SQLite) or a few multi-row statements (PostgreSQL). */
const BATCH_RECORDS = 2_000;
const PRUNE_EVERY_MS = 10 * 60_000;
/** A store that refuses writes is retried after this, doubling up to RETRY_MAX_MS; the records wait in the rings. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;
/** The same complaint at most this often. */
const LOG_EVERY_MS = 60_000;

/** Nice level of this thread: the lanes run first when the machine is busy, and records wait in the rings. */
const NICE = 10;
const lowered = lowerThreadPriority?.(NICE) === true;

const { store, description } = await openLogStore({
  path: data.sqlitePath,
  ...(data.databaseUrl === undefined ? {} : { databaseUrl: data.databaseUrl }),
});
const readers = Array.from(
  { length: ringCount(data.rings) },
  (_, lane) => new LogRingReader(data.rings, lane),
);

let tail = false;
let stopping = false;
let retryMs = 0;
const lastSaid = new Map<string, number>();

/** One line per kind of trouble per LOG_EVERY_MS, so a dead store does not flood the gateway's log. */
function say(kind: string, line: string): void {
  const now = Date.now();
  if (now - (lastSaid.get(kind) ?? 0) < LOG_EVERY_MS) return;
  lastSaid.set(kind, now);
  send({ type: "log", line });
}

function summaryOf(record: RecordToStore): LogSummary {
  const { input, output, ...summary } = record;
  return {
    ...summary,
    inputBytes: input === null ? 0 : contentBytes(input),
    outputBytes: output === null ? 0 : contentBytes(output),
  };
}

/**
 * Test only (NODE_ENV=test): while the file SWITCHYARD_TEST_LOG_WORKER_CRASH names exists, the worker removes it
 * and dies between reading records and storing them, as a bug would; the e2e tests see nothing lost.
 */
function testCrash(): void {
  const marker = process.env.SWITCHYARD_TEST_LOG_WORKER_CRASH;
  if (process.env.NODE_ENV !== "test" || marker === undefined || !existsSync(marker)) return;
  rmSync(marker);
  throw new Error("test crash of the log worker");
}

/**
 * A batch's records, decoded one at a time as the store takes them: each dies young, where a batch decoded
 * whole would outlive the young generation and cost a copy into the old one. Unreadable ones are skipped.
 */
function* decodeBatch(
  batch: readonly Uint8Array[],
  taken: (record: RecordToStore) => void,
): Generator<RecordToStore> {
  for (const bytes of batch) {
    const record = decodeRecord(bytes);
    if (record instanceof Error) {
      say("decode", `request log: a record was not readable and is skipped (${record.message})`);
      continue;
    }
    taken(record);
    yield record;
  }
}

/** Writes every record the rings hold now; false when the store refused (they stay in the rings). */
async function drain(target: LogStore): Promise<boolean> {
  let written = 0;
  const summaries: LogSummary[] | undefined = tail ? [] : undefined;
  for (const reader of readers) {
    for (;;) {
      const batch = reader.read(BATCH_RECORDS);
      if (batch.records.length === 0) break;
      testCrash();
      let stored = 0;
      const batchSummaries: LogSummary[] | undefined = summaries === undefined ? undefined : [];
      try {
        await target.insert(
          decodeBatch(batch.records, (record) => {
            stored++;
            batchSummaries?.push(summaryOf(record));
          }),
        );
      } catch (error) {
        say(
          "insert",
          `request log: the store refused a batch; retrying, records wait in the rings (${(error as Error).message})`,
        );
        report(written, summaries);
        return false;
      }
      reader.commit(batch.end);
      written += stored;
      if (summaries !== undefined && batchSummaries !== undefined)
        for (const summary of batchSummaries) summaries.push(summary);
    }
  }
  report(written, summaries);
  return true;
}

function report(count: number, summaries: LogSummary[] | undefined): void {
  if (count === 0) return;
  send(
    summaries === undefined || summaries.length === 0
      ? { type: "written", count }
      : { type: "written", count, summaries },
  );
}

async function prune(): Promise<void> {
  if (data.retention.maxAgeMs === 0 && data.retention.maxBytes === 0) return;
  try {
    const result = await store.prune(data.retention, Date.now());
    if (result.deletedRecords > 0)
      send({
        type: "log",
        line: `request log: pruned ${result.deletedRecords} records; the log now takes ${Math.round(result.sizeBytes / 1024 / 1024)} MiB`,
      });
  } catch (error) {
    say("prune", `request log: pruning failed (${(error as Error).message})`);
  }
}

async function answer(question: LogQuestion): Promise<unknown> {
  switch (question.op) {
    case "query":
      return store.query(question.query);
    case "get":
      return (await store.get(question.id)) ?? null;
    case "stats":
      return store.stats(question.query);
  }
}

/** Drains run one at a time: a flush asked for during a drain waits for it, then drains again. */
let draining: Promise<boolean> = Promise.resolve(true);
const drainNow = (): Promise<boolean> => {
  draining = draining.then(() => drain(store));
  return draining;
};

port.on("message", (message: ToLogWorker) => {
  switch (message.type) {
    case "ask":
      answer(message.question).then(
        (result) => send({ type: "answer", id: message.id, result }),
        (error: Error) =>
          send({
            type: "answer",
            id: message.id,
            error: error.message,
            invalid: error instanceof LogQueryError,
          }),
      );
      return;
    case "tail":
      tail = message.on;
      return;
    case "flush":
      void drainNow().finally(() => send({ type: "flushed", id: message.id }));
      return;
    case "stop":
      stopping = true;
      return;
  }
});

send({ type: "ready", description: lowered ? `${description}, written at nice ${NICE}` : description });
await prune();
const pruneTimer = setInterval(() => void prune(), PRUNE_EVERY_MS);

while (!stopping) {
  await waitForRecords(data.rings, retryMs > 0 ? retryMs : data.flushMs);
  if (stopping) break;
  const ok = await drainNow();
  retryMs = ok ? 0 : Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, retryMs * 2));
}
clearInterval(pruneTimer);
await drainNow();
await store.close();
send({ type: "stopped" });
port.close();
