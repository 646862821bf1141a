import type { ErrorClass } from "../errors.js";
import { bifrostMetrics } from "./bifrost-names.js";
import { counter, histogram, type MetricJson } from "./metric-json.js";
import type { Usage } from "./usage.js";

/** What costs an exchange's usage (governance's price table, src/pipeline/governance/pricing.ts), in micro-dollars. */
export interface ExchangePricing {
  cost(provider: string, model: string, usage: Usage): number;
}

/** What the key series read of a governed request's spend record (src/governance/types.ts SpendRecord). */
export interface KeySpend {
  readonly keyId: string;
  readonly teamId: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costMicros: number;
}
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

/** Time between a stream's chunks: tokens come every few to few hundred milliseconds. */
export const INTER_TOKEN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

/**
 * Distinct virtual key/team series a lane keeps; later pairs are counted as key "other", team "other". Ids are
 * the operator's, but an operator with a million keys must not make a million series.
 */
export const MAX_KEY_SERIES = 1000;
const MAX_KEY_LABEL_CHARS = 128;
/** Distinct refusal reasons (error codes) a lane keeps: the gateway's own are few, plugins may make more. */
export const MAX_REFUSAL_REASONS = 64;

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
  costMicros: number;
}

interface KeySeries {
  readonly key: string;
  readonly team: string;
  requests: number;
  tokensIn: number;
  tokensOut: number;
  costMicros: number;
}

