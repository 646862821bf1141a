import type { Dispatcher } from "undici";
import type { CanonicalError, ChatChunk } from "../formats/canonical.js";
import type { InboundFormat, StreamEncoder, StreamOptions } from "../formats/format.js";
import type { GatewayError } from "../http/errors.js";
import type { Reply, ResponseHeaders } from "../http/exchange.js";
import type { ExchangeAccount } from "../observability/account.js";
import {
  type ProviderAdapter,
  ProviderStreamError,
  type StreamDecoder,
  type Target,
} from "../providers/adapter.js";
import { type AttemptHook, attemptCrashed, DeadlineExceeded, type Failure } from "../routing/attempts.js";
import { classifyReply, parseRetryAfter } from "../routing/retry.js";
import { nativeChatReply } from "./native-transcode.js";
import { ERROR_BODY_LIMIT, redactSecrets } from "./redact.js";
import { ClientGone, forwardedHeaders, transportKind, withHeaders } from "./relay.js";
import { transportError } from "./transport-error.js";

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/** Provider replies (full bodies and error bodies) are converted whole; this bounds their size. */
const BODY_LIMIT = 64 << 20;

export type Operation = "chat" | "embeddings";

enum Mode {
  Waiting,
  Gather,
  Stream,
  ProviderError,
  Done,
}

/**
 * Relays a provider's response in another wire format than the client's: the adapter decodes the
 * provider's body or stream events into canonical form and the client's format encodes them again.
 */
export class TranscodeHandler implements Dispatcher.DispatchHandler {
  private controller: Controller | undefined;
  private mode = Mode.Waiting;
  private status = 0;
  private chunks: Buffer[] = [];
  private size = 0;
  private decoder: StreamDecoder | undefined;
  private encoder: StreamEncoder | undefined;
  private gatheredHeaders: [string, string][] = [];
  /** Some providers name the error in a header only (Bedrock's x-amzn-errortype). */
  private errorHeaders: Headers | undefined;

