import type { ErrorClass } from "../errors.js";
import type { PluginChain } from "../hooks/chain.js";
import type { HookError, HookOutcome, HookRequest, HookUsage } from "../hooks/plugin.js";
import { headerValue } from "../http/header-value.js";
import type { RequestTrace } from "../observability/tracing/request-trace.js";
import type { Usage } from "../observability/usage.js";
import type { AttemptReport } from "../routing/attempts.js";
import type { ReplyObserver } from "../upstream/report.js";
import type { CacheRecorder } from "./cache/cache-recorder.js";
import type { Admission } from "./governance/admission.js";
import type { LoggedRequest } from "./request-log.js";

// One request as the plugins see it (the public HookRequest), and the observer that shows them its reply
// and settles governance's admission when it ends. Made only when some plugin has a request or reply hook
// or a virtual key's limits hold the request or traces or the request log are on, so a gateway without any
// pays nothing.

/** Headers plugins may add upstream, per request; more is a plugin's bug, not a client's doing. */
const MAX_UPSTREAM_HEADERS = 32;
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
/** Headers the gateway sets itself, which a plugin may not replace. */
const RESERVED = new Set(["host", "content-length", "transfer-encoding", "connection", "x-request-id"]);

/** error.type is a metric-like label: a provider's code only when it is a plain token, else the status. */
const ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

function errorType(status: number, code: string | number | null): string {
  const text = code === null ? "" : String(code);
  return ERROR_CODE.test(text) ? text : String(status);
}

/** A reply that ended in error after a provider answered: the client's leaving (499) or the provider's. */
function classOf(status: number): ErrorClass {
  return status === 499 ? "client" : "provider";
}

const NO_USAGE: HookUsage = {
  promptTokens: 0,
  completionTokens: 0,
  cachedReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};

export class RequestHooks implements HookRequest, ReplyObserver {
  private stateMap: Map<string, unknown> | undefined;
  /** Flat name/value pairs for every upstream attempt; undefined until a plugin adds one. */
  upstreamHeaders: string[] | undefined;
  private attempt: AttemptReport | undefined;
  /** Set by the cache on a miss whose answer is to be stored. */
  cacheRecorder: CacheRecorder | undefined;

  constructor(
    private readonly chain: PluginChain,
    readonly id: string,
    readonly route: string,
    readonly format: string,
    readonly model: string,
    readonly stream: boolean,
    readonly body: Uint8Array,
    private readonly headerNames: readonly string[],
    private readonly headerValues: readonly string[],
    /** The request's place under its virtual key's limits and budgets, settled exactly once at its end. */
    private readonly admission: Admission | undefined,
    /** The request's spans, when traces are on. */
    readonly trace: RequestTrace | undefined,
    /** The request's log record in the making, when the request log is on. */
    private readonly log: LoggedRequest | undefined,
  ) {}

  /**
   * Only the request log can wait for a whole reply's usage: its record is written after the reply has gone.
   * Read when the reply is about to go, since the cache's recorder is set on a miss.
   */
  get usageNow(): boolean {
    return (
      this.admission !== undefined ||
      this.trace !== undefined ||
      this.cacheRecorder !== undefined ||
      this.chain.observesReplies
    );
  }

  /** Made on first use: most requests (a governed one with no plugin) never touch it. */
  get state(): Map<string, unknown> {
    this.stateMap ??= new Map();
    return this.stateMap;
  }

  header(name: string): string {
    const index = this.headerNames.indexOf(name.toLowerCase());
    return index < 0 ? "" : (this.headerValues[index] ?? "");
  }

