import type { BedrockKeyConfig } from "../../config/types.js";
import type { ChatRequest, EmbeddingsRequest, EmbeddingsResponse } from "../../formats/canonical.js";
import {
  type ProviderAdapter,
  ProviderStreamError,
  type SendUpstream,
  type Target,
  UnsupportedRequest,
  type UpstreamRequest,
} from "../adapter.js";
import { pathSegment } from "../path.js";
import { converseBody } from "./request.js";
import { bedrockError, converseResponse, converseStream } from "./response.js";
import { sign } from "./sigv4.js";

// AWS Bedrock through the Converse and ConverseStream APIs (one request shape for every model family),
// with Titan and Cohere embeddings through InvokeModel. Requests are signed with SigV4 (service "bedrock")
// using the key's credentials, or sent with a Bedrock API key as a bearer token.

export const BEDROCK_DEFAULT_BASE_URL = "https://bedrock-runtime.us-east-1.amazonaws.com";
const SERVICE = "bedrock";

interface Endpoint {
  readonly origin: string;
  readonly host: string;
  readonly basePath: string;
}

function bedrockConfig(target: Target): BedrockKeyConfig | undefined {
  return target.key.bedrock;
}

/** The runtime endpoint of the key's region, unless the provider's base URL was set to something else. */
function endpointOf(target: Target): Endpoint {
  const configured = target.provider.config.network.baseUrl;
  if (configured === "" || configured === BEDROCK_DEFAULT_BASE_URL) {
    const region = bedrockConfig(target)?.region || "us-east-1";
    const host = `bedrock-runtime.${region}.amazonaws.com`;
    return { origin: `https://${host}`, host, basePath: "" };
  }
  const origin = target.provider.origin;
  return { origin, host: origin.slice(origin.indexOf("//") + 2), basePath: target.provider.apiPath };
}

/** A model name maps to an inference profile id or ARN when the key lists one. */
export function modelIdOf(target: Target): string {
  return bedrockConfig(target)?.deployments[target.model] ?? target.model;
}

function signedRequest(target: Target, endpoint: Endpoint, path: string, body: string): UpstreamRequest {
  const headers = [...(target.provider.keyHeaders[target.keyIndex] ?? ["content-type", "application/json"])];
  const config = bedrockConfig(target);
  if (config !== undefined && config.accessKey !== "") {
    const signable: [string, string][] = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name = (headers[i] as string).toLowerCase();
      if (name === "content-type" || name.startsWith("x-amz-"))
        signable.push([name, headers[i + 1] as string]);
    }
    const signed = sign({
      method: "POST",
      host: endpoint.host,
      path,
      headers: signable,
      body,
      credentials: {
        accessKeyId: config.accessKey,
        secretAccessKey: config.secretKey,
        ...(config.sessionToken !== undefined ? { sessionToken: config.sessionToken } : {}),
      },
      region: config.region || "us-east-1",
      service: SERVICE,
    });
    for (const [name, value] of signed.headers) headers.push(name, value);
  } else if (target.key.value !== "") {
    // Bedrock API keys (long- or short-term) go as bearer tokens instead of a signature.
    headers.push("authorization", `Bearer ${target.key.value}`);
  } else {
    throw new Error(
      `key '${target.key.name}' of provider '${target.provider.name}' has neither AWS credentials nor a Bedrock API key`,
    );
  }
  return { origin: endpoint.origin, path, method: "POST", headers, body };
}

function modelPath(endpoint: Endpoint, modelId: string, action: string): string {
  return `${endpoint.basePath}/model/${pathSegment(modelId)}/${action}`;
}

// ---- Embeddings -------------------------------------------------------------------------------------

type Family = "titan" | "cohere";

interface EmbeddingState {
  readonly family: Family;
  readonly base64: boolean;
  /** Titan takes one text per request: the vectors of all but the last input, fetched first. */
  readonly earlier: { vector: number[]; tokens: number }[];
}

/** Per-request facts the response conversion needs; the Target object lives exactly as long as the request. */
const embeddingStates = new WeakMap<Target, EmbeddingState>();

function familyOf(modelId: string): Family | undefined {
  if (/(^|[./])amazon\.titan-embed-(text|g1-text)/.test(modelId)) return "titan";
  if (/(^|[./])cohere\.embed-/.test(modelId)) return "cohere";
  return undefined;
}

function texts(request: EmbeddingsRequest): string[] {
  const input = request.input;
  if (typeof input === "string") return [input];
  if (Array.isArray(input) && input.every((item) => typeof item === "string")) return input as string[];
  throw new UnsupportedRequest("Bedrock embeddings take text input, not token arrays.", "input");
}

function titanBody(text: string, request: EmbeddingsRequest, modelId: string): string {
  const body: Record<string, unknown> = { inputText: text };
  if (request.dimensions !== undefined) {
    if (!/titan-embed-text-v2/.test(modelId)) {
      throw new UnsupportedRequest(`${modelId} has a fixed number of dimensions.`, "dimensions");
    }
    body.dimensions = request.dimensions;
  }
  return JSON.stringify(body);
}

function titanVector(body: Buffer): { vector: number[]; tokens: number } {
  const parsed = JSON.parse(body.toString("utf8")) as { embedding?: unknown; inputTextTokenCount?: unknown };
  if (!Array.isArray(parsed.embedding)) throw new Error("Titan reply without an embedding");
  return {
    vector: parsed.embedding as number[],
    tokens: typeof parsed.inputTextTokenCount === "number" ? parsed.inputTextTokenCount : 0,
  };
}

