/**
 * Mock OpenAI provider on uWebSockets.js, speaking the real wire format (chat completions plain and
 * streamed, tool calls, legacy completions, embeddings, models, errors; the Responses API in
 * openai-responses.ts). Error injection is driven by the request's model name so that tests going
 * through a gateway can choose it:
 *   mock-error-<status>   that status with an OpenAI-shaped error body (429 carries Retry-After)
 *   mock-hang             never answers
 *   mock-reset            destroys the connection before answering
 *   mock-reset-midstream  sends a few stream chunks, then destroys the connection
 *   mock-reset-midbody    a non-streamed reply: 200, its length, half its body, then destroys the connection
 *   mock-hang-midbody     the same, but the connection stays open and the rest never comes
 *   mock-slow-stream      100 chunks, 200 ms apart
 *   mock-echo-key         401 naming the key it was sent, as OpenAI's "Incorrect API key provided: ..." does
 * Reasoning: a chat request with `reasoning_effort` is billed reasoning tokens (inside completion_tokens, in
 * completion_tokens_details.reasoning_tokens), as OpenAI's reasoning models are; `deepseek-reasoner` also
 * answers with `reasoning_content` before the content, plain and streamed, as DeepSeek's reasoning model does.
 * Reply bodies are pre-serialised per (model, shape) so the mock stays cheap next to the gateway it measures.
 */
import { STATUS_CODES } from "node:http";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type * as UWS from "@trufflesuite/uws-js-unofficial";
import { DelayScheduler } from "./delay-queue.js";
import type { MockErrorReply } from "./error-reply.js";
import { responsesReply } from "./openai-responses.js";
import { toyEmbedding } from "./toy-embedding.js";

