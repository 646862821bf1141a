import type { GatewayError } from "../errors.js";
import { openAIErrorBody } from "../formats/openai/format.js";
import type { Reply, ResponseHeaders } from "../http/exchange.js";
import type { ExchangeAccount } from "../observability/account.js";
import { readUsage } from "../observability/usage.js";
import { providerError, providerErrorBody } from "../providers/provider-error.js";
import { redactSecrets } from "./redact.js";
import { forwardedHeaders, Mode, RelayCore, type UpstreamHeaders, withHeaders } from "./relay-core.js";
import type { ExchangeReport, ReplyObserver, UpstreamFailure } from "./report.js";
import { parseRetryAfter } from "./retry-after.js";
import type { UsageEventStrip } from "./usage-strip.js";

// The byte leg's relay: the provider speaks the client's wire format, so its reply goes to the client as it
// came, gathered when small and streamed otherwise; only error replies are read, to classify them.

/** Replies up to this size are gathered and sent in one write; larger ones stream through. */
const GATHER_LIMIT = 1 << 20;
/**
 * When a plugin looks at whole replies, a reply that is not an event stream is gathered whatever its size
 * (a JSON body sent chunked, without a length), up to this bound.
 */
const OBSERVED_GATHER_LIMIT = 64 << 20;

/** How the byte leg words errors in its wire format. */
export interface RelayErrors {
  /** A provider's error reply as the client gets it. */
  provider(status: number, provider: string, body: Buffer): string;
  /** The gateway's own error (unreachable, timed out) as a JSON body. */
  gateway(error: GatewayError): string;
  /** The same once a stream has started: a whole SSE event. */
  sseEvent(error: GatewayError): string;
}

/** A gateway-made error in OpenAI's shape. */
export const openAIGatewayError = (error: GatewayError): string =>
  openAIErrorBody({ ...error, param: error.param ?? null });

export const OPENAI_ERRORS: RelayErrors = {
  provider: providerErrorBody,
  gateway: openAIGatewayError,
  // An SSE error event is what OpenAI's SDKs turn into an exception mid-stream.
  sseEvent: (error) => `data: ${openAIGatewayError(error)}\n\n`,
};

const NO_HEADERS: ResponseHeaders = [];

export class ByteRelay extends RelayCore {
  private sse = false;
  /** The head of a gathered reply, sent with its body. */
  private headers: ResponseHeaders = NO_HEADERS;

  constructor(
    reply: Reply,
    provider: string,
    /** The key the request was sent with, kept out of the provider's error bodies. */
    private readonly secret: string,
    account: ExchangeAccount,
    private readonly errors: RelayErrors,
    report: ExchangeReport,
    observer: ReplyObserver | undefined,
    /** Set when the gateway asked an OpenAI stream for usage the client did not ask for. */
    private readonly usageStrip: UsageEventStrip | undefined,
  ) {
    super(
      reply,
      provider,
      account,
      report,
      observer,
      observer === undefined ? GATHER_LIMIT : OBSERVED_GATHER_LIMIT,
    );
  }

  protected successHead(status: number, headers: UpstreamHeaders): void {
    const contentType = headers["content-type"];
    this.sse = typeof contentType === "string" && contentType.startsWith("text/event-stream");
    const length = Number(headers["content-length"] ?? -1);
    const out = forwardedHeaders(headers, status, this.report.headers);
    if (!this.sse && ((length >= 0 && length <= GATHER_LIMIT) || this.observer !== undefined)) {
      this.mode = Mode.Gather;
      this.headers = out;
      return;
    }
    this.mode = Mode.Stream;
    this.reply.start(status, out);
  }

  protected streamChunk(chunk: Buffer): Buffer {
    if (this.usageStrip !== undefined && this.sse) return this.usageStrip.filter(chunk, this.account.usage);
    // SSE events, or a JSON reply sent without a length (chunked), whose usage is near its end.
    readUsage(chunk, this.account.usage);
    return chunk;
  }

  protected streamTail(): string {
    return this.usageStrip?.rest() ?? "";
  }

  protected wholeBody(body: Buffer): void {
    // Accounting after the hand-over, so that the client's bytes do not wait for it, unless the request's
    // observers (a plugin, governance's settlement, a span, the cache) are shown the usage with the reply.
    const usageNow = this.observer?.usageNow === true;
    if (usageNow) readUsage(body, this.account.usage);
    this.sendWhole(this.headers, body);
    if (!usageNow) readUsage(body, this.account.usage);
    this.finish(this.status, "");
  }

  protected providerFailure(received: Buffer): UpstreamFailure {
    const body = redactSecrets(received, this.secret);
    const status = this.status;
    const error = providerError(status, this.provider, body);
    const head = this.errorHead ?? {};
    const own = forwardedHeaders(head, status).filter(([name]) => name !== "content-type");
    own.push(["content-type", "application/json"]);
    return {
      source: "reply",
      status,
      code: error.code,
      message: error.message,
      timedOut: false,
      retryAfterMs: parseRetryAfter(head["retry-after"]),
      deliver: (headers) => {
        this.reply.start(status, withHeaders(own, headers));
        this.reply.end(this.errors.provider(status, this.provider, body));
        this.observer?.error(status, error.code, "provider", error.message);
      },
    };
  }

  protected errorBody(error: GatewayError): string {
    return this.errors.gateway(error);
  }

  protected streamError(error: GatewayError): string | undefined {
    return this.sse ? this.errors.sseEvent(error) : undefined;
  }
}
