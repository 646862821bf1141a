import type { LogsConfig } from "../config/types.js";
import type { ErrorClass, GatewayError } from "../errors.js";
import type { RequestHead } from "../http/exchange.js";
import type { ScanOk } from "../native/types.js";
import type { ExchangePricing } from "../observability/lane-metrics.js";
import { RecordEncoder, type RecordInTransit } from "../observability/request-log/codec.js";
import type { LoggedErrorClass, RequestLogRecord } from "../observability/request-log/record.js";
import type { Usage } from "../observability/usage.js";
import { writeTimeOrderedUuid } from "../random-id.js";
import type { AttemptReport } from "../routing/attempts.js";
import type { LogRingWriter } from "../shm/log-ring.js";
import type { LaneKey } from "./governance/lane-governance.js";
import type { InferenceRoute } from "./routes.js";

// A lane's request log: each finished request becomes one record, encoded into the lane's ring for the
// log worker. Writing never waits: a full ring drops the record and counts it (the control plane reports
// the count). Content is cut here, so the ring and the store only ever see bounded records.

const MAX_ERROR_MESSAGE = 1000;
/** Model names come from clients: a megabyte one must not reach the ring or the store whole. */
const MAX_MODEL_NAME = 256;
const MAX_METADATA_ENTRIES = 16;
const MAX_METADATA_NAME = 64;
const MAX_METADATA_VALUE = 256;
/**
 * A body's `metadata` object past this is not parsed: what is kept of it (16 entries of 64 + 256 characters)
 * fits many times over, and a lane does not parse a client's megabyte for a record.
 */
const MAX_METADATA_OBJECT = 64 * 1024;

/** Who sent a request, as its record names them. */
export interface RequestParty {
  readonly virtualKey: string;
  readonly team: string;
  readonly customer: string;
  /** The key allows its requests' content to be logged. */
  readonly logContent: boolean;
}

const ANONYMOUS: RequestParty = { virtualKey: "", team: "", customer: "", logContent: true };

/** Made once per key of a governance snapshot, not once per request. */
const parties = new WeakMap<LaneKey, RequestParty>();

export function partyOf(key: LaneKey | null): RequestParty {
  if (key === null) return ANONYMOUS;
  let party = parties.get(key);
  if (party === undefined) {
    const data = key.data;
    party = {
      virtualKey: data.id,
      team: data.teamId,
      customer: data.customerId,
      logContent: data.logContent,
    };
    parties.set(key, party);
  }
  return party;
}

/** A request body as its record takes it: the bytes, and their scan where they were valid JSON. */
export interface LoggedBody {
  readonly body: Buffer;
  /** Says where the body's top-level `metadata` object is. */
  readonly scan: ScanOk | undefined;
}

/** How a request ended. */
export interface LoggedEnd {
  readonly status: number;
  readonly errorCode: string;
  readonly errorClass: ErrorClass | "";
  readonly errorMessage: string;
  readonly usage: Usage | undefined;
}

type MutableRecord = { -readonly [K in keyof RecordInTransit]: RecordInTransit[K] };

export class LaneRequestLog {
  private readonly encoder = new RecordEncoder();
  /** Filled for each record and encoded at once: one object per lane, not one per request. */
  private readonly record: MutableRecord = {
    id: new Uint8Array(16),
    requestId: "",
    time: 0,
    route: "",
    format: "",
    model: "",
    provider: "",
    providerModel: "",
    providerKey: "",
    virtualKey: "",
    team: "",
    customer: "",
    status: 0,
    errorCode: "",
    errorClass: "",
    errorMessage: "",
    latencyMs: 0,
    ttftMs: -1,
    retries: 0,
    fallbackIndex: 0,
    cache: "",
    inputTokens: 0,
    outputTokens: 0,
    cachedTokens: 0,
    reasoningTokens: 0,
    costMicros: 0,
    cacheSavedMicros: 0,
    stream: false,
    metadata: null,
    input: null,
    output: null,
  };

