import type { LogsConfig } from "../config/types.js";
import type { ErrorClass, GatewayError } from "../errors.js";
import type { RequestHead } from "../http/exchange.js";
import { timeOrderedUuid } from "../http/random-id.js";
import type { ExchangePricing } from "../observability/lane-metrics.js";
import { RecordEncoder, type RecordInTransit } from "../observability/request-log/codec.js";
import type { LoggedErrorClass } from "../observability/request-log/record.js";
import type { Usage } from "../observability/usage.js";
import type { LogRingWriter } from "../shm/log-ring.js";
import type { LaneKey } from "./governance/lane-governance.js";
import type { InferenceRoute } from "./routes.js";

// A lane's request log: each finished request becomes one record, encoded into the lane's ring for the
// log worker. Writing never waits: a full ring drops the record and counts it (the control plane reports
// the count). Content is cut here, so the ring and the store only ever see bounded records.

const MAX_ERROR_MESSAGE = 1000;
/** A body's `metadata` is looked for only when its bytes name it; most bodies never pay for a parse. */
const METADATA_FIELD = Buffer.from('"metadata"');
const MAX_METADATA_ENTRIES = 16;
const MAX_METADATA_NAME = 64;
const MAX_METADATA_VALUE = 256;
/** Bodies past this are not parsed for their metadata. */
const MAX_METADATA_BODY = 1024 * 1024;

/** Who sent a request, as its record names them. */
export interface RequestParty {
  readonly virtualKey: string;
  readonly team: string;
  readonly customer: string;
  /** The key allows its requests' content to be logged. */
  readonly logContent: boolean;
}

const ANONYMOUS: RequestParty = { virtualKey: "", team: "", customer: "", logContent: true };

export function partyOf(key: LaneKey | null): RequestParty {
  if (key === null) return ANONYMOUS;
  const data = key.data;
  return { virtualKey: data.id, team: data.teamId, customer: data.customerId, logContent: data.logContent };
}

/** What the last attempt used, for the record. */
export interface LoggedAttempt {
  readonly provider: string;
  readonly model: string;
  readonly key: string;
  readonly retries: number;
  readonly fallbackIndex: number;
}

const NO_ATTEMPT: LoggedAttempt = { provider: "", model: "", key: "", retries: 0, fallbackIndex: 0 };

/** How a request ended. */
export interface LoggedEnd {
  readonly status: number;
  readonly errorCode: string;
  readonly errorClass: ErrorClass | "";
  readonly errorMessage: string;
  readonly usage: Usage | undefined;
}

export class LaneRequestLog {
  private readonly encoder = new RecordEncoder();

  constructor(
    private readonly ring: LogRingWriter,
    readonly settings: LogsConfig,
    /** Prices the usage (the lane's price table); absent, records carry no cost. */
    private readonly pricing: ExchangePricing | undefined,
  ) {}

  /** Whether a request of this party is logged with its content. */
  logsContent(party: RequestParty): boolean {
    return this.settings.content && party.logContent && this.settings.maxContentBytes > 0;
  }

  /** A fresh buffer for a stream's relayed bytes, as much as the record keeps. */
  outputBuffer(): Buffer {
    return Buffer.allocUnsafe(this.settings.maxContentBytes);
  }

  /** Encodes and pushes one request's record; false when the ring was full and the record dropped. */
  write(
    request: {
      readonly head: RequestHead;
      readonly route: InferenceRoute;
      readonly time: number;
      readonly model: string;
      readonly stream: boolean;
      readonly party: RequestParty;
      readonly body: Buffer | undefined;
      readonly cache: "" | "hit";
    },
    attempt: LoggedAttempt | undefined,
    end: LoggedEnd,
    latencyMs: number,
    ttftMs: number,
    output: Uint8Array | string | undefined,
  ): boolean {
    const used = attempt ?? NO_ATTEMPT;
    const usage = end.usage;
    const content = this.logsContent(request.party);
    const record: RecordInTransit = {
      id: timeOrderedUuid(request.time),
      requestId: request.head.requestId,
      time: request.time,
      route: request.route.name,
      format: request.route.format.name,
      model: request.model,
      provider: used.provider,
      providerModel: used.model,
      providerKey: used.key,
      virtualKey: request.party.virtualKey,
      team: request.party.team,
      customer: request.party.customer,
      status: end.status,
      errorCode: end.errorCode,
      errorClass: end.errorClass as LoggedErrorClass,
      errorMessage:
        end.errorMessage.length > MAX_ERROR_MESSAGE
          ? end.errorMessage.slice(0, MAX_ERROR_MESSAGE)
          : end.errorMessage,
      latencyMs: Math.round(latencyMs * 1000) / 1000,
      ttftMs: ttftMs < 0 ? -1 : Math.round(ttftMs * 1000) / 1000,
      retries: used.retries,
      fallbackIndex: used.fallbackIndex,
      cache: request.cache,
      inputTokens: usage?.prompt ?? 0,
      outputTokens: usage?.completion ?? 0,
      cachedTokens: usage?.cachedRead ?? 0,
      reasoningTokens: usage?.reasoning ?? 0,
      costMicros:
        usage === undefined || used.provider === "" || this.pricing === undefined
          ? 0
          : this.pricing.cost(used.provider, used.model, usage),
      stream: request.stream,
      metadata: metadataOf(request.head.metadata, request.body),
      input: content && request.body !== undefined ? this.cut(request.body) : null,
      output: content && output !== undefined ? this.cut(output) : null,
    };
    return this.ring.push(this.encoder.encode(record));
  }

