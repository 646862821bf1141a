import type {
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  EmbeddingsResponse,
} from "../../formats/canonical.js";
import { SseParser } from "../../formats/sse.js";
import type { ProviderAdapter, StreamDecoder, Target, UpstreamRequest } from "../adapter.js";
import { providerError } from "../provider-error.js";
import type { KeyEndpoint } from "../route.js";

// The OpenAI-compatible family (OpenAI, Groq, Mistral, DeepSeek, xAI, OpenRouter, Together, Fireworks,
// Cerebras, Perplexity, Ollama, vLLM, any custom base URL). Only requests from clients of another format
// come through here; an OpenAI client's request to these providers passes through as bytes.

/** Reasoning budgets (Anthropic's `thinking.budget_tokens`) as OpenAI's effort levels. */
function effortForBudget(budget: number): "low" | "medium" | "high" {
  if (budget < 4096) return "low";
  if (budget < 16384) return "medium";
  return "high";
}

/** Removes the canonical extensions OpenAI's API does not define. */
function openAIMessages(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((message) => {
    if (message.role === "assistant") {
      const { thinking_blocks: _blocks, ...rest } = message;
      return rest;
    }
    if (typeof message.content === "string") return message;
    const content = message.content.map((part) => {
      if (part.cache_control === undefined) return part;
      const { cache_control: _cache, ...rest } = part;
      return rest;
    });
    return { ...message, content } as ChatMessage;
  });
}

export function openAIChatBody(request: ChatRequest, model: string): string {
  return JSON.stringify(openAIChatFields(request, model));
}

/** The request body as an object, for providers whose parameter names differ (src/providers/compatible). */
export function openAIChatFields(request: ChatRequest, model: string): Record<string, unknown> {
  const { thinking, drop_params: _drop, top_k: _topK, ...rest } = request;
  const body: Record<string, unknown> = { ...rest, model, messages: openAIMessages(request.messages) };
  if (request.tools !== undefined) {
    body.tools = request.tools.map(({ cache_control: _cache, ...tool }) => tool);
  }
  if (thinking?.type === "enabled" && request.reasoning_effort === undefined) {
    body.reasoning_effort = effortForBudget(thinking.budget_tokens);
  }
  if (request.stream === true) body.stream_options = { ...request.stream_options, include_usage: true };
  return body;
}

function request(target: Target, path: string, body: string): UpstreamRequest {
  const endpoint = target.provider.endpoints[target.keyIndex] as KeyEndpoint;
  return {
    origin: endpoint.origin,
    path: endpoint.path(path, target.model),
    method: "POST",
    headers: [...endpoint.headers],
    body,
  };
}

export const openAICompatibleAdapter: ProviderAdapter = {
  kinds: ["openai-compatible"],

  chatRequest: (chat, target) => request(target, "/chat/completions", openAIChatBody(chat, target.model)),

  chatResponse: (body) => JSON.parse(body.toString("utf8")) as ChatResponse,

  chatStream(): StreamDecoder {
    const parser = new SseParser();
    const chunksOf = (events: ReturnType<SseParser["push"]>): ChatChunk[] => {
      const chunks: ChatChunk[] = [];
      for (const event of events) {
        if (event.data === "[DONE]") continue;
        chunks.push(JSON.parse(event.data) as ChatChunk);
      }
      return chunks;
    };
    return {
      push: (bytes) => chunksOf(parser.push(bytes)),
      end: () => chunksOf(parser.end()),
    };
  },

  embeddingsRequest: (embeddings, target) =>
    request(target, "/embeddings", JSON.stringify({ ...embeddings, model: target.model })),

  embeddingsResponse: (body) => JSON.parse(body.toString("utf8")) as EmbeddingsResponse,

  error: (status, body, target) => providerError(status, target.provider.name, body),

  openAIEndpoint: (_provider, _key, standard) => standard,
};