  /** Requests whose records wait for their replies to go out; written together in one microtask. */
  private deferred: LoggedRequest[] = [];
  private readonly writeDeferred = (): void => {
    const requests = this.deferred;
    this.deferred = [];
    for (const request of requests) {
      // Nothing is left to answer: a record that cannot be written is told, and the others still are.
      try {
        request.writeDeferred();
      } catch (error) {
        console.error(
          `switchyard: the request log could not write the record of request ${request.head.requestId}:`,
          error instanceof Error ? error.stack : error,
        );
      }
    }
  };

  constructor(
    private readonly ring: LogRingWriter,
    readonly settings: LogsConfig,
    /** Prices the usage (the lane's price table); absent, records carry no cost. */
    private readonly pricing: ExchangePricing | undefined,
  ) {}

  /**
   * Writes the request's record in a microtask: after the synchronous work that sends its reply, before
   * the lane reads anything else.
   */
  writeSoon(request: LoggedRequest): void {
    if (this.deferred.push(request) === 1) queueMicrotask(this.writeDeferred);
  }

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
      /** The body's scan, which says where its top-level `metadata` object is; absent when it has none. */
      readonly scan: ScanOk | undefined;
      readonly cache: RequestLogRecord["cache"];
      readonly cacheSavedMicros: number;
    },
    /** The last attempt; absent when no provider was asked. */
    attempt: AttemptReport | undefined,
    end: LoggedEnd,
    latencyMs: number,
    ttftMs: number,
    output: Uint8Array | string | undefined,
  ): boolean {
    const usage = end.usage;
    const content = this.logsContent(request.party);
    const record = this.record;
    const candidate = attempt?.candidate;
    const provider = candidate?.provider.name ?? "";
    const model = candidate?.model ?? "";
    writeTimeOrderedUuid(request.time, record.id);
    record.requestId = request.head.requestId;
    record.time = request.time;
    record.route = request.route.name;
    record.format = request.route.format.name;
    record.model = clipped(request.model, MAX_MODEL_NAME);
    record.provider = provider;
    record.providerModel = clipped(model, MAX_MODEL_NAME);
    record.providerKey =
      candidate === undefined ? "" : (candidate.provider.keys[candidate.keyIndex]?.name ?? "");
    record.virtualKey = request.party.virtualKey;
    record.team = request.party.team;
    record.customer = request.party.customer;
    record.status = end.status;
    record.errorCode = end.errorCode;
    record.errorClass = end.errorClass as LoggedErrorClass;
    record.errorMessage = clipped(end.errorMessage, MAX_ERROR_MESSAGE);
    record.latencyMs = Math.round(latencyMs * 1000) / 1000;
    record.ttftMs = ttftMs < 0 ? -1 : Math.round(ttftMs * 1000) / 1000;
    record.retries = attempt?.retries ?? 0;
    record.fallbackIndex = attempt?.fallbackIndex ?? 0;
    record.cache = request.cache;
    record.cacheSavedMicros = request.cacheSavedMicros;
    record.inputTokens = usage?.prompt ?? 0;
    record.outputTokens = usage?.completion ?? 0;
    record.cachedTokens = usage?.cachedRead ?? 0;
    record.reasoningTokens = usage?.reasoning ?? 0;
    record.costMicros =
      usage === undefined || provider === "" || this.pricing === undefined
        ? 0
        : this.pricing.cost(provider, model, usage);
    record.stream = request.stream;
    record.metadata = metadataOf(request.head.metadata, request.body, request.scan);
    record.input = content && request.body !== undefined ? this.cut(request.body) : null;
    record.output = content && output !== undefined ? this.cut(output) : null;
    const pushed = this.ring.push(this.encoder.encode(record));
    // The content is the request's: the lane's one record does not keep it alive.
    record.input = null;
    record.output = null;
    record.metadata = null;
    return pushed;
  }

  /** A request the gateway refused before it became a RequestHooks (no key, too large, unknown model, ...). */
  writeRefusal(
    head: RequestHead,
    route: InferenceRoute,
    party: RequestParty,
    model: string,
    body: LoggedBody | undefined,
    error: GatewayError,
    errorClass: ErrorClass,
    startedAt: number,
  ): boolean {
    return this.write(
      {
        head,
        route,
        time: Date.now(),
        model,
        stream: false,
        party,
        body: body?.body,
        scan: body?.scan,
        cache: "",
        cacheSavedMicros: 0,
      },
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
  scan: ScanOk | undefined,
): Readonly<Record<string, string>> | null {
  // Without a prototype: a client's "__proto__" is a name like any other.
  let out: Record<string, string> | null = null;
  for (let i = 0; i + 1 < headerPairs.length; i += 2) {
    out ??= Object.create(null) as Record<string, string>;
    out[headerPairs[i] as string] = headerPairs[i + 1] as string;
  }
  // The scan found the object: only its own bytes are parsed.
  if (body === undefined || scan === undefined || scan.metadataStart < 0) return out;
  if (scan.metadataEnd - scan.metadataStart > MAX_METADATA_OBJECT) return out;
  let metadata: object;
  try {
    metadata = JSON.parse(body.toString("utf8", scan.metadataStart, scan.metadataEnd)) as object;
  } catch {
    // Only a scan of another body could point at bytes that are not an object: no metadata, and the record.
    return out;
  }
  let count = out === null ? 0 : Object.keys(out).length;
  for (const [name, value] of Object.entries(metadata)) {
    if (count >= MAX_METADATA_ENTRIES) break;
    if (typeof value !== "string" || name.length === 0 || name.length > MAX_METADATA_NAME) continue;
    out ??= Object.create(null) as Record<string, string>;
    // Headers win: a body cannot overwrite what the request's headers said.
    if (name in out) continue;
    out[name] = clipped(value, MAX_METADATA_VALUE);
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
  private ending: { attempt: AttemptReport | undefined; end: LoggedEnd; latencyMs: number } | undefined;
  cache: RequestLogRecord["cache"] = "";
  cacheSavedMicros = 0;

  constructor(
    private readonly log: LaneRequestLog,
    readonly head: RequestHead,
    readonly route: InferenceRoute,
    readonly model: string,
    readonly stream: boolean,
    readonly party: RequestParty,
    readonly body: Buffer,
    /** The body's scan: where its top-level `metadata` object is. */
    readonly scan: ScanOk | undefined,
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

  cacheMissed(): void {
    this.cache = "miss";
  }

  answeredFromCache(kind: "exact" | "semantic", savedMicros: number): void {
    this.cache = kind === "exact" ? "hit" : "semantic";
    this.cacheSavedMicros = savedMicros;
  }

  /** The whole reply of a request that was not streamed. */
  reply(body: Uint8Array | string): void {
    this.whole = body;
  }

  end(attempt: AttemptReport | undefined, end: LoggedEnd): void {
    if (this.written) return;
    this.written = true;
    this.log.write(this, attempt, end, performance.now() - this.startedAt, this.ttft(), this.output());
  }

  /**
   * The request ended with a whole reply that is about to be sent: its record is written once the
   * reply's bytes have gone, so that the client never waits for its record. The latency is taken now.
   */
  endAfterReply(attempt: AttemptReport | undefined, end: LoggedEnd): void {
    if (this.written) return;
    this.written = true;
    this.ending = { attempt, end, latencyMs: performance.now() - this.startedAt };
    this.log.writeSoon(this);
  }

  /** Writes the record endAfterReply() left for later. */
  writeDeferred(): void {
    const ending = this.ending;
    if (ending === undefined) return;
    this.ending = undefined;
    this.log.write(this, ending.attempt, ending.end, ending.latencyMs, this.ttft(), this.output());
  }

  private ttft(): number {
    return this.firstByteAt < 0 ? -1 : this.firstByteAt - this.startedAt;
  }

  private output(): Uint8Array | string | undefined {
    return this.streamed === undefined ? this.whole : this.streamed.subarray(0, this.streamedLength);
  }
}

function clipped(text: string, max: number): string {
  return text.length > max ? text.slice(0, max) : text;
}
