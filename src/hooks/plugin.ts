// The public plugin interface: what a module listed under `plugins` in the configuration exports, and
// what the pipeline shows it of each request. Everything here is part of the contract with plugin
// authors; the pipeline's own types stay out of it.
//
// A plugin module's default export (or its `createPlugin` export) is a factory:
//   export default function (options: unknown): Plugin | Promise<Plugin>
// It is called once per lane at start and again on every configuration reload (an edited module is imported
// afresh), and before each of those once on the main thread to check that it loads; that plugin is closed
// at once. It must finish within 10 s. See docs/plugins.md.

/** An error the gateway answers in the client's own wire format (OpenAI, Anthropic, Gemini, ...). */
export interface HookRefusal {
  /** 400-599. */
  readonly status: number;
  readonly message: string;
  /** A stable code, e.g. "model_not_allowed"; the gateway prefixes nothing. */
  readonly code: string;
  /** The error type in OpenAI's vocabulary; derived from the status when absent. */
  readonly type?: string;
  /** Headers for the reply (e.g. retry-after); names and values are checked like any response header. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

/** A whole answer a plugin gives instead of the provider's (a cache hit, say), already in the client's format. */
export interface HookAnswer {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string | Uint8Array;
  /** The answer came from a cache: counted as a hit (switchyard_cache_hits_total) and logged as one. */
  readonly cache?: boolean;
}

/** What `onRequest` may return: nothing (go on), a refusal, or an answer. */
export type RequestVerdict = { readonly refuse: HookRefusal } | { readonly answer: HookAnswer } | undefined;

/** What `authenticate` may return: nothing (accepted, or not this plugin's concern), or a refusal. */
export type AuthVerdict = { readonly refuse: HookRefusal } | undefined;

/** A request as plugins see it. One object per request, shared by every hook of every plugin. */
export interface HookRequest {
  /** The request's id (x-request-id). */
  readonly id: string;
  /** The route's name, e.g. "openai.chat", "anthropic.messages", "gemini.generateContent". */
  readonly route: string;
  /** The client's wire format: "openai", "responses", "anthropic", "gemini", "gemini-array". */
  readonly format: string;
  /** The model the client asked for, as checked by the gateway (<= 256 characters). */
  readonly model: string;
  readonly stream: boolean;
  /** The request body as the client sent it (the gateway's own fields taken out). */
  readonly body: Uint8Array;
  /** A request header's value ("" when absent); only names some plugin declared in `requestHeaders`. */
  header(name: string): string;
  /** Adds a header to every upstream attempt of this request (checked like any outgoing header). */
  setUpstreamHeader(name: string, value: string): void;
  /** Per-request scratch space, one entry per plugin by convention (its name). */
  readonly state: Map<string, unknown>;
}

/** The end of a request as plugins see it. */
export interface HookOutcome {
  readonly status: number;
  /** The provider that served the last attempt ("" when none was asked). */
  readonly provider: string;
  /** The model as that provider knows it ("" when none was asked). */
  readonly model: string;
  readonly retries: number;
  readonly fallbackIndex: number;
  /** Tokens as the provider reported them (all zero when no provider answered). */
  readonly usage: HookUsage;
}

/** A reply's token usage; `promptTokens` includes cached and cache-write tokens, `completionTokens` reasoning. */
export interface HookUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cachedReadTokens: number;
  readonly cacheWriteTokens: number;
  readonly reasoningTokens: number;
}

/** A reply that was not a success. */
export interface HookError extends HookOutcome {
  /** The error's stable code (see src/errors.ts), or the provider's own code when it gave one. */
  readonly code: string;
  /** Who the error is down to: the client's request, a policy, the provider, or the gateway itself. */
  readonly errorClass: "client" | "policy" | "provider" | "gateway";
  readonly message: string;
}

export interface Plugin {
  /** Unique among the configured plugins; used in metrics labels and logs (<= 64 characters, [A-Za-z0-9_.-]). */
  readonly name: string;
  /** Request headers (lower case) this plugin reads with `header()`; the front captures only these. */
  readonly requestHeaders?: readonly string[];
  /**
   * When true, an exception in this plugin ends the request with a 500 in the client's format; otherwise it
   * is counted (switchyard_plugin_errors_total), logged at most once a minute, and the request goes on.
   */
  readonly required?: boolean;
  /**
   * Runs on every route that takes a key (inference, /v1/models, /metrics when guarded), before the body is
   * read. `apiKey` is what the client presented ("" when nothing); never log it.
   */
  authenticate?(apiKey: string, route: string): AuthVerdict;
  /** After the model is resolved, before any provider is asked; may answer on its own. */
  onRequest?(request: HookRequest): RequestVerdict | Promise<RequestVerdict>;
  /** A whole (non-streamed) reply of status < 400, in the client's wire format, before it is sent. */
  onResponse?(request: HookRequest, outcome: HookOutcome, body: Uint8Array | string): void;
  /** Each piece of a streamed reply, in the client's wire format, as it is sent. */
  onStreamChunk?(request: HookRequest, chunk: Uint8Array | string): void;
  /** A streamed reply ended (completely or cut short: see the status). */
  onStreamEnd?(request: HookRequest, outcome: HookOutcome): void;
  /** The request was answered with an error (by the gateway, a plugin or the provider). */
  onError?(request: HookRequest, error: HookError): void;
  /** Called when the plugin is replaced by a reload or the lane stops. */
  close?(): void | Promise<void>;
}

export type PluginFactory = (options: unknown) => Plugin | Promise<Plugin>;