  /** A request the gateway refused before it became a RequestHooks (no key, too large, unknown model, ...). */
  writeRefusal(
    head: RequestHead,
    route: InferenceRoute,
    party: RequestParty,
    model: string,
    body: Buffer | undefined,
    error: GatewayError,
    errorClass: ErrorClass,
    startedAt: number,
  ): boolean {
    return this.write(
      { head, route, time: Date.now(), model, stream: false, party, body, cache: "" },
      undefined,
      {
        status: error.status,
        errorCode: String(error.code ?? error.status),
        errorClass,
        errorMessage: error.message,
        usage: undefined,
      },
      startedAt < 0 ? 0 : performance.now() - startedAt,
      -1,
      undefined,
    );
  }

  private cut(content: Uint8Array | string): Uint8Array | string {
    const max = this.settings.maxContentBytes;
    if (typeof content !== "string") return content.length > max ? content.subarray(0, max) : content;
    // A string's bytes are at most 3 per UTF-16 unit: only a long one needs measuring.
    if (content.length * 3 <= max) return content;
    const bytes = Buffer.from(content, "utf8");
    return bytes.length > max ? bytes.subarray(0, max) : bytes;
  }
}

/** The client's metadata: its headers', then the body's `metadata` object's string values, bounded. */
function metadataOf(
  headerPairs: readonly string[],
  body: Buffer | undefined,
): Readonly<Record<string, string>> | null {
  // Without a prototype: a client's "__proto__" is a name like any other.
  let out: Record<string, string> | null = null;
  for (let i = 0; i + 1 < headerPairs.length; i += 2) {
    out ??= Object.create(null) as Record<string, string>;
    out[headerPairs[i] as string] = headerPairs[i + 1] as string;
  }
  if (body === undefined || body.length > MAX_METADATA_BODY || body.indexOf(METADATA_FIELD) < 0) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return out;
  }
  const metadata = (parsed as { metadata?: unknown } | null)?.metadata;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) return out;
  let count = out === null ? 0 : Object.keys(out).length;
  for (const [name, value] of Object.entries(metadata)) {
    if (count >= MAX_METADATA_ENTRIES) break;
    if (typeof value !== "string" || name.length === 0 || name.length > MAX_METADATA_NAME) continue;
    out ??= Object.create(null) as Record<string, string>;
    // Headers win: a body cannot overwrite what the request's headers said.
    if (name in out) continue;
    out[name] = value.length > MAX_METADATA_VALUE ? value.slice(0, MAX_METADATA_VALUE) : value;
    count++;
  }
  return out;
}

/**
 * One request's record in the making: the reply's first byte, the stream's bytes as far as the record keeps
 * them, and the end, written once.
 */
export class LoggedRequest {
  readonly time = Date.now();
  private readonly content: boolean;
  private firstByteAt = -1;
  private streamed: Buffer | undefined;
  private streamedLength = 0;
  private whole: Uint8Array | string | undefined;
  private written = false;
  cache: "" | "hit" = "";

  constructor(
    private readonly log: LaneRequestLog,
    readonly head: RequestHead,
    readonly route: InferenceRoute,
    readonly model: string,
    readonly stream: boolean,
    readonly party: RequestParty,
    readonly body: Buffer,
    /** performance.now() when the body was complete. */
    private readonly startedAt: number,
  ) {
    this.content = log.logsContent(party);
  }

  /** A piece of the streamed reply as the client got it. */
  chunk(piece: Uint8Array | string): void {
    if (this.firstByteAt < 0) this.firstByteAt = performance.now();
    if (!this.content) return;
    this.streamed ??= this.log.outputBuffer();
    const room = this.streamed.length - this.streamedLength;
    if (room <= 0) return;
    this.streamedLength +=
      typeof piece === "string"
        ? this.streamed.write(piece, this.streamedLength, room, "utf8")
        : Buffer.from(piece.buffer, piece.byteOffset, Math.min(room, piece.length)).copy(
            this.streamed,
            this.streamedLength,
          );
  }

  answeredFromCache(): void {
    this.cache = "hit";
  }

  /** The whole reply of a request that was not streamed. */
  reply(body: Uint8Array | string): void {
    this.whole = body;
  }

  end(attempt: LoggedAttempt | undefined, end: LoggedEnd): void {
    if (this.written) return;
    this.written = true;
    const now = performance.now();
    const output = this.streamed === undefined ? this.whole : this.streamed.subarray(0, this.streamedLength);
    this.log.write(
      this,
      attempt,
      end,
      now - this.startedAt,
      this.firstByteAt < 0 ? -1 : this.firstByteAt - this.startedAt,
      output,
    );
  }
}