  constructor(
    private readonly reply: Reply,
    private readonly format: InboundFormat,
    private readonly adapter: ProviderAdapter,
    private readonly target: Target,
    private readonly operation: Operation,
    /** The model name the client asked for, echoed in responses. */
    private readonly requestedModel: string,
    private readonly account: ExchangeAccount,
    private readonly streamOptions: StreamOptions,
    /** The attempt's x-switchyard-* headers. */
    private readonly headers: ResponseHeaders = [],
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
      this.mode = Mode.ProviderError;
      this.errorHeaders = headers;
      return;
    }
    const forwarded = forwardedHeaders(headers, status).filter(([name]) => name !== "content-type");
    if (this.target.stream && this.operation === "chat") {
      this.mode = Mode.Stream;
      this.decoder = this.adapter.chatStream(this.target);
      this.encoder = this.format.streamEncoder(this.requestedModel, this.streamOptions);
      this.reply.start(200, [...this.encoder.headers, ...forwarded, ...this.headers]);
    } else {
      // The status goes out with the converted body, so a reply that fails to convert can still be a 502.
      this.mode = Mode.Gather;
      forwarded.push(["content-type", "application/json"]);
      for (const header of this.headers) forwarded.push(header as [string, string]);
      this.gatheredHeaders = forwarded;
    }
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    try {
      this.responseData(controller, chunk);
    } catch (error) {
      this.crash(error);
    }
  }

  private responseData(controller: Controller, chunk: Buffer): void {
    if (this.mode === Mode.Stream) {
      let text: string;
      try {
        text = this.encode((this.decoder as StreamDecoder).push(chunk));
      } catch (error) {
        controller.abort(error as Error);
        return;
      }
      if (text !== "" && !this.reply.write(text)) {
        controller.pause();
        this.reply.onWritable(() => controller.resume());
      }
      return;
    }
    if (this.mode !== Mode.Gather && this.mode !== Mode.ProviderError) return;
    // An error body past its limit is dropped unread, not treated as a failed reply.
    if (this.mode === Mode.ProviderError && this.size >= ERROR_BODY_LIMIT) return;
    this.size += chunk.length;
    if (this.size > BODY_LIMIT) {
      controller.abort(new Error(`the provider's reply is larger than ${BODY_LIMIT} bytes`));
      return;
    }
    this.chunks.push(chunk);
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
    const body = Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    try {
      if (this.mode === Mode.ProviderError) {
        const error = this.adapter.error(
          this.status,
          redactSecrets(body, this.target.key.value),
          this.target,
          this.errorHeaders,
        );
        if (this.hook !== undefined) {
          this.handBack({
            kind: classifyReply(this.status, error.code, error.message),
            status: error.status,
            retryAfterMs: parseRetryAfter(this.errorHeaders?.["retry-after"]),
            deliver: (headers) => this.sendError(error, headers),
          });
          return;
        }
        this.sendError(error);
        return;
      }
      if (this.mode === Mode.Stream) {
        const tail = this.encode((this.decoder as StreamDecoder).end());
        this.account.replied();
        this.reply.end(tail + (this.encoder as StreamEncoder).end());
      } else if (this.operation === "chat") {
        // Anthropic → OpenAI replies come from the Rust addon when it is loaded (3-5x faster to bytes).
        const bytes = nativeChatReply(
          this.adapter,
          this.format,
          body,
          this.requestedModel,
          this.account.usage,
        );
        if (bytes !== undefined) {
          this.reply.start(200, this.gatheredHeaders);
          this.account.replied();
          this.reply.end(bytes);
          this.finish(this.status);
          return;
        }
        const response = this.adapter.chatResponse(body, this.target);
        if (response.usage !== undefined) {
          this.account.usage.prompt = response.usage.prompt_tokens;
          this.account.usage.completion = response.usage.completion_tokens;
        }
        const text = this.format.fromCanonical(response, this.requestedModel);
        this.reply.start(200, this.gatheredHeaders);
        this.account.replied();
        this.reply.end(text);
      } else {
        const embeddings = (
          this.adapter.embeddingsResponse as NonNullable<ProviderAdapter["embeddingsResponse"]>
        )(body, this.target);
        this.account.usage.prompt = embeddings.usage.prompt_tokens;
        const text = JSON.stringify({ ...embeddings, model: this.requestedModel });
        this.reply.start(200, this.gatheredHeaders);
        this.account.replied();
        this.reply.end(text);
      }
      this.finish(this.status);
    } catch (error) {
      this.fail(error instanceof ProviderStreamError ? error.error : malformed(this.target, error as Error));
    }
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
      this.finish(499);
      return;
    }
    if (error instanceof ProviderStreamError) {
      this.fail(error.error);
      return;
    }
    if (error instanceof DeadlineExceeded && this.hook === undefined) {
      this.fail({ ...error.error, param: null });
      return;
    }
    if (!(error instanceof DeadlineExceeded) && (error as { code?: string }).code === undefined) {
      this.fail(malformed(this.target, error));
      return;
    }
    const gateway =
      error instanceof DeadlineExceeded
        ? error.error
        : transportError(this.target.provider.name, error, this.mode !== Mode.Waiting);
    const failure: CanonicalError = { ...gateway, param: gateway.param ?? null };
    // Nothing has reached the client unless a stream started.
    if (this.hook !== undefined && this.mode !== Mode.Stream) {
      this.handBack({
        kind: transportKind(error),
        status: failure.status,
        retryAfterMs: -1,
        deliver: (headers) => this.sendError(failure, headers),
      });
      return;
    }
    this.fail(failure);
  }

  /** The attempt failed before the client got anything: the loop decides whether the client ever sees it. */
  private handBack(failure: Failure): void {
    this.mode = Mode.Done;
    this.chunks = [];
    this.account.finish(failure.status);
    this.hook?.failed(failure);
  }

  /** A bug met while converting: the upstream request is dropped and the client gets a 500 or a cut-off. */
  private crash(error: unknown): void {
    const encoder = this.mode === Mode.Stream ? this.encoder : undefined;
    this.mode = Mode.Done;
    this.chunks = [];
    this.controller?.abort(new ClientGone());
    this.account.finish(500);
    const format = this.format;
    const errorBody = (e: GatewayError) => format.errorBody({ ...e, param: e.param ?? null });
    const streamEvent =
      encoder === undefined
        ? undefined
        : (e: GatewayError) => encoder.error({ ...e, param: e.param ?? null });
    attemptCrashed(this.reply, this.account.metrics, errorBody, this.hook, error, true, streamEvent);
  }

  private encode(chunks: ChatChunk[]): string {
    const encoder = this.encoder as StreamEncoder;
    let text = "";
    for (const chunk of chunks) {
      if (chunk.usage) {
        this.account.usage.prompt = chunk.usage.prompt_tokens;
        this.account.usage.completion = chunk.usage.completion_tokens;
      }
      text += encoder.encode(chunk);
    }
    return text;
  }

  private fail(error: CanonicalError): void {
    if (this.mode === Mode.Stream) {
      this.reply.write((this.encoder as StreamEncoder).error(error));
      this.reply.end();
      this.finish(error.status);
    } else {
      this.sendError(error);
    }
  }

  private sendError(error: CanonicalError, headers: ResponseHeaders = this.headers): void {
    this.reply.start(error.status, withHeaders([["content-type", "application/json"]], headers));
    this.reply.end(this.format.errorBody(error));
    // A failure delivered by the loop was accounted when it was handed back.
    if (this.mode !== Mode.Done) this.finish(error.status);
  }

  private finish(status: number): void {
    this.mode = Mode.Done;
    this.account.finish(status);
    this.hook?.settled(status);
  }
}

function malformed(target: Target, error: Error): CanonicalError {
  return {
    status: 502,
    message: `${target.provider.name} sent a reply the gateway could not read: ${error.message}`,
    type: "api_error",
    code: "upstream_malformed",
    param: null,
  };
}
