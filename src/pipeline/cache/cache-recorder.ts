import type { RedisSemanticShare } from "../../cache/redis-semantic.js";
import type { SemanticIndex } from "../../cache/semantic-index.js";
import { addSemantic } from "../../cache/semantic-search.js";
import type { CacheStore } from "../../cache/store.js";
import type { ExchangePricing } from "../../observability/lane-metrics.js";
import type { Usage } from "../../observability/usage.js";
import type { AttemptReport } from "../../routing/attempts.js";

// A cache miss's answer on its way to the client, kept to be stored once it is complete and a success: a
// whole reply as it is, a stream as the bytes the client was sent (so it is replayed the same). What is
// too large for an entry, cut short or an error is not stored.

/** An answer past this is not stored: the cache is for answers, not for documents. */
const MAX_ENTRY_BYTES = 4 * 1024 * 1024;

/** Where a miss's answer goes in the semantic index, found while it was looked up. */
export interface SemanticEntry {
  readonly index: SemanticIndex;
  /** Where other instances find the entry too, when the answers are in Redis. */
  readonly share: RedisSemanticShare | undefined;
  readonly scope: string;
  readonly vector: Float32Array;
  readonly signature: string;
}

export class CacheRecorder {
  private chunks: (Uint8Array | string)[] = [];
  private bytes = 0;
  private tooLarge = false;

  constructor(
    private readonly store: CacheStore,
    private readonly key: string,
    private readonly ttlMs: number,
    private readonly semantic: SemanticEntry | undefined,
    private readonly streamContentType: string,
    private readonly pricing: ExchangePricing | undefined,
  ) {}

  /** A whole reply, as sent. */
  whole(
    status: number,
    body: Uint8Array | string,
    usage: Usage | undefined,
    attempt: AttemptReport | undefined,
  ): void {
    if (status !== 200 || byteLength(body) > MAX_ENTRY_BYTES) return;
    this.save(toBytes(body), false, "application/json", this.costOf(usage, attempt));
  }

  /** One piece of a streamed reply, as sent. */
  chunk(chunk: Uint8Array | string): void {
    if (this.tooLarge) return;
    this.bytes += byteLength(chunk);
    if (this.bytes > MAX_ENTRY_BYTES) {
      this.tooLarge = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(chunk);
  }

  /** The stream ended: stored when it ended well and whole. */
  streamEnd(status: number, usage: Usage | undefined, attempt: AttemptReport | undefined): void {
    if (status !== 200 || this.tooLarge || this.bytes === 0) return;
    const body = Buffer.concat(this.chunks.map(toBytes));
    this.chunks = [];
    this.save(body, true, this.streamContentType, this.costOf(usage, attempt));
  }

  private costOf(usage: Usage | undefined, attempt: AttemptReport | undefined): number {
    const candidate = attempt?.candidate;
    if (usage === undefined || candidate === undefined || this.pricing === undefined) return 0;
    return this.pricing.cost(candidate.provider.name, candidate.model, usage);
  }

  private save(body: Uint8Array, streamed: boolean, contentType: string, costMicros: number): void {
    const entry = { status: 200, contentType, body, streamed, storedAt: Date.now(), costMicros };
    const semantic = this.semantic;
    void this.store.set(this.key, entry, this.ttlMs).then(() => {
      if (semantic === undefined) return;
      // A store that failed the write counted it; the index then points at nothing, which reads as a miss.
      const payload = Buffer.from(`${this.key}\n${semantic.signature}`);
      addSemantic(semantic.index, semantic.scope, semantic.vector, payload);
      void semantic.share?.publish(semantic.scope, semantic.vector, payload, this.ttlMs);
    });
  }
}

function byteLength(chunk: Uint8Array | string): number {
  return typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
}

function toBytes(chunk: Uint8Array | string): Uint8Array {
  return typeof chunk === "string" ? Buffer.from(chunk) : chunk;
}
