import type { Dispatcher } from "undici";
import { errorBody, type GatewayError } from "../http/errors.js";
import type { Reply, ResponseHeaders } from "../http/exchange.js";
import type { ExchangeAccount } from "../observability/account.js";
import { readUsage } from "../observability/usage.js";
import { providerError, providerErrorBody } from "../providers/provider-error.js";
import { type AttemptHook, attemptCrashed, DeadlineExceeded, type Failure } from "../routing/attempts.js";
import { classifyReply, type FailureKind, parseRetryAfter } from "../routing/retry.js";
import { ERROR_BODY_LIMIT, redactSecrets } from "./redact.js";
import { isRefusedRequest, transportError } from "./transport-error.js";

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/** Replies up to this size are gathered and sent in one write; larger ones stream through. */
const GATHER_LIMIT = 1 << 20;

const FORWARDED_PREFIXES = ["x-ratelimit-", "openai-", "anthropic-ratelimit-"];

export function forwardedHeaders(headers: Headers, status: number): [string, string][] {
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
  return out;
}

/** How a relay words errors; OpenAI's shape unless a same-format route of another format says otherwise. */
export interface RelayErrors {
  /** A provider's error reply as the client gets it. */
  provider(status: number, provider: string, body: Buffer): string;
  /** The gateway's own error (unreachable, timed out) as a JSON body. */
  gateway(error: GatewayError): string;
  /** The same once a stream has started: a whole SSE event. */
  sseEvent(error: GatewayError): string;
}

const OPENAI_ERRORS: RelayErrors = {
  provider: providerErrorBody,
  gateway: errorBody,
  // An SSE error event is what OpenAI's SDKs turn into an exception mid-stream.
  sseEvent: (error) => `data: ${errorBody(error)}\n\n`,
};

const JSON_HEADERS: ResponseHeaders = [["content-type", "application/json"]];
const NO_HEADERS: ResponseHeaders = [];

/** How a failure to get any reply is classified for retries and upstream health. */
export function transportKind(error: Error): FailureKind {
  if (error instanceof DeadlineExceeded) return "timeout";
  if (isRefusedRequest(error)) return "client";
  const code = (error as { code?: string }).code ?? "";
  return code.endsWith("_TIMEOUT") ? "timeout" : "connection";
}

/** A reply's own headers and the attempt's x-switchyard-* headers; neither list is changed. */
export function withHeaders(headers: ResponseHeaders, extra: ResponseHeaders): ResponseHeaders {
  return extra.length === 0 ? headers : [...headers, ...extra];
}

enum Mode {
  Waiting,
  Gather,
  Stream,
  ProviderError,
  Done,
}

/**
 * Relays one upstream response to the client: status and selected headers, then the body, gathered when
 * small and streamed with backpressure otherwise; provider errors are normalised to OpenAI's shape and
 * transport failures become 502/504. It also does the accounting once the exchange is over.
 */
export class RelayHandler implements Dispatcher.DispatchHandler {
  private controller: Controller | undefined;
  private mode = Mode.Waiting;
  private status = 0;
  private chunks: Buffer[] = [];
  private size = 0;
  private sse = false;
  private errorHeaders: [string, string][] | undefined;
  private retryAfter: string | string[] | undefined;

  constructor(
    private readonly reply: Reply,
    private readonly provider: string,
    /** The key the request was sent with, kept out of the provider's error bodies. */
    private readonly secret: string,
    private readonly account: ExchangeAccount,
    private readonly errors: RelayErrors = OPENAI_ERRORS,
    /** The attempt's x-switchyard-* headers. */
    private readonly headers: ResponseHeaders = NO_HEADERS,
    /** Present when the request may be tried again: failures before any byte are handed back to it. */
    private readonly hook?: AttemptHook,
  ) {
    reply.onAborted(() => this.controller?.abort(new ClientGone()));
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    this.hook?.attach(controller);
    if (this.reply.aborted) controller.abort(new ClientGone());
  }

  onResponseStart(_controller: Controller, status: number, headers: Headers): void {
    try {
      this.responseStart(status, headers);
    } catch (error) {
      this.crash(error);
    }
  }

  private responseStart(status: number, headers: Headers): void {
    if (status < 200) return;
    this.status = status;
    if (status >= 400) {
      // Held until the body is in: the attempt loop may try again instead of relaying it.
      this.mode = Mode.ProviderError;
      const forwarded = forwardedHeaders(headers, status).filter(([name]) => name !== "content-type");
      forwarded.push(["content-type", "application/json"]);
      this.errorHeaders = forwarded;
      this.retryAfter = headers["retry-after"];
      return;
    }
    const contentType = headers["content-type"];
    this.sse = typeof contentType === "string" && contentType.startsWith("text/event-stream");
    const length = Number(headers["content-length"] ?? -1);
    this.mode = !this.sse && length >= 0 && length <= GATHER_LIMIT ? Mode.Gather : Mode.Stream;
    this.reply.start(status, withHeaders(forwardedHeaders(headers, status), this.headers));
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    try {
      this.responseData(controller, chunk);
    } catch (error) {
      this.crash(error);
    }
  }

