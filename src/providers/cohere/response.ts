import type {
  AssistantMessage,
  ChatChunk,
  ChatChunkDelta,
  ChatResponse,
  EmbeddingsResponse,
  FinishReason,
  ToolCall,
  Usage,
} from "../../formats/canonical.js";
import { SseParser } from "../../formats/sse.js";
import type { StreamDecoder } from "../adapter.js";

// Cohere's v2 replies in the canonical shape: the full chat response, the stream's typed events
// (message-start, content-*, tool-plan-delta, tool-call-*, citation-*, message-end) and embeddings.

interface CohereUsage {
  billed_units?: { input_tokens?: number; output_tokens?: number };
  tokens?: { input_tokens?: number; output_tokens?: number };
  cached_tokens?: number;
}

interface CohereToolCall {
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

interface CohereChatResponse {
  id?: string;
  finish_reason?: string;
  message?: {
    role?: string;
    content?: { type?: string; text?: string; thinking?: string }[];
    tool_plan?: string;
    tool_calls?: CohereToolCall[];
  };
  usage?: CohereUsage;
}

export function finishReason(reason: string | undefined): FinishReason {
  switch (reason) {
    case "MAX_TOKENS":
      return "length";
    case "TOOL_CALL":
      return "tool_calls";
    case "ERROR_TOXIC":
      return "content_filter";
    default:
      // COMPLETE, STOP_SEQUENCE, and the ends that carry no finer meaning (ERROR, TIMEOUT).
      return "stop";
  }
}

/** Token counts (`tokens`) when Cohere sends them, else the billed units. */
export function usageOf(usage: CohereUsage | undefined): Usage | undefined {
  if (usage === undefined) return undefined;
  const counts = usage.tokens ?? usage.billed_units;
  if (counts === undefined) return undefined;
  const prompt = counts.input_tokens ?? 0;
  const completion = counts.output_tokens ?? 0;
  const result: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  if (usage.cached_tokens !== undefined)
    result.prompt_tokens_details = { cached_tokens: usage.cached_tokens };
  return result;
}

export function cohereChatResponse(body: Buffer, model: string): ChatResponse {
  const parsed = JSON.parse(body.toString("utf8")) as CohereChatResponse;
  const message = parsed.message ?? {};
  let text = "";
  let thinking = "";
  for (const item of message.content ?? []) {
    if (item.type === "text" && item.text !== undefined) text += item.text;
    else if (item.type === "thinking" && item.thinking !== undefined) thinking += item.thinking;
  }
  if (text === "" && message.tool_plan !== undefined) text = message.tool_plan;
  const assistant: AssistantMessage = { role: "assistant", content: text === "" ? null : text };
  const calls = message.tool_calls;
  if (calls !== undefined && calls.length > 0) {
    const toolCalls: ToolCall[] = new Array(calls.length);
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i] as CohereToolCall;
      toolCalls[i] = {
        id: call.id ?? `call_${i}`,
        type: "function",
        function: { name: call.function?.name ?? "", arguments: call.function?.arguments ?? "{}" },
      };
    }
    assistant.tool_calls = toolCalls;
  }
  if (thinking !== "") assistant.reasoning_content = thinking;
  const response: ChatResponse = {
    id: parsed.id ?? "",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: assistant, finish_reason: finishReason(parsed.finish_reason) }],
  };
  const usage = usageOf(parsed.usage);
  if (usage !== undefined) response.usage = usage;
  return response;
}

interface CohereEvent {
  type?: string;
  id?: string;
  index?: number;
  delta?: {
    message?: {
      content?: { type?: string; text?: string; thinking?: string };
      tool_plan?: string;
      tool_calls?: CohereToolCall;
    };
    finish_reason?: string;
    usage?: CohereUsage;
  };
}

/** Decodes Cohere's v2 chat stream into OpenAI-style chunks, usage last in a chunk of its own. */
export function cohereStreamDecoder(model: string): StreamDecoder {
  const parser = new SseParser();
  const created = Math.floor(Date.now() / 1000);
  let id = "";
  let toolCalls = 0;

  const chunk = (delta: ChatChunkDelta, finish: FinishReason | null = null): ChatChunk => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

  const decode = (events: ReturnType<SseParser["push"]>): ChatChunk[] => {
    const out: ChatChunk[] = [];
    for (const sse of events) {
      if (sse.data === "[DONE]") continue;
      const event = JSON.parse(sse.data) as CohereEvent;
      const message = event.delta?.message;
      switch (event.type) {
        case "message-start":
          if (event.id !== undefined) id = event.id;
          out.push(chunk({ role: "assistant", content: "" }));
          break;
        case "content-start":
        case "content-delta": {
          const content = message?.content;
          if (content?.text !== undefined && content.text !== "") out.push(chunk({ content: content.text }));
          else if (content?.thinking !== undefined && content.thinking !== "") {
            out.push(chunk({ reasoning_content: content.thinking }));
          }
          break;
        }
        case "tool-plan-delta":
          if (message?.tool_plan !== undefined && message.tool_plan !== "") {
            out.push(chunk({ content: message.tool_plan }));
          }
          break;
        case "tool-call-start": {
          const call = message?.tool_calls;
          const index = event.index ?? toolCalls;
          toolCalls = index + 1;
          out.push(
            chunk({
              tool_calls: [
                {
                  index,
                  id: call?.id ?? `call_${index}`,
                  type: "function",
                  function: { name: call?.function?.name ?? "", arguments: call?.function?.arguments ?? "" },
                },
              ],
            }),
          );
          break;
        }
        case "tool-call-delta": {
          const args = message?.tool_calls?.function?.arguments;
          if (args !== undefined && args !== "") {
            out.push(
              chunk({ tool_calls: [{ index: event.index ?? toolCalls - 1, function: { arguments: args } }] }),
            );
          }
          break;
        }
        case "message-end": {
          out.push(chunk({}, finishReason(event.delta?.finish_reason)));
          const usage = usageOf(event.delta?.usage);
          if (usage !== undefined) {
            out.push({ id, object: "chat.completion.chunk", created, model, choices: [], usage });
          }
          break;
        }
        // content-end, tool-call-end, citation-start/end and debug events carry nothing to relay.
      }
    }
    return out;
  };

  return {
    push: (bytes) => decode(parser.push(bytes)),
    end: () => decode(parser.end()),
  };
}

interface CohereEmbedResponse {
  embeddings?: { float?: number[][] };
  meta?: { billed_units?: { input_tokens?: number } };
}

export function cohereEmbedResponse(body: Buffer, model: string, base64: boolean): EmbeddingsResponse {
  const parsed = JSON.parse(body.toString("utf8")) as CohereEmbedResponse;
  const vectors = parsed.embeddings?.float;
  if (!Array.isArray(vectors)) throw new Error("the reply has no float embeddings");
  const data: EmbeddingsResponse["data"] = new Array(vectors.length);
  for (let i = 0; i < vectors.length; i++) {
    const vector = vectors[i] as number[];
    data[i] = { object: "embedding", index: i, embedding: base64 ? float32Base64(vector) : vector };
  }
  const tokens = parsed.meta?.billed_units?.input_tokens ?? 0;
  return { object: "list", model, data, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

/** OpenAI's base64 encoding: the vector's float32 values, little-endian. */
function float32Base64(vector: number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i] as number, i * 4);
  return bytes.toString("base64");
}
