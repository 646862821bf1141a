import { randomBytes } from "node:crypto";
import { gatewayError } from "../../errors.js";
import type {
  AssistantMessage,
  CanonicalError,
  ChatChunk,
  ChatChunkDelta,
  ChatResponse,
  FinishReason,
  ThinkingBlock,
  ToolCall,
  Usage,
} from "../../formats/canonical.js";
import { ProviderStreamError, type StreamDecoder } from "../adapter.js";
import { errorJson, typeForStatus } from "../provider-error.js";
import { type EventMessage, EventStreamDecoder } from "./eventstream.js";
import { JSON_TOOL } from "./request.js";

// Bedrock Converse replies (full and streamed) and errors → canonical.

type Obj = Record<string, unknown>;

const isObj = (value: unknown): value is Obj =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

export function finishReason(stopReason: unknown): FinishReason {
  switch (stopReason) {
    case "tool_use":
      return "tool_calls";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "guardrail_intervened":
    case "content_filtered":
      return "content_filter";
    default:
      // end_turn, stop_sequence
      return "stop";
  }
}

/** Converse counts cache reads and writes apart from inputTokens; OpenAI's prompt_tokens includes them. */
export function usageOf(raw: unknown): Usage {
  const usage = isObj(raw) ? raw : {};
  const cacheRead = num(usage.cacheReadInputTokens);
  const cacheWrite = num(usage.cacheWriteInputTokens);
  const prompt = num(usage.inputTokens) + cacheRead + cacheWrite;
  const completion = num(usage.outputTokens);
  const out: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
  if (cacheWrite > 0) out.cache_creation_input_tokens = cacheWrite;
  return out;
}

export function responseId(): string {
  return `chatcmpl-${randomBytes(12).toString("hex")}`;
}

/** The JSON tool's input is the answer a response_format asked for. */
function jsonAnswer(toolCalls: ToolCall[] | undefined): string | undefined {
  if (toolCalls === undefined || toolCalls.length !== 1) return undefined;
  const call = toolCalls[0] as ToolCall;
  return call.function.name === JSON_TOOL ? call.function.arguments : undefined;
}

export function converseResponse(body: Buffer, model: string): ChatResponse {
  const parsed = JSON.parse(body.toString("utf8")) as Obj;
  const output = isObj(parsed.output) ? parsed.output : {};
  const message = isObj(output.message) ? output.message : {};
  const blocks = Array.isArray(message.content) ? message.content : [];
  let text: string | null = null;
  let reasoning: string | undefined;
  const thinking: ThinkingBlock[] = [];
  let toolCalls: ToolCall[] | undefined = [];
  for (const block of blocks) {
    if (!isObj(block)) continue;
    if (typeof block.text === "string") {
      text = (text ?? "") + block.text;
    } else if (isObj(block.toolUse)) {
      const use = block.toolUse;
      toolCalls.push({
        id: String(use.toolUseId ?? ""),
        type: "function",
        function: { name: String(use.name ?? ""), arguments: JSON.stringify(use.input ?? {}) },
      });
    } else if (isObj(block.reasoningContent)) {
      const content = block.reasoningContent;
      if (isObj(content.reasoningText)) {
        const part = String(content.reasoningText.text ?? "");
        reasoning = (reasoning ?? "") + part;
        const entry: ThinkingBlock = { type: "thinking", thinking: part };
        if (typeof content.reasoningText.signature === "string")
          entry.signature = content.reasoningText.signature;
        thinking.push(entry);
      } else if (typeof content.redactedContent === "string") {
        thinking.push({ type: "redacted_thinking", data: content.redactedContent });
      }
    }
  }
  let finish = finishReason(parsed.stopReason);
  if (toolCalls.length === 0) toolCalls = undefined;
  const json = jsonAnswer(toolCalls);
  if (json !== undefined) {
    text = json;
    toolCalls = undefined;
    finish = "stop";
  }
  const assistant: AssistantMessage = { role: "assistant", content: text };
  if (toolCalls !== undefined) assistant.tool_calls = toolCalls;
  if (reasoning !== undefined) assistant.reasoning_content = reasoning;
  if (thinking.length > 0) assistant.thinking_blocks = thinking;
  return {
    id: responseId(),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: assistant, finish_reason: finish }],
    usage: usageOf(parsed.usage),
  };
}

/** Status codes of the Converse exceptions, by the names they carry in headers and stream events. */
const EXCEPTION_STATUS: Record<string, number> = {
  validationexception: 400,
  accessdeniedexception: 403,
  unrecognizedclientexception: 403,
  invalidsignatureexception: 403,
  resourcenotfoundexception: 404,
  modeltimeoutexception: 408,
  modelerrorexception: 424,
  modelstreamerrorexception: 424,
  modelnotreadyexception: 429,
  throttlingexception: 429,
  servicequotaexceededexception: 429,
  internalserverexception: 500,
  serviceunavailableexception: 503,
};

/** "ValidationException:http://internal.amazon.com/coral/..." or "com.amazon...#ValidationException" → name. */
export function errorTypeName(raw: string): string {
  const colon = raw.indexOf(":");
  const head = colon >= 0 ? raw.slice(0, colon) : raw;
  const hash = head.lastIndexOf("#");
  return hash >= 0 ? head.slice(hash + 1) : head;
}

