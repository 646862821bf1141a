import type { EmbeddingsResponse } from "../../formats/canonical.js";
import type { GeminiResponse } from "../../formats/gemini/wire.js";
import type { ProviderAdapter, Target, UpstreamRequest } from "../adapter.js";
import { googleModelSegment } from "../path.js";
import type { CompiledProvider } from "../route.js";
import { geminiEmbeddingsTexts, geminiRequest } from "./request.js";
import { chatResponseOf, geminiError, geminiStreamDecoder } from "./response.js";

const COLLECTIONS = ["models/", "tunedModels/"];

// The Gemini API (generativelanguage.googleapis.com), authenticated with `x-goog-api-key`:
//   POST {root}/v1beta/models/{model}:generateContent
//   POST {root}/v1beta/models/{model}:streamGenerateContent?alt=sse
//   POST {root}/v1beta/models/{model}:batchEmbedContents

/**
 * The root under which `/v1beta/...` lives. The catalog points at Gemini's OpenAI-compatible API (which
 * the model list still uses), and a configured base URL may end in /v1beta; both are cut off.
 */
export function geminiRoot(apiPath: string): string {
  let path = apiPath;
  if (path.endsWith("/openai")) path = path.slice(0, -7);
  if (path.endsWith("/v1beta") || path.endsWith("/v1")) path = path.slice(0, path.lastIndexOf("/"));
  return path;
}

/** `models/{model}` (or the tuned-model collection a name already names), the model one encoded segment. */
export function modelPath(model: string): string {
  for (const collection of COLLECTIONS) {
    if (model.startsWith(collection)) return collection + googleModelSegment(model.slice(collection.length));
  }
  return `models/${googleModelSegment(model)}`;
}

const headerCache = new WeakMap<CompiledProvider, string[][]>();

/** Each key's headers with the key as `x-goog-api-key`; a bearer token would be taken for OAuth. */
export function geminiHeaders(provider: CompiledProvider, keyIndex: number): string[] {
  let all = headerCache.get(provider);
  if (all === undefined) {
    all = provider.keyHeaders.map((headers, i) => {
      const out: string[] = [];
      for (let h = 0; h < headers.length; h += 2) {
        if ((headers[h] as string).toLowerCase() !== "authorization")
          out.push(headers[h] as string, headers[h + 1] as string);
      }
      const key = provider.keys[i]?.value ?? "";
      if (key !== "") out.push("x-goog-api-key", key);
      return out;
    });
    headerCache.set(provider, all);
  }
  return all[keyIndex] as string[];
}

function post(target: Target, method: string, body: string): UpstreamRequest {
  return {
    origin: target.provider.origin,
    path: `${geminiRoot(target.provider.apiPath)}/v1beta/${modelPath(target.model)}:${method}`,
    method: "POST",
    headers: geminiHeaders(target.provider, target.keyIndex),
    body,
  };
}

interface BatchEmbedResponse {
  embeddings?: { values?: number[] }[];
  usageMetadata?: { promptTokenCount?: number };
}

/** Floats as OpenAI's `encoding_format: "base64"` gives them: little-endian float32, base64. */
export function base64Floats(values: number[]): string {
  const floats = new Float32Array(values);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString("base64");
}

/** Requests that asked for base64 embeddings (the OpenAI SDK's default), by their per-request target. */
export const base64Embeddings = new WeakSet<Target>();

export const geminiAdapter: ProviderAdapter = {
  kinds: ["gemini"],

  chatRequest: (chat, target) =>
    post(
      target,
      target.stream ? "streamGenerateContent?alt=sse" : "generateContent",
      JSON.stringify(geminiRequest(chat)),
    ),

  chatResponse: (body, target) =>
    chatResponseOf(JSON.parse(body.toString("utf8")) as GeminiResponse, target.model),

  chatStream: (target) => geminiStreamDecoder(target.model),

  embeddingsRequest(request, target) {
    const model = modelPath(target.model);
    if (request.encoding_format === "base64") base64Embeddings.add(target);
    const requests = geminiEmbeddingsTexts(request).map((text) => {
      const one: Record<string, unknown> = { model, content: { parts: [{ text }] } };
      if (request.dimensions !== undefined) one.outputDimensionality = request.dimensions;
      return one;
    });
    return post(target, "batchEmbedContents", JSON.stringify({ requests }));
  },

  embeddingsResponse(body, target) {
    const parsed = JSON.parse(body.toString("utf8")) as BatchEmbedResponse;
    const base64 = base64Embeddings.has(target);
    const data: EmbeddingsResponse["data"] = (parsed.embeddings ?? []).map((embedding, index) => ({
      object: "embedding",
      index,
      embedding: base64 ? base64Floats(embedding.values ?? []) : (embedding.values ?? []),
    }));
    // batchEmbedContents reports no token counts.
    const tokens = parsed.usageMetadata?.promptTokenCount ?? 0;
    return {
      object: "list",
      model: target.model,
      data,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  },

  error: (status, body, target) => geminiError(status, body, target.provider.name),
};
