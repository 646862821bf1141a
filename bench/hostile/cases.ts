/**
 * What a hostile client sends, and what the gateway must answer: one catalogue shared by the hostile-input
 * test suite (each case once, then a normal request) and the hostile soak of `npm run bench` (the cases
 * mixed with normal traffic for a minute). Each case names the statuses it may get; anything else, silence,
 * an injected header, or an error body not in the client's own wire format is a problem.
 */
import { header, type RawExchange, type RawResponse, rawExchange, requestBytes } from "./raw-http.js";

/** Models the gateway under test serves, one per provider wire format (see `hostileEnvironment`). */
export const MODELS = {
  openai: "openai/gpt-4o-mini",
  anthropic: "anthropic/claude-sonnet-4-5",
  gemini: "gemini/gemini-2.5-flash",
} as const;

/** The request body limit the gateway under test runs with (SWITCHYARD_MAX_BODY_MB). */
export const BODY_LIMIT_MB = 16;

export type WireFormat = "openai" | "anthropic" | "gemini";

export interface HostileCase {
  readonly name: string;
  /**
   * Set when the uWS binary that loads here drops the request in its own parser, before any of the
   * gateway's code runs (no answer; it closes the connection at its idle timeout): what it drops. On that
   * front such a case proves only that the gateway lives on; docs/architecture.md has the measurements.
   */
  readonly uwsDrops?: string;
  /**
   * Sends the case; resolves with the problems found (none when the gateway answered as it should).
   * `timeoutMs` bounds the wait for an answer (silence is a problem).
   */
  run(origin: string, timeoutMs?: number): Promise<string[]>;
}

const JSON_HEADERS: ReadonlyArray<readonly [string, string]> = [["content-type", "application/json"]];
const CHAT = "/v1/chat/completions";
const MESSAGES = "/anthropic/v1/messages";
const COUNT_TOKENS = "/anthropic/v1/messages/count_tokens";
const geminiPath = (model: string, method = "generateContent") => `/genai/v1beta/models/${model}:${method}`;

const user = (content: unknown) => [{ role: "user", content }];

export function normalBody(format: WireFormat, model?: string): string {
  if (format === "anthropic")
    return JSON.stringify({ model: model ?? MODELS.anthropic, max_tokens: 32, messages: user("Hello") });
  if (format === "gemini")
    return JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Hello" }] }] });
  return JSON.stringify({ model: model ?? MODELS.openai, messages: user("Hello") });
}

/** A JSON schema nested `depth` levels deep, built as text so that building it recurses nowhere. */
function deepSchema(depth: number): string {
  return `${'{"type":"object","properties":{"a":'.repeat(depth)}{"type":"string"}${"}}".repeat(depth)}`;
}

function formatOf(path: string): WireFormat {
  if (path.startsWith("/anthropic/")) return "anthropic";
  if (path.startsWith("/genai/")) return "gemini";
  return "openai";
}

/** Problems with an error reply's body: it must be the client's own wire format's error shape. */
export function errorShapeProblems(format: WireFormat, response: RawResponse): string[] {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(response.body.toString("utf8")) as Record<string, unknown>;
  } catch {
    return [`${response.status} body is not JSON: ${response.body.toString("utf8").slice(0, 120)}`];
  }
  const error = body.error as Record<string, unknown> | undefined;
  const ok =
    format === "anthropic"
      ? body.type === "error" && typeof error?.type === "string" && typeof error.message === "string"
      : format === "gemini"
        ? typeof error?.code === "number" &&
          typeof error.message === "string" &&
          typeof error.status === "string"
        : typeof error?.message === "string" && "type" in (error ?? {});
  return ok
    ? []
    : [`${response.status} body is not ${format}'s error shape: ${JSON.stringify(body).slice(0, 160)}`];
}