export class LaneMetrics {
  inFlight = 0;
  /** Requests that met an unexpected error in the gateway's own code (answered 500, or cut off). */
  internalErrors = 0;
  /** Attempts sent again after a failure (another key or deployment, or the same after a wait). */
  retries = 0;
  /** Moves to the next model of a fallback chain. */
  fallbacks = 0;
  /** Requests a plugin answered from its cache (HookAnswer.cache). */
  cacheHits = 0;
  /** Also expose Bifrost's names for the same series (GatewayConfig.bifrostMetrics). */
  bifrostNames = false;
  /** Prices the usage of each exchange; absent, no cost is counted. Follows the configuration. */
  pricing: ExchangePricing | undefined;
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
  private readonly firstToken = new Map<string, Histogram>();
  private readonly interToken = new Map<string, Histogram>();
  /** By key id, then team id (one series each for nearly every key). */
  private readonly keys = new Map<string, Map<string, KeySeries>>();
  private keySeriesCount = 0;
  private readonly refusals = new Map<string, number>();
  /** Refusals past the reason bound, or without a code. */
  private otherRefusals = 0;
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
    costMicros = 0,
  ): void {
    const series = this.seriesFor(provider, model, status, errorClass);
    series.count++;
    series.tokensIn += tokensIn;
    series.tokensOut += tokensOut;
    series.costMicros += costMicros;
    if (overheadSeconds >= 0) this.overhead.observe(overheadSeconds);
    if (upstreamSeconds >= 0 && provider !== "")
      providerHistogram(this.upstream, provider, UPSTREAM_BUCKETS).observe(upstreamSeconds);
  }

  /**
   * A stream's timing: its first chunk `firstSeconds` after dispatch, and the mean time between its chunks
   * (negative when it had fewer than two).
   */
  recordStream(provider: string, firstSeconds: number, interSeconds: number): void {
    providerHistogram(this.firstToken, provider, UPSTREAM_BUCKETS).observe(firstSeconds);
    if (interSeconds >= 0)
      providerHistogram(this.interToken, provider, INTER_TOKEN_BUCKETS).observe(interSeconds);
  }

  /** The gateway refused a request on its own policy (a key, a limit, a budget, a plugin); `reason` is its code. */
  refused(code: string | number | null): void {
    if (typeof code !== "string") {
      this.otherRefusals++;
      return;
    }
    const count = this.refusals.get(code);
    if (count !== undefined) this.refusals.set(code, count + 1);
    else if (this.refusals.size < MAX_REFUSAL_REASONS) this.refusals.set(code, 1);
    else this.otherRefusals++;
  }

  /** A governed request's settlement: its key's and team's requests, tokens and cost. */
  recordSpend(record: KeySpend): void {
    const series = this.keySeriesFor(record.keyId, record.teamId);
    series.requests++;
    series.tokensIn += record.promptTokens;
    series.tokensOut += record.completionTokens;
    series.costMicros += record.costMicros;
  }

  private keySeriesFor(key: string, team: string): KeySeries {
    const found = this.keys.get(key)?.get(team);
    if (found !== undefined) return found;
    if (
      this.keySeriesCount >= MAX_KEY_SERIES ||
      key.length > MAX_KEY_LABEL_CHARS ||
      team.length > MAX_KEY_LABEL_CHARS
    ) {
      const other = this.keys.get("other")?.get("other");
      if (other !== undefined) return other;
      key = "other";
      team = "other";
    }
    let teams = this.keys.get(key);
    if (teams === undefined) {
      teams = new Map();
      this.keys.set(key, teams);
    }
    const series: KeySeries = { key, team, requests: 0, tokensIn: 0, tokensOut: 0, costMicros: 0 };
    teams.set(team, series);
    this.keySeriesCount++;
    return series;
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
      costMicros: 0,
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
    const cost = counter(
      "switchyard_cost_dollars_total",
      "What providers' reported usage costs at the price table's prices, in US dollars",
    );
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
          if (s.costMicros > 0)
            cost.values.push({ value: s.costMicros / 1e6, labels: { provider: s.provider, model: s.model } });
        }
      }
    }
    const upstream = histogram(
      "switchyard_upstream_latency_seconds",
      "Time from dispatch to the provider's last byte",
    );
    for (const [provider, h] of this.upstream) pushHistogram(upstream, h, { provider });
    const firstToken = histogram(
      "switchyard_time_to_first_token_seconds",
      "Streams: time from dispatch to the provider's first chunk",
    );
    for (const [provider, h] of this.firstToken) pushHistogram(firstToken, h, { provider });
    const interToken = histogram(
      "switchyard_inter_token_latency_seconds",
      "Streams: mean time between the provider's chunks, one observation per stream",
    );
    for (const [provider, h] of this.interToken) pushHistogram(interToken, h, { provider });
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
    const retries = counter("switchyard_retries_total", "Attempts sent again after a failure");
    retries.values.push({ value: this.retries, labels: {} });
    const fallbacks = counter("switchyard_fallbacks_total", "Moves to the next model of a fallback chain");
    fallbacks.values.push({ value: this.fallbacks, labels: {} });
    const cacheHits = counter(
      "switchyard_cache_hits_total",
      "Requests answered from a cache, no provider asked",
    );
    cacheHits.values.push({ value: this.cacheHits, labels: {} });
    const refusals = counter(
      "switchyard_refusals_total",
      "Requests the gateway refused on its own policy (keys, limits, budgets, plugins), by error code",
    );
    for (const [reason, value] of this.refusals) refusals.values.push({ value, labels: { reason } });
    if (this.otherRefusals > 0)
      refusals.values.push({ value: this.otherRefusals, labels: { reason: "other" } });
    const metrics = [
      requests,
      tokensIn,
      tokensOut,
      cost,
      upstream,
      firstToken,
      interToken,
      overhead,
      inFlight,
      internal,
      retries,
      fallbacks,
      cacheHits,
      refusals,
      ...this.keySnapshot(),
    ];
    if (this.bifrostNames) metrics.push(...bifrostMetrics(metrics));
    for (const source of this.sources) metrics.push(...source());
    return metrics;
  }

  private keySnapshot(): MetricJson[] {
    const requests = counter("switchyard_key_requests_total", "Governed requests by virtual key and team");
    const tokensIn = counter("switchyard_key_tokens_input_total", "Prompt tokens by virtual key and team");
    const tokensOut = counter(
      "switchyard_key_tokens_output_total",
      "Completion tokens by virtual key and team",
    );
    const cost = counter("switchyard_key_cost_dollars_total", "Spend by virtual key and team, in US dollars");
    for (const teams of this.keys.values()) {
      for (const s of teams.values()) {
        const labels = { virtual_key: s.key, team: s.team };
        requests.values.push({ value: s.requests, labels });
        tokensIn.values.push({ value: s.tokensIn, labels });
        tokensOut.values.push({ value: s.tokensOut, labels });
        cost.values.push({ value: s.costMicros / 1e6, labels });
      }
    }
    return [requests, tokensIn, tokensOut, cost];
  }
}

function providerHistogram(
  histograms: Map<string, Histogram>,
  provider: string,
  bounds: readonly number[],
): Histogram {
  let h = histograms.get(provider);
  if (h === undefined) {
    h = new Histogram(bounds);
    histograms.set(provider, h);
  }
  return h;
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
