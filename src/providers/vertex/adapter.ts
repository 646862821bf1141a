import type { VertexKeyConfig } from "../../config/types.js";
import type { ChatRequest, EmbeddingsResponse } from "../../formats/canonical.js";
import type { GeminiResponse } from "../../formats/gemini/wire.js";
import type { ProviderAdapter, Target, UpstreamRequest } from "../adapter.js";
import { UnsupportedRequest } from "../adapter.js";
import { anthropicRequest } from "../anthropic/request.js";
import {
  anthropicError,
  chatResponse as anthropicResponse,
  chatStream as anthropicStream,
} from "../anthropic/response.js";
import { base64Embeddings, base64Floats } from "../gemini/adapter.js";
import { geminiEmbeddingsTexts, geminiRequest } from "../gemini/request.js";
import { chatResponseOf, geminiError, geminiStreamDecoder } from "../gemini/response.js";
import { googleModelSegment } from "../path.js";
import { tokenSourceFor } from "./auth.js";

// Vertex AI, authenticated with a service account (see auth.ts). Models live under a project and region:
//   https://{region}-aiplatform.googleapis.com/v1/projects/{project}/locations/{region}/publishers/...
//     google/models/{gemini model}:generateContent | :streamGenerateContent?alt=sse | :predict (embeddings)
//     anthropic/models/{claude model}:rawPredict | :streamRawPredict   (Anthropic's Messages API, with
//       `anthropic_version: "vertex-2023-10-16"` in the body instead of the header and no `model` field)
// The region "global" uses https://aiplatform.googleapis.com. A configured base URL (a proxy, a private
// endpoint, a mock) replaces the origin for every key.

export const VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16";

function vertexConfig(target: Target): VertexKeyConfig {
  const config = target.key.vertex;
  if (config === undefined || config.serviceAccountJson === "") {
    throw new Error(
      `key '${target.key.name}' of provider '${target.provider.name}' has no Vertex service account`,
    );
  }
  return config;
}

function isAnthropic(model: string): boolean {
  return model.startsWith("claude-");
}

async function vertexRequest(
  target: Target,
  publisher: string,
  method: string,
  body: string,
): Promise<UpstreamRequest> {
  const config = vertexConfig(target);
  const source = tokenSourceFor(config.serviceAccountJson);
  const project = config.projectId || source.account.projectId;
  if (project === undefined || project === "") {
    throw new Error(`key '${target.key.name}' of provider '${target.provider.name}' names no Vertex project`);
  }
  const region = config.region || "us-central1";
  const token = await source.get();
  const configured = target.provider.config.network.baseUrl !== "";
  let prefix = "";
  let origin: string;
  if (configured) {
    origin = target.provider.origin;
    prefix = target.provider.apiPath.endsWith("/v1")
      ? target.provider.apiPath.slice(0, -3)
      : target.provider.apiPath;
  } else {
    origin =
      region === "global"
        ? "https://aiplatform.googleapis.com"
        : `https://${region}-aiplatform.googleapis.com`;
  }
  const headers = ["content-type", "application/json", "authorization", `Bearer ${token}`];
  for (const [name, value] of Object.entries(target.provider.config.network.extraHeaders))
    headers.push(name, value);
  return {
    origin,
    path: `${prefix}/v1/projects/${project}/locations/${region}/publishers/${publisher}/models/${googleModelSegment(target.model)}:${method}`,
    method: "POST",
    headers,
    body,
  };
}

function anthropicBody(chat: ChatRequest, target: Target): string {
  const { model: _model, stream: _stream, ...rest } = anthropicRequest(chat, target.model);
  // The method (rawPredict or streamRawPredict) and the body must agree on streaming.
  return JSON.stringify({
    anthropic_version: VERTEX_ANTHROPIC_VERSION,
    ...rest,
    ...(target.stream ? { stream: true } : {}),
  });
}

interface PredictResponse {
  predictions?: { embeddings?: { values?: number[]; statistics?: { token_count?: number } } }[];
}

export const vertexAdapter: ProviderAdapter = {
  kinds: ["vertex"],

  chatRequest(chat, target) {
    if (isAnthropic(target.model)) {
      const method = target.stream ? "streamRawPredict" : "rawPredict";
      return vertexRequest(target, "anthropic", method, anthropicBody(chat, target));
    }
    const method = target.stream ? "streamGenerateContent?alt=sse" : "generateContent";
    return vertexRequest(target, "google", method, JSON.stringify(geminiRequest(chat)));
  },

  chatResponse: (body, target) =>
    isAnthropic(target.model)
      ? anthropicResponse(body)
      : chatResponseOf(JSON.parse(body.toString("utf8")) as GeminiResponse, target.model),

  chatStream: (target) => (isAnthropic(target.model) ? anthropicStream() : geminiStreamDecoder(target.model)),

  embeddingsRequest(request, target) {
    if (isAnthropic(target.model))
      throw new UnsupportedRequest("Anthropic models on Vertex AI offer no embeddings.", "model");
    if (request.encoding_format === "base64") base64Embeddings.add(target);
    const instances = geminiEmbeddingsTexts(request).map((content) => ({ content }));
    const body: Record<string, unknown> = { instances };
    if (request.dimensions !== undefined) body.parameters = { outputDimensionality: request.dimensions };
    return vertexRequest(target, "google", "predict", JSON.stringify(body));
  },

  embeddingsResponse(body, target) {
    const parsed = JSON.parse(body.toString("utf8")) as PredictResponse;
    const base64 = base64Embeddings.has(target);
    let tokens = 0;
    const data: EmbeddingsResponse["data"] = (parsed.predictions ?? []).map((prediction, index) => {
      const values = prediction.embeddings?.values ?? [];
      tokens += prediction.embeddings?.statistics?.token_count ?? 0;
      return { object: "embedding", index, embedding: base64 ? base64Floats(values) : values };
    });
    return {
      object: "list",
      model: target.model,
      data,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  },

  error(status, body, target) {
    const google = geminiError(status, body, target.provider.name);
    // Google's front (auth, quota, unknown model) answers in Google's shape even for Anthropic models.
    if (!isAnthropic(target.model) || google.code !== null) return google;
    return anthropicError(status, body, target.provider.name);
  },
};
