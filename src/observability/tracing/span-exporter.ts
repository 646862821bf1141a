import { counter, type MetricJson } from "../metric-json.js";
import { encodeTraceRequest } from "./otlp-json.js";
import type { Span, SpanSink } from "./span.js";

/** Where spans go (GatewayConfig.tracing, src/config/tracing.ts). */
export interface ExportTarget {
  /** The full URL spans are POSTed to. */
  readonly endpoint: string;
  /** Sent with every export; may hold a collector's key: never log them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
}

// A lane's spans, batched and POSTed to the collector off the request path. One export is in flight at a
// time; spans beyond the queue's bound are dropped and counted, so a slow or unreachable collector costs
// bounded memory and never a request.

const BATCH_SIZE = 512;
const MAX_QUEUED = 4 * BATCH_SIZE;
const FLUSH_INTERVAL_MS = 1000;
const EXPORT_TIMEOUT_MS = 2000;

/** Sends one encoded batch; resolves whatever the outcome. */
export type PostBatch = (body: string) => Promise<void>;

/** A lane's export losses, kept across the exporters its configurations make so the counters only grow. */
export class TraceCounts {
  /** Spans dropped because the queue was full. */
  dropped = 0;
  /** Batches the collector did not accept (refused, failed or timed out). */
  failedExports = 0;

  metrics(): MetricJson[] {
    const dropped = counter(
      "switchyard_trace_spans_dropped_total",
      "Spans dropped because the export queue was full",
    );
    dropped.values.push({ value: this.dropped, labels: {} });
    const failed = counter(
      "switchyard_trace_exports_failed_total",
      "Span batches the OTLP collector refused, failed or did not answer in time",
    );
    failed.values.push({ value: this.failedExports, labels: {} });
    return [dropped, failed];
  }
}

export class SpanExporter implements SpanSink {
  private queue: Span[] = [];
  private timer: NodeJS.Timeout | undefined;
  private exporting: Promise<void> | undefined;
  private draining = false;

  constructor(
    readonly config: ExportTarget,
    readonly counts: TraceCounts,
    private readonly post: PostBatch = postTo(config, () => counts.failedExports++),
  ) {}

  add(span: Span): void {
    if (this.queue.length >= MAX_QUEUED) {
      this.counts.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= BATCH_SIZE) this.flush();
    else this.timer ??= setTimeout(this.flush, FLUSH_INTERVAL_MS).unref();
  }

  readonly flush = (): void => {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.exporting !== undefined || this.draining || this.queue.length === 0) return;
    this.exporting = this.post(this.nextBatch()).finally(() => {
      this.exporting = undefined;
      if (this.draining) return;
      if (this.queue.length >= BATCH_SIZE) this.flush();
      else if (this.queue.length > 0) this.timer ??= setTimeout(this.flush, FLUSH_INTERVAL_MS).unref();
    });
  };

  /**
   * Sends what is queued before the lane exits: after the export under way, batch after batch until one
   * fails, so a collector that is down holds a drain up for one export's timeout at most.
   */
  async drain(): Promise<void> {
    this.draining = true;
    this.flush();
    const failedBefore = this.counts.failedExports;
    await this.exporting;
    while (this.queue.length > 0 && this.counts.failedExports === failedBefore)
      await this.post(this.nextBatch());
  }

  private nextBatch(): string {
    return encodeTraceRequest(this.config.serviceName, this.queue.splice(0, BATCH_SIZE));
  }
}

function postTo(config: ExportTarget, failed: () => void): PostBatch {
  const headers: Record<string, string> = { ...config.headers, "content-type": "application/json" };
  return async (body) => {
    try {
      const response = await fetch(config.endpoint, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
      });
      await response.arrayBuffer();
      if (!response.ok) failed();
    } catch {
      failed();
    }
  };
}
