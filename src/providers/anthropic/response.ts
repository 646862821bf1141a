import {
  type ErrorBody,
  errorTypeForStatus,
  type MessagesResponse,
  type StopReason,
  type Usage as WireUsage,
} from "../../formats/anthropic/wire.js";
import type {
  AssistantMessage,
  CanonicalError,
  ChatChunk,
  ChatChunkDelta,
  FinishReason,
  ThinkingBlock,
  ToolCall,
  Usage,
} from "../../formats/canonical.js";
import { SseParser } from "../../formats/sse.js";
import { ProviderStreamError, type StreamDecoder } from "../adapter.js";
import { JSON_TOOL } from "./request.js";

// Anthropic Messages responses, stream events and errors → canonical.

export function finishReason(reason: StopReason | null | undefined, jsonTool: boolean): FinishReason | null {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
    case "pause_turn":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      // The forced JSON tool answers in text, so the client sees an ordinary stop.
      return jsonTool ? "stop" : "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return null;
  }
}

/** Anthropic counts cached and cache-written input apart from `input_tokens`; OpenAI's prompt includes them. */
export function canonicalUsage(usage: WireUsage): Usage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const prompt = usage.input_tokens + cacheRead + cacheWrite;
  const out: Usage = {
    prompt_tokens: prompt,
    completion_tokens: usage.output_tokens,
    total_tokens: prompt + usage.output_tokens,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
  if (cacheWrite > 0) out.cache_creation_input_tokens = cacheWrite;
  const thinking = usage.output_tokens_details?.thinking_tokens;
  if (typeof thinking === "number") out.completion_tokens_details = { reasoning_tokens: thinking };
  return out;
}

export function chatResponse(body: Buffer) {
  const message = JSON.parse(body.toString("utf8")) as MessagesResponse;
  if (message.type !== "message" || !Array.isArray(message.content)) {
    throw new Error("the reply is not an Anthropic message");
  }
  let text: string | null = null;
  let reasoning: string | undefined;
  const thinking: ThinkingBlock[] = [];
  const calls: ToolCall[] = [];
  let jsonTool = false;
  for (const block of message.content) {
    switch (block.type) {
      case "text":
        text = text === null ? block.text : text + block.text;
        break;
      case "thinking":
        reasoning = reasoning === undefined ? block.thinking : reasoning + block.thinking;
        thinking.push({ type: "thinking", thinking: block.thinking, signature: block.signature });
        break;
      case "redacted_thinking":
        thinking.push({ type: "redacted_thinking", data: block.data });
        break;
      case "tool_use":
        if (block.name === JSON_TOOL) {
          jsonTool = true;
          text = (text ?? "") + JSON.stringify(block.input);
        } else {
          calls.push({
            id: block.id,
            type: "function",
            function: { name: block.name, arguments: JSON.stringify(block.input) },
          });
        }
        break;
      // Server tool blocks (web search and the like) have no canonical equivalent.
    }
  }
  const out: AssistantMessage = { role: "assistant", content: text };
  if (calls.length > 0) out.tool_calls = calls;
  if (reasoning !== undefined) out.reasoning_content = reasoning;
  if (thinking.length > 0) out.thinking_blocks = thinking;
  return {
    id: message.id,
    object: "chat.completion" as const,
    created: Math.floor(Date.now() / 1000),
    model: message.model,
    choices: [{ index: 0, message: out, finish_reason: finishReason(message.stop_reason, jsonTool) }],
    usage: canonicalUsage(message.usage),
  };
}

/** An Anthropic error body (or anything else with an error status) as a canonical error. */
export function anthropicError(status: number, body: Buffer, provider: string): CanonicalError {
  const text = body.toString("utf8");
  let parsed: Partial<ErrorBody> | undefined;
  try {
    parsed = JSON.parse(text) as Partial<ErrorBody>;
  } catch {
    parsed = undefined;
  }
  const error = parsed?.error;
  if (typeof error === "object" && error !== null && typeof error.message === "string") {
    return {
      status,
      message: error.message,
      type: typeof error.type === "string" ? error.type : errorTypeForStatus(status),
      code: null,
      param: null,
    };
  }
  return {
    status,
    message: `${provider}: ${text.trim().slice(0, 500) || `HTTP ${status}`}`,
    type: errorTypeForStatus(status),
    code: null,
    param: null,
  };
}

interface BlockState {
  kind: "text" | "thinking" | "tool" | "json" | "other";
  /** The canonical tool_calls index of a tool_use block. */
  toolIndex: number;
}

