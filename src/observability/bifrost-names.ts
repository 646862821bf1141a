import { counter, histogram, type MetricJson } from "./metric-json.js";

// Bifrost's telemetry plugin names for what Switchyard already counts, so that dashboards made for Bifrost
// keep working (SWITCHYARD_BIFROST_METRICS=true). Derived from a lane's snapshot at scrape time: the hot
// path records once. Labels are provider and model (histograms: provider), a subset of Bifrost's; its key,
// team, retry and fallback labels are not repeated here (see switchyard_key_* and switchyard_retries_total).

/** Switchyard histogram → Bifrost name, same buckets and labels. */
const HISTOGRAMS: Readonly<Record<string, [name: string, help: string]>> = {
  switchyard_upstream_latency_seconds: [
    "bifrost_upstream_latency_seconds",
    "Latency of requests forwarded to upstream providers",
  ],
  switchyard_time_to_first_token_seconds: [
    "bifrost_stream_first_token_latency_seconds",
    "Latency of the first token of a stream response",
  ],
  switchyard_inter_token_latency_seconds: [
    "bifrost_stream_inter_token_latency_seconds",
    "Latency between the tokens of a stream response",
  ],
};

/** Switchyard counter by provider and model → Bifrost name. */
const COUNTERS: Readonly<Record<string, [name: string, help: string]>> = {
  switchyard_tokens_input_total: [
    "bifrost_input_tokens_total",
    "Input tokens of requests to upstream providers",
  ],
  switchyard_tokens_output_total: [
    "bifrost_output_tokens_total",
    "Output tokens of requests to upstream providers",
  ],
  switchyard_cost_dollars_total: ["bifrost_cost_total", "Cost in USD of requests to upstream providers"],
  switchyard_cache_hits_total: ["bifrost_cache_hits_total", "Requests answered from the cache"],
};

export function bifrostMetrics(snapshot: readonly MetricJson[]): MetricJson[] {
  const out: MetricJson[] = [];
  for (const metric of snapshot) {
    const asHistogram = HISTOGRAMS[metric.name];
    if (asHistogram !== undefined) {
      const [name, help] = asHistogram;
      const renamed = histogram(name, help);
      for (const v of metric.values)
        renamed.values.push({
          value: v.value,
          labels: v.labels,
          metricName: v.metricName?.replace(metric.name, name),
        });
      out.push(renamed);
      continue;
    }
    const asCounter = COUNTERS[metric.name];
    if (asCounter !== undefined) {
      const renamed = counter(...asCounter);
      for (const v of metric.values) renamed.values.push({ value: v.value, labels: v.labels });
      out.push(renamed);
    } else if (metric.name === "switchyard_requests_total") out.push(...upstreamRequests(metric));
  }
  return out;
}

/** Requests that reached a provider, by provider and model: all of them, the successes and the errors. */
function upstreamRequests(requests: MetricJson): MetricJson[] {
  const all = counter("bifrost_upstream_requests_total", "Requests forwarded to upstream providers");
  const success = counter("bifrost_success_requests_total", "Successful requests to upstream providers");
  const error = counter("bifrost_error_requests_total", "Failed requests to upstream providers");
  const sums = new Map<string, { provider: string; model: string; all: number; success: number }>();
  for (const { value, labels } of requests.values) {
    const provider = String(labels.provider);
    if (provider === "") continue;
    const model = String(labels.model);
    const key = `${provider}\u0000${model}`;
    let sum = sums.get(key);
    if (sum === undefined) {
      sum = { provider, model, all: 0, success: 0 };
      sums.set(key, sum);
    }
    sum.all += value;
    if (Number(labels.status) < 400) sum.success += value;
  }
  for (const s of sums.values()) {
    const labels = { provider: s.provider, model: s.model };
    all.values.push({ value: s.all, labels });
    success.values.push({ value: s.success, labels });
    error.values.push({ value: s.all - s.success, labels });
  }
  return [all, success, error];
}
