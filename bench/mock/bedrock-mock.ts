/**
 * Mock AWS Bedrock runtime on node:http, speaking the real wire formats: Converse (JSON), ConverseStream
 * (application/vnd.amazon.eventstream binary frames with CRCs), InvokeModel for Titan and Cohere embeddings,
 * and Bedrock's errors ({"message"} with an x-amzn-ErrorType header). Every request's SigV4 signature is
 * verified against the mock's known credentials (service "bedrock", the configured region); a bad or
 * missing signature gets 403 as Bedrock answers it. Error injection is driven by the model id:
 *   mock-error-<status>       that status with Bedrock's exception for it
 *   mock-stream-exception     a stream that sends some text, then a throttlingException event
 *   mock-reset-midstream      a stream that sends a few frames, then destroys the connection
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeMessage } from "../../src/providers/bedrock/eventstream.js";
import { parseAuthorization, verify } from "../../src/providers/bedrock/sigv4.js";
import type { MockErrorReply } from "./error-reply.js";

export interface BedrockMockOptions {
  port?: number;
  host?: string;
  /** Access key id → secret access key the mock accepts. */
  credentials?: Record<string, string>;
  /** The region requests must be scoped to. Default us-east-1. */
  region?: string;
  /** A Bedrock API key accepted as `Authorization: Bearer <key>` instead of a signature. */
  apiKey?: string;
  /** Text deltas in a streamed reply. Default 5. */
  streamChunks?: number;
  latencyMs?: number;
  /** Titan embedding dimensions when the request does not say. Default 8. */
  embeddingDims?: number;
}

export interface BedrockMockStats {
  requests: number;
  /** Requests refused for their signature. */
  rejected: number;
  lastRequest?: { path: string; headers: Record<string, string>; body: string };
  /** Every request's path and body, in order (embedding fan-out sends several). */
  log: { path: string; body: string }[];
}

export interface BedrockMock {
  url: string;
  port: number;
  close(): Promise<void>;
  stats: BedrockMockStats;
}

export const MOCK_ACCESS_KEY = "AKIDMOCKBEDROCK";
export const MOCK_SECRET_KEY = "mock/bedrock/secret+key";

const EXCEPTIONS: Record<number, { type: string; message: string }> = {
  400: { type: "ValidationException", message: "The provided request is not valid" },
  403: {
    type: "AccessDeniedException",
    message: "You don't have access to the model with the specified model ID.",
  },
  404: { type: "ResourceNotFoundException", message: "The requested resource could not be found." },
  408: { type: "ModelTimeoutException", message: "The request took too long to process." },
  424: { type: "ModelErrorException", message: "The model returned an error." },
  429: { type: "ThrottlingException", message: "Too many requests, please wait before trying again." },
  500: { type: "InternalServerException", message: "The server encountered an internal error." },
  503: { type: "ServiceUnavailableException", message: "The service is temporarily unavailable." },
};