// The package main silently falls back to a slow JS emulation when the binary is missing; load it directly.
const uws = createRequire(import.meta.url)(
  `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
) as typeof UWS;

export interface OpenAIMockOptions {
  /** 0 = ephemeral. */
  port?: number;
  host?: string;
  /** Delay before the reply (or before the first stream chunk). */
  latencyMs?: number;
  /** Approximate size of a non-streamed chat reply body, e.g. 1400 or 10000. */
  responseBytes?: number;
  /** Content chunks in a streamed reply (the role and finish chunks come on top). Default 20. */
  streamChunks?: number;
  /** Delay between stream chunks; 0 writes the whole stream at once after latencyMs. */
  chunkIntervalMs?: number;
  /** If set, 401 in OpenAI's error shape unless `Authorization: Bearer <key>`. */
  requireKey?: string;
  /** Embedding dimensions when the request does not say. Default 384, a small sentence model's size. */
  embeddingDims?: number;
  /** Share (0..1) of chat requests answered with a 500, for chaos runs. Default 0. */
  failRate?: number;
  /** Where the API's routes live, e.g. "/openai/v1" for Groq's layout. Default "/v1". */
  pathPrefix?: string;
}

export interface MockStats {
  requests: number;
  inFlight: number;
  /** The client went away before the reply finished. */
  aborted: number;
  /** Chat requests failed on purpose by `failRate`. */
  injectedFailures: number;
  /** The most requests seen carrying one x-request-id (a gateway's retries of one client request). */
  maxSendsPerRequestId: number;
  lastRequest?: { path: string; headers: Record<string, string>; body: string };
}

export interface MockServer {
  /** http://host:port, without /v1. */
  url: string;
  port: number;
  close(): Promise<void>;
  stats: MockStats;
  /** Changes latency, sizes and stream shape of later requests (also reachable as POST /__mock/config). */
  configure(opts: Partial<Omit<OpenAIMockOptions, "port" | "host">>): void;
}

interface Exchange {
  res: UWS.HttpResponse;
  done: boolean;
}

type Config = Required<Omit<OpenAIMockOptions, "port" | "host" | "requireKey" | "pathPrefix">> & {
  requireKey?: string;
};

const SLOW_STREAM_CHUNKS = 100;
const SLOW_STREAM_INTERVAL_MS = 200;
const MIDSTREAM_RESET_AFTER = 5;
const MIDSTREAM_GAP_MS = 20;
const CACHE_LIMIT = 512;
const FINGERPRINT = "fp_mock0switchyard";
const REASONER_MODEL = "deepseek-reasoner";
const REASONING_TEXT = "The user wants a reply. I will give one.";
const REASONING_TOKENS = 16;
const LOREM =
  "Switchyard mock reply. Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor " +
  "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco " +
  "laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit " +
  "esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa " +
  "qui officia deserunt mollit anim id est laborum. ";
const STREAM_WORDS = LOREM.split(" ")
  .filter((w) => w !== "")
  .map((w) => `${w} `);
const MODELS = [
  "gpt-4o-mini",
  "gpt-4o",
  "gpt-4.1-mini",
  "gpt-3.5-turbo-instruct",
  "text-embedding-3-small",
  "text-embedding-3-large",
];

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `${status} ${STATUS_CODES[status] ?? "Unknown"}`;
    statusLines.set(status, line);
  }
  return line;
}

export function openAIError(
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
): string {
  return JSON.stringify({ error: { message, type, param, code } });
}

interface ErrorReply {
  status: number;
  body: string;
  headers?: [string, string][];
}

function injectedError(status: number, model: string): ErrorReply {
  switch (status) {
    case 400:
      return {
        status,
        body: openAIError(
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
          "invalid_request_error",
          "messages",
          "context_length_exceeded",
        ),
      };
    case 401:
      return {
        status,
        body: openAIError(
          "Incorrect API key provided: sk-mock***. You can find your API key at https://platform.openai.com/account/api-keys.",
          "invalid_request_error",
          null,
          "invalid_api_key",
        ),
      };
    case 403:
      return {
        status,
        body: openAIError(
          `Project does not have access to model ${model}`,
          "invalid_request_error",
          null,
          "model_not_found",
        ),
      };
    case 404:
      return {
        status,
        body: openAIError(
          `The model \`${model}\` does not exist or you do not have access to it.`,
          "invalid_request_error",
          null,
          "model_not_found",
        ),
      };
    case 429:
      return {
        status,
        body: openAIError(
          `Rate limit reached for ${model} in organization org-mock on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
          "requests",
          "requests",
          "rate_limit_exceeded",
        ),
        headers: [
          ["retry-after", "1"],
          ["x-ratelimit-limit-requests", "3"],
          ["x-ratelimit-remaining-requests", "0"],
          ["x-ratelimit-reset-requests", "1s"],
        ],
      };
    case 503:
      return {
        status,
        body: openAIError("The engine is currently overloaded, please try again later.", "server_error"),
      };
    case 500:
      return {
        status,
        body: openAIError(
          "The server had an error while processing your request. Sorry about that!",
          "server_error",
        ),
      };
    default:
      return {
        status,
        body: openAIError(
          `Mock error ${status}: ${STATUS_CODES[status] ?? "Unknown"}`,
          status >= 500 ? "server_error" : "invalid_request_error",
        ),
      };
  }
}

/** What the mock answers `mock-error-<status>` with, for a fault injector standing in front of it. */
export function openAIErrorReply(status: number, model: string): MockErrorReply {
  const e = injectedError(status, model);
  return {
    status: e.status,
    headers: Object.fromEntries([["content-type", "application/json"], ...(e.headers ?? [])]),
    body: e.body,
  };
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function loremOfLength(length: number): string {
  const n = Math.max(1, length);
  return LOREM.repeat(Math.ceil(n / LOREM.length)).slice(0, n);
}

/** The client's cap on output tokens (max_completion_tokens, else max_tokens): a provider never bills past it. */
function outputCapOf(parsed: Record<string, unknown>): number {
  const cap = parsed.max_completion_tokens ?? parsed.max_tokens;
  return typeof cap === "number" && cap >= 0 ? cap : Number.POSITIVE_INFINITY;
}

/** Completion tokens billed within the cap, reasoning tokens (billed on top by usageJson) included. */
function capped(completionTokens: number, reasoningTokens: number, cap: number): number {
  return Math.max(0, Math.min(completionTokens, cap - reasoningTokens));
}

function usageJson(promptTokens: number, completionTokens: number, reasoningTokens = 0): string {
  // Reasoning tokens are billed as completion tokens and broken out in the details, as OpenAI reports them.
  const completion = completionTokens + reasoningTokens;
  return (
    `{"prompt_tokens":${promptTokens},"completion_tokens":${completion},"total_tokens":${promptTokens + completion},` +
    `"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},` +
    `"completion_tokens_details":{"reasoning_tokens":${reasoningTokens},"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`
  );
}

interface ToolSpec {
  name: string;
  arguments: string;
}

/** Arguments that satisfy the tool's required parameters, so SDK-side JSON parsing works. */
function firstTool(tools: unknown): ToolSpec | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  const tool = tools[0] as { type?: string; function?: { name?: unknown; parameters?: unknown } };
  const name = typeof tool?.function?.name === "string" ? tool.function.name : "tool";
  const params = tool?.function?.parameters as
    | { properties?: Record<string, { type?: string; enum?: unknown[] }>; required?: string[] }
    | undefined;
  const args: Record<string, unknown> = {};
  const props = params?.properties ?? {};
  for (const key of params?.required ?? Object.keys(props)) {
    const prop = props[key];
    if (Array.isArray(prop?.enum) && prop.enum.length > 0) args[key] = prop.enum[0];
    else if (prop?.type === "number" || prop?.type === "integer") args[key] = 1;
    else if (prop?.type === "boolean") args[key] = true;
    else if (prop?.type === "array") args[key] = [];
    else if (prop?.type === "object") args[key] = {};
    else args[key] = "mock";
  }
  return { name, arguments: JSON.stringify(args) };
}

