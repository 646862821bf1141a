import type { ErrorClass, GatewayError } from "../errors.js";
import type { AbortListener, Reply, ResponseHeaders } from "../http/exchange.js";
import { type ErrorBody, internalFailure } from "../http/internal-error.js";
import type { ExchangeAccount } from "../observability/account.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import { ClientGone, DeadlineExceeded } from "./abort.js";
import type { UpstreamController, UpstreamHandler } from "./h1/exchange.js";
import type { UpstreamHeaders } from "./h1/response-parser.js";
import { ERROR_BODY_LIMIT } from "./redact.js";
import type { ExchangeReport, ReplyObserver, UpstreamFailure } from "./report.js";
import { isLocalExhaustion, isRefusedRequest, transportError } from "./transport-error.js";

export type Controller = UpstreamController;
export type { UpstreamHeaders };

/** Where the exchange is: waiting for the head, holding the whole body, streaming it, holding an error body. */
export enum Mode {
  Waiting,
  Gather,
  Stream,
  ProviderError,
  Done,
}

/**
 * One upstream exchange relayed to the client: the state machine both legs share. The leg (bytes as they
 * are, or converted between wire formats) decides what a success head, a body, a chunk and an error look
 * like to the client; the core holds error replies back until they are whole, hands every failure that
 * reached the client with nothing back to the sender, streams with backpressure, turns a bug into a 500
 * (or a cut-off), and accounts the exchange exactly once.
 */
export abstract class RelayCore implements UpstreamHandler, AbortListener {
  protected controller: Controller | undefined;
  protected mode = Mode.Waiting;
  protected status = 0;
  /** The body held whole (a gathered reply, an error reply); made with its first chunk, the usual only one. */
  private chunks: Buffer[] | undefined;
  protected size = 0;
  /** The head of an error reply, read when its body is in. */
  protected errorHead: UpstreamHeaders | undefined;

  constructor(
    protected readonly reply: Reply,
    /** The provider's name, in the gateway's own error messages. */
    protected readonly provider: string,
    protected readonly account: ExchangeAccount,
    protected readonly report: ExchangeReport,
    protected readonly observer: ReplyObserver | undefined,
    /** Larger whole bodies are refused: the leg holds them in memory. */
    private readonly gatherLimit: number,
  ) {
    reply.onAborted(this);
  }

  /** The client left: the upstream request is dropped. */
  clientAborted(): void {
    this.controller?.abort(new ClientGone());
  }

  // --- What each leg decides -------------------------------------------------------------------------------

  /** A 2xx head: choose Gather or Stream, and start the reply when it may start now. */
  protected abstract successHead(status: number, headers: UpstreamHeaders): void;
  /** One chunk of a streamed body; returns what to write to the client ("" for nothing yet). */
  protected abstract streamChunk(chunk: Buffer): Uint8Array | string;
  /** What ends a streamed reply once the provider has finished. */
  protected abstract streamTail(): string;
  /** A whole body gathered: answer the client (start and end the reply). */
  protected abstract wholeBody(body: Buffer): void;
  /** An error reply, whole, as the failure handed back to the sender. */
  protected abstract providerFailure(body: Buffer): UpstreamFailure;
  /** The gateway's own error as a JSON body in the client's format. */
  protected abstract errorBody(error: GatewayError): string;
  /** The same once an event stream has started (undefined when the started reply is not a stream). */
  protected abstract streamError(error: GatewayError): string | undefined;
  /** An error raised while reading the reply that is not a transport error (a stream that cannot be decoded). */
  protected unreadable(_error: Error): GatewayError | undefined {
    return undefined;
  }