/** Decodes Anthropic's SSE stream (message_start … message_stop) into canonical chunks. */
export function chatStream(): StreamDecoder {
  const parser = new SseParser();
  let id = "";
  let model = "";
  const created = Math.floor(Date.now() / 1000);
  let inputUsage: WireUsage | undefined;
  const blocks: BlockState[] = [];
  let tools = 0;
  let jsonTool = false;
  let failed: ProviderStreamError | undefined;

  const chunk = (delta: ChatChunkDelta, finish: FinishReason | null = null): ChatChunk => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

  const decode = (events: ReturnType<SseParser["push"]>): ChatChunk[] => {
    const out: ChatChunk[] = [];
    for (const event of events) {
      // biome-ignore lint/suspicious/noExplicitAny: event payloads are read field by field below
      const data: any = JSON.parse(event.data);
      switch (data.type as string) {
        case "message_start": {
          const message = data.message as MessagesResponse;
          id = message.id;
          model = message.model;
          inputUsage = message.usage;
          out.push(chunk({ role: "assistant", content: "" }));
          break;
        }
        case "content_block_start": {
          const block = data.content_block;
          const state: BlockState = { kind: "other", toolIndex: -1 };
          blocks[data.index as number] = state;
          if (block.type === "text") {
            state.kind = "text";
            if (block.text) out.push(chunk({ content: block.text }));
          } else if (block.type === "thinking") {
            state.kind = "thinking";
            if (block.thinking) out.push(chunk({ reasoning_content: block.thinking }));
          } else if (block.type === "redacted_thinking") {
            out.push(chunk({ thinking_blocks: [{ type: "redacted_thinking", data: block.data }] }));
          } else if (block.type === "tool_use" && block.name === JSON_TOOL) {
            state.kind = "json";
            jsonTool = true;
          } else if (block.type === "tool_use") {
            state.kind = "tool";
            state.toolIndex = tools++;
            out.push(
              chunk({
                tool_calls: [
                  {
                    index: state.toolIndex,
                    id: block.id,
                    type: "function",
                    function: { name: block.name, arguments: "" },
                  },
                ],
              }),
            );
          }
          break;
        }
        case "content_block_delta": {
          const state = blocks[data.index as number];
          const delta = data.delta;
          if (delta.type === "text_delta") out.push(chunk({ content: delta.text }));
          else if (delta.type === "thinking_delta") out.push(chunk({ reasoning_content: delta.thinking }));
          else if (delta.type === "signature_delta") {
            out.push(
              chunk({ thinking_blocks: [{ type: "thinking", thinking: "", signature: delta.signature }] }),
            );
          } else if (delta.type === "input_json_delta" && state !== undefined && delta.partial_json !== "") {
            if (state.kind === "json") out.push(chunk({ content: delta.partial_json }));
            else if (state.kind === "tool") {
              out.push(
                chunk({
                  tool_calls: [{ index: state.toolIndex, function: { arguments: delta.partial_json } }],
                }),
              );
            }
          }
          break;
        }
        case "message_delta": {
          const usage = data.usage as Partial<WireUsage> | undefined;
          const last = chunk({}, finishReason(data.delta?.stop_reason, jsonTool));
          if (usage !== undefined) {
            // message_delta's counters are cumulative; input counts appear there only when they changed.
            const merged: WireUsage = {
              input_tokens: usage.input_tokens ?? inputUsage?.input_tokens ?? 0,
              output_tokens: usage.output_tokens ?? 0,
              cache_read_input_tokens: usage.cache_read_input_tokens ?? inputUsage?.cache_read_input_tokens,
              cache_creation_input_tokens:
                usage.cache_creation_input_tokens ?? inputUsage?.cache_creation_input_tokens,
              output_tokens_details: usage.output_tokens_details,
            };
            last.usage = canonicalUsage(merged);
          }
          out.push(last);
          break;
        }
        case "error": {
          // The chunks before it still go out; the error is raised on the next call (the stream ends here).
          const error = data.error ?? {};
          const type = typeof error.type === "string" ? error.type : "api_error";
          failed = new ProviderStreamError({
            status: statusForType(type),
            message: typeof error.message === "string" ? error.message : "stream error",
            type,
            code: null,
            param: null,
          });
          return out;
        }
        // content_block_stop, message_stop and ping carry nothing a canonical chunk needs.
      }
    }
    return out;
  };

  const check = (): void => {
    if (failed !== undefined) throw failed;
  };
  return {
    push: (bytes) => {
      check();
      return decode(parser.push(bytes));
    },
    end: () => {
      check();
      const out = decode(parser.end());
      check();
      return out;
    },
  };
}

function statusForType(type: string): number {
  switch (type) {
    case "invalid_request_error":
      return 400;
    case "authentication_error":
      return 401;
    case "permission_error":
      return 403;
    case "not_found_error":
      return 404;
    case "request_too_large":
      return 413;
    case "rate_limit_error":
      return 429;
    case "timeout_error":
      return 504;
    case "overloaded_error":
      return 529;
    default:
      return 500;
  }
}
