import type { CanonicalError, ChatChunk, ChatRequest, ChatResponse } from "../canonical.js";
import { type InboundFormat, InvalidRequest, type StreamEncoder, type StreamOptions } from "../format.js";
import { sseEvent } from "../sse.js";

// OpenAI's Chat Completions format is the canonical shape, so this format only checks the body's outline
// and writes responses, chunks and errors back as they are. It is used when an OpenAI client's request goes
// to a provider with another wire format; same-format requests never parse the body at all.

const SSE_HEADERS = [
  ["content-type", "text/event-stream; charset=utf-8"],
  ["cache-control", "no-cache"],
] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function openAIErrorBody(error: CanonicalError): string {
  return JSON.stringify({
    error: { message: error.message, type: error.type, param: error.param, code: error.code },
  });
}

export const openAIFormat: InboundFormat = {
  name: "openai",

  toCanonical(body: unknown): ChatRequest {
    if (!isObject(body)) throw new InvalidRequest("The request body must be a JSON object.");
    if (typeof body.model !== "string" || body.model === "") {
      throw new InvalidRequest("you must provide a model parameter", "model");
    }
    if (!Array.isArray(body.messages)) throw new InvalidRequest("'messages' must be an array", "messages");
    for (let i = 0; i < body.messages.length; i++) {
      const message: unknown = body.messages[i];
      if (!isObject(message) || typeof message.role !== "string") {
        throw new InvalidRequest(`'messages[${i}]' must be an object with a 'role'`, `messages[${i}]`);
      }
    }
    return body as unknown as ChatRequest;
  },

  fromCanonical(response: ChatResponse, requestedModel: string): string {
    return JSON.stringify({ ...response, model: requestedModel });
  },

  streamEncoder(requestedModel: string, options?: StreamOptions): StreamEncoder {
    const includeUsage = options?.includeUsage === true;
    return {
      headers: SSE_HEADERS,
      encode(chunk: ChatChunk): string {
        const usage = chunk.usage;
        if (usage == null) return sseEvent(JSON.stringify({ ...chunk, model: requestedModel }));
        // OpenAI reports usage only when asked, and then in a chunk of its own with no choices; providers
        // that put it on the finishing chunk are brought into that shape.
        let text = "";
        if (chunk.choices.length > 0) {
          text = sseEvent(
            JSON.stringify({ ...chunk, model: requestedModel, usage: includeUsage ? null : undefined }),
          );
        }
        if (includeUsage)
          text += sseEvent(JSON.stringify({ ...chunk, model: requestedModel, choices: [], usage }));
        return text;
      },
      end: () => sseEvent("[DONE]"),
      error: (error: CanonicalError) => sseEvent(openAIErrorBody(error)),
    };
  },

  errorBody: openAIErrorBody,
};
