/**
 * Fixed-rate (open-loop) load: requests leave on a schedule that does not wait for responses, so a
 * stalled server shows up in the tail (requests queue in the pool, and latency counts from the dispatch
 * call) instead of slowing the load down. The driver's own lateness against the schedule is reported
 * as `scheduleLagUs`, so a driver that could not keep up is visible rather than hidden.
 */
import { Client, type Dispatcher as UndiciDispatcher } from "undici";
import { ClientPool } from "./client-pool.js";
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
  /** How late the driver dispatched against the fixed schedule (open loop only). */
  scheduleLagUs?: LatencySummary;
  /** The warm-up's requests were still outstanding after drainMs, so nothing was measured. */
  warmupStalled?: boolean;
}

interface Dispatcher {
  dispatch(opts: UndiciDispatcher.DispatchOptions, handler: UndiciDispatcher.DispatchHandler): unknown;
}

class Recorder {
  readonly latency = new MicroHistogram();
  readonly ttfb = new MicroHistogram();
  readonly lag = new MicroHistogram();
  sent = 0;
  ok = 0;
  failed = 0;
  timeouts = 0;
  inFlight = 0;
  peakInFlight = 0;
  /** Past the drain deadline: requests the pool drops now count as timeouts. */
  draining = false;
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
      ...(this.lag.count > 0 ? { scheduleLagUs: this.lag.summary() } : {}),
    };
  }
}

const TIMEOUT_CODES = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * One request through dispatch() with a bare handler: no body stream per response, which the request()
 * API would allocate and which costs the driver more CPU than the mock spends answering.
 */
function exchange(dispatcher: Dispatcher, spec: RequestSpec, rec: Recorder, startMs: number): Promise<void> {
  rec.sent++;
  rec.inFlight++;
  if (rec.inFlight > rec.peakInFlight) rec.peakInFlight = rec.inFlight;
  const timeout = spec.timeoutMs ?? 30_000;
  const stream = spec.stream === true;
  return new Promise<void>((resolve) => {
    let status = 0;
    let firstMs = 0;
    let tail = "";
    const finish = (): void => {
      rec.inFlight--;
      resolve();
    };
    dispatcher.dispatch(
      {
        path: spec.path,
        method: spec.method ?? "POST",
        headers: spec.headers,
        body: spec.body,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      },
      {
        // undici's core Client still asserts the classic handler shape, so these are the classic hooks.
        onConnect() {},
        onHeaders(statusCode) {
          status = statusCode;
          return true;
        },
        onData(chunk) {
          if (stream) {
            if (firstMs === 0) firstMs = performance.now();
            tail = (tail + chunk.toString("latin1")).slice(-32);
          }
          return true;
        },
        onComplete() {
          const key = String(status);
          rec.statuses[key] = (rec.statuses[key] ?? 0) + 1;
          const complete = !stream || tail.includes("[DONE]");
          if (status >= 200 && status < 300 && complete) {
            rec.latency.recordSince(startMs);
            if (stream) rec.ttfb.recordUs((firstMs - startMs) * 1000);
            rec.ok++;
          } else {
            if (!complete && status >= 200 && status < 300)
              rec.errors.incomplete_stream = (rec.errors.incomplete_stream ?? 0) + 1;
            rec.failed++;
          }
          finish();
        },
        onError(err) {
          const raw = (err as { code?: unknown }).code;
          const code = typeof raw === "string" ? raw : (err.name ?? "error");
          rec.errors[code] = (rec.errors[code] ?? 0) + 1;
          if (TIMEOUT_CODES.has(code) || (rec.draining && code === "UND_ERR_DESTROYED")) rec.timeouts++;
          else rec.failed++;
          finish();
        },
      },
    );
  });
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
  /**
   * Unrecorded run first, ramping up to the rate, on the same pool, so that thousands of connections
   * (ours and the gateway's upstream ones) are open before measuring. `onMeasureStart` runs between.
   */
  warmupMs?: number;
  onMeasureStart?: () => Promise<void> | void;
}

export async function runOpenLoop(opts: OpenLoopOptions): Promise<LoadResult> {
  const connections =
    opts.connections ??
    Math.max(16, Math.ceil((opts.rate * ((opts.expectedLatencyMs ?? 0) + 50)) / 1000) * 1.3 + 16);
  const pool = new ClientPool(opts.origin, Math.ceil(connections), {
    keepAliveTimeout: 60_000,
    connect: { timeout: opts.timeoutMs ?? 30_000 },
  });
  const intervalMs = 1000 / opts.rate;
  const drainMs = opts.drainMs ?? opts.timeoutMs ?? 30_000;

  const phase = async (rec: Recorder, durationMs: number, ramp: boolean): Promise<number> => {
    const pending = new Set<Promise<void>>();
    const perMs = opts.rate / 1000;
    // A ramp goes linearly from 0 to the rate, so slot i falls at sqrt(2·T·i / rate): connections then
    // open gradually instead of overflowing the targets' listen backlogs (uWS: 512) all at once.
    const total = Math.max(1, Math.round(ramp ? (perMs * durationMs) / 2 : perMs * durationMs));
    const slotAt = ramp
      ? (i: number) => Math.sqrt((2 * durationMs * i) / perMs)
      : (i: number) => i * intervalMs;
    const started = performance.now();
    let issued = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        // Catch up on every slot that is due: the schedule, not the responses, sets the rate.
        while (issued < total && started + slotAt(issued) <= now) {
          rec.lag.recordUs((now - (started + slotAt(issued))) * 1000);
          issued++;
          const p = exchange(pool, opts, rec, now);
          pending.add(p);
          void p.finally(() => pending.delete(p));
        }
        if (issued >= total) {
          resolve();
          return;
        }
        // A 1 ms timer batches slots at high rates; setImmediate would spin a core that the targets need.
        const wait = started + slotAt(issued) - performance.now();
        setTimeout(tick, Math.max(1, Math.floor(wait)));
      };
      tick();
    });
    const scheduleMs = performance.now() - started;
    let drainTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...pending]),
      new Promise<void>((resolve) => {
        drainTimer = setTimeout(resolve, drainMs);
      }),
    ]);
    clearTimeout(drainTimer);
    if (pending.size > 0) {
      // No per-request AbortSignal: thousands of listeners on one signal cost O(n) per removal.
      rec.draining = true;
      await pool.destroy();
      await Promise.allSettled([...pending]);
    }
    return scheduleMs;
  };

  if (opts.warmupMs !== undefined && opts.warmupMs > 0) await phase(new Recorder(), opts.warmupMs, true);
  // Decided before the measured phase, whose own drain may destroy the pool too.
  const stalled = pool.destroyed;
  await opts.onMeasureStart?.();
  const rec = new Recorder();
  const started = performance.now();
  const scheduleMs = stalled ? 0 : await phase(rec, opts.durationMs, false);
  const durationMs = performance.now() - started;
  if (!pool.destroyed) await pool.destroy();
  const result = rec.result(durationMs, opts.stream === true, scheduleMs);
  return stalled ? { ...result, warmupStalled: true } : result;
}

/** One request at a time over one keep-alive connection: latency without queueing. */
export async function runSequential(opts: RequestSpec & { requests: number }): Promise<LoadResult> {
  const client = new Client(opts.origin, { pipelining: 1, keepAliveTimeout: 60_000 });
  const rec = new Recorder();
  const started = performance.now();
  for (let i = 0; i < opts.requests; i++) {
    await exchange(client, opts, rec, performance.now());
  }
  const durationMs = performance.now() - started;
  await client.destroy();
  return rec.result(durationMs, opts.stream === true);
}