/** A cached reply split around the per-request usage object. */
interface Cached {
  prefix: string;
  suffix: string;
  completionTokens: number;
}

interface StreamFrames {
  frames: string[];
  /** Everything of the final usage chunk up to the usage object. */
  usagePrefix: string;
  completionTokens: number;
}

const DEFAULT_EMBEDDING_DIMS = 384;

let idCounter = 0;
function newId(prefix: string): string {
  idCounter = (idCounter + 1) % 0x7fffffff;
  return `${prefix}-mock${Date.now().toString(36)}${idCounter.toString(36)}`;
}

function readPositive(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : fallback;
}

export function startOpenAIMock(opts: OpenAIMockOptions = {}): Promise<MockServer> {
  const host = opts.host ?? "127.0.0.1";
  const config: Config = {
    latencyMs: opts.latencyMs ?? 0,
    responseBytes: opts.responseBytes ?? 1400,
    streamChunks: opts.streamChunks ?? 20,
    chunkIntervalMs: opts.chunkIntervalMs ?? 0,
    embeddingDims: opts.embeddingDims ?? DEFAULT_EMBEDDING_DIMS,
    failRate: opts.failRate ?? 0,
    ...(opts.requireKey !== undefined ? { requireKey: opts.requireKey } : {}),
  };
  const stats: MockStats = {
    requests: 0,
    inFlight: 0,
    aborted: 0,
    injectedFailures: 0,
    maxSendsPerRequestId: 0,
  };
  // Sends per x-request-id; cleared at each configure() so long runs stay bounded by their own length.
  const sends = new Map<string, number>();
  const scheduler = new DelayScheduler();
  const live = new Set<Exchange>();
  const chatCache = new Map<string, Cached>();
  const textCache = new Map<string, Cached>();
  const streamCache = new Map<string, StreamFrames>();
  const created = Math.floor(Date.now() / 1000);
  const modelsBody = JSON.stringify({
    object: "list",
    data: MODELS.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "system" })),
  });

  function configure(next: Partial<Omit<OpenAIMockOptions, "port" | "host">>): void {
    config.latencyMs = readPositive(next.latencyMs, config.latencyMs);
    config.responseBytes = readPositive(next.responseBytes, config.responseBytes);
    config.streamChunks = readPositive(next.streamChunks, config.streamChunks);
    config.chunkIntervalMs = readPositive(next.chunkIntervalMs, config.chunkIntervalMs);
    config.embeddingDims = readPositive(next.embeddingDims, config.embeddingDims) || DEFAULT_EMBEDDING_DIMS;
    config.failRate = Math.min(1, readPositive(next.failRate, config.failRate));
    sends.clear();
    if (typeof next.requireKey === "string") config.requireKey = next.requireKey;
    chatCache.clear();
    textCache.clear();
    streamCache.clear();
  }

  function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
    let value = cache.get(key);
    if (value === undefined) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      value = make();
      cache.set(key, value);
    }
    return value;
  }

  function settle(ex: Exchange): void {
    ex.done = true;
    live.delete(ex);
    stats.inFlight--;
  }

  function send(
    ex: Exchange,
    status: number,
    body: string,
    contentType = "application/json",
    headers?: [string, string][],
  ): void {
    if (ex.done) return;
    settle(ex);
    const res = ex.res;
    res.cork(() => {
      res.writeStatus(statusLine(status)).writeHeader("content-type", contentType);
      res.writeHeader("x-request-id", "req_mock");
      if (headers !== undefined) for (const [k, v] of headers) res.writeHeader(k, v);
      res.end(body);
    });
  }

  /** 200 with the whole body's length but only its first half: the rest never comes. */
  function sendHalf(ex: Exchange, body: string): void {
    const res = ex.res;
    res.cork(() => {
      res.writeStatus(statusLine(200)).writeHeader("content-type", "application/json");
      res.tryEnd(body.slice(0, body.length >> 1), body.length);
    });
  }

  function reset(ex: Exchange): void {
    if (ex.done) return;
    // Settled first so the onAborted that close() triggers does not count as a client abort.
    settle(ex);
    ex.res.close();
  }

  function chatReply(model: string, tool: ToolSpec | undefined): Cached {
    return remember(chatCache, `${model}\u0000${tool?.name ?? ""}\u0000${tool?.arguments ?? ""}`, () => {
      const head = `{"id":"${newId("chatcmpl")}","object":"chat.completion","created":${created},"model":${JSON.stringify(model)},"choices":[{"index":0,"message":`;
      const tail = `,"logprobs":null,"finish_reason":"${tool ? "tool_calls" : "stop"}"}],"usage":`;
      const suffix = `,"service_tier":"default","system_fingerprint":"${FINGERPRINT}"}`;
      let message: string;
      let completionTokens: number;
      if (tool) {
        message = JSON.stringify({
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: newId("call"),
              type: "function",
              function: { name: tool.name, arguments: tool.arguments },
            },
          ],
          refusal: null,
          annotations: [],
        });
        completionTokens = estimateTokens(tool.arguments) + 8;
      } else {
        const envelope = head.length + tail.length + suffix.length + usageJson(100, 100).length + 60;
        const content = loremOfLength(config.responseBytes - envelope);
        const reasoning =
          model === REASONER_MODEL ? `,"reasoning_content":${JSON.stringify(REASONING_TEXT)}` : "";
        message = `{"role":"assistant","content":${JSON.stringify(content)}${reasoning},"refusal":null,"annotations":[]}`;
        completionTokens = estimateTokens(content);
      }
      return { prefix: head + message + tail, suffix, completionTokens };
    });
  }

  function textReply(model: string): Cached {
    return remember(textCache, model, () => {
      const head = `{"id":"${newId("cmpl")}","object":"text_completion","created":${created},"model":${JSON.stringify(model)},"choices":[{"text":`;
      const tail = `,"index":0,"logprobs":null,"finish_reason":"stop"}],"usage":`;
      const suffix = `,"system_fingerprint":"${FINGERPRINT}"}`;
      const content = loremOfLength(config.responseBytes - head.length - tail.length - suffix.length - 80);
      return {
        prefix: head + JSON.stringify(content) + tail,
        suffix,
        completionTokens: estimateTokens(content),
      };
    });
  }

  function chatFrames(model: string, tool: ToolSpec | undefined, withUsage: boolean, chunks: number) {
    const key = `${model}\u0000${tool?.name ?? ""}\u0000${tool?.arguments ?? ""}\u0000${withUsage}\u0000${chunks}`;
    return remember(streamCache, `chat\u0000${key}`, (): StreamFrames => {
      const id = newId("chatcmpl");
      const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"service_tier":"default","system_fingerprint":"${FINGERPRINT}","choices":[{"index":0,"delta":`;
      const usageNull = withUsage ? `,"usage":null` : "";
      const frame = (delta: string, finish: string | null) =>
        `${head}${delta},"logprobs":null,"finish_reason":${finish === null ? "null" : `"${finish}"`}}]${usageNull}}\n\n`;
      const frames: string[] = [];
      let completionTokens = 0;
      if (tool) {
        frames.push(
          frame(
            JSON.stringify({
              role: "assistant",
              content: null,
              tool_calls: [
                {
                  index: 0,
                  id: newId("call"),
                  type: "function",
                  function: { name: tool.name, arguments: "" },
                },
              ],
              refusal: null,
            }),
            null,
          ),
        );
        const step = Math.max(1, Math.ceil(tool.arguments.length / Math.max(1, chunks)));
        for (let i = 0; i < tool.arguments.length; i += step) {
          const part = tool.arguments.slice(i, i + step);
          frames.push(
            frame(JSON.stringify({ tool_calls: [{ index: 0, function: { arguments: part } }] }), null),
          );
          completionTokens++;
        }
        frames.push(frame("{}", "tool_calls"));
      } else {
        frames.push(frame(`{"role":"assistant","content":"","refusal":null}`, null));
        if (model === REASONER_MODEL) {
          for (const word of REASONING_TEXT.split(/(?<= )/)) {
            frames.push(frame(`{"content":null,"reasoning_content":${JSON.stringify(word)}}`, null));
          }
        }
        for (let i = 0; i < chunks; i++) {
          const word = STREAM_WORDS[i % STREAM_WORDS.length] as string;
          frames.push(frame(`{"content":${JSON.stringify(word)}}`, null));
        }
        completionTokens = chunks;
        frames.push(frame("{}", "stop"));
      }
      const usagePrefix = `data: {"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"service_tier":"default","system_fingerprint":"${FINGERPRINT}","choices":[],"usage":`;
      return { frames, usagePrefix, completionTokens };
    });
  }

  function textFrames(model: string, withUsage: boolean, chunks: number) {
    return remember(streamCache, `text\u0000${model}\u0000${withUsage}\u0000${chunks}`, (): StreamFrames => {
      const id = newId("cmpl");
      const head = `data: {"id":"${id}","object":"text_completion","created":${created},"choices":[{"text":`;
      const tail = `,"model":${JSON.stringify(model)},"system_fingerprint":"${FINGERPRINT}"${withUsage ? `,"usage":null` : ""}}\n\n`;
      const frames: string[] = [];
      for (let i = 0; i < chunks; i++) {
        const word = STREAM_WORDS[i % STREAM_WORDS.length] as string;
        frames.push(`${head}${JSON.stringify(word)},"index":0,"logprobs":null,"finish_reason":null}]${tail}`);
      }
      frames.push(`${head}"","index":0,"logprobs":null,"finish_reason":"stop"}]${tail}`);
      const usagePrefix = `data: {"id":"${id}","object":"text_completion","created":${created},"choices":[],"model":${JSON.stringify(model)},"system_fingerprint":"${FINGERPRINT}","usage":`;
      return { frames, usagePrefix, completionTokens: chunks };
    });
  }

  function stream(
    ex: Exchange,
    s: StreamFrames,
    promptTokens: number,
    withUsage: boolean,
    intervalMs: number,
    resetAfter: number,
    reasoningTokens = 0,
    outputCap = Number.POSITIVE_INFINITY,
  ): void {
    let i = 0;
    const res = ex.res;
    const step = (): void => {
      if (ex.done) return;
      if (i >= resetAfter) {
        reset(ex);
        return;
      }
      let finished = false;
      res.cork(() => {
        if (i === 0) {
          res
            .writeStatus("200 OK")
            .writeHeader("content-type", "text/event-stream; charset=utf-8")
            .writeHeader("cache-control", "no-cache")
            .writeHeader("x-request-id", "req_mock");
        }
        // With no interval the whole stream goes out in one corked write.
        do {
          res.write(s.frames[i++] as string);
        } while (intervalMs === 0 && i < s.frames.length && i < resetAfter);
        if (i >= s.frames.length) {
          const usage = withUsage
            ? `${s.usagePrefix}${usageJson(promptTokens, capped(s.completionTokens, reasoningTokens, outputCap), reasoningTokens)}}\n\n`
            : "";
          settle(ex);
          res.end(`${usage}data: [DONE]\n\n`);
          finished = true;
        }
      });
      if (finished) return;
      if (intervalMs === 0) reset(ex);
      else scheduler.schedule(intervalMs, step);
    };
    if (config.latencyMs > 0) scheduler.schedule(config.latencyMs, step);
    else step();
  }

  function later(fn: () => void): void {
    if (config.latencyMs > 0) scheduler.schedule(config.latencyMs, fn);
    else fn();
  }

  type Kind = "chat" | "text" | "embeddings" | "responses";

  /** Answers 401 as OpenAI does when a key is required and this is not it; true when it did. */
  function refusedKey(ex: Exchange, authorization: string): boolean {
    if (config.requireKey === undefined || authorization === `Bearer ${config.requireKey}`) return false;
    const message =
      authorization === ""
        ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys."
        : "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.";
    send(
      ex,
      401,
      openAIError(message, "invalid_request_error", null, authorization === "" ? null : "invalid_api_key"),
    );
    return true;
  }

  function dispatch(ex: Exchange, kind: Kind, body: string, authorization: string): void {
    if (refusedKey(ex, authorization)) return;
    let parsed: Record<string, unknown>;
    try {
      const value: unknown = JSON.parse(body);
      if (value === null || typeof value !== "object" || Array.isArray(value))
        throw new Error("not an object");
      parsed = value as Record<string, unknown>;
    } catch {
      send(
        ex,
        400,
        openAIError(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
          "invalid_request_error",
        ),
      );
      return;
    }
    const model = parsed.model;
    if (typeof model !== "string" || model === "") {
      send(ex, 400, openAIError("you must provide a model parameter", "invalid_request_error", null, null));
      return;
    }
    if (model.startsWith("mock-")) {
      if (model.startsWith("mock-error-")) {
        const status = Number.parseInt(model.slice("mock-error-".length), 10);
        const e = injectedError(status >= 400 && status <= 599 ? status : 400, model);
        send(ex, e.status, e.body, "application/json", e.headers);
        return;
      }
      if (model === "mock-hang") return;
      if (model === "mock-echo-key") {
        const key = authorization.replace(/^Bearer /, "");
        const message = `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`;
        send(ex, 401, openAIError(message, "invalid_request_error", null, "invalid_api_key"));
        return;
      }
      if (model === "mock-reset") {
        reset(ex);
        return;
      }
    }
    const promptTokens = estimateTokens(body);
    if (config.failRate > 0 && Math.random() < config.failRate) {
      stats.injectedFailures++;
      const e = injectedError(500, model);
      send(ex, e.status, e.body, "application/json", e.headers);
      return;
    }
    const streamed = parsed.stream === true;
    const withUsage =
      streamed && (parsed.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;

    if (kind === "responses") {
      const r = responsesReply(
        parsed,
        model,
        promptTokens,
        STREAM_WORDS.slice(0, Math.max(1, config.streamChunks)),
      );
      later(() => send(ex, r.status, r.body, r.contentType));
      return;
    }
    if (kind === "embeddings") {
      embeddings(ex, parsed, model);
      return;
    }
    if (kind === "text") {
      if (parsed.prompt === undefined) {
        send(
          ex,
          400,
          openAIError(
            "Missing required parameter: 'prompt'.",
            "invalid_request_error",
            "prompt",
            "missing_required_parameter",
          ),
        );
        return;
      }
      if (streamed) {
        stream(
          ex,
          textFrames(model, withUsage, config.streamChunks),
          promptTokens,
          withUsage,
          config.chunkIntervalMs,
          Infinity,
        );
        return;
      }
      const r = textReply(model);
      later(() => send(ex, 200, r.prefix + usageJson(promptTokens, r.completionTokens) + r.suffix));
      return;
    }
    if (!Array.isArray(parsed.messages) || parsed.messages.length === 0) {
      send(
        ex,
        400,
        openAIError(
          parsed.messages === undefined
            ? "Missing required parameter: 'messages'."
            : "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
          "invalid_request_error",
          "messages",
          parsed.messages === undefined ? "missing_required_parameter" : "empty_array",
        ),
      );
      return;
    }
    const tool = firstTool(parsed.tools);
    const reasoningTokens =
      parsed.reasoning_effort !== undefined || model === REASONER_MODEL ? REASONING_TOKENS : 0;
    if (streamed) {
      const slow = model === "mock-slow-stream";
      const chunks = slow ? SLOW_STREAM_CHUNKS : config.streamChunks;
      const interval = slow ? SLOW_STREAM_INTERVAL_MS : config.chunkIntervalMs;
      const midstream = model === "mock-reset-midstream";
      const resetAfter = midstream ? 1 + MIDSTREAM_RESET_AFTER : Infinity;
      // A reset right behind the data makes the client kernel drop the unread chunks; space them out.
      const gap = midstream ? Math.max(interval, MIDSTREAM_GAP_MS) : interval;
      stream(
        ex,
        chatFrames(model, tool, withUsage, chunks),
        promptTokens,
        withUsage,
        gap,
        resetAfter,
        reasoningTokens,
        outputCapOf(parsed),
      );
      return;
    }
    if (model === "mock-reset-midstream") {
      reset(ex);
      return;
    }
    const r = chatReply(model, tool);
    if (model === "mock-reset-midbody" || model === "mock-hang-midbody") {
      sendHalf(ex, r.prefix + usageJson(promptTokens, r.completionTokens, 0) + r.suffix);
      if (model === "mock-reset-midbody") setTimeout(() => reset(ex), MIDSTREAM_GAP_MS);
      return;
    }
    later(() =>
      send(
        ex,
        200,
        r.prefix +
          usageJson(
            promptTokens,
            capped(r.completionTokens, reasoningTokens, outputCapOf(parsed)),
            reasoningTokens,
          ) +
          r.suffix,
      ),
    );
  }

  function embeddings(ex: Exchange, parsed: Record<string, unknown>, model: string): void {
    const input = parsed.input;
    let texts: string[];
    if (typeof input === "string") texts = [input];
    else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === "string"))
      texts = input as string[];
    else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === "number"))
      texts = [input.join(",")];
    else if (Array.isArray(input) && input.length > 0 && input.every((x) => Array.isArray(x)))
      texts = input.map((x) => (x as unknown[]).join(","));
    else {
      send(
        ex,
        400,
        openAIError(
          "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
          "invalid_request_error",
        ),
      );
      return;
    }
    const dims =
      typeof parsed.dimensions === "number" && parsed.dimensions > 0
        ? Math.floor(parsed.dimensions)
        : config.embeddingDims;
    const base64 = parsed.encoding_format === "base64";
    let tokens = 0;
    const data = texts.map((text, index) => {
      tokens += estimateTokens(text);
      // Similar texts get similar vectors, so a semantic cache in front of the mock sees meaningful scores.
      const v = toyEmbedding(text, dims);
      return {
        object: "embedding",
        index,
        embedding: base64
          ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")
          : Array.from(v),
      };
    });
    const body = JSON.stringify({
      object: "list",
      data,
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
    later(() => send(ex, 200, body));
  }

  function begin(
    res: UWS.HttpResponse,
    req: UWS.HttpRequest,
  ): { ex: Exchange; path: string; headers: Record<string, string> } {
    const ex: Exchange = { res, done: false };
    stats.requests++;
    stats.inFlight++;
    live.add(ex);
    res.onAborted(() => {
      if (ex.done) return;
      settle(ex);
      stats.aborted++;
    });
    const headers: Record<string, string> = {};
    req.forEach((k, v) => {
      headers[k] = v;
    });
    const id = headers["x-request-id"];
    if (id !== undefined) {
      const n = (sends.get(id) ?? 0) + 1;
      sends.set(id, n);
      if (n > stats.maxSendsPerRequestId) stats.maxSendsPerRequestId = n;
    }
    return { ex, path: req.getUrl(), headers };
  }

  function readBody(res: UWS.HttpResponse, ex: Exchange, onBody: (body: string) => void): void {
    let parts: Buffer[] | undefined;
    res.onData((chunk, isLast) => {
      if (ex.done) return;
      if (isLast) {
        // uWS reuses the chunk's memory after this callback: copy (or decode) before returning.
        const body =
          parts === undefined
            ? Buffer.from(chunk).toString("utf8")
            : Buffer.concat([...parts, Buffer.from(chunk)]).toString("utf8");
        onBody(body);
      } else {
        if (parts === undefined) parts = [];
        parts.push(Buffer.from(chunk.slice(0)));
      }
    });
  }

  function route(kind: Kind) {
    return (res: UWS.HttpResponse, req: UWS.HttpRequest): void => {
      const { ex, path, headers } = begin(res, req);
      const authorization = req.getHeader("authorization");
      readBody(res, ex, (body) => {
        stats.lastRequest = { path, headers, body };
        try {
          dispatch(ex, kind, body, authorization);
        } catch (error) {
          // A body of the wrong shape (the gateway's fuzz tests send them) is the client's mistake, as upstream.
          send(
            ex,
            400,
            openAIError(`invalid request: ${(error as Error).message}`, "invalid_request_error", null, null),
          );
        }
      });
    };
  }

  const prefix = opts.pathPrefix ?? "/v1";
  const app = uws.App();
  app.post(`${prefix}/chat/completions`, route("chat"));
  app.post(`${prefix}/completions`, route("text"));
  app.post(`${prefix}/embeddings`, route("embeddings"));
  app.post(`${prefix}/responses`, route("responses"));
  app.get(`${prefix}/models`, (res, req) => {
    const { ex, path, headers } = begin(res, req);
    stats.lastRequest = { path, headers, body: "" };
    if (refusedKey(ex, headers.authorization ?? "")) return;
    send(ex, 200, modelsBody);
  });
  app.get(`${prefix}/models/:model`, (res, req) => {
    const { ex, path, headers } = begin(res, req);
    stats.lastRequest = { path, headers, body: "" };
    const id = decodeURIComponent(req.getParameter(0));
    if (MODELS.includes(id)) {
      send(ex, 200, JSON.stringify({ id, object: "model", created: 1_700_000_000, owned_by: "system" }));
    } else {
      send(ex, 404, injectedError(404, id).body);
    }
  });
  // Bifrost fetches its pricing sheet from here at start-up (the bench points pricing_url at the mock); an
  // empty sheet is enough for it to start.
  app.get("/datasheet", (res, req) => {
    const { ex } = begin(res, req);
    send(ex, 200, "{}");
  });
  // Bench control, outside /v1 so it cannot collide with anything a gateway forwards.
  app.get("/__mock/stats", (res) => {
    res.cork(() => {
      res
        .writeHeader("content-type", "application/json")
        .end(JSON.stringify({ ...stats, lastRequest: undefined }));
    });
  });
  // Sends per x-request-id since the last configure(), so a bench can add up one request's sends across mocks.
  app.get("/__mock/sends", (res) => {
    res.cork(() => {
      res.writeHeader("content-type", "application/json").end(JSON.stringify(Object.fromEntries(sends)));
    });
  });
  app.post("/__mock/config", (res) => {
    let done = false;
    res.onAborted(() => {
      done = true;
    });
    let parts: Buffer[] = [];
    res.onData((chunk, isLast) => {
      parts.push(Buffer.from(chunk.slice(0)));
      if (!isLast || done) return;
      let status = "200 OK";
      let reply = "";
      try {
        configure(JSON.parse(Buffer.concat(parts).toString("utf8")) as Partial<OpenAIMockOptions>);
        reply = JSON.stringify(config);
      } catch (err) {
        status = "400 Bad Request";
        reply = openAIError(String(err), "invalid_request_error");
      }
      parts = [];
      res.cork(() => {
        res.writeStatus(status).writeHeader("content-type", "application/json").end(reply);
      });
    });
  });
  app.any("/*", (res, req) => {
    const { ex, path, headers } = begin(res, req);
    const method = req.getMethod().toUpperCase();
    const reply = () =>
      send(ex, 404, openAIError(`Invalid URL (${method} ${path})`, "invalid_request_error"));
    if (method === "GET" || method === "HEAD" || method === "DELETE") {
      stats.lastRequest = { path, headers, body: "" };
      reply();
    } else {
      readBody(res, ex, (body) => {
        stats.lastRequest = { path, headers, body };
        reply();
      });
    }
  });

  return new Promise((resolve, reject) => {
    app.listen(host, opts.port ?? 0, (socket) => {
      if (socket === false) {
        reject(new Error(`openai-mock: cannot listen on ${host}:${opts.port ?? 0}`));
        return;
      }
      const port = uws.us_socket_local_port(socket as unknown as UWS.us_socket);
      let closed = false;
      resolve({
        url: `http://${host}:${port}`,
        port,
        stats,
        configure,
        close: async () => {
          if (closed) return;
          closed = true;
          uws.us_listen_socket_close(socket);
          scheduler.clear();
          for (const ex of [...live]) reset(ex);
        },
      });
    });
  });
}

