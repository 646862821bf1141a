/**
 * Mock Google provider on node:http, speaking the real wire formats:
 * - Gemini API: POST /v1beta/models/{model}:generateContent | :streamGenerateContent (`?alt=sse` for SSE,
 *   a JSON array otherwise) | :batchEmbedContents | :embedContent, key in `x-goog-api-key`;
 * - Vertex AI: POST /v1/projects/{p}/locations/{r}/publishers/google/models/{model}:generateContent |
 *   :streamGenerateContent | :predict, and publishers/anthropic/models/{model}:rawPredict |
 *   :streamRawPredict (Anthropic's Messages format), with an OAuth bearer token;
 * - an OAuth token endpoint (POST /token) that verifies the RS256 JWT assertion against a public key.
 * Replies: a function call when the request offers functions and its last turn is not a function response;
 * a thought part when thoughts are asked for; JSON when JSON is asked for; text otherwise. Claude on Vertex
 * answers likewise: a signed thinking block when thinking is enabled, tool_use when tools are offered and
 * the last turn is not a tool_result, text otherwise.
 * Error injection by model name: mock-error-<status> answers that status in Google's error envelope (429
 * with Retry-After); mock-blocked answers a prompt blocked for SAFETY.
 */
import { createHash, type KeyObject, randomBytes, verify } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { MockErrorReply } from "./error-reply.js";

export interface GeminiMockOptions {
  port?: number;
  host?: string;
  /** If set, the Gemini API routes require `x-goog-api-key: <key>`. */
  requireKey?: string;
  /** Text chunks in a streamed reply. Default 4. */
  streamChunks?: number;
  /** Public key that verifies token requests' JWT assertions; without it /token refuses every request. */
  verifyKey?: KeyObject;
  /** Lifetime of issued access tokens. Default 3600 s. */
  tokenLifetimeS?: number;
}

export interface GeminiMockStats {
  requests: number;
  tokenRequests: number;
  lastRequest?: { path: string; headers: Record<string, string>; body: string };
  /** Claims of the last JWT the token endpoint accepted. */
  lastClaims?: Record<string, unknown>;
}

export interface GeminiMockServer {
  url: string;
  port: number;
  /** The token endpoint's URL, for a service account's `token_uri`. */
  tokenUri: string;
  close(): Promise<void>;
  stats: GeminiMockStats;
}

const GOOGLE_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

function googleError(code: number, message: string): string {
  return JSON.stringify({ error: { code, message, status: GOOGLE_STATUS[code] ?? "UNKNOWN" } }, null, 2);
}

/** What the mock answers `mock-error-<status>` with, for a fault injector standing in front of it. */
export function googleErrorReply(status: number, model: string): MockErrorReply {
  const message =
    status === 429
      ? "Resource has been exhausted (e.g. check quota)."
      : status === 404
        ? `models/${model} is not found for API version v1beta, or is not supported for generateContent.`
        : `Mock error ${status}.`;
  return {
    status,
    headers: {
      "content-type": "application/json; charset=UTF-8",
      ...(status === 429 ? { "retry-after": "1" } : {}),
    },
    body: googleError(status, message),
  };
}

type Json = Record<string, unknown>;

