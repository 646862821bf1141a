// Fixed-rate (open-loop) load driver: sends POSTs at a constant rate regardless of replies, measures each
// latency into an hdr histogram in microseconds,
// and prints one JSON line. Runs in its own process.
// Usage: node dist/bench/architecture/driver.js --url http://127.0.0.1:8801/v1/chat/completions
//          --rate 1000 --duration 10 --warmup 2
import { performance } from "node:perf_hooks";
import * as hdr from "hdr-histogram-js";
import { Pool } from "undici";
import { CHAT_BODY, flag } from "./common.js";

const url = new URL(flag("url", "http://127.0.0.1:8801/v1/chat/completions"));
const rate = Number(flag("rate", "1000"));
const duration = Number(flag("duration", "10")) * 1000;
const warmup = Number(flag("warmup", "2")) * 1000;
const timeout = Number(flag("timeout", "30")) * 1000;

const pool = new Pool(url.origin, {
  connections: null,
  pipelining: 1,
  headersTimeout: timeout,
  bodyTimeout: timeout,
  keepAliveTimeout: 30_000,
});
const histogram = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 120_000_000,
  numberOfSignificantValueDigits: 3,
});
// Send lag (actual minus scheduled send time) shows whether the driver kept its rate; latency is taken
// from the actual send so that the 1 ms timer granularity of the driver does not pollute it.
const lag = hdr.build({
  lowestDiscernibleValue: 1,
  highestTrackableValue: 120_000_000,
  numberOfSignificantValueDigits: 3,
});
const statuses: Record<string, number> = {};
let sent = 0;
let done = 0;
let errors = 0;
let inFlight = 0;
let maxInFlight = 0;
const headers = { "content-type": "application/json" };

function fire(scheduled: number, record: boolean): void {
  const sentAt = performance.now();
  if (record) lag.recordValue(Math.max(1, Math.round((sentAt - scheduled) * 1000)));
  inFlight++;
  if (inFlight > maxInFlight) maxInFlight = inFlight;
  pool
    .request({ method: "POST", path: url.pathname, headers, body: CHAT_BODY })
    .then(async (res) => {
      await res.body.dump();
      return res.statusCode;
    })
    .then(
      (status) => {
        inFlight--;
        if (!record) return;
        done++;
        statuses[status] = (statuses[status] ?? 0) + 1;
        histogram.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000)));
      },
      () => {
        inFlight--;
        if (!record) return;
        done++;
        errors++;
      },
    );
}

const start = performance.now();
const total = Math.floor(((warmup + duration) / 1000) * rate);
const warmCount = Math.floor((warmup / 1000) * rate);
const interval = 1000 / rate;
let i = 0;

function tick(): void {
  const now = performance.now();
  while (i < total) {
    const at = start + i * interval;
    if (at > now) break;
    fire(at, i >= warmCount);
    if (i >= warmCount) sent++;
    i++;
  }
  if (i < total) setTimeout(tick, Math.max(0, start + i * interval - performance.now() - 0.5));
  else waitDrain();
}

function waitDrain(): void {
  const deadline = performance.now() + timeout;
  const poll = (): void => {
    if (inFlight === 0 || performance.now() > deadline) finish();
    else setTimeout(poll, 10);
  };
  poll();
}

function finish(): void {
  const ok = statuses["200"] ?? 0;
  const p = (q: number): number => histogram.getValueAtPercentile(q);
  console.log(
    JSON.stringify({
      url: url.href,
      rate,
      durationS: duration / 1000,
      sent,
      completed: done,
      ok,
      errors,
      statuses,
      successRate: sent > 0 ? ok / sent : 0,
      maxInFlight,
      sendLagUs: { p50: lag.getValueAtPercentile(50), p99: lag.getValueAtPercentile(99), max: lag.maxValue },
      latencyUs: {
        p50: p(50),
        p90: p(90),
        p99: p(99),
        p999: p(99.9),
        max: histogram.maxValue,
        mean: histogram.mean,
      },
    }),
  );
  void pool.destroy().then(() => process.exit(0));
}

tick();
