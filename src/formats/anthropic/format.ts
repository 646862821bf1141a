import type {
  AssistantMessage,
  CanonicalError,
  ChatChunk,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ContentPart,
  FinishReason,
  FunctionTool,
  TextPart,
  ThinkingBlock,
  ToolCall,
  ToolChoice,
  Usage,
} from "../canonical.js";
import { type InboundFormat, InvalidRequest, type StreamEncoder } from "../format.js";
import { sseEvent } from "../sse.js";
import {
  type ContentBlock,
  type ErrorBody,
  errorTypeForStatus,
  type MessagesResponse,
  type StopReason,
  type Usage as WireUsage,
} from "./wire.js";

// Anthropic's Messages API as an inbound format (/anthropic/v1/messages), for requests that go to a
// provider with another wire format. An Anthropic client talking to an Anthropic provider never comes
// here: its bytes pass through (the byte leg, src/pipeline/byte-legs.ts).

const SSE_HEADERS = [
  ["content-type", "text/event-stream; charset=utf-8"],
  ["cache-control", "no-cache"],
] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// biome-ignore lint/suspicious/noExplicitAny: client blocks are checked field by field as they are read
type Loose = any;

function textPart(block: Loose): TextPart {
  if (typeof block !== "object" || block === null || typeof block.text !== "string")
    throw new InvalidRequest("A text block needs a 'text' string.");
  return block.cache_control === undefined
    ? { type: "text", text: block.text }
    : { type: "text", text: block.text, cache_control: block.cache_control };
}

function sourceUrl(block: Loose, kind: string): string {
  const source = block.source;
  if (!isObject(source)) throw new InvalidRequest(`An ${kind} block needs a 'source'.`);
  if (source.type === "base64") return `data:${String(source.media_type)};base64,${String(source.data)}`;
  if (source.type === "url" && typeof source.url === "string") return source.url;
  throw new InvalidRequest(
    `An ${kind} source of type '${String(source.type)}' can only go to Anthropic itself; use base64 or url.`,
  );
}

function userPart(block: Loose): ContentPart {
  switch (block.type) {
    case "text":
      return textPart(block);
    case "image": {
      const part: ContentPart = { type: "image_url", image_url: { url: sourceUrl(block, "image") } };
      if (block.cache_control !== undefined) part.cache_control = block.cache_control;
      return part;
    }
    case "document": {
      if (block.source?.type === "text") return { type: "text", text: String(block.source.data) };
      if (block.source?.type !== "base64") {
        throw new InvalidRequest(
          "Documents other than inline base64 or text can only go to Anthropic itself.",
        );
      }
      const part: ContentPart = { type: "file", file: { file_data: sourceUrl(block, "document") } };
      if (typeof block.title === "string") part.file.filename = block.title;
      if (block.cache_control !== undefined) part.cache_control = block.cache_control;
      return part;
    }
    default:
      throw new InvalidRequest(
        `Content blocks of type '${String(block.type)}' can only go to Anthropic itself.`,
      );
  }
}

function toolResultContent(block: Loose): string | TextPart[] {
  const content = block.content;
  if (content === undefined) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content))
    throw new InvalidRequest("'tool_result.content' must be a string or an array.");
  const parts: TextPart[] = [];
  for (const item of content) {
    if (item?.type !== "text") {
      throw new InvalidRequest("Only text can go back in a tool_result to a non-Anthropic provider.");
    }
    parts.push(textPart(item));
  }
  return parts;
}

function userMessages(content: unknown, out: ChatMessage[]): void {
  if (typeof content === "string") {
    out.push({ role: "user", content });
    return;
  }
  if (!Array.isArray(content)) throw new InvalidRequest("'content' must be a string or an array of blocks.");
  let parts: ContentPart[] = [];
  for (const block of content as Loose[]) {
    if (!isObject(block)) throw new InvalidRequest("Content blocks must be objects.");
    if (block.type === "tool_result") {
      // Tool results are messages of their own in OpenAI's shape; text around them follows in a user turn.
      if (parts.length > 0) {
        out.push({ role: "user", content: parts });
        parts = [];
      }
      let result = toolResultContent(block);
      if (block.is_error === true && typeof result === "string") result = `Error: ${result}`;
      out.push({ role: "tool", tool_call_id: String(block.tool_use_id), content: result });
    } else parts.push(userPart(block));
  }
  if (parts.length > 0) out.push({ role: "user", content: parts });
}

