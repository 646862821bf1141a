/**
 * Mock Anthropic provider on node:http, speaking the Messages API's real wire format: POST /v1/messages
 * plain and streamed (message_start, content_block_start/delta/stop for text, thinking with its signature
 * and tool_use with input_json_delta, ping, message_delta with usage, message_stop), POST
 * /v1/messages/count_tokens, and errors as `{"type":"error","error":{"type","message"},"request_id"}`.
 * The reply follows the request: a thinking block when `thinking` is enabled, a tool_use block for the
 * first (or the forced) tool when tools are given, JSON text for `output_config.format`.
 * Error injection by model name:
 *   mock-error-<status>   that status with Anthropic's error body (429 with retry-after, 529 overloaded)
 *   mock-error-midstream  a stream that breaks off with an `error` event (overloaded_error)
 *   mock-hang             never answers
 *   mock-reset            destroys the connection before answering
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import type { MockErrorReply } from "./error-reply.js";

export interface AnthropicMockOptions {
  /** 0 = ephemeral. */
  port?: number;
  host?: string;
  /** If set, 401 unless `x-api-key: <key>`. */
  requireKey?: string;
  /** Text deltas in a streamed text block. Default 4. */
  streamChunks?: number;
}

export interface AnthropicMockStats {
  requests: number;
  lastRequest?: { path: string; headers: Record<string, string>; body: string };
}

export interface AnthropicMockServer {
  /** http://host:port, without /v1. */
  url: string;
  port: number;
  close(): Promise<void>;
  stats: AnthropicMockStats;
}

export const MOCK_TEXT = "Hello from the Anthropic mock.";
export const MOCK_THINKING = "Let me think about this step by step.";
export const MOCK_SIGNATURE = "EqQBCkYIARgCIkD_mock_signature";

/** What GET /v1/models lists (the gateway's key test asks for it). */
const MODEL_LIST = ["claude-sonnet-4-5", "claude-haiku-4-5"].map((id) => ({
  type: "model",
  id,
  display_name: id,
  created_at: "2025-01-01T00:00:00Z",
}));

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

const ERROR_MESSAGES: Record<string, string> = {
  invalid_request_error: "messages: at least one message is required",
  authentication_error: "invalid x-api-key",
  permission_error: "Your API key does not have permission to use the specified resource.",
  not_found_error: "model: mock-error-404",
  request_too_large: "Request exceeds the maximum allowed number of bytes.",
  rate_limit_error: "Number of request tokens has exceeded your per-minute rate limit",
  api_error: "Internal server error",
  overloaded_error: "Overloaded",
};

let counter = 0;
function newId(prefix: string): string {
  counter = (counter + 1) % 0x7fffffff;
  return `${prefix}_mock${Date.now().toString(36)}${counter.toString(36)}`;
}

export function anthropicErrorBody(type: string, message: string): string {
  return JSON.stringify({ type: "error", error: { type, message }, request_id: newId("req") });
}

/** What the mock answers `mock-error-<status>` with, for a fault injector standing in front of it. */
export function anthropicErrorReply(status: number): MockErrorReply {
  const type = ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
  const headers: Record<string, string> =
    status === 429 ? { "retry-after": "1", "anthropic-ratelimit-requests-remaining": "0" } : {};
  return { status, headers, body: anthropicErrorBody(type, ERROR_MESSAGES[type] ?? `mock error ${status}`) };
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

// biome-ignore lint/suspicious/noExplicitAny: request bodies are read field by field, as a server would
type Loose = any;

/** Input that satisfies a JSON schema's required properties, so clients can parse it. */
function sampleFor(schema: Loose): unknown {
  if (schema?.type === "object" || schema?.properties !== undefined) {
    const out: Record<string, unknown> = {};
    const props = schema.properties ?? {};
    for (const key of schema.required ?? Object.keys(props)) out[key] = sampleFor(props[key]);
    return out;
  }
  if (Array.isArray(schema?.enum) && schema.enum.length > 0) return schema.enum[0];
  if (schema?.type === "number" || schema?.type === "integer") return 1;
  if (schema?.type === "boolean") return true;
  if (schema?.type === "array") return [];
  return "mock";
}

type Block =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "tool_use"; id: string; name: string; input: unknown };

function replyBlocks(request: Loose): { blocks: Block[]; stop: string } {
  const blocks: Block[] = [];
  if (request.thinking?.type === "enabled") {
    blocks.push({ type: "thinking", thinking: MOCK_THINKING, signature: MOCK_SIGNATURE });
  }
  const tools: Loose[] = Array.isArray(request.tools) ? request.tools : [];
  const choice = request.tool_choice?.type ?? "auto";
  if (tools.length > 0 && choice !== "none") {
    const tool = choice === "tool" ? tools.find((t) => t.name === request.tool_choice.name) : tools[0];
    if (tool !== undefined) {
      if (choice === "auto") blocks.push({ type: "text", text: "Let me call a tool." });
      blocks.push({
        type: "tool_use",
        id: newId("toolu"),
        name: tool.name,
        input: sampleFor(tool.input_schema),
      });
      return { blocks, stop: "tool_use" };
    }
  }
  const format = request.output_config?.format;
  const text = format?.type === "json_schema" ? JSON.stringify(sampleFor(format.schema)) : MOCK_TEXT;
  blocks.push({ type: "text", text });
  return { blocks, stop: "end_turn" };
}