/** Bedrock's error answer: `{"message"}` with the exception named in x-amzn-ErrorType. */
function bedrockError(status: number, type: string, message: string): MockErrorReply {
  return {
    status,
    headers: {
      "content-type": "application/json",
      "x-amzn-requestid": randomBytes(16).toString("hex"),
      "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    },
    body: JSON.stringify({ message }),
  };
}

/** What the mock answers a `mock-error-<status>` model with, for a fault injector standing in front of it. */
export function bedrockErrorReply(status: number): MockErrorReply {
  const exception = EXCEPTIONS[status] ?? {
    type: "InternalServerException",
    message: `Mock error ${status}`,
  };
  return bedrockError(status, exception.type, exception.message);
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Bedrock pads event payloads with a "p" field of letters so their sizes do not leak the text. */
function padded(payload: Record<string, unknown>): string {
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  return JSON.stringify({ ...payload, p: letters.slice(0, 10 + (JSON.stringify(payload).length % 40)) });
}

function frame(eventType: string, payload: Record<string, unknown>): Buffer {
  return encodeMessage(
    { ":event-type": eventType, ":content-type": "application/json", ":message-type": "event" },
    padded(payload),
  );
}

function exceptionFrame(type: string, message: string): Buffer {
  return encodeMessage(
    { ":exception-type": type, ":content-type": "application/json", ":message-type": "exception" },
    JSON.stringify({ message }),
  );
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Arguments that satisfy the tool schema's required properties. */
function argumentsFor(schema: unknown): Obj {
  const s = isObj(schema) ? schema : {};
  const props = isObj(s.properties) ? s.properties : {};
  const required = Array.isArray(s.required) ? (s.required as string[]) : Object.keys(props);
  const args: Obj = {};
  for (const key of required) {
    const prop = isObj(props[key]) ? (props[key] as Obj) : {};
    if (Array.isArray(prop.enum) && prop.enum.length > 0) args[key] = prop.enum[0];
    else if (prop.type === "number" || prop.type === "integer") args[key] = 1;
    else if (prop.type === "boolean") args[key] = true;
    else if (prop.type === "array") args[key] = [];
    else if (prop.type === "object") args[key] = {};
    else args[key] = "mock";
  }
  return args;
}

/** Checks what Bedrock's own validation would reject; returns the ValidationException message. */
function validateConverse(body: Obj): string | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return "messages: must not be empty";
  let previous = "";
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (!isObj(message) || (message.role !== "user" && message.role !== "assistant"))
      return `messages.${i}.role: must be user or assistant`;
    if (i === 0 && message.role !== "user") return "A conversation must start with a user message.";
    if (message.role === previous)
      return "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.";
    previous = message.role;
    if (!Array.isArray(message.content) || message.content.length === 0)
      return `messages.${i}.content: must not be empty`;
    for (const block of message.content) {
      if (!isObj(block) || Object.keys(block).length !== 1)
        return `messages.${i}.content: each block is a union`;
      if (isObj(block.image)) {
        const image = block.image;
        const source = isObj(image.source) ? image.source : {};
        if (!["png", "jpeg", "gif", "webp"].includes(String(image.format)))
          return `messages.${i}.content.image.format: invalid`;
        if (typeof source.bytes !== "string" || Buffer.from(source.bytes, "base64").length === 0)
          return `messages.${i}.content.image.source: bytes required`;
      }
      if ((isObj(block.toolUse) || isObj(block.toolResult)) && !isObj(body.toolConfig))
        return "The toolConfig field must be defined when using toolUse and toolResult content blocks.";
    }
  }
  return undefined;
}

interface Reply {
  reasoning?: { text: string; signature: string };
  text?: string;
  tool?: { id: string; name: string; input: Obj };
  stopReason: string;
  usage: Obj;
}

function converseReply(body: Obj, model: string): Reply {
  const toolConfig = isObj(body.toolConfig) ? body.toolConfig : undefined;
  const tools = Array.isArray(toolConfig?.tools) ? (toolConfig.tools as Obj[]) : [];
  const specs = tools.filter((t) => isObj(t.toolSpec)).map((t) => t.toolSpec as Obj);
  const choice = isObj(toolConfig?.toolChoice) ? (toolConfig.toolChoice as Obj) : undefined;
  const thinking = isObj(body.additionalModelRequestFields)
    ? (body.additionalModelRequestFields as Obj).thinking
    : undefined;
  const messages = body.messages as Obj[];
  const last = messages[messages.length - 1] as Obj;
  const lastIsToolResult = (last.content as Obj[]).some((b) => isObj(b.toolResult));
  const system = Array.isArray(body.system) ? (body.system as Obj[]) : [];
  const cached = system.some((b) => isObj(b.cachePoint));
  const inputTokens = estimateTokens(JSON.stringify(messages) + JSON.stringify(system));

  const reply: Reply = { stopReason: "end_turn", usage: {} };
  if (isObj(thinking) && thinking.type === "enabled") {
    reply.reasoning = { text: "Let me think about this step by step.", signature: `sig-${model}-mock` };
  }
  let forced: Obj | undefined;
  if (isObj(choice?.tool)) forced = specs.find((s) => s.name === (choice.tool as Obj).name);
  else if (isObj(choice?.any)) forced = specs[0];
  else if (!lastIsToolResult && specs.length > 0) forced = specs[0];
  if (forced !== undefined) {
    const schema = isObj(forced.inputSchema) ? (forced.inputSchema as Obj).json : undefined;
    reply.tool = {
      id: `tooluse_${randomBytes(8).toString("hex")}`,
      name: String(forced.name),
      input: argumentsFor(schema),
    };
    reply.stopReason = "tool_use";
  } else {
    const images = (last.content as Obj[]).filter((b) => isObj(b.image)).length;
    reply.text =
      images > 0
        ? `I see ${images} image${images > 1 ? "s" : ""}.`
        : lastIsToolResult
          ? "The tool answered."
          : `Hello from Bedrock (${model}).`;
    const stop = isObj(body.inferenceConfig) ? (body.inferenceConfig as Obj).maxTokens : undefined;
    if (typeof stop === "number" && stop < 5) reply.stopReason = "max_tokens";
  }
  const outputTokens = estimateTokens(
    (reply.text ?? "") + (reply.reasoning?.text ?? "") + JSON.stringify(reply.tool?.input ?? ""),
  );
  reply.usage = {
    inputTokens,
    outputTokens,
    totalTokens: inputTokens + outputTokens + (cached ? 30 : 0),
    ...(cached ? { cacheReadInputTokens: 20, cacheWriteInputTokens: 10 } : {}),
  };
  return reply;
}

function converseJson(reply: Reply): string {
  const content: Obj[] = [];
  if (reply.reasoning) content.push({ reasoningContent: { reasoningText: reply.reasoning } });
  if (reply.text !== undefined) content.push({ text: reply.text });
  if (reply.tool)
    content.push({ toolUse: { toolUseId: reply.tool.id, name: reply.tool.name, input: reply.tool.input } });
  return JSON.stringify({
    output: { message: { role: "assistant", content } },
    stopReason: reply.stopReason,
    usage: reply.usage,
    metrics: { latencyMs: 42 },
  });
}

function streamFrames(reply: Reply, chunks: number): Buffer[] {
  const frames: Buffer[] = [frame("messageStart", { role: "assistant" })];
  let index = 0;
  if (reply.reasoning) {
    const half = Math.ceil(reply.reasoning.text.length / 2);
    frames.push(
      frame("contentBlockDelta", {
        contentBlockIndex: index,
        delta: { reasoningContent: { text: reply.reasoning.text.slice(0, half) } },
      }),
      frame("contentBlockDelta", {
        contentBlockIndex: index,
        delta: { reasoningContent: { text: reply.reasoning.text.slice(half) } },
      }),
      frame("contentBlockDelta", {
        contentBlockIndex: index,
        delta: { reasoningContent: { signature: reply.reasoning.signature } },
      }),
      frame("contentBlockStop", { contentBlockIndex: index }),
    );
    index++;
  }
  if (reply.text !== undefined) {
    const words = reply.text.split(/(?<= )/);
    const per = Math.max(1, Math.ceil(words.length / chunks));
    for (let i = 0; i < words.length; i += per) {
      frames.push(
        frame("contentBlockDelta", {
          contentBlockIndex: index,
          delta: { text: words.slice(i, i + per).join("") },
        }),
      );
    }
    frames.push(frame("contentBlockStop", { contentBlockIndex: index }));
    index++;
  }
  if (reply.tool) {
    const input = JSON.stringify(reply.tool.input);
    const half = Math.ceil(input.length / 2);
    frames.push(
      frame("contentBlockStart", {
        contentBlockIndex: index,
        start: { toolUse: { toolUseId: reply.tool.id, name: reply.tool.name } },
      }),
      frame("contentBlockDelta", {
        contentBlockIndex: index,
        delta: { toolUse: { input: input.slice(0, half) } },
      }),
      frame("contentBlockDelta", {
        contentBlockIndex: index,
        delta: { toolUse: { input: input.slice(half) } },
      }),
      frame("contentBlockStop", { contentBlockIndex: index }),
    );
  }
  frames.push(
    frame("messageStop", { stopReason: reply.stopReason }),
    frame("metadata", { usage: reply.usage, metrics: { latencyMs: 42 } }),
  );
  return frames;
}

function embedding(text: string, dims: number): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  let x = h >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < dims; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    // Values a float32 holds exactly, so base64 round trips compare equal.
    out.push(Math.round((x / 0xffffffff - 0.5) * 1024) / 1024);
  }
  return out;
}