  private responseData(controller: Controller, chunk: Buffer): void {
    switch (this.mode) {
      case Mode.Gather:
        this.chunks.push(chunk);
        this.size += chunk.length;
        return;
      case Mode.ProviderError:
        if (this.size < ERROR_BODY_LIMIT) {
          this.chunks.push(chunk);
          this.size += chunk.length;
        }
        return;
      case Mode.Stream:
        if (!this.reply.write(chunk)) {
          controller.pause();
          this.reply.onWritable(() => controller.resume());
        }
        // Each chunk: SSE events, or a JSON reply sent without a length (chunked), whose usage is near its end.
        readUsage(chunk, this.account.usage);
        return;
      default:
        return;
    }
  }

  onResponseEnd(): void {
    try {
      this.responseEnd();
    } catch (error) {
      this.crash(error);
    }
  }

  private responseEnd(): void {
    this.account.upstreamEnded();
    const reply = this.reply;
    if (this.mode === Mode.Gather) {
      const body =
        this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
      this.account.replied();
      reply.end(body);
      // Accounting after the hand-over: the client's bytes do not wait for it.
      readUsage(body, this.account.usage);
    } else if (this.mode === Mode.ProviderError) {
      const body = redactSecrets(Buffer.concat(this.chunks), this.secret);
      if (this.hook !== undefined) {
        this.handBack(this.providerFailure(body));
        return;
      }
      reply.start(this.status, withHeaders(this.errorHeaders ?? JSON_HEADERS, this.headers));
      reply.end(this.errors.provider(this.status, this.provider, body));
    } else {
      this.account.replied();
      reply.end();
    }
    this.finish(this.status);
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
      this.finish(499);
      return;
    }
    const failure =
      error instanceof DeadlineExceeded
        ? error.error
        : transportError(this.provider, error, this.mode !== Mode.Waiting);
    // An error reply cut short has sent nothing either.
    if (this.hook !== undefined && (this.mode === Mode.Waiting || this.mode === Mode.ProviderError)) {
      const reply = this.reply;
      const errors = this.errors;
      this.handBack({
        kind: transportKind(error),
        status: failure.status,
        retryAfterMs: -1,
        deliver(headers) {
          reply.start(failure.status, withHeaders(JSON_HEADERS, headers));
          reply.end(errors.gateway(failure));
        },
      });
      return;
    }
    // A gathered reply is held until its last byte, so nothing of it has reached the client either.
    if (this.mode === Mode.Waiting || this.mode === Mode.ProviderError || this.mode === Mode.Gather) {
      this.reply.start(failure.status, withHeaders(JSON_HEADERS, this.headers));
      this.reply.end(this.errors.gateway(failure));
      this.finish(failure.status);
    } else if (this.sse) {
      this.reply.write(this.errors.sseEvent(failure));
      this.reply.end();
      this.finish(failure.status);
    } else {
      // A half-sent JSON body must not look complete to the client.
      this.reply.destroy();
      this.finish(failure.status);
    }
  }

  /** A bug met while relaying: the upstream request is dropped and the client gets a 500 or a cut-off. */
  private crash(error: unknown): void {
    const streamEvent = this.mode === Mode.Stream && this.sse ? this.errors.sseEvent : undefined;
    this.mode = Mode.Done;
    this.chunks = [];
    this.controller?.abort(new ClientGone());
    this.account.finish(500);
    attemptCrashed(
      this.reply,
      this.account.metrics,
      this.errors.gateway,
      this.hook,
      error,
      true,
      streamEvent,
    );
  }

  private providerFailure(body: Buffer): Failure {
    const status = this.status;
    const error = providerError(status, this.provider, body);
    const reply = this.reply;
    const errors = this.errors;
    const provider = this.provider;
    const own = this.errorHeaders ?? JSON_HEADERS;
    return {
      kind: classifyReply(status, error.code, error.message),
      status,
      retryAfterMs: parseRetryAfter(this.retryAfter),
      deliver(headers) {
        reply.start(status, withHeaders(own, headers));
        reply.end(errors.provider(status, provider, body));
      },
    };
  }

  /** The attempt failed before the client got anything: the loop decides whether the client ever sees it. */
  private handBack(failure: Failure): void {
    this.mode = Mode.Done;
    this.chunks = [];
    this.account.finish(failure.status);
    this.hook?.failed(failure);
  }

  private finish(status: number): void {
    this.mode = Mode.Done;
    this.chunks = [];
    this.account.finish(status);
    this.hook?.settled(status);
  }
}

/** The reason given to undici when the client went away, so the upstream request is aborted. */
export class ClientGone extends Error {
  constructor() {
    super("client disconnected");
  }
}