function assistantMessage(content: unknown): AssistantMessage {
  if (typeof content === "string") return { role: "assistant", content };
  if (!Array.isArray(content)) throw new InvalidRequest("'content' must be a string or an array of blocks.");
  const message: AssistantMessage = { role: "assistant", content: null };
  const parts: TextPart[] = [];
  const calls: ToolCall[] = [];
  const thinking: ThinkingBlock[] = [];
  for (const block of content as Loose[]) {
    switch (block?.type) {
      case "text":
        parts.push(textPart(block));
        break;
      case "tool_use":
        calls.push({
          id: String(block.id),
          type: "function",
          function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) },
        });
        break;
      case "thinking":
        thinking.push({
          type: "thinking",
          thinking: String(block.thinking),
          signature: String(block.signature ?? ""),
        });
        break;
      case "redacted_thinking":
        thinking.push({ type: "redacted_thinking", data: String(block.data) });
        break;
      default:
        throw new InvalidRequest(
          `Assistant blocks of type '${String(block?.type)}' can only go to Anthropic itself.`,
        );
    }
  }
  if (calls.length > 0) message.tool_calls = calls;
  if (thinking.length > 0) message.thinking_blocks = thinking;
  if (parts.length > 0) {
    const plain = parts.every((part) => part.cache_control === undefined);
    message.content = plain ? parts.map((part) => part.text).join("") : parts;
  }
  return message;
}

function tools(list: unknown): FunctionTool[] {
  if (!Array.isArray(list)) throw new InvalidRequest("'tools' must be an array.", "tools");
  return list.map((tool: Loose, i) => {
    if (!isObject(tool) || typeof tool.name !== "string") {
      throw new InvalidRequest(`'tools[${i}]' must be an object with a 'name'.`, "tools");
    }
    if (tool.type !== undefined && tool.type !== "custom") {
      throw new InvalidRequest(
        `Server tool '${String(tool.type)}' can only be used with Anthropic itself.`,
        `tools[${i}]`,
      );
    }
    const out: FunctionTool = {
      type: "function",
      function: { name: tool.name, parameters: (tool.input_schema as Record<string, unknown>) ?? {} },
    };
    if (typeof tool.description === "string") out.function.description = tool.description;
    if (tool.cache_control !== undefined)
      out.cache_control = tool.cache_control as FunctionTool["cache_control"];
    return out;
  });
}

function toolChoice(choice: Loose, request: ChatRequest): void {
  if (!isObject(choice)) throw new InvalidRequest("'tool_choice' must be an object.", "tool_choice");
  let canonical: ToolChoice;
  if (choice.type === "auto") canonical = "auto";
  else if (choice.type === "any") canonical = "required";
  else if (choice.type === "none") canonical = "none";
  else if (choice.type === "tool" && typeof choice.name === "string") {
    canonical = { type: "function", function: { name: choice.name } };
  } else throw new InvalidRequest(`Unknown tool_choice type '${String(choice.type)}'.`, "tool_choice");
  request.tool_choice = canonical;
  if (choice.disable_parallel_tool_use === true) request.parallel_tool_calls = false;
}

export function anthropicToCanonical(body: unknown): ChatRequest {
  if (!isObject(body)) throw new InvalidRequest("The request body must be a JSON object.");
  if (typeof body.model !== "string" || body.model === "")
    throw new InvalidRequest("model: Field required", "model");
  if (typeof body.max_tokens !== "number")
    throw new InvalidRequest("max_tokens: Field required", "max_tokens");
  if (!Array.isArray(body.messages)) throw new InvalidRequest("messages: Field required", "messages");

  const messages: ChatMessage[] = [];
  const system = body.system;
  if (typeof system === "string") {
    if (system !== "") messages.push({ role: "system", content: system });
  } else if (Array.isArray(system)) {
    messages.push({ role: "system", content: system.map(textPart) });
  } else if (system !== undefined)
    throw new InvalidRequest("'system' must be a string or text blocks.", "system");

  for (let i = 0; i < body.messages.length; i++) {
    const message: Loose = body.messages[i];
    if (!isObject(message)) throw new InvalidRequest(`messages.${i}: must be an object`, `messages.${i}`);
    if (message.role === "user") userMessages(message.content, messages);
    else if (message.role === "assistant") messages.push(assistantMessage(message.content));
    else throw new InvalidRequest(`messages.${i}.role: must be 'user' or 'assistant'`, `messages.${i}.role`);
  }

  const request: ChatRequest = { model: body.model, messages, max_tokens: body.max_tokens };
  if (body.stream === true) {
    request.stream = true;
    request.stream_options = { include_usage: true };
  }
  if (typeof body.temperature === "number") request.temperature = body.temperature;
  if (typeof body.top_p === "number") request.top_p = body.top_p;
  if (typeof body.top_k === "number") request.top_k = body.top_k;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) {
    request.stop = body.stop_sequences as string[];
  }
  if (body.tools !== undefined) request.tools = tools(body.tools);
  if (body.tool_choice !== undefined) toolChoice(body.tool_choice, request);
  if (isObject(body.thinking)) request.thinking = body.thinking as ChatRequest["thinking"];
  const metadata = body.metadata;
  if (isObject(metadata) && typeof metadata.user_id === "string") request.user = metadata.user_id;
  const format = (body.output_config as Loose)?.format;
  if (isObject(format) && format.type === "json_schema") {
    request.response_format = {
      type: "json_schema",
      json_schema: { name: "output", schema: format.schema as Record<string, unknown>, strict: true },
    };
  }
  return request;
}

