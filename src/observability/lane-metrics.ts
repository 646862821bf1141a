import type { ErrorClass } from "../errors.js";
// Per-lane metric state kept as plain numbers so that recording costs a map lookup and a few adds on the
// hot path. The control plane collects every lane's snapshot in prom-client's JSON form and lets
// prom-client sum and render them (see aggregate.ts).

export const UPSTREAM_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
] as const;
// Fine steps from 5 to 50 µs: the target sits at 20 µs and a p50 interpolated across 20–50 µs says little.
export const OVERHEAD_BUCKETS = [
  0.000005, 0.0000075, 0.00001, 0.0000125, 0.000015, 0.0000175, 0.00002, 0.000025, 0.00003, 0.00004, 0.00005,
  0.000075, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
] as const;

/** Distinct provider/model/status series a lane keeps before folding new models into "other". */
export const MAX_SERIES = 2000;
/**
 * Distinct model labels a lane keeps, and their summed length: `provider/anything` resolves for any name,
 * so clients choose these. Models first seen past either bound are counted as "other".
 */
export const MAX_MODEL_LABELS = 256;
const MAX_MODEL_LABEL_CHARS = 32 * 1024;

/** Fixed-bucket histogram; `counts[i]` holds the observations in (bounds[i-1], bounds[i]], not cumulative. */
export class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        return;
      }
    }
  }
}

interface RequestSeries {
  readonly provider: string;
  readonly model: string;
  readonly statusCode: number;
  /** The status as its label. */
  readonly status: string;
  readonly errorClass: ErrorClass | "";
  count: number;
  tokensIn: number;
  tokensOut: number;
}

export interface MetricJson {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  aggregator: "sum";
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

export class LaneMetrics {
  inFlight = 0;
  /** Requests that met an unexpected error in the gateway's own code (answered 500, or cut off). */
  internalErrors = 0;
  /**
   * The series by provider, then model; each model's few series (one per status and error class) in a
   * list. Nested rather than under one key joined from the labels: that string, made for every request,
   * was most of what recording allocated.
   */
  private readonly requests = new Map<string, Map<string, RequestSeries[]>>();
  private seriesCount = 0;
  private readonly modelLabels = new Set<string>();
  private modelLabelChars = 0;
  private readonly upstream = new Map<string, Histogram>();
  private readonly overhead = new Histogram(OVERHEAD_BUCKETS);
  private readonly sources: (() => MetricJson[])[] = [];

  /** Metrics kept elsewhere (shared upstream state, queue refusals), read at each snapshot. */
  addSource(source: () => MetricJson[]): void {
    this.sources.push(source);
  }

  /**
   * A request the gateway answered itself (refused, failed before any provider was asked, or answered
   * locally in `overheadSeconds`); `errorClass` is "" for a success.
   */
  recordAnswered(status: number, errorClass: ErrorClass | "", overheadSeconds = -1): void {
    this.record("", "", status, errorClass, -1, overheadSeconds, 0, 0);
  }

  /**
   * One finished exchange. `provider` and `model` are "" when the request never reached routing;
   * `errorClass` is "" for a success; a negative time was not measured.
   */
  record(
    provider: string,
    model: string,
    status: number,
    errorClass: ErrorClass | "",
    upstreamSeconds: number,
    overheadSeconds: number,
    tokensIn: number,
    tokensOut: number,
  ): void {
    const series = this.seriesFor(provider, model, status, errorClass);
    series.count++;
    series.tokensIn += tokensIn;
    series.tokensOut += tokensOut;
    if (overheadSeconds >= 0) this.overhead.observe(overheadSeconds);
    if (upstreamSeconds >= 0 && provider !== "") {
      let histogram = this.upstream.get(provider);
      if (histogram === undefined) {
        histogram = new Histogram(UPSTREAM_BUCKETS);
        this.upstream.set(provider, histogram);
      }
      histogram.observe(upstreamSeconds);
    }
  }

  /** The series of these labels, made when new; a model new past the bounds is counted as "other". */
  private seriesFor(
    provider: string,
    model: string,
    status: number,
    errorClass: ErrorClass | "",
  ): RequestSeries {
    const found = this.find(provider, model, status, errorClass);
    if (found !== undefined) return found;
    let label = this.modelLabel(model);
    if (label === model && this.seriesCount >= MAX_SERIES) label = "other";
    if (label !== model) {
      const other = this.find(provider, label, status, errorClass);
      if (other !== undefined) return other;
    }
    return this.add(provider, label, status, errorClass);
  }