  // --- The upstream client's handler ------------------------------------------------------------------------------------

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    this.report.attach(controller);
    if (this.reply.aborted) controller.abort(new ClientGone());
  }

  onResponseStart(_controller: Controller, status: number, headers: UpstreamHeaders): void {
    try {
      if (status < 200) return;
      this.status = status;
      if (status >= 400) {
        // Held until the body is in: the sender may try again instead of relaying it.
        this.mode = Mode.ProviderError;
        this.errorHead = headers;
        return;
      }
      this.successHead(status, headers);
    } catch (error) {
      this.crash(error);
    }
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    try {
      switch (this.mode) {
        case Mode.Stream: {
          this.account.chunk();
          let out: Uint8Array | string;
          try {
            out = this.streamChunk(chunk);
          } catch (error) {
            // A stream the leg cannot decode ends like a broken transport (see `unreadable`).
            controller.abort(error as Error);
            return;
          }
          if (out.length === 0) return;
          this.observer?.chunk(out);
          if (!this.reply.write(out)) this.pauseUntilWritable(controller);
          return;
        }
        case Mode.ProviderError:
          // An error body past its limit is dropped unread, not treated as a failed reply.
          if (this.size >= ERROR_BODY_LIMIT) return;
          this.hold(chunk);
          this.size += chunk.length;
          return;
        case Mode.Gather:
          this.size += chunk.length;
          if (this.size > this.gatherLimit) {
            controller.abort(new Error(`the provider's reply is larger than ${this.gatherLimit} bytes`));
            return;
          }
          this.hold(chunk);
          return;
        default:
          return;
      }
    } catch (error) {
      this.crash(error);
    }
  }

  onResponseEnd(): void {
    try {
      this.account.upstreamEnded();
      const mode = this.mode;
      if (mode === Mode.Stream) {
        let tail: string;
        try {
          tail = this.streamTail();
        } catch (error) {
          // The provider's last event was an error, or the stream ended where it cannot.
          const unreadable = this.unreadable(error as Error);
          if (unreadable === undefined) throw error;
          this.breakOff(unreadable, "provider");
          return;
        }
        if (tail !== "") this.observer?.chunk(tail);
        this.account.replied();
        this.reply.end(tail);
        this.finish(this.status, "");
        this.observer?.streamEnd(this.status, this.account.usage);
        return;
      }
      const chunks = this.chunks ?? [];
      this.chunks = undefined;
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.size);
      if (mode === Mode.ProviderError) this.handBack(this.providerFailure(body));
      else if (mode === Mode.Gather) this.wholeBody(body);
    } catch (error) {
      this.crash(error);
    }
  }

  /** Apart from onResponseData so that its closure's scope is made only when the client falls behind. */
  private pauseUntilWritable(controller: Controller): void {
    controller.pause();
    this.reply.onWritable(() => controller.resume());
  }

  private hold(chunk: Buffer): void {
    if (this.chunks === undefined) this.chunks = [chunk];
    else this.chunks.push(chunk);
  }

  onResponseError(_controller: Controller, error: Error): void {
    try {
      this.responseError(error);
    } catch (error) {
      this.crash(error);
    }
  }

  private responseError(error: Error): void {
    if (this.mode === Mode.Done) return;
    if (error instanceof ClientGone || this.reply.aborted) {
      // 499: the client closed the request, as nginx names it.
      const streamed = this.mode === Mode.Stream;
      this.finish(499, "client");
      if (streamed) this.observer?.streamEnd(499, this.account.usage);
      else
        this.observer?.error(
          499,
          null,
          "client",
          "The client left before the reply came.",
          this.account.usage,
        );
      return;
    }
    const unreadable = error instanceof DeadlineExceeded ? undefined : this.unreadable(error);
    const failure =
      unreadable ??
      (error instanceof DeadlineExceeded
        ? error.error
        : transportError(this.provider, error, this.mode !== Mode.Waiting));
    if (this.mode !== Mode.Stream) {
      // Nothing of the reply has reached the client: a gathered body is held until its last byte.
      const source =
        error instanceof DeadlineExceeded
          ? "deadline"
          : unreadable !== undefined
            ? "reply"
            : isRefusedRequest(error)
              ? "request"
              : isLocalExhaustion(error)
                ? "gateway"
                : "transport";
      this.handBack(this.gatewayFailure(failure, source, isTimeout(error)));
      return;
    }
    this.breakOff(failure, error instanceof DeadlineExceeded ? "policy" : "provider");
  }

  // --- Ends --------------------------------------------------------------------------------------------------

  /** The gateway's own error, handed back as a failure answered in the client's format. */
  protected gatewayFailure(
    error: GatewayError,
    source: UpstreamFailure["source"],
    timedOut: boolean,
  ): UpstreamFailure {
    return {
      source,
      status: error.status,
      code: error.code,
      message: error.message,
      timedOut,
      retryAfterMs: -1,
      deliver: (headers) => this.answerError(error, headers, classOfSource(source)),
    };
  }

  /** Answers the client with an error in its format (nothing of the reply has gone out). */
  protected answerError(error: GatewayError, headers: ResponseHeaders, errorClass: ErrorClass): void {
    const own = error.headers === undefined ? JSON_HEADERS : [...JSON_HEADERS, ...error.headers];
    this.reply.start(error.status, withHeaders(own, headers));
    this.reply.end(this.errorBody(error));
    this.observer?.error(error.status, error.code, errorClass, error.message);
  }

  /** A started reply cannot be taken back: an event stream gets its error event, anything else is cut off. */
  protected breakOff(error: GatewayError, errorClass: ErrorClass): void {
    const event = this.streamError(error);
    if (event === undefined) this.reply.destroy();
    else {
      this.reply.write(event);
      this.reply.end();
    }
    this.finish(error.status, errorClass);
    this.observer?.error(error.status, error.code, errorClass, error.message, this.account.usage);
  }

  /** The exchange failed before the client got anything: the sender decides whether the client ever sees it. */
  protected handBack(failure: UpstreamFailure): void {
    this.mode = Mode.Done;
    this.chunks = undefined;
    this.account.finish(failure.status, classOfSource(failure.source));
    this.report.failed(failure);
  }

  /** A whole reply goes to the client: `body` with the head chosen for it (the caller then finishes). */
  protected sendWhole(headers: ResponseHeaders, body: Uint8Array | string): void {
    this.observer?.response(this.status, body, this.account.usage);
    this.reply.start(this.status, headers);
    this.account.replied();
    this.reply.end(body);
  }

  protected finish(status: number, errorClass: ErrorClass | ""): void {
    this.mode = Mode.Done;
    this.chunks = undefined;
    this.account.finish(status, errorClass);
    this.report.settled(status);
  }

  /** A bug met while relaying: the upstream request is dropped and the client gets a 500 or a cut-off. */
  protected crash(error: unknown): void {
    const streamed = this.mode === Mode.Stream;
    this.mode = Mode.Done;
    this.chunks = undefined;
    this.controller?.abort(new ClientGone());
    this.account.finish(500, "gateway");
    this.observer?.error(
      500,
      "internal_error",
      "gateway",
      "The gateway failed while relaying the reply.",
      this.account.usage,
    );
    const streamEvent = streamed ? (e: GatewayError) => this.streamError(e) ?? "" : undefined;
    if (streamed) {
      internalFailure(this.reply, this.account.metrics, (e) => this.errorBody(e), error, true, streamEvent);
      this.report.settled(500);
      return;
    }
    this.report.failed(crashFailure(this.reply, this.account.metrics, (e) => this.errorBody(e), error, true));
  }
}