export async function startBedrockMock(opts: BedrockMockOptions = {}): Promise<BedrockMock> {
  const credentials = opts.credentials ?? { [MOCK_ACCESS_KEY]: MOCK_SECRET_KEY };
  const region = opts.region ?? "us-east-1";
  const streamChunks = opts.streamChunks ?? 5;
  const latencyMs = opts.latencyMs ?? 0;
  const dims = opts.embeddingDims ?? 8;
  const stats: BedrockMockStats = { requests: 0, rejected: 0, log: [] };

  const sendError = (res: ServerResponse, status: number, type: string, message: string) =>
    sendReply(res, bedrockError(status, type, message));
  const sendReply = (res: ServerResponse, error: MockErrorReply) => {
    res.writeHead(error.status, { ...error.headers, "content-length": Buffer.byteLength(error.body) });
    res.end(error.body);
  };
  const sendJson = (res: ServerResponse, body: string) => {
    res.writeHead(200, {
      "content-type": "application/json",
      "x-amzn-requestid": randomBytes(16).toString("hex"),
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  };

  const authorize = (req: IncomingMessage, path: string, body: Buffer): [string, string] | undefined => {
    const header = req.headers.authorization;
    if (opts.apiKey !== undefined && header === `Bearer ${opts.apiKey}`) return undefined;
    if (typeof header !== "string")
      return ["MissingAuthenticationTokenException", "Missing Authentication Token"];
    const parsed = parseAuthorization(header);
    if (parsed !== undefined && parsed.scope.region !== region) {
      return [
        "InvalidSignatureException",
        `Credential should be scoped to a valid region, not '${parsed.scope.region}'.`,
      ];
    }
    const problem = verify({
      method: req.method ?? "POST",
      path,
      headers: req.headers,
      body,
      lookupSecret: (id) => credentials[id],
      service: "bedrock",
    });
    if (problem === undefined) return undefined;
    return [
      problem.includes("security token") ? "UnrecognizedClientException" : "InvalidSignatureException",
      problem,
    ];
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    stats.requests++;
    const rawPath = (req.url ?? "/").split("?")[0] as string;
    const text = body.toString("utf8");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
    stats.lastRequest = { path: rawPath, headers, body: text };
    stats.log.push({ path: rawPath, body: text });

    const refusal = authorize(req, rawPath, body);
    if (refusal !== undefined) {
      stats.rejected++;
      sendError(res, 403, refusal[0], refusal[1]);
      return;
    }
    const match = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(rawPath);
    if (req.method !== "POST" || match === null) {
      sendError(res, 404, "UnknownOperationException", "Unknown operation");
      return;
    }
    const model = decodeURIComponent(match[1] as string);
    const action = match[2] as string;
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));

    const injected = /mock-error-(\d{3})/.exec(model);
    if (injected !== null) {
      sendReply(res, bedrockErrorReply(Number(injected[1])));
      return;
    }
    let parsed: Obj;
    try {
      const value = JSON.parse(text) as unknown;
      if (!isObj(value)) throw new Error("not an object");
      parsed = value;
    } catch {
      sendError(
        res,
        400,
        "ValidationException",
        "Malformed input request, please reformat your input and try again.",
      );
      return;
    }

    if (action === "invoke") {
      if (/titan-embed/.test(model)) {
        if (typeof parsed.inputText !== "string") {
          sendError(
            res,
            400,
            "ValidationException",
            "Malformed input request: required key [inputText] not found",
          );
          return;
        }
        const size = typeof parsed.dimensions === "number" ? parsed.dimensions : dims;
        const vector = embedding(parsed.inputText, size);
        sendJson(
          res,
          JSON.stringify({
            embedding: vector,
            embeddingsByType: { float: vector },
            inputTextTokenCount: estimateTokens(parsed.inputText),
          }),
        );
        return;
      }
      if (/cohere\.embed/.test(model)) {
        const texts = parsed.texts;
        if (!Array.isArray(texts) || typeof parsed.input_type !== "string") {
          sendError(
            res,
            400,
            "ValidationException",
            "Malformed input request: texts and input_type are required",
          );
          return;
        }
        sendJson(
          res,
          JSON.stringify({
            id: randomBytes(8).toString("hex"),
            embeddings: { float: texts.map((t) => embedding(String(t), dims)) },
            response_type: "embeddings_by_type",
            texts,
          }),
        );
        return;
      }
      sendError(
        res,
        400,
        "ValidationException",
        `The model ${model} is not supported by this mock's InvokeModel`,
      );
      return;
    }

    const invalid = validateConverse(parsed);
    if (invalid !== undefined) {
      sendError(res, 400, "ValidationException", invalid);
      return;
    }
    const reply = converseReply(parsed, model);
    if (action === "converse") {
      sendJson(res, converseJson(reply));
      return;
    }
    res.writeHead(200, {
      "content-type": "application/vnd.amazon.eventstream",
      "x-amzn-requestid": randomBytes(16).toString("hex"),
    });
    let frames = streamFrames(reply, streamChunks);
    if (/mock-stream-exception/.test(model)) {
      frames = [
        ...frames.slice(0, 3),
        exceptionFrame("throttlingException", "Too many tokens, please wait before trying again."),
      ];
    }
    const resetAfter = /mock-reset-midstream/.test(model) ? 3 : -1;
    for (let i = 0; i < frames.length; i++) {
      if (i === resetAfter) {
        res.destroy();
        return;
      }
      const bytes = frames[i] as Buffer;
      // Frames cross write (and so packet) boundaries, as they do from the real service.
      const cut = Math.min(bytes.length - 1, 7 + (i % 11));
      res.write(bytes.subarray(0, cut));
      await new Promise((r) => setImmediate(r));
      res.write(bytes.subarray(cut));
    }
    res.end();
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks)).catch((error: unknown) => {
        if (!res.headersSent) sendError(res, 500, "InternalServerException", String(error));
        else res.destroy();
      });
    });
  });
  server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