  setUpstreamHeader(name: string, value: string): void {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name) || RESERVED.has(lower))
      throw new Error(`a plugin may not set header '${name}'`);
    // With traces on, the gateway sends its own: the attempt's span is the provider's parent, not the client's.
    if (this.trace !== undefined && lower === "traceparent") return;
    this.upstreamHeaders ??= [];
    const headers = this.upstreamHeaders;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] === lower) {
        headers[i + 1] = headerValue(value);
        return;
      }
    }
    if (headers.length >= MAX_UPSTREAM_HEADERS * 2) throw new Error("a plugin set too many upstream headers");
    headers.push(lower, headerValue(value));
  }

  /** The cache (or a plugin's) answered the request. */
  answeredFromCache(kind: "exact" | "semantic", savedMicros: number): void {
    this.log?.answeredFromCache(kind, savedMicros);
  }

  /** The cache looked and found nothing: the log says so. */
  cacheMissed(): void {
    this.log?.cacheMissed();
  }

  /** The attempt loop sent an attempt: outcomes name its provider, model, retries and fallback index. */
  attempting(attempt: AttemptReport): void {
    this.attempt = attempt;
    const candidate = attempt.candidate;
    this.trace?.attempting({
      providerKind: candidate.provider.config.kind,
      providerName: candidate.provider.name,
      model: candidate.model,
      retries: attempt.retries,
      fallbackIndex: attempt.fallbackIndex,
    });
  }

  response(status: number, body: Uint8Array | string, usage: Usage | undefined): void {
    this.trace?.end(status, usage, status >= 400 ? String(status) : undefined);
    this.cacheRecorder?.whole(status, body, usage, this.attempt);
    if (this.log !== undefined) {
      this.log.reply(body);
      this.log.endAfterReply(this.attempt, {
        status,
        errorCode: status >= 400 ? String(status) : "",
        errorClass: status < 400 ? "" : this.attempt === undefined ? "policy" : classOf(status),
        errorMessage: "",
        usage,
      });
    }
    // Settled before the reply's bytes go out: a client that sends its next request the moment it has this
    // reply must find this one's place under the key's parallel limit free, whichever lane takes it.
    this.settle(status, usage);
    // Only governance may be listening: no outcome is made for nobody.
    if (this.chain.observesReplies) this.chain.onResponse(this, this.outcome(status, usage), body);
  }

  chunk(chunk: Uint8Array | string): void {
    this.admission?.relayed(chunk);
    this.log?.chunk(chunk);
    this.cacheRecorder?.chunk(chunk);
    if (this.chain.observesReplies) this.chain.onStreamChunk(this, chunk);
  }

  streamEnd(status: number, usage: Usage): void {
    this.trace?.end(status, usage, status >= 400 ? String(status) : undefined);
    this.cacheRecorder?.streamEnd(status, usage, this.attempt);
    this.settle(status, usage);
    this.log?.end(this.attempt, {
      status,
      errorCode: status >= 400 ? String(status) : "",
      errorClass: status >= 400 ? classOf(status) : "",
      errorMessage: "",
      usage,
    });
    if (this.chain.observesReplies) this.chain.onStreamEnd(this, this.outcome(status, usage));
  }

  error(
    status: number,
    code: string | number | null,
    errorClass: ErrorClass,
    message: string,
    usage?: Usage,
  ): void {
    this.settle(status, usage);
    this.trace?.end(status, usage, errorType(status, code));
    this.log?.end(this.attempt, {
      status,
      errorCode: code === null ? String(status) : String(code),
      errorClass,
      errorMessage: message,
      usage,
    });
    if (!this.chain.observesReplies) return;
    const error: HookError = {
      ...this.outcome(status, usage),
      code: code === null ? "" : String(code),
      errorClass,
      message,
    };
    this.chain.onError(this, error);
  }

  /** Governance's settlement: charged to the provider that answered, or to none when none did. */
  private settle(status: number, usage: Usage | undefined): void {
    const admission = this.admission;
    if (admission === undefined) return;
    const candidate = usage === undefined ? undefined : this.attempt?.candidate;
    admission.settle(status, candidate?.provider.name ?? "", candidate?.model ?? "", usage);
  }

  private outcome(status: number, usage: Usage | undefined): HookOutcome {
    const attempt = this.attempt;
    return {
      usage:
        usage === undefined
          ? NO_USAGE
          : {
              promptTokens: usage.prompt,
              completionTokens: usage.completion,
              cachedReadTokens: usage.cachedRead,
              cacheWriteTokens: usage.cacheWrite,
              reasoningTokens: usage.reasoning,
            },
      status,
      provider: attempt?.candidate.provider.name ?? "",
      model: attempt?.candidate.model ?? "",
      retries: attempt?.retries ?? 0,
      fallbackIndex: attempt?.fallbackIndex ?? 0,
    };
  }
}