/** Titan inputs in flight at once for one embeddings request, so a long input list does not flood the account. */
const FAN_OUT = 8;

async function fetchOne(
  send: SendUpstream,
  request: UpstreamRequest,
  timeout: number,
): Promise<{ vector: number[]; tokens: number }> {
  const reply = await send(request, timeout);
  if (reply.status >= 400) {
    const errorType = reply.headers["x-amzn-errortype"];
    throw new ProviderStreamError(
      bedrockError(reply.status, reply.body, typeof errorType === "string" ? errorType : undefined),
    );
  }
  return titanVector(reply.body);
}

async function fetchEarlier(
  target: Target,
  requests: UpstreamRequest[],
  send: SendUpstream,
): Promise<EmbeddingState["earlier"]> {
  const timeout = target.provider.config.network.requestTimeoutMs;
  const out: EmbeddingState["earlier"] = new Array(requests.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < requests.length && !failed) {
      const at = next++;
      try {
        out[at] = await fetchOne(send, requests[at] as UpstreamRequest, timeout);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < Math.min(FAN_OUT, requests.length); i++) workers.push(worker());
  await Promise.all(workers);
  return out;
}

function encodeVector(vector: number[], base64: boolean): number[] | string {
  if (!base64) return vector;
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}

function embeddingsRequest(
  request: EmbeddingsRequest,
  target: Target,
  send: SendUpstream,
): UpstreamRequest | Promise<UpstreamRequest> {
  const modelId = modelIdOf(target);
  const family = familyOf(modelId);
  if (family === undefined) {
    throw new UnsupportedRequest(
      `Embeddings through Bedrock are supported for Titan text and Cohere embed models, not ${modelId}.`,
      "model",
    );
  }
  const inputs = texts(request);
  if (inputs.length === 0) throw new UnsupportedRequest("'input' must not be empty.", "input");
  const endpoint = endpointOf(target);
  const path = modelPath(endpoint, modelId, "invoke");
  const base64 = request.encoding_format === "base64";
  if (family === "cohere") {
    if (request.dimensions !== undefined) {
      throw new UnsupportedRequest(
        "Cohere embeddings on Bedrock have a fixed number of dimensions.",
        "dimensions",
      );
    }
    embeddingStates.set(target, { family, base64, earlier: [] });
    const body = JSON.stringify({ texts: inputs, input_type: "search_document", embedding_types: ["float"] });
    return signedRequest(target, endpoint, path, body);
  }
  const requests = inputs.map((text) =>
    signedRequest(target, endpoint, path, titanBody(text, request, modelId)),
  );
  const last = requests.pop() as UpstreamRequest;
  if (requests.length === 0) {
    embeddingStates.set(target, { family, base64, earlier: [] });
    return last;
  }
  return fetchEarlier(target, requests, send).then((earlier) => {
    embeddingStates.set(target, { family, base64, earlier });
    return last;
  });
}

function embeddingsResponse(body: Buffer, target: Target): EmbeddingsResponse {
  const state = embeddingStates.get(target) ?? { family: "titan", base64: false, earlier: [] };
  const data: EmbeddingsResponse["data"] = [];
  let tokens = 0;
  if (state.family === "titan") {
    const all = [...state.earlier, titanVector(body)];
    for (let i = 0; i < all.length; i++) {
      const item = all[i] as { vector: number[]; tokens: number };
      data.push({ object: "embedding", index: i, embedding: encodeVector(item.vector, state.base64) });
      tokens += item.tokens;
    }
  } else {
    const parsed = JSON.parse(body.toString("utf8")) as { embeddings?: unknown };
    const raw = parsed.embeddings;
    // embedding_types makes the reply {"float": [...]}; older replies are the bare list.
    const vectors = Array.isArray(raw) ? raw : (raw as { float?: unknown } | undefined)?.float;
    if (!Array.isArray(vectors)) throw new Error("Cohere reply without embeddings");
    for (let i = 0; i < vectors.length; i++) {
      data.push({
        object: "embedding",
        index: i,
        embedding: encodeVector(vectors[i] as number[], state.base64),
      });
    }
  }
  return {
    object: "list",
    model: target.model,
    data,
    // Cohere's reply on Bedrock carries no token count (only a response header does).
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

// ---- Adapter ----------------------------------------------------------------------------------------

export const bedrockAdapter: ProviderAdapter = {
  kinds: ["bedrock"],

  chatRequest(request: ChatRequest, target: Target): UpstreamRequest {
    const modelId = modelIdOf(target);
    const body = JSON.stringify(converseBody(request, modelId));
    const endpoint = endpointOf(target);
    return signedRequest(
      target,
      endpoint,
      modelPath(endpoint, modelId, target.stream ? "converse-stream" : "converse"),
      body,
    );
  },

  chatResponse: (body, target) => converseResponse(body, target.model),

  chatStream: (target) => converseStream(target.model),

  embeddingsRequest,
  embeddingsResponse,

  error(status, body, _target, headers?: Readonly<Record<string, string | string[] | undefined>>) {
    const errorType = headers?.["x-amzn-errortype"];
    return bedrockError(status, body, typeof errorType === "string" ? errorType : undefined);
  },
};