function parseArgs(argv: string[]): OpenAIMockOptions {
  const opts: OpenAIMockOptions = {};
  const num = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes("=") ? (arg.split("=", 2) as [string, string]) : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case "--port":
        opts.port = num(flag, value());
        break;
      case "--host":
        opts.host = value();
        break;
      case "--latency":
        opts.latencyMs = num(flag, value());
        break;
      case "--response-bytes":
        opts.responseBytes = num(flag, value());
        break;
      case "--stream-chunks":
        opts.streamChunks = num(flag, value());
        break;
      case "--chunk-interval":
        opts.chunkIntervalMs = num(flag, value());
        break;
      case "--embedding-dims":
        opts.embeddingDims = num(flag, value());
        break;
      case "--fail-rate":
        opts.failRate = num(flag, value());
        break;
      case "--require-key":
        opts.requireKey = value();
        break;
      case "--help":
        process.stdout.write(
          "usage: openai-mock [--port N] [--host H] [--latency MS] [--response-bytes N] [--stream-chunks N] [--chunk-interval MS] [--embedding-dims N] [--fail-rate 0..1] [--require-key KEY]\n",
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown flag ${arg}`);
    }
  }
  return opts;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const server = await startOpenAIMock(parseArgs(process.argv.slice(2)));
  process.stdout.write(`${server.url}\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
