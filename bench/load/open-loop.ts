/**
 * Fixed-rate (open-loop) load: requests leave on a schedule that does not wait for responses, and each
 * latency is taken from the request's scheduled start, so a stalled server shows up in the tail instead
 * of slowing the load down (no coordinated omission).
 */
import { setMaxListeners } from "node:events";
import { Client, Pool } from "undici";
import { type LatencySummary, MicroHistogram } from "./histogram.js";

export interface RequestSpec {
  /** Origin, e.g. http://127.0.0.1:9100 */
  origin: string;
  path: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Read the body as SSE and require a final `data: [DONE]`. */
  stream?: boolean;
  timeoutMs?: number;
}

export interface LoadResult {
  /** Requests started. */
  sent: number;
  ok: number;
  /** Non-2xx answers, connection errors, incomplete streams. */
  failed: number;
  timeouts: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  successRate: number;
  durationMs: number;
  /** Requests started per second of the schedule (shows whether the driver kept the rate). */
  achievedRps: number;
  /** Successful requests only; whole exchange (for streams: until the last byte). */
  latencyUs: LatencySummary;
  /** Streams only: until the first body chunk. */
  ttfbUs?: LatencySummary;
  /** Most requests outstanding at once. */
  peakInFlight: number;
}

interface Dispatcher {
  request: Pool["request"];
  close(): Promise<void>;
  destroy(): Promise<void>;
}

class Recorder {
  readonly latency = new MicroHistogram();
  readonly ttfb = new MicroHistogram();
  sent = 0;
  ok = 0;
  failed = 0;
  timeouts = 0;
  inFlight = 0;
  peakInFlight = 0;
  readonly statuses: Record<string, number> = {};
  readonly errors: Record<string, number> = {};

  result(durationMs: number, stream: boolean, scheduleMs = durationMs): LoadResult {
    return {
      sent: this.sent,
      ok: this.ok,
      failed: this.failed,
      timeouts: this.timeouts,
      statuses: this.statuses,
      errors: this.errors,
      successRate: this.sent === 0 ? 0 : this.ok / this.sent,
      durationMs,
      achievedRps: this.sent / (Math.max(1, scheduleMs) / 1000),
      latencyUs: this.latency.summary(),
      ...(stream ? { ttfbUs: this.ttfb.summary() } : {}),
      peakInFlight: this.peakInFlight,
    };
  }
}

const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

async function exchange(
  dispatcher: Dispatcher,
  spec: RequestSpec,
  rec: Recorder,
  startMs: number,
  signal: AbortSignal,
): Promise<void> {
  rec.sent++;
  rec.inFlight++;
  if (rec.inFlight > rec.peakInFlight) rec.peakInFlight = rec.inFlight;
  const timeout = spec.timeoutMs ?? 30_000;
  try {
    const res = await dispatcher.request({
      path: spec.path,
      method: spec.method ?? "POST",
      headers: spec.headers,
      body: spec.body,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal,
    });
    const key = String(res.statusCode);
    rec.statuses[key] = (rec.statuses[key] ?? 0) + 1;
    let complete = true;
    if (spec.stream) {
      let firstMs = 0;
      let tail = "";
      for await (const chunk of res.body) {
        if (firstMs === 0) firstMs = performance.now();
        tail = (tail + (chunk as Buffer).toString("latin1")).slice(-32);
      }
      complete = tail.includes("[DONE]");
      if (complete && res.statusCode >= 200 && res.statusCode < 300)
        rec.ttfb.recordUs((firstMs - startMs) * 1000);
    } else {
      await res.body.dump({ limit: Number.MAX_SAFE_INTEGER });
    }
    if (res.statusCode >= 200 && res.statusCode < 300 && complete) {
      rec.latency.recordSince(startMs);
      rec.ok++;
    } else {
      if (!complete) rec.errors.incomplete_stream = (rec.errors.incomplete_stream ?? 0) + 1;
      rec.failed++;
    }
  } catch (err) {
    // DOMException AbortError carries a numeric code; prefer undici's string codes, else the name.
    const raw = (err as { code?: unknown }).code;
    const code = typeof raw === "string" ? raw : ((err as Error).name ?? "error");
    rec.errors[code] = (rec.errors[code] ?? 0) + 1;
    if (TIMEOUT_CODES.has(code) || code === "AbortError" || code === "UND_ERR_ABORTED") rec.timeouts++;
    else rec.failed++;
  } finally {
    rec.inFlight--;
  }
}

export interface OpenLoopOptions extends RequestSpec {
  /** Requests per second. */
  rate: number;
  durationMs: number;
  /** Default: enough sockets for rate × expected latency, at least 16. */
  connections?: number;
  /** Expected server latency, used for the default connection count. */
  expectedLatencyMs?: number;
  /** After the schedule ends, how long to wait for stragglers before counting them as timeouts. */
  drainMs?: number;
}

export async function runOpenLoop(opts: OpenLoopOptions): Promise<LoadResult> {
  const connections =
    opts.connections ??
    Math.max(16, Math.ceil((opts.rate * ((opts.expectedLatencyMs ?? 0) + 50)) / 1000) * 1.3 + 16);
  const pool = new Pool(opts.origin, {
    connections: Math.ceil(connections),
    pipelining: 1,
    keepAliveTimeout: 60_000,
    connect: { timeout: opts.timeoutMs ?? 30_000 },
  });
  const rec = new Recorder();
  const abort = new AbortController();
  // One signal serves every request of the run.
  setMaxListeners(0, abort.signal);
  const pending = new Set<Promise<void>>();
  const intervalMs = 1000 / opts.rate;
  const total = Math.max(1, Math.round((opts.rate * opts.durationMs) / 1000));
  const started = performance.now();
  let issued = 0;

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      // Catch up on every slot that is due: the schedule, not the event loop, sets the rate.
      while (issued < total && started + issued * intervalMs <= now) {
        const slot = started + issued * intervalMs;
        issued++;
        const p = exchange(pool, opts, rec, slot, abort.signal);
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      if (issued >= total) {
        resolve();
        return;
      }
      const wait = started + issued * intervalMs - performance.now();
      if (wait > 1) setTimeout(tick, Math.floor(wait));
      else setImmediate(tick);
    };
    tick();
  });
  const scheduleMs = performance.now() - started;

  const drainMs = opts.drainMs ?? opts.timeoutMs ?? 30_000;
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled([...pending]),
    new Promise<void>((resolve) => {
      drainTimer = setTimeout(resolve, drainMs);
    }),
  ]);
  clearTimeout(drainTimer);
  abort.abort();
  await Promise.allSettled([...pending]);
  const durationMs = performance.now() - started;
  await pool.destroy();
  return rec.result(durationMs, opts.stream === true, scheduleMs);
}

/** One request at a time over one keep-alive connection: latency without queueing. */
export async function runSequential(opts: RequestSpec & { requests: number }): Promise<LoadResult> {
  const client = new Client(opts.origin, { pipelining: 1, keepAliveTimeout: 60_000 });
  const rec = new Recorder();
  const abort = new AbortController();
  const started = performance.now();
  for (let i = 0; i < opts.requests; i++) {
    await exchange(client, opts, rec, performance.now(), abort.signal);
  }
  const durationMs = performance.now() - started;
  await client.destroy();
  return rec.result(durationMs, opts.stream === true);
}
