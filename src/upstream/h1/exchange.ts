import type { UpstreamHeaders } from "./response-parser.js";

// What one upstream exchange looks like to whoever sends it: the request, the handler that hears the reply,
// and the controller the handler steers it with.

export interface UpstreamRequestOptions {
  readonly method: string;
  readonly path: string;
  /** Flat [name, value, ...]. A frozen list (a provider key's own headers) is checked and written out once. */
  readonly headers: readonly string[];
  /** Flat [name, value, ...] made for this request alone (its id, a plugin's). */
  readonly extraHeaders: readonly string[];
  readonly body: string | Buffer | undefined;
  /** A change to a Buffer body made as it is written, so the body is copied once (the model's rewrite). */
  readonly bodyEdit?: BodyEdit | undefined;
  /** From the request written until the reply's head is in; 0 for none. */
  readonly headersTimeout: number;
  /** Between two pieces of the reply's body; 0 for none. */
  readonly bodyTimeout: number;
}

/** Bytes [start, end) of the body replaced by `replacement`. */
export interface BodyEdit {
  readonly start: number;
  readonly end: number;
  readonly replacement: Buffer;
}

export interface UpstreamController {
  /** Ends the exchange: the handler hears `onResponseError(reason)` and the connection is dropped if it was used. */
  abort(reason: Error): void;
  /** Stops the reply's body until `resume` (the client cannot take more yet); its idle timeout stops too. */
  pause(): void;
  resume(): void;
}

/**
 * Hears one exchange. Exactly one of onResponseEnd and onResponseError ends it; onRequestStart comes first,
 * before anything is written, and may abort.
 */
export interface UpstreamHandler {
  onRequestStart(controller: UpstreamController): void;
  onResponseStart(controller: UpstreamController, status: number, headers: UpstreamHeaders): void;
  onResponseData(controller: UpstreamController, chunk: Buffer): void;
  onResponseEnd(controller: UpstreamController): void;
  onResponseError(controller: UpstreamController, error: Error): void;
}
