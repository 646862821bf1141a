import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { LogsConfig } from "../config/types.js";
import { counter, type MetricJson } from "../observability/metric-json.js";
import type { RequestLogRecord } from "../observability/request-log/record.js";
import { createLogRings, LogRingReader, ringCount, wakeLogWorker } from "../shm/log-ring.js";
import { LogQueryError } from "../store/logs/errors.js";
import type { LogPage, LogQuery, LogStats, LogSummary, StatsQuery } from "../store/logs/types.js";
import type { FromLogWorker, LogQuestion, LogWorkerData, ToLogWorker } from "./messages.js";

// The request log as the control plane runs it: the lanes' rings, the log worker that drains them into the
// store (restarted if it dies: the records wait in the rings), the management API's log queries, the live
// tail's feed and the log's metrics.
//
// What can be lost: records still in the rings when the whole process dies (at most `flushMs` worth, or the
// rings' size when the store is behind). Neither a lane's nor the log worker's crash loses a record; a full
// ring drops the newest and counts them.

const LOG_WORKER_ENTRY = new URL("../../workers/log-worker.js", import.meta.url);
export const LOGS_SQLITE_FILE = "logs.db";
const ASK_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 30_000;
/** How often a growing drop count is told, at most. */
const DROP_REPORT_MS = 10_000;
/** Consecutive crashes before the log worker is given up on (the rings then fill and drop, counted). */
const MAX_RESTARTS = 5;

export interface RequestLogOptions {
  readonly settings: LogsConfig;
  readonly lanes: number;
  /** SQLite's directory; absent, SQLite in memory (unless `databaseUrl`). */
  readonly appDir?: string;
  readonly databaseUrl?: string;
  readonly log: (line: string) => void;
  /** The summaries of records just stored, when `tailOn` was set. */
  readonly onWritten: (summaries: readonly LogSummary[]) => void;
}

export class RequestLogControl {
  readonly rings: SharedArrayBuffer;
  private worker: Worker | undefined;
  private description = "";
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private written = 0;
  private restarts = 0;
  private stopping = false;
  private tail = false;
  private reportedDrops = 0;
  private readonly dropTimer: NodeJS.Timeout;
  private readonly readers: LogRingReader[];

  private constructor(private readonly options: RequestLogOptions) {
    this.rings = createLogRings(options.lanes, options.settings.ringBytes);
    this.readers = Array.from(
      { length: ringCount(this.rings) },
      (_, lane) => new LogRingReader(this.rings, lane),
    );
    this.dropTimer = setInterval(() => this.reportDrops(), DROP_REPORT_MS);
    this.dropTimer.unref();
  }

  /** Starts the log worker; resolves once its store is open. */
  static async start(options: RequestLogOptions): Promise<RequestLogControl> {
    const control = new RequestLogControl(options);
    await control.spawn();
    return control;
  }

  /** Where the log lives, for the start-up line (never a password). */
  get where(): string {
    return this.description;
  }

  query(query: LogQuery): Promise<LogPage> {
    return this.ask({ op: "query", query }) as Promise<LogPage>;
  }

  /** The whole record, or null. */
  get(id: string): Promise<RequestLogRecord | null> {
    return this.ask({ op: "get", id }) as Promise<RequestLogRecord | null>;
  }

  stats(query: StatsQuery): Promise<LogStats> {
    return this.ask({ op: "stats", query }) as Promise<LogStats>;
  }

