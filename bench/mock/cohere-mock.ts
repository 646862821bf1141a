/**
 * Mock Cohere provider speaking the v2 wire format on node:http: POST /v2/chat (plain, and streamed as
 * Cohere's typed SSE events: message-start, content-start/delta/end, tool-plan-delta, tool-call-start/
 * delta/end, message-end with usage) and POST /v2/embed (embeddings_by_type). Errors use Cohere's
 * `{"id", "message"}` shape. Error injection by model name, as the OpenAI mock:
 *   mock-error-<status>   that status with a Cohere-shaped error body (429 carries Retry-After)
 *   mock-reset            destroys the connection before answering
 *   mock-thinking         a reply with a thinking content block before the text
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import type { MockErrorReply } from "./error-reply.js";

export interface CohereMockOptions {
  port?: number;
  host?: string;
  /** Text deltas in a streamed reply. Default 5. */
  streamChunks?: number;
  /** If set, 401 unless `Authorization: Bearer <key>`. */
  requireKey?: string;
  /** Embedding dimensions when the request does not say. Default 8. */
  embeddingDims?: number;
}

export interface CohereMockStats {
  requests: number;
  lastRequest?: { path: string; headers: Record<string, string>; body: string };
}

export interface CohereMockServer {
  url: string;
  port: number;
  close(): Promise<void>;
  stats: CohereMockStats;
}

const REPLY_WORDS = ["Switchyard ", "mock ", "Cohere ", "reply ", "text. "];

function cohereError(message: string): string {
  return JSON.stringify({ id: randomUUID(), message });
}

const ERROR_MESSAGES: Record<number, string> = {
  400: "invalid request: message must be at least 1 token long or tool results must be specified.",
  401: "invalid api token",
  402: "Please add or update your payment method at https://dashboard.cohere.com/billing?tab=payment to continue",
  404: "model 'mock' not found, make sure the correct model ID was used and that you have access to the model.",
  429: "You are using a Trial key, which is limited to 10 API calls / minute.",
  500: "internal server error, this has been reported to our developers.",
  503: "service unavailable",
};

/** What the mock answers `mock-error-<status>` with, for a fault injector standing in front of it. */
export function cohereErrorReply(status: number): MockErrorReply {
  return {
    status,
    headers: { "content-type": "application/json", ...(status === 429 ? { "retry-after": "1" } : {}) },
    body: cohereError(ERROR_MESSAGES[status] ?? `mock error ${status}`),
  };
}

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function usage(input: number, output: number): unknown {
  return {
    billed_units: { input_tokens: input, output_tokens: output },
    tokens: { input_tokens: input, output_tokens: output },
  };
}

interface ToolSpec {
  name: string;
  arguments: string;
}

/** Arguments that satisfy the first tool's required parameters. */
function firstTool(tools: unknown): ToolSpec | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  const fn = (tools[0] as { function?: { name?: unknown; parameters?: unknown } }).function;
  const params = fn?.parameters as
    | { properties?: Record<string, { type?: string }>; required?: string[] }
    | undefined;
  const args: Record<string, unknown> = {};
  for (const key of params?.required ?? Object.keys(params?.properties ?? {})) {
    const type = params?.properties?.[key]?.type;
    args[key] = type === "number" || type === "integer" ? 1 : type === "boolean" ? true : "mock";
  }
  return { name: typeof fn?.name === "string" ? fn.name : "tool", arguments: JSON.stringify(args) };
}

function embedding(text: string, dims: number): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  let x = h >>> 0 || 1;
  const v: number[] = [];
  for (let i = 0; i < dims; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    v.push(Math.round((x / 0xffffffff - 0.5) * 1e6) / 1e6);
  }
  return v;
}

