import type { ErrorClass } from "../errors.js";
import type { LaneMetrics } from "./lane-metrics.js";
import { emptyUsage, type Usage } from "./usage.js";

/**
 * The accounting of one upstream exchange: in-flight count, the split of its time between gateway code and
 * the wait for the provider, usage, and the record once it is over (exactly once, whatever ends it).
 */
export class ExchangeAccount {
  readonly usage: Usage = emptyUsage();
  private dispatchedAt = 0;
  private upstreamEndAt = -1;
  private repliedAt = -1;
  private firstChunkAt = -1;
  private lastChunkAt = -1;
  private chunks = 0;
  private finished = false;

  constructor(
    readonly metrics: LaneMetrics,
    private readonly provider: string,
    private readonly model: string,
    /** performance.now() when the request body was complete: gateway time starts here. */
    private readonly startedAt: number,
  ) {
    metrics.inFlight++;
  }

  /** Right after the request was handed to the upstream pool: the first slice of gateway time ends. */
  dispatched(): void {
    this.dispatchedAt = performance.now();
  }

  /** A piece of a streamed reply came from the provider: the stream's time to first token and pace. */
  chunk(): void {
    const now = performance.now();
    if (this.chunks === 0) this.firstChunkAt = now;
    this.lastChunkAt = now;
    this.chunks++;
  }

  /** The provider's last byte arrived: gateway time resumes. */
  upstreamEnded(): void {
    this.upstreamEndAt = performance.now();
  }

  /**
   * The last bytes are being handed to the HTTP front: gateway time ends here. Writing them to the client's
   * socket is I/O like the write of the upstream request, which counts as the provider's time.
   */
  replied(): void {
    this.repliedAt = performance.now();
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** `errorClass` is "" for a success. */
  finish(status: number, errorClass: ErrorClass | ""): void {
    if (this.finished) return;
    this.finished = true;
    const now = this.repliedAt < 0 ? performance.now() : this.repliedAt;
    const upstreamEnd = this.upstreamEndAt < 0 ? now : this.upstreamEndAt;
    const dispatchedAt = this.dispatchedAt === 0 ? now : this.dispatchedAt;
    const metrics = this.metrics;
    metrics.inFlight--;
    if (this.chunks > 0)
      metrics.recordStream(
        this.provider,
        (this.firstChunkAt - dispatchedAt) / 1000,
        this.chunks > 1 ? (this.lastChunkAt - this.firstChunkAt) / (this.chunks - 1) / 1000 : -1,
      );
    const usage = this.usage;
    const cost =
      metrics.pricing === undefined || usage.prompt + usage.completion === 0
        ? 0
        : metrics.pricing.cost(this.provider, this.model, usage);
    metrics.record(
      this.provider,
      this.model,
      status,
      errorClass,
      (upstreamEnd - dispatchedAt) / 1000,
      (dispatchedAt - this.startedAt + (now - upstreamEnd)) / 1000,
      usage.prompt,
      usage.completion,
      cost,
    );
  }
}
