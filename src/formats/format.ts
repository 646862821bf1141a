import type { CanonicalError, ChatChunk, ChatRequest, ChatResponse } from "./canonical.js";

// What an inbound wire format (src/formats/<name>/) exports: how a client speaking it is understood and
// answered. The OpenAI format is the canonical shape itself; the others convert.

export interface StreamEncoder {
  /** Response headers for the stream (content type and the like). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Text to send for one canonical chunk ("" when it produces nothing yet). */
  encode(chunk: ChatChunk): string;
  /** Text that closes the stream once the provider has finished. */
  end(): string;
  /** Text that reports an error after the stream has started. */
  error(error: CanonicalError): string;
}

export interface StreamOptions {
  /** The client asked for a usage report at the end of the stream (OpenAI's stream_options.include_usage). */
  readonly includeUsage: boolean;
}

export interface InboundFormat {
  readonly name: string;
  /**
   * The parsed client body as a canonical request. `pathModel` and `pathStream` come from the URL for
   * formats that carry them there (Gemini). Throws InvalidRequest for a body of the wrong shape.
   */
  toCanonical(body: unknown, pathModel?: string, pathStream?: boolean): ChatRequest;
  /** The full canonical response in this format, as JSON text. */
  fromCanonical(response: ChatResponse, requestedModel: string): string;
  streamEncoder(requestedModel: string, options?: StreamOptions): StreamEncoder;
  /** An error as this format's clients expect it. */
  errorBody(error: CanonicalError): string;
}

/** A client body that does not have the shape its format requires; answered with 400. */
export class InvalidRequest extends Error {
  constructor(
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}
