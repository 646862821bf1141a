import { randomBytes } from "node:crypto";
import type { AssistantMessage, ChatResponse, FinishReason, ThinkingBlock, Usage } from "../canonical.js";

// A canonical chat response as a Responses API `response` object: reasoning, message and function-call
// output items, Responses-style usage and status. The stream encoder (stream.ts) builds the same items.

export type ResponseStatus = "completed" | "incomplete" | "in_progress" | "failed";

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface OutputText {
  type: "output_text";
  text: string;
  annotations: never[];
  logprobs: never[];
}

export interface OutputRefusal {
  type: "refusal";
  refusal: string;
}

export interface MessageItem {
  type: "message";
  id: string;
  status: "in_progress" | "completed" | "incomplete";
  role: "assistant";
  content: (OutputText | OutputRefusal)[];
}

export interface FunctionCallItem {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: "in_progress" | "completed" | "incomplete";
}

/**
 * The provider's reasoning. Its text is in `content`; a thinking block's signature (Anthropic) rides in
 * `encrypted_content`, as does a redacted block's data (then without text), so that a client sending the
 * item back on the next turn gives the provider what it needs.
 */
export interface ReasoningItem {
  type: "reasoning";
  id: string;
  summary: never[];
  content: { type: "reasoning_text"; text: string }[];
  encrypted_content: string | null;
  status: "in_progress" | "completed" | "incomplete";
}

export type OutputItem = MessageItem | FunctionCallItem | ReasoningItem;

let counter = 0;
const processTag = randomBytes(6).toString("hex");

/** Unique ids without a random draw per item: a per-process tag plus a counter. */
export function newId(prefix: string): string {
  counter = (counter + 1) % 0x7fffffff;
  return `${prefix}_${processTag}${counter.toString(16).padStart(8, "0")}`;
}

export function responsesUsage(usage: Usage): ResponsesUsage {
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens,
  };
}

/** `incomplete` with its reason when the provider stopped early; `completed` otherwise. */
export function statusOf(finish: FinishReason | null | undefined): {
  status: "completed" | "incomplete";
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
} {
  if (finish === "length")
    return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  if (finish === "content_filter")
    return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  return { status: "completed", incomplete_details: null };
}

/**
 * The response object. The request's parameters are not at hand here, so the fields that echo them carry
 * their defaults; clients read `output`, `status` and `usage`.
 */
export function responseObject(
  id: string,
  createdAt: number,
  model: string,
  status: ResponseStatus,
  output: OutputItem[],
  usage: ResponsesUsage | null,
  incomplete: { reason: string } | null = null,
  error: { code: string; message: string } | null = null,
): Record<string, unknown> {
  return {
    id,
    object: "response",
    created_at: createdAt,
    status,
    error,
    incomplete_details: incomplete,
    instructions: null,
    max_output_tokens: null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: null,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: null,
    truncation: "disabled",
    usage,
    user: null,
    metadata: {},
  };
}

export function reasoningItem(block: ThinkingBlock | string, status: ReasoningItem["status"]): ReasoningItem {
  if (typeof block === "string") {
    return {
      type: "reasoning",
      id: newId("rs"),
      summary: [],
      content: [{ type: "reasoning_text", text: block }],
      encrypted_content: null,
      status,
    };
  }
  if (block.type === "redacted_thinking") {
    return {
      type: "reasoning",
      id: newId("rs"),
      summary: [],
      content: [],
      encrypted_content: block.data,
      status,
    };
  }
  return {
    type: "reasoning",
    id: newId("rs"),
    summary: [],
    content: [{ type: "reasoning_text", text: block.thinking }],
    encrypted_content: block.signature ?? null,
    status,
  };
}

export function outputItems(message: AssistantMessage, itemStatus: MessageItem["status"]): OutputItem[] {
  const items: OutputItem[] = [];
  if (message.thinking_blocks !== undefined && message.thinking_blocks.length > 0) {
    for (const block of message.thinking_blocks) items.push(reasoningItem(block, "completed"));
  } else if (typeof message.reasoning_content === "string" && message.reasoning_content !== "") {
    items.push(reasoningItem(message.reasoning_content, "completed"));
  }
  const content: (OutputText | OutputRefusal)[] = [];
  const text =
    typeof message.content === "string"
      ? message.content
      : message.content === null
        ? ""
        : message.content.map((part) => part.text).join("");
  if (text !== "") content.push({ type: "output_text", text, annotations: [], logprobs: [] });
  if (typeof message.refusal === "string" && message.refusal !== "") {
    content.push({ type: "refusal", refusal: message.refusal });
  }
  if (content.length > 0) {
    items.push({ type: "message", id: newId("msg"), status: itemStatus, role: "assistant", content });
  }
  if (message.tool_calls !== undefined) {
    for (const call of message.tool_calls) {
      items.push({
        type: "function_call",
        id: newId("fc"),
        call_id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
        status: "completed",
      });
    }
  }
  return items;
}

export function chatToResponses(response: ChatResponse, requestedModel: string): string {
  const choice = response.choices[0];
  const { status, incomplete_details } = statusOf(choice?.finish_reason);
  const output = choice === undefined ? [] : outputItems(choice.message, status);
  return JSON.stringify(
    responseObject(
      newId("resp"),
      response.created,
      requestedModel,
      status,
      output,
      response.usage === undefined ? null : responsesUsage(response.usage),
      incomplete_details,
    ),
  );
}