// Canonical → Anthropic, for responses.

export function stopReason(reason: FinishReason | null): StopReason {
  switch (reason) {
    case "length":
      return "max_tokens";
    case "tool_calls":
      return "tool_use";
    case "content_filter":
      return "refusal";
    default:
      return "end_turn";
  }
}

export function wireUsage(usage: Usage | undefined | null): WireUsage {
  if (usage === undefined || usage === null) return { input_tokens: 0, output_tokens: 0 };
  const cacheRead = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  return {
    input_tokens: Math.max(0, usage.prompt_tokens - cacheRead - cacheWrite),
    output_tokens: usage.completion_tokens,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
  };
}

function toolInput(call: ToolCall): unknown {
  const args = call.function.arguments;
  return args === "" ? {} : JSON.parse(args);
}

function messageId(id: string): string {
  return id.startsWith("msg_") ? id : `msg_${id}`;
}

export function anthropicFromCanonical(response: ChatResponse, requestedModel: string): string {
  const choice = response.choices[0];
  const message = choice?.message;
  const content: ContentBlock[] = [];
  if (message !== undefined) {
    if (message.thinking_blocks !== undefined && message.thinking_blocks.length > 0) {
      for (const block of message.thinking_blocks) {
        content.push(
          block.type === "thinking"
            ? { type: "thinking", thinking: block.thinking, signature: block.signature ?? "" }
            : block,
        );
      }
    } else if (message.reasoning_content) {
      content.push({ type: "thinking", thinking: message.reasoning_content, signature: "" });
    }
    const text =
      typeof message.content === "string"
        ? message.content
        : message.content === null
          ? ""
          : message.content.map((part) => part.text).join("");
    if (text !== "") content.push({ type: "text", text });
    else if (message.refusal) content.push({ type: "text", text: message.refusal });
    if (message.tool_calls !== undefined) {
      for (const call of message.tool_calls) {
        content.push({ type: "tool_use", id: call.id, name: call.function.name, input: toolInput(call) });
      }
    }
  }
  const out: MessagesResponse = {
    id: messageId(response.id),
    type: "message",
    role: "assistant",
    model: requestedModel,
    content,
    stop_reason: stopReason(choice?.finish_reason ?? null),
    stop_sequence: null,
    usage: wireUsage(response.usage),
  };
  return JSON.stringify(out);
}

export function anthropicErrorBody(error: CanonicalError): string {
  const body: ErrorBody = {
    type: "error",
    error: { type: anthropicErrorType(error), message: error.message },
  };
  return JSON.stringify(body);
}

/** The status decides; an Anthropic type the provider gave refines a status with no type of its own. */
function anthropicErrorType(error: CanonicalError): string {
  const derived = errorTypeForStatus(error.status);
  if ((derived === "invalid_request_error" || derived === "api_error") && ANTHROPIC_TYPES.has(error.type)) {
    return error.type;
  }
  return derived;
}

const ANTHROPIC_TYPES = new Set([
  "invalid_request_error",
  "authentication_error",
  "billing_error",
  "permission_error",
  "not_found_error",
  "request_too_large",
  "rate_limit_error",
  "api_error",
  "timeout_error",
  "overloaded_error",
]);

enum Block {
  None,
  Text,
  Thinking,
  Tool,
}

/**
 * Canonical chunks → Anthropic's event sequence: message_start, then per block content_block_start, its
 * deltas and content_block_stop, then message_delta (stop reason and usage) and message_stop. The
 * message_delta waits for the end of the stream because OpenAI-style providers send usage after the finish.
 * Blocks open and close in order; tool-call arguments are expected in call order, as providers send them.
 */