function tokensOf(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function embedding(text: string, dims: number): number[] {
  const hash = createHash("sha256").update(text).digest();
  const values: number[] = [];
  for (let i = 0; i < dims; i++) values.push(((hash[i % hash.length] as number) - 128) / 128);
  return values;
}

function argsFor(parameters: unknown): Json {
  const args: Json = {};
  const properties = (parameters as { properties?: Record<string, { type?: string }> } | undefined)
    ?.properties;
  for (const name in properties ?? {}) {
    const type = String(properties?.[name]?.type ?? "string").toUpperCase();
    args[name] = type === "NUMBER" || type === "INTEGER" ? 1 : type === "BOOLEAN" ? true : `mock-${name}`;
  }
  return args;
}

interface Plan {
  thought?: string;
  call?: { name: string; args: Json };
  text: string;
  promptTokens: number;
  candidates: number;
}

/** What the mock answers to a generateContent request. */
function plan(request: Json): Plan {
  const contents = (request.contents ?? []) as { role?: string; parts?: Json[] }[];
  let promptText = JSON.stringify(request.systemInstruction ?? "");
  let images = 0;
  for (const content of contents) {
    for (const part of content.parts ?? []) {
      if (typeof part.text === "string") promptText += part.text;
      if (part.inlineData !== undefined || part.fileData !== undefined) images++;
    }
  }
  const last = contents[contents.length - 1];
  const answered = (last?.parts ?? []).some((part) => part.functionResponse !== undefined);
  const config = (request.generationConfig ?? {}) as Json;
  const declarations = ((request.tools ?? []) as { functionDeclarations?: Json[] }[]).flatMap(
    (tool) => tool.functionDeclarations ?? [],
  );
  const mode = ((request.toolConfig as Json | undefined)?.functionCallingConfig as Json | undefined)?.mode;
  const out: Plan = {
    text: "",
    promptTokens: tokensOf(promptText) + images * 258,
    candidates: typeof config.candidateCount === "number" ? config.candidateCount : 1,
  };
  if ((config.thinkingConfig as Json | undefined)?.includeThoughts === true) out.thought = "Mock thoughts.";
  const first = declarations[0];
  if (first !== undefined && !answered && mode !== "NONE") {
    out.call = { name: String(first.name), args: argsFor(first.parameters ?? first.parametersJsonSchema) };
    return out;
  }
  if (config.responseMimeType === "application/json") out.text = JSON.stringify({ answer: "mock" });
  else if (answered) out.text = "The function said: done.";
  else out.text = `Mock Gemini reply.${images > 0 ? ` I see ${images} image(s).` : ""} Hello there!`;
  return out;
}

function candidateParts(p: Plan): Json[] {
  const parts: Json[] = [];
  if (p.thought !== undefined) parts.push({ text: p.thought, thought: true });
  if (p.call !== undefined) parts.push({ functionCall: p.call, thoughtSignature: "c2lnLW1vY2s=" });
  else parts.push({ text: p.text });
  return parts;
}

function usage(p: Plan): Json {
  const candidates = p.call !== undefined ? 8 : tokensOf(p.text);
  const thoughts = p.thought !== undefined ? 5 : 0;
  const out: Json = {
    promptTokenCount: p.promptTokens,
    candidatesTokenCount: candidates * p.candidates,
    totalTokenCount: p.promptTokens + candidates * p.candidates + thoughts,
  };
  if (thoughts > 0) out.thoughtsTokenCount = thoughts;
  return out;
}

function fullResponse(p: Plan, model: string): string {
  const candidates: Json[] = [];
  for (let i = 0; i < p.candidates; i++) {
    candidates.push({ content: { role: "model", parts: candidateParts(p) }, finishReason: "STOP", index: i });
  }
  return JSON.stringify({
    candidates,
    usageMetadata: usage(p),
    modelVersion: model,
    responseId: randomBytes(8).toString("hex"),
  });
}

function streamEvents(p: Plan, model: string, chunks: number): Json[] {
  const responseId = randomBytes(8).toString("hex");
  const events: Json[] = [];
  const partial = { promptTokenCount: p.promptTokens, totalTokenCount: p.promptTokens };
  const event = (parts: Json[], finish?: string): Json => {
    const candidate: Json = { content: { role: "model", parts }, index: 0 };
    if (finish !== undefined) candidate.finishReason = finish;
    return {
      candidates: [candidate],
      usageMetadata: finish === undefined ? partial : usage(p),
      modelVersion: model,
      responseId,
    };
  };
  if (p.thought !== undefined) events.push(event([{ text: p.thought, thought: true }]));
  if (p.call !== undefined) {
    events.push(event([{ functionCall: p.call, thoughtSignature: "c2lnLW1vY2s=" }], "STOP"));
    return events;
  }
  const size = Math.max(1, Math.ceil(p.text.length / chunks));
  for (let at = 0; at < p.text.length; at += size) {
    const piece = p.text.slice(at, at + size);
    events.push(event([{ text: piece }], at + size >= p.text.length ? "STOP" : undefined));
  }
  return events;
}

function anthropicReply(request: Json, model: string): { full: string; events: [string, Json][] } {
  const text = "Mock Claude on Vertex reply.";
  const id = `msg_vrtx_${randomBytes(8).toString("hex")}`;
  const input = tokensOf(JSON.stringify(request.messages ?? ""));
  const messages = (request.messages ?? []) as { role?: string; content?: unknown }[];
  const lastContent = messages[messages.length - 1]?.content;
  const answered =
    Array.isArray(lastContent) && lastContent.some((block: Json) => block.type === "tool_result");
  const tool = ((request.tools ?? []) as Json[])[0];
  const thinking = (request.thinking as Json | undefined)?.type === "enabled";
  const blocks: Json[] = [];
  if (thinking)
    blocks.push({ type: "thinking", thinking: "Mock Claude thoughts.", signature: "c2lnLXZydHg=" });
  if (tool !== undefined && !answered) {
    blocks.push({
      type: "tool_use",
      id: `toolu_vrtx_${randomBytes(6).toString("hex")}`,
      name: String(tool.name),
      input: argsFor(tool.input_schema),
    });
  } else blocks.push({ type: "text", text });
  const stopReason = tool !== undefined && !answered ? "tool_use" : "end_turn";
  const outputTokens = tokensOf(JSON.stringify(blocks));
  const message = {
    id,
    type: "message",
    role: "assistant",
    model,
    content: blocks,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: input, output_tokens: outputTokens },
  };
  const events: [string, Json][] = [
    [
      "message_start",
      {
        type: "message_start",
        message: {
          ...message,
          content: [],
          stop_reason: null,
          usage: { input_tokens: input, output_tokens: 1 },
        },
      },
    ],
  ];
  const delta = (index: number, body: Json): [string, Json] => [
    "content_block_delta",
    { type: "content_block_delta", index, delta: body },
  ];
  for (let index = 0; index < blocks.length; index++) {
    const block = blocks[index] as Json;
    const start =
      block.type === "thinking"
        ? { type: "thinking", thinking: "" }
        : block.type === "tool_use"
          ? { ...block, input: {} }
          : { type: "text", text: "" };
    events.push(["content_block_start", { type: "content_block_start", index, content_block: start }]);
    if (block.type === "thinking") {
      events.push(delta(index, { type: "thinking_delta", thinking: block.thinking }));
      events.push(delta(index, { type: "signature_delta", signature: block.signature }));
    } else if (block.type === "tool_use") {
      const json = JSON.stringify(block.input);
      const half = Math.ceil(json.length / 2);
      events.push(delta(index, { type: "input_json_delta", partial_json: json.slice(0, half) }));
      events.push(delta(index, { type: "input_json_delta", partial_json: json.slice(half) }));
    } else {
      for (const piece of ["Mock Claude ", "on Vertex ", "reply."]) {
        events.push(delta(index, { type: "text_delta", text: piece }));
      }
    }
    events.push(["content_block_stop", { type: "content_block_stop", index }]);
  }
  events.push([
    "message_delta",
    {
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: outputTokens },
    },
  ]);
  events.push(["message_stop", { type: "message_stop" }]);
  return { full: JSON.stringify(message), events };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=UTF-8", ...headers });
  res.end(body);
}