  /** Everything the rings hold now is stored once this resolves. */
  flush(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return Promise.resolve();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: () => resolve(), reject });
      worker.postMessage({ type: "flush", id } satisfies ToLogWorker);
    });
  }

  /** Someone watches the live tail (or no one does any more). */
  setTail(on: boolean): void {
    if (on === this.tail) return;
    this.tail = on;
    this.worker?.postMessage({ type: "tail", on } satisfies ToLogWorker);
  }

  /** The log's own metrics, for /metrics. */
  metrics(): MetricJson[] {
    let dropped = 0;
    let pending = 0;
    for (const reader of this.readers) {
      dropped += reader.dropped;
      pending += reader.pending;
    }
    const metric = (json: MetricJson, value: number): MetricJson => {
      json.values.push({ value, labels: {} });
      return json;
    };
    return [
      metric(
        counter(
          "switchyard_log_records_dropped_total",
          "Request records dropped because a lane's ring was full (the log store was behind)",
        ),
        dropped,
      ),
      metric(
        counter("switchyard_log_records_written_total", "Request records written to the log store"),
        this.written,
      ),
      metric(
        {
          ...counter(
            "switchyard_log_ring_pending_bytes",
            "Bytes of request records waiting in the lanes' rings",
          ),
          type: "gauge",
        },
        pending,
      ),
    ];
  }

  /** Writes what the rings hold, then closes the store. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.dropTimer);
    this.reportDrops();
    const worker = this.worker;
    if (worker === undefined) return;
    const stopped = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.options.log(
          "request log: the log worker did not stop in time; records still in the rings are lost",
        );
        void worker.terminate().then(() => resolve());
      }, STOP_TIMEOUT_MS);
      worker.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    worker.postMessage({ type: "stop" } satisfies ToLogWorker);
    wakeLogWorker(this.rings);
    await stopped;
  }

  private ask(question: LogQuestion): Promise<unknown> {
    const worker = this.worker;
    if (worker === undefined) return Promise.reject(new Error("the request log is not running"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error("the log store did not answer in time"));
      }, ASK_TIMEOUT_MS);
      this.waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      worker.postMessage({ type: "ask", id, question } satisfies ToLogWorker);
    });
  }

  private spawn(): Promise<void> {
    const { settings, appDir, databaseUrl } = this.options;
    const data: LogWorkerData = {
      rings: this.rings,
      sqlitePath: appDir === undefined ? ":memory:" : join(appDir, LOGS_SQLITE_FILE),
      ...(databaseUrl === undefined ? {} : { databaseUrl }),
      flushMs: settings.flushMs,
      retention: { maxAgeMs: settings.retentionMs, maxBytes: settings.maxBytes },
    };
    const worker = new Worker(LOG_WORKER_ENTRY, { workerData: data });
    this.worker = worker;
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on("message", (message: FromLogWorker) => {
        if (message.type === "ready") {
          ready = true;
          this.description = message.description;
          if (this.tail) worker.postMessage({ type: "tail", on: true } satisfies ToLogWorker);
          resolve();
          return;
        }
        this.onMessage(message);
      });
      worker.on("error", (error) => {
        if (!ready) reject(error);
        else this.options.log(`request log: the log worker failed: ${error.stack ?? error.message}`);
      });
      worker.on("exit", (code) => {
        if (this.worker === worker) this.worker = undefined;
        for (const [id, waiter] of this.waiting) {
          waiter.reject(new Error("the log worker ended"));
          this.waiting.delete(id);
        }
        if (!ready || this.stopping) return;
        this.restart(code);
      });
    });
  }

  /** The records it had read but not stored are still in the rings: a new worker writes them. */
  private restart(code: number): void {
    this.restarts++;
    if (this.restarts > MAX_RESTARTS) {
      this.options.log(
        `request log: the log worker ended (code ${code}) ${this.restarts} times; no longer restarted, new records are dropped and counted`,
      );
      return;
    }
    this.options.log(`request log: the log worker ended (code ${code}); starting another`);
    this.spawn().then(
      () => {
        this.restarts = 0;
      },
      (error: Error) => this.options.log(`request log: the log worker did not restart: ${error.message}`),
    );
  }

  private onMessage(message: FromLogWorker): void {
    switch (message.type) {
      case "answer": {
        const waiter = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        if (message.error !== undefined)
          waiter?.reject(
            message.invalid === true ? new LogQueryError(message.error) : new Error(message.error),
          );
        else waiter?.resolve(message.result);
        return;
      }
      case "flushed":
        this.waiting.get(message.id)?.resolve(undefined);
        this.waiting.delete(message.id);
        return;
      case "written":
        this.written += message.count;
        if (message.summaries !== undefined && this.tail) this.options.onWritten(message.summaries);
        return;
      case "log":
        this.options.log(message.line);
        return;
      case "ready":
      case "stopped":
        return;
    }
  }

  private reportDrops(): void {
    let dropped = 0;
    for (const reader of this.readers) dropped += reader.dropped;
    if (dropped === this.reportedDrops) return;
    this.options.log(
      `request log: ${dropped - this.reportedDrops} records dropped in the last ${DROP_REPORT_MS / 1000} s: the rings were full (the log store is behind; see switchyard_log_records_dropped_total)`,
    );
    this.reportedDrops = dropped;
  }
}