/** C0 controls other than tab, and DEL: what a header value must never carry. */
function hasControlByte(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

/** Problems every answer is checked for: forged headers and control bytes in header values. */
function headerProblems(response: RawResponse): string[] {
  const problems: string[] = [];
  for (const [name, value] of response.headers) {
    if (name === "set-cookie" || name === "x-injected") problems.push(`forged header ${name}: ${value}`);
    if (hasControlByte(value)) problems.push(`control byte in header ${name}`);
  }
  return problems;
}

interface Expectation {
  readonly statuses: readonly number[];
  /** How many answers the bytes ask for (pipelining); fewer is allowed only with an error and a close. */
  readonly answers?: number;
  readonly check?: (responses: RawResponse[]) => string[];
}

function judge(path: string, exchange: RawExchange, expected: Expectation): string[] {
  const want = expected.answers ?? 1;
  const { responses } = exchange;
  if (responses.length === 0)
    return [exchange.timedOut ? "no answer (silence)" : "connection closed without an answer"];
  const problems: string[] = [];
  if (responses.length < want) {
    const refused = responses.some((r) => r.status >= 400);
    if (!refused || !exchange.closed)
      problems.push(`${responses.length} of ${want} answers, without an error and a close`);
  }
  for (const response of responses) {
    if (!expected.statuses.includes(response.status))
      problems.push(`status ${response.status}, expected one of ${expected.statuses.join("/")}`);
    problems.push(...headerProblems(response));
    if (response.status >= 400 && response.body.length > 0)
      problems.push(...errorShapeProblems(formatOf(path), response));
  }
  if (exchange.leftover.length > 0 && !exchange.timedOut)
    problems.push(`unparsable bytes after the answers: ${exchange.leftover.toString("latin1").slice(0, 80)}`);
  problems.push(...(expected.check?.(responses) ?? []));
  return problems;
}

function post(
  name: string,
  path: string,
  body: string | Buffer,
  expected: Expectation,
  headers: ReadonlyArray<readonly [string, string]> = JSON_HEADERS,
): HostileCase {
  return {
    name,
    async run(origin, timeoutMs = 10_000) {
      const exchange = await rawExchange(origin, requestBytes("POST", path, headers, body), { timeoutMs });
      return judge(path, exchange, expected);
    },
  };
}

const CRLF_MODEL = "x\r\nSet-Cookie: stolen=1\r\nX-Injected: 1";
const CRLF_IN_PATH = encodeURIComponent(CRLF_MODEL);

export function hostileCases(): HostileCase[] {
  const chat = (extra: Record<string, unknown>) =>
    JSON.stringify({ model: MODELS.openai, messages: user("Hi"), ...extra });
  const messages = (extra: Record<string, unknown>, model: string = MODELS.openai) =>
    JSON.stringify({ model, max_tokens: 16, messages: user("Hi"), ...extra });
  return [
    // Bodies the parsers and converters must refuse, never throw on.
    post("malformed JSON", CHAT, '{"model": "openai/gpt-4o-mini", "messages": [', { statuses: [400] }),
    post("body is a JSON string", CHAT, '"hello"', { statuses: [400] }),
    post("model is a number", CHAT, JSON.stringify({ model: 5, messages: user("Hi") }), { statuses: [400] }),
    post(
      "messages is a string, converted for Anthropic",
      CHAT,
      JSON.stringify({ model: MODELS.anthropic, messages: "Hi" }),
      {
        statuses: [400],
      },
    ),
    post(
      "a null message, converted for Gemini",
      CHAT,
      JSON.stringify({ model: MODELS.gemini, messages: [null] }),
      {
        statuses: [400],
      },
    ),
    post("a null content block", MESSAGES, messages({ messages: user([null]) }), { statuses: [400] }),
    post("a null system block", MESSAGES, messages({ system: [null] }), { statuses: [400] }),
    post("content is a number", MESSAGES, messages({ messages: user(5) }, MODELS.gemini), {
      statuses: [400],
    }),
    post("tools is an object", MESSAGES, messages({ tools: { name: "t" } }), { statuses: [400] }),
    post(
      "a null Gemini part, converted for OpenAI",
      geminiPath(encodeURIComponent(MODELS.openai)),
      JSON.stringify({ contents: [{ role: "user", parts: [null] }] }),
      { statuses: [400] },
    ),
    post(
      "contents is a string",
      geminiPath(encodeURIComponent(MODELS.anthropic)),
      JSON.stringify({ contents: "Hi" }),
      { statuses: [400] },
    ),
    post(
      "a tool schema nested 20,000 levels, converted for Gemini",
      CHAT,
      `{"model":"${MODELS.gemini}","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"t","parameters":${deepSchema(20_000)}}}]}`,
      { statuses: [400] },
    ),
    post(
      "a tool schema nested 20,000 levels, from Anthropic to OpenAI",
      MESSAGES,
      `{"model":"${MODELS.openai}","max_tokens":16,"messages":[{"role":"user","content":"Hi"}],"tools":[{"name":"t","input_schema":${deepSchema(20_000)}}]}`,
      { statuses: [200, 400] },
    ),
    post(
      "arrays nested 100,000 levels",
      CHAT,
      `{"model":"${MODELS.openai}","messages":[{"role":"user","content":"Hi"}],"metadata":${"[".repeat(100_000)}${"]".repeat(100_000)}}`,
      { statuses: [200, 400] },
    ),
    post(
      "a duplicate model member",
      CHAT,
      `{"model":"${MODELS.openai}","messages":[{"role":"user","content":"Hi"}],"model":"${MODELS.anthropic}"}`,
      { statuses: [400] },
    ),
    post("an unknown model", CHAT, chat({ model: "nowhere/no-such-model" }), { statuses: [400, 404] }),
    // Model names that would reach headers, caches, labels and upstream URLs.
    post("CR LF in the body's model", CHAT, chat({ model: CRLF_MODEL }), { statuses: [400] }),
    post("CR LF in the model, Anthropic route", MESSAGES, messages({}, `openai/${CRLF_MODEL}`), {
      statuses: [400],
    }),
    post(
      "CR LF in a deployment path's model",
      `/openai/deployments/${CRLF_IN_PATH}/chat/completions`,
      chat({}),
      {
        statuses: [400, 404],
      },
    ),
    post("CR LF in a Gemini path's model", geminiPath(CRLF_IN_PATH), normalBody("gemini"), {
      statuses: [400, 404],
    }),
    post("NUL in the model", CHAT, chat({ model: "openai/gpt\u0000-4o" }), { statuses: [400] }),
    post("a model name of 1 MB", CHAT, chat({ model: `openai/${"m".repeat(1 << 20)}` }), { statuses: [400] }),
    post(
      "../ in a Gemini path's model",
      geminiPath(encodeURIComponent("gemini/../../v1beta/files")),
      normalBody("gemini"),
      { statuses: [400, 404] },
    ),
    post("../ in the body's Gemini model", CHAT, chat({ model: "gemini/../../v1beta/cachedContents" }), {
      statuses: [400, 404],
    }),
    // Content types, sizes and limits.
    post("a text/plain POST (a web page's simple request)", CHAT, chat({}), { statuses: [415] }, [
      ["content-type", "text/plain"],
      ["origin", "http://attacker.example"],
    ]),
    post("a form-encoded POST", MESSAGES, messages({}), { statuses: [415] }, [
      ["content-type", "application/x-www-form-urlencoded"],
    ]),
    post(
      "a body over the limit, announced by Content-Length",
      CHAT,
      Buffer.alloc(1024, 32),
      { statuses: [413] },
      [...JSON_HEADERS, ["content-length", String((BODY_LIMIT_MB + 1) << 20)]],
    ),
    post(
      "count_tokens on an 8 MB body",
      COUNT_TOKENS,
      messages({ messages: user("token ".repeat((8 << 20) / 6)) }, MODELS.anthropic),
      { statuses: [413] },
    ),
    // Client-chosen deadlines and ids.
    post("a client deadline of 0.1 ms", CHAT, chat({}), { statuses: [200, 400, 504] }, [
      ...JSON_HEADERS,
      ["x-switchyard-timeout", "0.0001"],
    ]),
    post("a client deadline of 10^12 s", CHAT, chat({}), { statuses: [200] }, [
      ...JSON_HEADERS,
      ["x-switchyard-timeout", "1000000000000"],
    ]),
    post("a body timeout of 10^12 s", CHAT, chat({ timeout: 1e12 }), { statuses: [200] }),
    // The cache's controls (the environment turns the cache on): checked and bounded, never passed on.
    post("a cache member that is a string", CHAT, chat({ cache: "no-cache" }), { statuses: [400] }),
    post("a cache TTL of 10^12 s", CHAT, chat({ cache: { ttl: 1e12 } }), { statuses: [400] }),
    post("a cache namespace of 1 MB", MESSAGES, messages({ cache: { namespace: "n".repeat(1 << 20) } }), {
      statuses: [400],
    }),
    post("a cache key header of 8 KB", CHAT, chat({}), { statuses: [400, 431] }, [
      ...JSON_HEADERS,
      ["x-switchyard-cache-key", "k".repeat(8192)],
    ]),
    post("a Bifrost cache threshold that is not a number", CHAT, chat({}), { statuses: [400] }, [
      ...JSON_HEADERS,
      ["x-bf-cache-threshold", "NaN"],
    ]),
    post("a cache TTL header of 10^12 s", MESSAGES, messages({}), { statuses: [400] }, [
      ...JSON_HEADERS,
      ["x-switchyard-cache-ttl", "1000000000000"],
    ]),
    {
      ...post("a control byte in x-request-id", CHAT, chat({}), { statuses: [200, 400] }, [
        ...JSON_HEADERS,
        ["x-request-id", "abc\x01def"],
      ]),
      uwsDrops: "a header value with a C0 control byte",
    },
    post(
      "an x-request-id of 8 KB",
      CHAT,
      chat({}),
      {
        statuses: [200, 400, 431],
        check: (responses) =>
          responses.some((r) => (header(r, "x-request-id")?.length ?? 0) > 256)
            ? ["x-request-id echoed at length"]
            : [],
      },
      [...JSON_HEADERS, ["x-request-id", "r".repeat(8192)]],
    ),
    // Framing that proxies and old clients send.
    {
      name: "an HTTP/1.0 POST",
      uwsDrops: "any request line that does not end in HTTP/1.1",
      async run(origin, timeoutMs) {
        const bytes = requestBytes("POST", CHAT, JSON_HEADERS, chat({}), "HTTP/1.0");
        return judge(CHAT, await rawExchange(origin, bytes, { timeoutMs }), { statuses: [200, 505] });
      },
    },
    {
      name: "60 request headers",
      uwsDrops: "more than 48 header lines",
      async run(origin, timeoutMs) {
        const headers = Array.from({ length: 60 }, (_, i) => [`x-extra-${i}`, "1"] as const);
        const bytes = requestBytes("POST", CHAT, [...JSON_HEADERS, ...headers], chat({}));
        return judge(CHAT, await rawExchange(origin, bytes, { timeoutMs }), { statuses: [200, 431] });
      },
    },
    {
      name: "200 request headers",
      uwsDrops: "more than 48 header lines",
      async run(origin, timeoutMs) {
        const headers = Array.from({ length: 200 }, (_, i) => [`x-extra-${i}`, "1"] as const);
        const bytes = requestBytes("GET", "/health", headers);
        return judge("/health", await rawExchange(origin, bytes, { timeoutMs }), { statuses: [200, 431] });
      },
    },
    {
      name: "three pipelined POSTs in one write",
      uwsDrops: "a request that arrives while the previous reply is pending",
      async run(origin, timeoutMs) {
        const one = (id: string) =>
          requestBytes("POST", CHAT, [...JSON_HEADERS, ["x-request-id", id]], chat({}));
        const exchange = await rawExchange(origin, Buffer.concat([one("p-1"), one("p-2"), one("p-3")]), {
          expect: 3,
          timeoutMs,
        });
        return judge(CHAT, exchange, {
          statuses: [200, 400],
          answers: 3,
          check: (responses) => {
            const ids = responses.map((r) => header(r, "x-request-id"));
            const inOrder = ids.every((id, i) => id === `p-${i + 1}`);
            return inOrder ? [] : [`answers out of order: ${ids.join(", ")}`];
          },
        });
      },
    },
    {
      name: "a client that leaves in the middle of a stream",
      async run(origin) {
        const body = chat({ model: "openai/mock-slow-stream", stream: true });
        const exchange = await rawExchange(origin, requestBytes("POST", CHAT, JSON_HEADERS, body), {
          abortAfterMs: 1000,
          expect: 2,
        });
        return exchange.leftover.length === 0 && exchange.responses.length === 0
          ? ["no stream started within a second"]
          : [];
      },
    },
    {
      name: "a body that never ends",
      async run(origin) {
        const head = requestBytes("POST", CHAT, [...JSON_HEADERS, ["content-length", "100"]], "{");
        const exchange = await rawExchange(origin, head, { abortAfterMs: 200 });
        return exchange.responses.some((r) => r.status < 400) ? ["a half-sent body was served"] : [];
      },
    },
  ];
}

/** A normal request of each wire format; resolves with the problems (none when all three are served). */
export async function normalProblems(origin: string): Promise<string[]> {
  const problems: string[] = [];
  const requests: [string, string][] = [
    [CHAT, normalBody("openai")],
    [MESSAGES, normalBody("anthropic")],
    [geminiPath(MODELS.gemini.slice("gemini/".length)), normalBody("gemini")],
  ];
  for (const [path, body] of requests) {
    const exchange = await rawExchange(origin, requestBytes("POST", path, JSON_HEADERS, body));
    const status = exchange.responses[0]?.status;
    if (status !== 200)
      problems.push(
        `normal ${path}: ${status ?? (exchange.timedOut ? "silence" : "closed")} ${exchange.responses[0]?.body.toString("utf8").slice(0, 200) ?? ""}`,
      );
  }
  return problems;
}
