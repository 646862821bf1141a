// A metric in prom-client's JSON form, as lanes snapshot theirs and the control plane sums them
// (aggregate.ts); every metric source builds its series with these.

export interface MetricJson {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  aggregator: "sum";
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}

export function counter(name: string, help: string): MetricJson {
  return { name, help, type: "counter", aggregator: "sum", values: [] };
}

export function histogram(name: string, help: string): MetricJson {
  return { name, help, type: "histogram", aggregator: "sum", values: [] };
}