function split(text: string, parts: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / parts));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function startAnthropicMock(opts: AnthropicMockOptions = {}): Promise<AnthropicMockServer> {
  const host = opts.host ?? "127.0.0.1";
  const streamChunks = opts.streamChunks ?? 4;
  const stats: AnthropicMockStats = { requests: 0 };
  const hanging = new Set<ServerResponse>();

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      "request-id": newId("req"),
      ...headers,
    });
    res.end(body);
  };
  const fail = (res: ServerResponse, status: number, type: string, message: string) =>
    send(res, status, anthropicErrorBody(type, message));

  function messages(req: IncomingMessage, res: ServerResponse, request: Loose, count: boolean): void {
    const model = request.model;
    if (typeof model !== "string" || model === "") {
      fail(res, 400, "invalid_request_error", "model: Field required");
      return;
    }
    if (model.startsWith("mock-error-") && model !== "mock-error-midstream") {
      const error = anthropicErrorReply(Number.parseInt(model.slice("mock-error-".length), 10) || 400);
      send(res, error.status, error.body, error.headers);
      return;
    }
    if (model === "mock-hang") {
      hanging.add(res);
      return;
    }
    if (model === "mock-reset") {
      req.socket.destroy();
      return;
    }
    if (!Array.isArray(request.messages) || request.messages.length === 0) {
      fail(res, 400, "invalid_request_error", "messages: at least one message is required");
      return;
    }
    const inputTokens = estimateTokens(
      JSON.stringify(request.messages) + JSON.stringify(request.system ?? ""),
    );
    if (count) {
      send(res, 200, JSON.stringify({ input_tokens: inputTokens }));
      return;
    }
    if (typeof request.max_tokens !== "number") {
      fail(res, 400, "invalid_request_error", "max_tokens: Field required");
      return;
    }
    const cached = JSON.stringify(request).includes('"cache_control"') ? 12 : 0;
    const { blocks, stop } = replyBlocks(request);
    const outputTokens = estimateTokens(JSON.stringify(blocks));
    const id = newId("msg");
    const usage = {
      input_tokens: inputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: cached,
      output_tokens: outputTokens,
    };
    if (request.stream !== true) {
      send(
        res,
        200,
        JSON.stringify({
          id,
          type: "message",
          role: "assistant",
          model,
          content: blocks,
          stop_reason: stop,
          stop_sequence: null,
          usage,
        }),
      );
      return;
    }

    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "request-id": newId("req"),
    });
    let out = sse("message_start", {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    });
    for (let index = 0; index < blocks.length; index++) {
      const block = blocks[index] as Block;
      const start =
        block.type === "text"
          ? { type: "text", text: "" }
          : block.type === "thinking"
            ? { type: "thinking", thinking: "", signature: "" }
            : { type: "tool_use", id: block.id, name: block.name, input: {} };
      out += sse("content_block_start", { type: "content_block_start", index, content_block: start });
      if (index === 0) out += sse("ping", { type: "ping" });
      const delta = (d: unknown) =>
        sse("content_block_delta", { type: "content_block_delta", index, delta: d });
      if (block.type === "text") {
        for (const piece of split(block.text, streamChunks))
          out += delta({ type: "text_delta", text: piece });
        if (model === "mock-error-midstream") {
          res.end(
            out + sse("error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }),
          );
          return;
        }
      } else if (block.type === "thinking") {
        for (const piece of split(block.thinking, 3))
          out += delta({ type: "thinking_delta", thinking: piece });
        out += delta({ type: "signature_delta", signature: block.signature });
      } else {
        // Anthropic starts a tool's input with an empty partial_json, then sends it in pieces.
        out += delta({ type: "input_json_delta", partial_json: "" });
        for (const piece of split(JSON.stringify(block.input), 3)) {
          out += delta({ type: "input_json_delta", partial_json: piece });
        }
      }
      out += sse("content_block_stop", { type: "content_block_stop", index });
    }
    out += sse("message_delta", {
      type: "message_delta",
      delta: { stop_reason: stop, stop_sequence: null },
      usage: { output_tokens: outputTokens },
    });
    out += sse("message_stop", { type: "message_stop" });
    res.end(out);
  }

  const server = createServer((req, res) => {
    stats.requests++;
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(parts).toString("utf8");
      const path = req.url ?? "/";
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers[name] = value;
      }
      stats.lastRequest = { path, headers, body };
      if (req.method === "GET" && path === "/v1/models") {
        if (opts.requireKey !== undefined && headers["x-api-key"] !== opts.requireKey) {
          fail(res, 401, "authentication_error", "invalid x-api-key");
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ data: MODEL_LIST, has_more: false, first_id: null, last_id: null }));
        return;
      }
      if (req.method !== "POST" || (path !== "/v1/messages" && path !== "/v1/messages/count_tokens")) {
        fail(res, 404, "not_found_error", `Not Found: ${req.method} ${path}`);
        return;
      }
      if (opts.requireKey !== undefined && headers["x-api-key"] !== opts.requireKey) {
        fail(res, 401, "authentication_error", "invalid x-api-key");
        return;
      }
      if (headers["anthropic-version"] === undefined) {
        fail(res, 400, "invalid_request_error", "anthropic-version: header is required");
        return;
      }
      let request: Loose;
      try {
        request = JSON.parse(body);
      } catch {
        fail(
          res,
          400,
          "invalid_request_error",
          "There was an issue with the format of your request: invalid JSON",
        );
        return;
      }
      try {
        messages(req, res, request, path === "/v1/messages/count_tokens");
      } catch (error) {
        // A body of the wrong shape (the gateway's fuzz tests send them) is the client's mistake, as upstream.
        if (res.headersSent) res.destroy();
        else fail(res, 400, "invalid_request_error", `invalid request: ${(error as Error).message}`);
      }
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host}:${port}`,
        port,
        stats,
        close: () =>
          new Promise<void>((done) => {
            for (const res of hanging) res.destroy();
            hanging.clear();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const port = Number(process.argv[process.argv.indexOf("--port") + 1] ?? 0) || 0;
  const server = await startAnthropicMock({ port });
  process.stdout.write(`${server.url}\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