export function anthropicStreamEncoder(requestedModel: string): StreamEncoder {
  const model = JSON.stringify(requestedModel);
  let started = false;
  let open = Block.None;
  let index = -1;
  /** canonical tool_calls index → the block index it opened. */
  const toolBlocks: number[] = [];
  let finish: FinishReason | null = null;
  let usage: Usage | null | undefined;

  const start = (id: string): string => {
    started = true;
    return (
      sseEvent(
        `{"type":"message_start","message":{"id":${JSON.stringify(messageId(id))},"type":"message","role":"assistant","model":${model},"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}`,
        "message_start",
      ) + sseEvent('{"type":"ping"}', "ping")
    );
  };
  const close = (): string => {
    if (open === Block.None) return "";
    open = Block.None;
    return sseEvent(`{"type":"content_block_stop","index":${index}}`, "content_block_stop");
  };
  const openBlock = (kind: Block, block: string): string => {
    const text = close();
    open = kind;
    index++;
    return (
      text +
      sseEvent(
        `{"type":"content_block_start","index":${index},"content_block":${block}}`,
        "content_block_start",
      )
    );
  };
  const delta = (at: number, payload: string): string =>
    sseEvent(`{"type":"content_block_delta","index":${at},"delta":${payload}}`, "content_block_delta");

  return {
    headers: SSE_HEADERS,

    encode(chunk: ChatChunk): string {
      let text = started ? "" : start(chunk.id);
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (choice === undefined) return text;
      const d = choice.delta;
      if (d.reasoning_content) {
        if (open !== Block.Thinking)
          text += openBlock(Block.Thinking, '{"type":"thinking","thinking":"","signature":""}');
        text += delta(index, `{"type":"thinking_delta","thinking":${JSON.stringify(d.reasoning_content)}}`);
      }
      if (d.thinking_blocks !== undefined) {
        for (const block of d.thinking_blocks) {
          if (block.type === "redacted_thinking") {
            text += openBlock(Block.Thinking, JSON.stringify(block)) + close();
            continue;
          }
          if (block.thinking !== "") {
            if (open !== Block.Thinking)
              text += openBlock(Block.Thinking, '{"type":"thinking","thinking":"","signature":""}');
            text += delta(index, `{"type":"thinking_delta","thinking":${JSON.stringify(block.thinking)}}`);
          }
          if (block.signature !== undefined && open === Block.Thinking) {
            text += delta(index, `{"type":"signature_delta","signature":${JSON.stringify(block.signature)}}`);
            text += close();
          }
        }
      }
      if (typeof d.content === "string" && d.content !== "") {
        if (open !== Block.Text) text += openBlock(Block.Text, '{"type":"text","text":""}');
        text += delta(index, `{"type":"text_delta","text":${JSON.stringify(d.content)}}`);
      }
      if (d.tool_calls !== undefined) {
        for (const call of d.tool_calls) {
          let at = toolBlocks[call.index];
          if (at === undefined || call.id !== undefined) {
            text += openBlock(
              Block.Tool,
              `{"type":"tool_use","id":${JSON.stringify(call.id ?? `toolu_${call.index}`)},"name":${JSON.stringify(call.function?.name ?? "")},"input":{}}`,
            );
            at = index;
            toolBlocks[call.index] = at;
          }
          const args = call.function?.arguments;
          if (args) text += delta(at, `{"type":"input_json_delta","partial_json":${JSON.stringify(args)}}`);
        }
      }
      if (choice.finish_reason !== null) {
        finish = choice.finish_reason;
        text += close();
      }
      return text;
    },

    end(): string {
      let text = started ? "" : start("gateway");
      text += close();
      const u = wireUsage(usage);
      text += sseEvent(
        `{"type":"message_delta","delta":{"stop_reason":"${stopReason(finish)}","stop_sequence":null},"usage":${JSON.stringify(u)}}`,
        "message_delta",
      );
      return text + sseEvent('{"type":"message_stop"}', "message_stop");
    },

    error: (error: CanonicalError) => sseEvent(anthropicErrorBody(error), "error"),
  };
}

export const anthropicFormat: InboundFormat = {
  name: "anthropic",
  toCanonical: anthropicToCanonical,
  fromCanonical: anthropicFromCanonical,
  streamEncoder: anthropicStreamEncoder,
  errorBody: anthropicErrorBody,
};