function event(data: Record<string, unknown>): string {
  return `event: ${data.type as string}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function startCohereMock(opts: CohereMockOptions = {}): Promise<CohereMockServer> {
  const host = opts.host ?? "127.0.0.1";
  const streamChunks = opts.streamChunks ?? 5;
  const dims = opts.embeddingDims ?? 8;
  const stats: CohereMockStats = { requests: 0 };

  function send(
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { "content-type": "application/json", "x-request-id": "req_mock", ...headers });
    res.end(body);
  }

  function chat(res: ServerResponse, request: Record<string, unknown>, promptTokens: number): void {
    const model = request.model as string;
    const messages = request.messages as { role?: string }[];
    // A conversation that ends with tool results gets the final answer, as Cohere's tool use does.
    const last = messages[messages.length - 1];
    const tool = last?.role === "tool" ? undefined : firstTool(request.tools);
    const id = randomUUID();
    const thinking = model === "mock-thinking" ? "Considering the question." : undefined;
    const text = REPLY_WORDS.slice(0, Math.max(1, Math.min(REPLY_WORDS.length, streamChunks))).join("");
    const outputTokens = tool ? tokens(tool.arguments) : tokens(text);
    const finish = tool ? "TOOL_CALL" : "COMPLETE";

    if (request.stream !== true) {
      const content: unknown[] = [];
      if (thinking !== undefined) content.push({ type: "thinking", thinking });
      if (!tool) content.push({ type: "text", text });
      const message: Record<string, unknown> = { role: "assistant", content };
      if (tool) {
        message.tool_plan = `I will call ${tool.name}.`;
        message.tool_calls = [
          {
            id: `${tool.name}_mock0`,
            type: "function",
            function: { name: tool.name, arguments: tool.arguments },
          },
        ];
      }
      send(
        res,
        200,
        JSON.stringify({ id, message, finish_reason: finish, usage: usage(promptTokens, outputTokens) }),
      );
      return;
    }

    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    let out = event({
      type: "message-start",
      id,
      delta: { message: { role: "assistant", content: [], tool_plan: "", tool_calls: [], citations: [] } },
    });
    if (tool) {
      for (const word of ["I will call ", `${tool.name}.`]) {
        out += event({ type: "tool-plan-delta", delta: { message: { tool_plan: word } } });
      }
      out += event({
        type: "tool-call-start",
        index: 0,
        delta: {
          message: {
            tool_calls: {
              id: `${tool.name}_mock0`,
              type: "function",
              function: { name: tool.name, arguments: "" },
            },
          },
        },
      });
      const half = Math.ceil(tool.arguments.length / 2);
      for (const part of [tool.arguments.slice(0, half), tool.arguments.slice(half)]) {
        out += event({
          type: "tool-call-delta",
          index: 0,
          delta: { message: { tool_calls: { function: { arguments: part } } } },
        });
      }
      out += event({ type: "tool-call-end", index: 0 });
    } else {
      let index = 0;
      if (thinking !== undefined) {
        out += event({
          type: "content-start",
          index,
          delta: { message: { content: { type: "thinking", thinking: "" } } },
        });
        out += event({ type: "content-delta", index, delta: { message: { content: { thinking } } } });
        out += event({ type: "content-end", index });
        index++;
      }
      out += event({
        type: "content-start",
        index,
        delta: { message: { content: { type: "text", text: "" } } },
      });
      for (const word of REPLY_WORDS.slice(0, Math.max(1, streamChunks))) {
        out += event({
          type: "content-delta",
          index,
          delta: { message: { content: { text: word } } },
          logprobs: null,
        });
      }
      out += event({ type: "content-end", index });
    }
    out += event({
      type: "message-end",
      delta: { finish_reason: finish, usage: usage(promptTokens, outputTokens) },
    });
    res.end(out);
  }

  function embed(res: ServerResponse, request: Record<string, unknown>): void {
    const texts = request.texts;
    if (!Array.isArray(texts) || texts.length === 0 || texts.some((t) => typeof t !== "string")) {
      send(res, 400, cohereError("invalid request: texts must be a non-empty list of strings"));
      return;
    }
    if (typeof request.input_type !== "string") {
      send(
        res,
        400,
        cohereError("invalid request: valid input_type must be provided with the provided model"),
      );
      return;
    }
    const size = typeof request.output_dimension === "number" ? request.output_dimension : dims;
    let inputTokens = 0;
    const floats = (texts as string[]).map((text) => {
      inputTokens += tokens(text);
      return embedding(text, size);
    });
    send(
      res,
      200,
      JSON.stringify({
        id: randomUUID(),
        texts,
        embeddings: { float: floats },
        meta: { api_version: { version: "2" }, billed_units: { input_tokens: inputTokens } },
        response_type: "embeddings_by_type",
      }),
    );
  }

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const path = req.url ?? "";
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (typeof value === "string") headers[name] = value;
    stats.requests++;
    stats.lastRequest = { path, headers, body };
    if (req.method !== "POST" || (path !== "/v2/chat" && path !== "/v2/embed")) {
      send(res, 404, cohereError(`route not found: ${req.method} ${path}`));
      return;
    }
    if (opts.requireKey !== undefined && headers.authorization !== `Bearer ${opts.requireKey}`) {
      send(res, 401, cohereError(ERROR_MESSAGES[401] as string));
      return;
    }
    let request: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error("not an object");
      request = parsed as Record<string, unknown>;
    } catch {
      send(res, 400, cohereError("invalid request: could not parse the request body as JSON"));
      return;
    }
    const model = request.model;
    if (typeof model !== "string" || model === "") {
      send(res, 400, cohereError("invalid request: model must be specified"));
      return;
    }
    if (model.startsWith("mock-error-")) {
      const error = cohereErrorReply(Number.parseInt(model.slice("mock-error-".length), 10) || 400);
      send(res, error.status, error.body, error.headers);
      return;
    }
    if (model === "mock-reset") {
      req.socket.destroy();
      return;
    }
    if (path === "/v2/embed") {
      embed(res, request);
      return;
    }
    if (!Array.isArray(request.messages) || request.messages.length === 0) {
      send(res, 400, cohereError("invalid request: messages must be a non-empty list"));
      return;
    }
    chat(res, request, tokens(body));
  }

  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      try {
        handle(req, res, Buffer.concat(parts).toString("utf8"));
      } catch (error) {
        // A body of the wrong shape (the gateway's fuzz tests send them) is the client's mistake, as upstream.
        if (res.headersSent) res.destroy();
        else send(res, 400, cohereError(`invalid request: ${(error as Error).message}`));
      }
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${port}`,
        port,
        stats,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const portArg = process.argv.indexOf("--port");
  const server = await startCohereMock({ port: portArg > 0 ? Number(process.argv[portArg + 1]) : 0 });
  process.stdout.write(`${server.url}\n`);
  process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
  process.on("SIGINT", () => void server.close().then(() => process.exit(0)));
}