const GEMINI_PATH = /^\/v1beta\/models\/([^:]+):([A-Za-z]+)$/;
const VERTEX_PATH =
  /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(google|anthropic)\/models\/([^:]+):([A-Za-z]+)$/;

export function startGeminiMock(opts: GeminiMockOptions = {}): Promise<GeminiMockServer> {
  const stats: GeminiMockStats = { requests: 0, tokenRequests: 0 };
  const issued = new Map<string, number>();
  const chunks = opts.streamChunks ?? 4;
  let tokenUri = "";

  function token(res: ServerResponse, body: string): void {
    stats.tokenRequests++;
    const form = new URLSearchParams(body);
    const refuse = (why: string) =>
      send(res, 400, JSON.stringify({ error: "invalid_grant", error_description: why }));
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      refuse("Invalid grant_type.");
      return;
    }
    const [header, claims, signature] = (form.get("assertion") ?? "").split(".");
    if (
      header === undefined ||
      claims === undefined ||
      signature === undefined ||
      opts.verifyKey === undefined
    ) {
      refuse("Invalid JWT.");
      return;
    }
    const valid = verify(
      "sha256",
      Buffer.from(`${header}.${claims}`),
      opts.verifyKey,
      Buffer.from(signature, "base64url"),
    );
    const parsedHeader = JSON.parse(Buffer.from(header, "base64url").toString()) as Json;
    const parsed = JSON.parse(Buffer.from(claims, "base64url").toString()) as Json;
    const now = Math.floor(Date.now() / 1000);
    if (!valid || parsedHeader.alg !== "RS256") {
      refuse("Invalid JWT Signature.");
      return;
    }
    if (parsed.aud !== tokenUri || typeof parsed.iss !== "string" || typeof parsed.scope !== "string") {
      refuse("Invalid JWT: aud, iss or scope.");
      return;
    }
    if (
      typeof parsed.exp !== "number" ||
      typeof parsed.iat !== "number" ||
      parsed.exp < now ||
      parsed.exp - parsed.iat > 3600
    ) {
      refuse("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.");
      return;
    }
    stats.lastClaims = parsed;
    const lifetime = opts.tokenLifetimeS ?? 3600;
    const access = `ya29.mock-${randomBytes(12).toString("hex")}`;
    issued.set(access, Date.now() + lifetime * 1000);
    send(res, 200, JSON.stringify({ access_token: access, expires_in: lifetime, token_type: "Bearer" }));
  }

  function answer(
    res: ServerResponse,
    model: string,
    method: string,
    query: string,
    request: Json,
    vertex: boolean,
  ): void {
    const injected = /^mock-error-(\d{3})$/.exec(model);
    if (injected !== null) {
      const error = googleErrorReply(Number(injected[1]), model);
      send(res, error.status, error.body, error.headers);
      return;
    }
    if (method === "batchEmbedContents" || method === "embedContent" || method === "predict") {
      const dims = (request: Json) =>
        typeof request.outputDimensionality === "number" ? request.outputDimensionality : 8;
      if (method === "batchEmbedContents") {
        const requests = (request.requests ?? []) as Json[];
        const embeddings = requests.map((one) => ({
          values: embedding(JSON.stringify(one.content), dims(one)),
        }));
        send(res, 200, JSON.stringify({ embeddings }));
      } else if (method === "embedContent") {
        send(
          res,
          200,
          JSON.stringify({
            embedding: { values: embedding(JSON.stringify(request.content), dims(request)) },
          }),
        );
      } else {
        const parameters = (request.parameters ?? {}) as Json;
        const predictions = ((request.instances ?? []) as Json[]).map((instance) => ({
          embeddings: {
            values: embedding(JSON.stringify({ parts: [{ text: instance.content }] }), dims(parameters)),
            statistics: { token_count: tokensOf(String(instance.content)), truncated: false },
          },
        }));
        send(res, 200, JSON.stringify({ predictions, metadata: { billableCharacterCount: 10 } }));
      }
      return;
    }
    if (model === "mock-blocked") {
      send(
        res,
        200,
        JSON.stringify({
          promptFeedback: { blockReason: "SAFETY" },
          usageMetadata: { promptTokenCount: 4, totalTokenCount: 4 },
          modelVersion: model,
        }),
      );
      return;
    }
    const p = plan(request);
    if (method === "generateContent") {
      send(res, 200, fullResponse(p, model));
      return;
    }
    if (method !== "streamGenerateContent") {
      send(res, 404, googleError(404, `Method ${method} is not found.`));
      return;
    }
    const events = streamEvents(p, model, chunks);
    if (/(^|&)alt=sse(&|$)/.test(query)) {
      res.writeHead(200, { "content-type": "text/event-stream", "x-vertex": vertex ? "1" : "0" });
      for (const event of events) res.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
      res.end();
    } else {
      res.writeHead(200, { "content-type": "application/json; charset=UTF-8" });
      res.end(`[${events.map((event) => JSON.stringify(event)).join(",\r\n")}]`);
    }
  }

  const server = createServer((req, res) => {
    const served = readBody(req).then((body) => {
      const [path = "", query = ""] = (req.url ?? "").split("?", 2);
      if (req.method === "POST" && path === "/token") {
        token(res, body);
        return;
      }
      if (req.method === "GET" && path === "/v1beta/models") {
        const key = req.headers["x-goog-api-key"];
        if (opts.requireKey !== undefined && key !== opts.requireKey) {
          send(res, 400, googleError(400, "API key not valid. Please pass a valid API key."));
          return;
        }
        send(res, 200, JSON.stringify({ models: [{ name: "models/gemini-2.5-flash" }] }));
        return;
      }
      stats.requests++;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers))
        if (typeof value === "string") headers[name] = value;
      stats.lastRequest = { path: req.url ?? "", headers, body };
      let request: Json;
      try {
        request = JSON.parse(body) as Json;
      } catch {
        send(res, 400, googleError(400, "Invalid JSON payload received."));
        return;
      }
      const gemini = GEMINI_PATH.exec(path);
      if (gemini !== null) {
        const key = req.headers["x-goog-api-key"];
        if (opts.requireKey !== undefined && key === undefined) {
          send(
            res,
            403,
            googleError(
              403,
              "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            ),
          );
          return;
        }
        if (opts.requireKey !== undefined && key !== opts.requireKey) {
          send(res, 400, googleError(400, "API key not valid. Please pass a valid API key."));
          return;
        }
        answer(res, decodeURIComponent(gemini[1] as string), gemini[2] as string, query, request, false);
        return;
      }
      const vertex = VERTEX_PATH.exec(path);
      if (vertex !== null) {
        const auth = req.headers.authorization ?? "";
        const expires = issued.get(auth.replace(/^Bearer /, ""));
        if (expires === undefined || expires < Date.now()) {
          send(
            res,
            401,
            googleError(
              401,
              "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
            ),
          );
          return;
        }
        const [, , , publisher, model = "", method = ""] = vertex;
        if (publisher === "anthropic") {
          if (request.anthropic_version !== "vertex-2023-10-16" || request.model !== undefined) {
            send(
              res,
              400,
              JSON.stringify({
                type: "error",
                error: {
                  type: "invalid_request_error",
                  message:
                    "anthropic_version: vertex-2023-10-16 is required and model must not be in the body",
                },
              }),
            );
            return;
          }
          const reply = anthropicReply(request, model);
          if (method === "rawPredict") send(res, 200, reply.full);
          else {
            res.writeHead(200, { "content-type": "text/event-stream" });
            for (const [name, data] of reply.events)
              res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
            res.end();
          }
          return;
        }
        answer(res, model, method, query, request, true);
        return;
      }
      send(res, 404, googleError(404, `The requested URL ${path} was not found on this server.`));
    });
    served.catch((error: unknown) => {
      // A body of the wrong shape (the gateway's fuzz tests send them) is the client's mistake, as upstream.
      if (res.headersSent) res.destroy();
      else send(res, 400, googleError(400, `Invalid request: ${(error as Error).message}`));
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port;
      const url = `http://${opts.host ?? "127.0.0.1"}:${port}`;
      tokenUri = `${url}/token`;
      resolve({
        url,
        port,
        tokenUri,
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