/**
 * The failure of an exchange that met an unexpected error in the gateway's own code before the client got
 * anything: answered as a 500, never retried (the same request would meet the same bug anywhere), no
 * verdict on the provider.
 */
export function crashFailure(
  reply: Reply,
  metrics: LaneMetrics,
  errorBody: ErrorBody,
  error: unknown,
  recorded: boolean,
  /** The error event of the stream the reply has started, if it has. */
  streamEvent?: ErrorBody,
): UpstreamFailure {
  return {
    source: "gateway",
    status: 500,
    code: "internal_error",
    message: "internal error",
    timedOut: false,
    retryAfterMs: -1,
    deliver: () => internalFailure(reply, metrics, errorBody, error, recorded, streamEvent),
  };
}

const JSON_HEADERS: ResponseHeaders = [["content-type", "application/json"]];

/** A reply's own headers and the exchange's x-switchyard-* headers; neither list is changed. */
export function withHeaders(headers: ResponseHeaders, extra: ResponseHeaders): ResponseHeaders {
  return extra.length === 0 ? headers : [...headers, ...extra];
}

/** Who a failure is down to, for metrics and hooks. */
export function classOfSource(source: UpstreamFailure["source"]): ErrorClass {
  if (source === "request") return "client";
  if (source === "deadline") return "policy";
  return source === "gateway" ? "gateway" : "provider";
}

function isTimeout(error: Error): boolean {
  return error instanceof DeadlineExceeded || ((error as { code?: string }).code ?? "").endsWith("_TIMEOUT");
}

const FORWARDED_PREFIXES = ["x-ratelimit-", "openai-", "anthropic-ratelimit-"];

/**
 * The provider's headers a client may see (content type, rate-limit state, Retry-After on errors), then
 * `extra`, in one new list.
 */
export function forwardedHeaders(
  headers: UpstreamHeaders,
  status: number,
  extra: ResponseHeaders = NO_HEADERS,
): [string, string][] {
  const out: [string, string][] = [];
  for (const name in headers) {
    const value = headers[name];
    if (typeof value !== "string") continue;
    if (name === "content-type" || (name === "retry-after" && status >= 400)) out.push([name, value]);
    else if (name === "cache-control" && value.includes("no-cache")) out.push([name, value]);
    else {
      for (const prefix of FORWARDED_PREFIXES) {
        if (name.startsWith(prefix)) {
          out.push([name, value]);
          break;
        }
      }
    }
  }
  for (const header of extra) out.push(header as [string, string]);
  return out;
}

const NO_HEADERS: ResponseHeaders = [];