  private find(
    provider: string,
    model: string,
    status: number,
    errorClass: ErrorClass | "",
  ): RequestSeries | undefined {
    const list = this.requests.get(provider)?.get(model);
    if (list === undefined) return undefined;
    for (const series of list)
      if (series.statusCode === status && series.errorClass === errorClass) return series;
    return undefined;
  }

  private add(provider: string, model: string, status: number, errorClass: ErrorClass | ""): RequestSeries {
    let models = this.requests.get(provider);
    if (models === undefined) {
      models = new Map();
      this.requests.set(provider, models);
    }
    let list = models.get(model);
    if (list === undefined) {
      list = [];
      models.set(model, list);
    }
    const series: RequestSeries = {
      provider,
      model,
      statusCode: status,
      status: String(status),
      errorClass,
      count: 0,
      tokensIn: 0,
      tokensOut: 0,
    };
    list.push(series);
    this.seriesCount++;
    return series;
  }

  /** `model` itself while the label bounds allow a new one, else "other". */
  private modelLabel(model: string): string {
    if (model === "" || this.modelLabels.has(model)) return model;
    if (
      this.modelLabels.size >= MAX_MODEL_LABELS ||
      this.modelLabelChars + model.length > MAX_MODEL_LABEL_CHARS
    )
      return "other";
    this.modelLabels.add(model);
    this.modelLabelChars += model.length;
    return model;
  }

  snapshot(): MetricJson[] {
    const requests: MetricJson = counter(
      "switchyard_requests_total",
      "Requests by provider, model, status and error class (client, policy, provider, gateway; empty for a success)",
    );
    const tokensIn = counter("switchyard_tokens_input_total", "Prompt tokens reported by providers");
    const tokensOut = counter("switchyard_tokens_output_total", "Completion tokens reported by providers");
    for (const models of this.requests.values()) {
      for (const list of models.values()) {
        for (const s of list) {
          const labels = {
            provider: s.provider,
            model: s.model,
            status: s.status,
            error_class: s.errorClass,
          };
          requests.values.push({ value: s.count, labels });
          if (s.tokensIn > 0)
            tokensIn.values.push({ value: s.tokensIn, labels: { provider: s.provider, model: s.model } });
          if (s.tokensOut > 0)
            tokensOut.values.push({ value: s.tokensOut, labels: { provider: s.provider, model: s.model } });
        }
      }
    }
    const upstream = histogram(
      "switchyard_upstream_latency_seconds",
      "Time from dispatch to the provider's last byte",
    );
    for (const [provider, h] of this.upstream) pushHistogram(upstream, h, { provider });
    const overhead = histogram(
      "switchyard_gateway_overhead_seconds",
      "Time spent in gateway code per request, excluding the wait for the provider",
    );
    pushHistogram(overhead, this.overhead, {});
    const inFlight: MetricJson = {
      name: "switchyard_requests_in_flight",
      help: "Requests being served",
      type: "gauge",
      aggregator: "sum",
      values: [{ value: this.inFlight, labels: {} }],
    };
    const internal = counter(
      "switchyard_internal_errors_total",
      "Requests that met an unexpected error in the gateway's own code",
    );
    internal.values.push({ value: this.internalErrors, labels: {} });
    const metrics = [requests, tokensIn, tokensOut, upstream, overhead, inFlight, internal];
    for (const source of this.sources) metrics.push(...source());
    return metrics;
  }
}

export function counter(name: string, help: string): MetricJson {
  return { name, help, type: "counter", aggregator: "sum", values: [] };
}

export function histogram(name: string, help: string): MetricJson {
  return { name, help, type: "histogram", aggregator: "sum", values: [] };
}

/** Appends `h` to `metric` in prom-client's JSON form: cumulative buckets, then sum and count. */
export function pushHistogram(metric: MetricJson, h: Histogram, labels: Record<string, string>): void {
  let cumulative = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    cumulative += h.counts[i] as number;
    metric.values.push({
      value: cumulative,
      labels: { ...labels, le: h.bounds[i] as number },
      metricName: `${metric.name}_bucket`,
    });
  }
  metric.values.push({
    value: h.count,
    labels: { ...labels, le: "+Inf" },
    metricName: `${metric.name}_bucket`,
  });
  metric.values.push({ value: h.sum, labels, metricName: `${metric.name}_sum` });
  metric.values.push({ value: h.count, labels, metricName: `${metric.name}_count` });
}
