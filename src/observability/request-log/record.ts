// One request as the request log keeps it: what an operator needs to see what it did, what it cost and why
// it failed. Lanes make it when a request ends (src/pipeline/request-hooks.ts); the log worker stores it
// (src/store/logs/). Every text field is bounded where the record is made, never where it is stored.

/** How an error is classed: the gateway's own refusals apart from what providers answered. */
export type LoggedErrorClass = "" | "client" | "policy" | "provider" | "gateway";

export interface RequestLogRecord {
  /** The record's own id, made by the gateway: unique whatever the client sends. */
  readonly id: string;
  /** The request's x-request-id (the client's when it sent a plain one, which it may reuse). */
  readonly requestId: string;
  /** When the request arrived, in ms since the epoch. */
  readonly time: number;
  /** The inbound route ("openai.chat", "anthropic.messages", ...). */
  readonly route: string;
  /** The inbound wire format ("openai", "anthropic", "gemini", ...). */
  readonly format: string;
  /** The model the client asked for (a checked name); "" when the request was refused before it was read. */
  readonly model: string;
  /** The provider of the last attempt, by its configured name; "" when none was tried. */
  readonly provider: string;
  /** The model the last attempt sent to the provider. */
  readonly providerModel: string;
  /** The name of the provider key the last attempt used, never its value. */
  readonly providerKey: string;
  /** The virtual key's id; "" without one. */
  readonly virtualKey: string;
  readonly team: string;
  readonly customer: string;
  readonly status: number;
  /** The error's code (the gateway's or the provider's); "" on success. */
  readonly errorCode: string;
  readonly errorClass: LoggedErrorClass;
  /** At most 1,000 characters. */
  readonly errorMessage: string;
  /** From the complete body to the reply's end, in ms. */
  readonly latencyMs: number;
  /** From the complete body to the first streamed byte, in ms; -1 when nothing was streamed. */
  readonly ttftMs: number;
  readonly retries: number;
  /** 0 for the model asked for, n for the nth fallback. */
  readonly fallbackIndex: number;
  /** "" when no cache was asked; "hit" (exact), "semantic" (a semantic hit) or "miss". */
  readonly cache: "" | "hit" | "semantic" | "miss";
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedTokens: number;
  readonly reasoningTokens: number;
  /** Integer micro-dollars. */
  readonly costMicros: number;
  /** A cache hit's saving: what the provider charged for the answer it replayed, in micro-dollars. */
  readonly cacheSavedMicros: number;
  readonly stream: boolean;
  /** The client's metadata (x-switchyard-metadata-* headers, the body's `metadata`); null when none. */
  readonly metadata: Readonly<Record<string, string>> | null;
  /** The request body, truncated to the configured size; null when content is not logged. */
  readonly input: string | null;
  /** The reply (the stream's bytes as relayed), truncated likewise; null when content is not logged. */
  readonly output: string | null;
}

/** Content as the log worker hands it to a store: the UTF-8 bytes the lane saw, or text. */
export type LoggedContent = string | Uint8Array;

/**
 * A record as a store takes it: the content may still be the bytes the lane saw (never decoded, for SQLite,
 * which keeps them as they are); a store reads its records back as RequestLogRecord, the content as text.
 */
export interface RecordToStore extends Omit<RequestLogRecord, "input" | "output"> {
  readonly input: LoggedContent | null;
  readonly output: LoggedContent | null;
}

/** Content is cut at this many bytes per side unless configured. */
export const DEFAULT_CONTENT_BYTES = 16 * 1024;
