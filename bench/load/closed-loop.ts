/**
 * Closed-loop maximum throughput with autocannon: step the connection count up and keep the highest
 * requests/second whose run had no error, no timeout and no non-2xx answer.
 */
import autocannon from "autocannon";

export interface ThroughputStep {
  connections: number;
  rps: number;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  p50Us: number;
  p99Us: number;
}

export interface ThroughputResult {
  /** Highest mean RPS of a clean step; 0 if none was clean. */
  maxRps: number;
  connections: number;
  steps: ThroughputStep[];
}

export interface ThroughputOptions {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connectionSteps: number[];
  stepSeconds: number;
  timeoutSeconds?: number;
  /** Stop stepping once RPS falls this far below the best clean step. */
  dropRatio?: number;
}

/** One closed-loop run of `stepSeconds` at `connections`. */
export function runOnce(
  opts: Omit<ThroughputOptions, "connectionSteps">,
  connections: number,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: opts.url,
        method: opts.method ?? "POST",
        headers: opts.headers,
        body: opts.body,
        connections,
        pipelining: 1,
        duration: opts.stepSeconds,
        timeout: opts.timeoutSeconds ?? 10,
      },
      (err, result) => {
        if (err) reject(err);
        else resolve(result);
      },
    );
  });
}

export async function runThroughput(opts: ThroughputOptions): Promise<ThroughputResult> {
  const steps: ThroughputStep[] = [];
  let best: ThroughputStep | undefined;
  for (const connections of opts.connectionSteps) {
    const r = await runOnce(opts, connections);
    // autocannon reports latency in milliseconds.
    const step: ThroughputStep = {
      connections,
      rps: r.requests.average,
      requests: r.requests.total,
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      p50Us: Math.round(r.latency.p50 * 1000),
      p99Us: Math.round(r.latency.p99 * 1000),
    };
    steps.push(step);
    const clean = step.errors === 0 && step.timeouts === 0 && step.non2xx === 0 && step.requests > 0;
    if (clean && (best === undefined || step.rps > best.rps)) best = step;
    if (!clean) break;
    if (best !== undefined && step.rps < best.rps * (opts.dropRatio ?? 0.85)) break;
  }
  return { maxRps: best?.rps ?? 0, connections: best?.connections ?? 0, steps };
}
