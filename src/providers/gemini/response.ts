import { randomBytes } from "node:crypto";
import type {
  AssistantMessage,
  CanonicalError,
  ChatChunk,
  ChatChunkDelta,
  ChatResponse,
  FinishReason,
  ThinkingBlock,
  Usage,
} from "../../formats/canonical.js";
import {
  type GeminiCandidate,
  type GeminiResponse,
  type GeminiUsage,
  toolCallId,
} from "../../formats/gemini/wire.js";
import { SseParser } from "../../formats/sse.js";
import type { StreamDecoder } from "../adapter.js";
import { errorJson, typeForStatus } from "../provider-error.js";

// Gemini generateContent responses and stream events → canonical responses and chunks.
//
// finishReason → finish_reason:
//   STOP                                   → "stop" ("tool_calls" when the candidate called functions)
//   MAX_TOKENS                             → "length"
//   SAFETY, RECITATION, LANGUAGE, BLOCKLIST, PROHIBITED_CONTENT, SPII, IMAGE_SAFETY,
//   IMAGE_PROHIBITED_CONTENT, IMAGE_RECITATION → "content_filter"
//   MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, TOO_MANY_TOOL_CALLS, OTHER, FINISH_REASON_UNSPECIFIED,
//   and any reason added later             → "stop"
// A prompt blocked before any candidate (promptFeedback.blockReason) is one empty choice with
// "content_filter".
// usageMetadata → usage: prompt = promptTokenCount + toolUsePromptTokenCount, completion =
// candidatesTokenCount + thoughtsTokenCount (OpenAI counts reasoning inside completion tokens),
// cached = cachedContentTokenCount, reasoning = thoughtsTokenCount.

const FILTERED = new Set([
  "SAFETY",
  "RECITATION",
  "LANGUAGE",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
]);

export function finishReasonOf(reason: string, calledTools: boolean): FinishReason {
  if (reason === "MAX_TOKENS") return "length";
  if (FILTERED.has(reason)) return "content_filter";
  return calledTools ? "tool_calls" : "stop";
}

export function usageOf(usage: GeminiUsage): Usage {
  const prompt = (usage.promptTokenCount ?? 0) + (usage.toolUsePromptTokenCount ?? 0);
  const completion = (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0);
  const out: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage.totalTokenCount ?? prompt + completion,
  };
  if (usage.cachedContentTokenCount !== undefined) {
    out.prompt_tokens_details = { cached_tokens: usage.cachedContentTokenCount };
  }
  if (usage.thoughtsTokenCount !== undefined) {
    out.completion_tokens_details = { reasoning_tokens: usage.thoughtsTokenCount };
  }
  return out;
}

export function newCallId(): string {
  return `call_${randomBytes(12).toString("base64url")}`;
}

/** `list` with `item` added, creating the list on first use. */
function append<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

function createdOf(response: GeminiResponse): number {
  if (response.createTime !== undefined) {
    const at = Date.parse(response.createTime);
    if (!Number.isNaN(at)) return Math.floor(at / 1000);
  }
  return Math.floor(Date.now() / 1000);
}

function messageOf(candidate: GeminiCandidate): { message: AssistantMessage; calledTools: boolean } {
  let text = "";
  let hasText = false;
  let reasoning = "";
  const blocks: ThinkingBlock[] = [];
  const message: AssistantMessage = { role: "assistant", content: null };
  for (const part of candidate.content?.parts ?? []) {
    if (part.thought === true) {
      reasoning += part.text ?? "";
      const block: ThinkingBlock = { type: "thinking", thinking: part.text ?? "" };
      if (part.thoughtSignature !== undefined) block.signature = part.thoughtSignature;
      blocks.push(block);
    } else if (part.functionCall !== undefined) {
      const call = part.functionCall;
      message.tool_calls = append(message.tool_calls, {
        id: toolCallId(call.id ?? newCallId(), part.thoughtSignature),
        type: "function",
        function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
      });
    } else if (part.text !== undefined) {
      text += part.text;
      hasText = true;
      if (part.thoughtSignature !== undefined) {
        blocks.push({ type: "thinking", thinking: "", signature: part.thoughtSignature });
      }
    }
  }
  if (hasText) message.content = text;
  if (reasoning !== "") message.reasoning_content = reasoning;
  if (blocks.length > 0) message.thinking_blocks = blocks;
  return { message, calledTools: message.tool_calls !== undefined };
}

export function chatResponseOf(response: GeminiResponse, model: string): ChatResponse {
  const choices: ChatResponse["choices"] = [];
  const candidates = response.candidates ?? [];
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i] as GeminiCandidate;
    const { message, calledTools } = messageOf(candidate);
    choices.push({
      index: candidate.index ?? i,
      message,
      finish_reason: finishReasonOf(candidate.finishReason ?? "STOP", calledTools),
    });
  }
  if (choices.length === 0 && response.promptFeedback?.blockReason !== undefined) {
    choices.push({
      index: 0,
      message: { role: "assistant", content: null },
      finish_reason: "content_filter",
    });
  }
  const out: ChatResponse = {
    id: response.responseId ?? `chatcmpl-${randomBytes(12).toString("base64url")}`,
    object: "chat.completion",
    created: createdOf(response),
    model: response.modelVersion ?? model,
    choices,
  };
  if (response.usageMetadata !== undefined) out.usage = usageOf(response.usageMetadata);
  return out;
}

