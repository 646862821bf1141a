import { type GatewayError, gatewayError } from "../errors.js";
import type { CanonicalError, ChatChunk } from "../formats/canonical.js";
import type { InboundFormat, StreamEncoder, StreamOptions } from "../formats/format.js";
import type { Reply } from "../http/exchange.js";
import type { ExchangeAccount } from "../observability/account.js";
import { copyCanonicalUsage } from "../observability/usage.js";
import {
  type ProviderAdapter,
  ProviderStreamError,
  type StreamDecoder,
  type Target,
} from "../providers/adapter.js";
import { nativeChatReply } from "./native-transcode.js";
import { redactSecrets } from "./redact.js";
import { forwardedHeaders, Mode, RelayCore, type UpstreamHeaders } from "./relay-core.js";
import type { ExchangeReport, ReplyObserver, UpstreamFailure } from "./report.js";
import { parseRetryAfter } from "./retry-after.js";

// The convert leg's relay: the provider speaks another wire format than the client, so the adapter decodes
// its body or stream events into canonical form and the client's format encodes them again.

/** Provider replies (full bodies and error bodies) are converted whole; this bounds their size. */
const BODY_LIMIT = 64 << 20;

export type Operation = "chat" | "embeddings";

export class ConvertRelay extends RelayCore {
  private decoder: StreamDecoder | undefined;
  private encoder: StreamEncoder | undefined;
  private headers: [string, string][] = [];

  constructor(
    reply: Reply,
    private readonly format: InboundFormat,
    private readonly adapter: ProviderAdapter,
    private readonly target: Target,
    private readonly operation: Operation,
    /** The model name the client asked for, echoed in responses. */
    private readonly requestedModel: string,
    account: ExchangeAccount,
    private readonly streamOptions: StreamOptions,
    report: ExchangeReport,
    observer: ReplyObserver | undefined,
  ) {
    super(reply, target.provider.name, account, report, observer, BODY_LIMIT);
  }

  protected successHead(status: number, headers: UpstreamHeaders): void {
    const forwarded = forwardedHeaders(headers, status).filter(([name]) => name !== "content-type");
    if (this.target.stream && this.operation === "chat") {
      this.mode = Mode.Stream;
      this.decoder = this.adapter.chatStream(this.target);
      this.encoder = this.format.streamEncoder(this.requestedModel, this.streamOptions);
      this.reply.start(200, [...this.encoder.headers, ...forwarded, ...this.report.headers]);
      return;
    }
    // The status goes out with the converted body, so a reply that fails to convert can still be a 502.
    this.mode = Mode.Gather;
    forwarded.push(["content-type", "application/json"]);
    for (const header of this.report.headers) forwarded.push(header as [string, string]);
    this.headers = forwarded;
  }

  protected streamChunk(chunk: Buffer): string {
    return this.encode((this.decoder as StreamDecoder).push(chunk));
  }

  protected streamTail(): string {
    return this.encode((this.decoder as StreamDecoder).end()) + (this.encoder as StreamEncoder).end();
  }

  protected wholeBody(body: Buffer): void {
    let text: Uint8Array | string;
    try {
      text = this.convertWhole(body);
    } catch (error) {
      const failure =
        error instanceof ProviderStreamError ? error.error : malformed(this.target, error as Error);
      this.answerError(failure, this.report.headers, "provider");
      this.finish(failure.status, "provider");
      return;
    }
    this.status = 200;
    this.sendWhole(this.headers, text);
    this.finish(200, "");
  }

  private convertWhole(body: Buffer): Uint8Array | string {
    if (this.operation === "embeddings") {
      const embeddings = (
        this.adapter.embeddingsResponse as NonNullable<ProviderAdapter["embeddingsResponse"]>
      )(body, this.target);
      this.account.usage.prompt = embeddings.usage.prompt_tokens;
      return JSON.stringify({ ...embeddings, model: this.requestedModel });
    }
    // Anthropic → OpenAI replies come from the Rust addon when it is loaded (3-5x faster to bytes).
    const bytes = nativeChatReply(this.adapter, this.format, body, this.requestedModel, this.account.usage);
    if (bytes !== undefined) return bytes;
    const response = this.adapter.chatResponse(body, this.target);
    if (response.usage !== undefined) copyCanonicalUsage(response.usage, this.account.usage);
    return this.format.fromCanonical(response, this.requestedModel);
  }

  protected providerFailure(body: Buffer): UpstreamFailure {
    const head = this.errorHead;
    const error = this.adapter.error(
      this.status,
      redactSecrets(body, this.target.key.value),
      this.target,
      head,
    );
    return {
      source: "reply",
      status: error.status,
      code: error.code,
      message: error.message,
      timedOut: false,
      retryAfterMs: parseRetryAfter(head?.["retry-after"]),
      deliver: (headers) => this.answerError(error, headers, "provider"),
    };
  }

  /** A provider's error event mid-stream, or a stream the adapter cannot decode. */
  protected override unreadable(error: Error): GatewayError | undefined {
    if (error instanceof ProviderStreamError) return error.error;
    // The upstream client's and the socket's errors carry a code; anything else was thrown while decoding the reply.
    return (error as { code?: string }).code === undefined ? malformed(this.target, error) : undefined;
  }

  protected errorBody(error: GatewayError): string {
    return this.format.errorBody(canonical(error));
  }

  protected streamError(error: GatewayError): string | undefined {
    return this.encoder?.error(canonical(error));
  }

  private encode(chunks: ChatChunk[]): string {
    const encoder = this.encoder as StreamEncoder;
    let text = "";
    for (const chunk of chunks) {
      if (chunk.usage) copyCanonicalUsage(chunk.usage, this.account.usage);
      text += encoder.encode(chunk);
    }
    return text;
  }
}

const canonical = (error: GatewayError): CanonicalError => ({
  status: error.status,
  message: error.message,
  type: error.type,
  code: error.code,
  param: error.param ?? null,
});

function malformed(target: Target, error: Error): GatewayError {
  return gatewayError(
    "upstream_malformed",
    `${target.provider.name} sent a reply the gateway could not read: ${error.message}`,
  );
}