export function bedrockError(status: number, body: Buffer, errorType?: string): CanonicalError {
  const text = body.toString("utf8");
  const parsed = errorJson(text);
  const obj = isObj(parsed) ? parsed : {};
  const message =
    typeof obj.message === "string"
      ? obj.message
      : typeof obj.Message === "string"
        ? obj.Message
        : text.trim().slice(0, 500) || `HTTP ${status}`;
  const type =
    errorType !== undefined && errorType !== ""
      ? errorTypeName(errorType)
      : typeof obj.__type === "string"
        ? errorTypeName(obj.__type)
        : null;
  return { status, message: `bedrock: ${message}`, type: typeForStatus(status), code: type, param: null };
}

/** An exception event inside a ConverseStream answer. */
function streamException(message: EventMessage): CanonicalError {
  const headers = message.headers;
  if (headers[":message-type"] === "error") {
    const code = String(headers[":error-code"] ?? "InternalFailure");
    const status = EXCEPTION_STATUS[code.toLowerCase()] ?? 500;
    return {
      status,
      message: `bedrock: ${String(headers[":error-message"] ?? code)}`,
      type: typeForStatus(status),
      code,
      param: null,
    };
  }
  const name = String(headers[":exception-type"] ?? "internalServerException");
  const upper = name.charAt(0).toUpperCase() + name.slice(1);
  const status = EXCEPTION_STATUS[name.toLowerCase()] ?? 500;
  const error = bedrockError(status, message.payload, upper);
  return error;
}

/** ConverseStream's event stream → canonical chunks, event by event as the frames complete. */
export function converseStream(model: string): StreamDecoder {
  const frames = new EventStreamDecoder();
  const id = responseId();
  const created = Math.floor(Date.now() / 1000);
  /** contentBlockIndex → tool_calls index, for tool-use blocks. */
  const toolIndex = new Map<number, number>();
  let jsonBlock = -1;
  let tools = 0;
  let finish: FinishReason | null = null;

  const chunk = (delta: ChatChunkDelta, finishReason: FinishReason | null = null): ChatChunk => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });

  const onEvent = (message: EventMessage, out: ChatChunk[]): void => {
    const kind = message.headers[":message-type"];
    if (kind === "exception" || kind === "error") throw new ProviderStreamError(streamException(message));
    if (kind !== undefined && kind !== "event") return;
    const event = message.headers[":event-type"];
    const payload = message.payload.length > 0 ? (JSON.parse(message.payload.toString("utf8")) as Obj) : {};
    const index = num(payload.contentBlockIndex);
    switch (event) {
      case "messageStart":
        out.push(chunk({ role: "assistant", content: "" }));
        break;
      case "contentBlockStart": {
        const start = isObj(payload.start) ? payload.start : {};
        if (isObj(start.toolUse)) {
          const name = String(start.toolUse.name ?? "");
          if (name === JSON_TOOL) {
            jsonBlock = index;
            break;
          }
          const at = tools++;
          toolIndex.set(index, at);
          out.push(
            chunk({
              tool_calls: [
                {
                  index: at,
                  id: String(start.toolUse.toolUseId ?? ""),
                  type: "function",
                  function: { name, arguments: "" },
                },
              ],
            }),
          );
        }
        break;
      }
      case "contentBlockDelta": {
        const delta = isObj(payload.delta) ? payload.delta : {};
        if (typeof delta.text === "string") {
          out.push(chunk({ content: delta.text }));
        } else if (isObj(delta.toolUse)) {
          const input = String(delta.toolUse.input ?? "");
          if (index === jsonBlock) out.push(chunk({ content: input }));
          else {
            const at = toolIndex.get(index);
            if (at !== undefined)
              out.push(chunk({ tool_calls: [{ index: at, function: { arguments: input } }] }));
          }
        } else if (isObj(delta.reasoningContent)) {
          const reasoning = delta.reasoningContent;
          if (typeof reasoning.text === "string") out.push(chunk({ reasoning_content: reasoning.text }));
          else if (typeof reasoning.signature === "string")
            out.push(
              chunk({
                thinking_blocks: [{ type: "thinking", thinking: "", signature: reasoning.signature }],
              }),
            );
          else if (typeof reasoning.redactedContent === "string")
            out.push(
              chunk({ thinking_blocks: [{ type: "redacted_thinking", data: reasoning.redactedContent }] }),
            );
        }
        break;
      }
      case "messageStop":
        finish = finishReason(payload.stopReason);
        if (jsonBlock >= 0 && finish === "tool_calls" && tools === 0) finish = "stop";
        out.push(chunk({}, finish));
        break;
      case "metadata": {
        const usage: ChatChunk = {
          id,
          object: "chat.completion.chunk",
          created,
          model,
          choices: [],
          usage: usageOf(payload.usage),
        };
        out.push(usage);
        break;
      }
      default:
        // contentBlockStop and events added later carry nothing the canonical shape needs.
        break;
    }
  };

  return {
    push(bytes) {
      const out: ChatChunk[] = [];
      for (const message of frames.push(bytes)) onEvent(message, out);
      return out;
    },
    end() {
      if (frames.buffered > 0)
        throw new Error(`the event stream ended inside a message (${frames.buffered} bytes)`);
      if (finish === null) {
        throw new ProviderStreamError({
          ...gatewayError("upstream_malformed", "bedrock: the stream ended before messageStop"),
          param: null,
        });
      }
      return [];
    },
  };
}