/**
 * Decodes `streamGenerateContent?alt=sse`: each event is a whole GenerateContentResponse carrying the next
 * piece of each candidate. Function calls arrive whole; usage comes on every event and is reported once,
 * in a last chunk without choices, as OpenAI's `include_usage` does.
 */
export function geminiStreamDecoder(model: string): StreamDecoder {
  const parser = new SseParser();
  let id = "";
  let created = 0;
  let usage: Usage | undefined;
  const started = new Set<number>();
  const toolIndex = new Map<number, number>();

  const chunksOf = (events: ReturnType<SseParser["push"]>): ChatChunk[] => {
    const chunks: ChatChunk[] = [];
    for (const event of events) {
      const data = event.data.trim();
      if (data === "" || data === "[DONE]") continue;
      const response = JSON.parse(data) as GeminiResponse;
      if ("error" in response) throw new Error(`stream error: ${data.slice(0, 500)}`);
      if (id === "") {
        id = response.responseId ?? `chatcmpl-${randomBytes(12).toString("base64url")}`;
        created = createdOf(response);
      }
      if (response.usageMetadata !== undefined) usage = usageOf(response.usageMetadata);
      const choices: ChatChunk["choices"] = [];
      const candidates = response.candidates ?? [];
      for (let i = 0; i < candidates.length; i++) {
        const candidate = candidates[i] as GeminiCandidate;
        const index = candidate.index ?? i;
        const delta: ChatChunkDelta = {};
        if (!started.has(index)) {
          started.add(index);
          delta.role = "assistant";
        }
        let text: string | undefined;
        for (const part of candidate.content?.parts ?? []) {
          if (part.thought === true) {
            delta.reasoning_content = (delta.reasoning_content ?? "") + (part.text ?? "");
            if (part.thoughtSignature !== undefined) {
              delta.thinking_blocks = append(delta.thinking_blocks, {
                type: "thinking",
                thinking: part.text ?? "",
                signature: part.thoughtSignature,
              });
            }
          } else if (part.functionCall !== undefined) {
            const call = part.functionCall;
            const n = toolIndex.get(index) ?? 0;
            toolIndex.set(index, n + 1);
            delta.tool_calls = append(delta.tool_calls, {
              index: n,
              id: toolCallId(call.id ?? newCallId(), part.thoughtSignature),
              type: "function",
              function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
            });
          } else if (part.text !== undefined) {
            text = (text ?? "") + part.text;
            if (part.thoughtSignature !== undefined) {
              delta.thinking_blocks = append(delta.thinking_blocks, {
                type: "thinking",
                thinking: "",
                signature: part.thoughtSignature,
              });
            }
          }
        }
        if (text !== undefined) delta.content = text;
        const finish =
          candidate.finishReason === undefined
            ? null
            : finishReasonOf(candidate.finishReason, toolIndex.has(index));
        choices.push({ index, delta, finish_reason: finish });
      }
      if (candidates.length === 0 && response.promptFeedback?.blockReason !== undefined) {
        choices.push({ index: 0, delta: { role: "assistant" }, finish_reason: "content_filter" });
      }
      if (choices.length > 0) {
        chunks.push({
          id,
          object: "chat.completion.chunk",
          created,
          model: response.modelVersion ?? model,
          choices,
        });
      }
    }
    return chunks;
  };

  return {
    push: (bytes) => chunksOf(parser.push(bytes)),
    end: () => {
      const chunks = chunksOf(parser.end());
      if (usage !== undefined) {
        chunks.push({ id, object: "chat.completion.chunk", created, model, choices: [], usage });
        usage = undefined;
      }
      return chunks;
    },
  };
}

const TYPE_BY_STATUS: Record<string, string> = {
  INVALID_ARGUMENT: "invalid_request_error",
  FAILED_PRECONDITION: "invalid_request_error",
  OUT_OF_RANGE: "invalid_request_error",
  UNAUTHENTICATED: "authentication_error",
  PERMISSION_DENIED: "permission_error",
  NOT_FOUND: "not_found_error",
  RESOURCE_EXHAUSTED: "rate_limit_error",
  UNAVAILABLE: "api_error",
  INTERNAL: "api_error",
  DEADLINE_EXCEEDED: "timeout_error",
};

/**
 * Google's error envelope `{"error": {"code", "message", "status"}}` (also inside a JSON array, as the
 * non-SSE stream sends it) → canonical; `code` becomes Google's status name, e.g. "RESOURCE_EXHAUSTED".
 */
export function geminiError(status: number, body: Buffer, provider: string): CanonicalError {
  const text = body.toString("utf8");
  const parsed = errorJson(text);
  const error = (parsed as { error?: { message?: unknown; status?: unknown } } | undefined)?.error;
  if (typeof error === "object" && error !== null && typeof error.message === "string") {
    const googleStatus = typeof error.status === "string" ? error.status : null;
    return {
      status,
      message: error.message,
      type: (googleStatus !== null ? TYPE_BY_STATUS[googleStatus] : undefined) ?? typeForStatus(status),
      code: googleStatus,
      param: null,
    };
  }
  return {
    status,
    message: `${provider}: ${text.trim().slice(0, 500) || `HTTP ${status}`}`,
    type: typeForStatus(status),
    code: null,
    param: null,
  };
}
