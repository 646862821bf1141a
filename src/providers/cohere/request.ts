import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  EmbeddingsRequest,
  FunctionTool,
  TextPart,
} from "../../formats/canonical.js";
import { UnsupportedRequest } from "../adapter.js";

// Canonical requests as Cohere's v2 API takes them (POST /v2/chat, POST /v2/embed). Cohere's chat shape is
// close to OpenAI's (roles, tool calls with JSON-text arguments, tool messages by tool_call_id); the
// sampling knobs have their own names (p, k, stop_sequences) and tool_choice only knows REQUIRED and NONE.

/**
 * Embeddings need an input_type on Cohere's v3+ models and OpenAI's request has no such field. Without one
 * (a client may send `input_type` as an extra body field), texts are embedded as documents to be searched,
 * which is what an OpenAI-style "embed this text" call is mostly used for.
 */
export const DEFAULT_INPUT_TYPE = "search_document";

/** OpenAI request fields Cohere has no equivalent for. */
const WITHOUT_EQUIVALENT = [
  "logit_bias",
  "logprobs",
  "top_logprobs",
  "prediction",
  "audio",
  "modalities",
  "service_tier",
  "store",
  "web_search_options",
  "functions",
  "function_call",
  "reasoning_effort",
] as const;

function unsupported(request: { drop_params?: boolean }, param: string, why: string): void {
  if (request.drop_params === true) return;
  throw new UnsupportedRequest(`Cohere does not support '${param}': ${why}`, param);
}

function textOf(content: string | TextPart[] | null): string {
  if (content === null) return "";
  if (typeof content === "string") return content;
  let text = "";
  for (const part of content) text += part.text;
  return text;
}

function userContent(request: ChatRequest, content: string | ContentPart[], index: number): unknown {
  if (typeof content === "string") return content;
  const parts: unknown[] = [];
  for (let i = 0; i < content.length; i++) {
    const part = content[i] as ContentPart;
    if (part.type === "text") parts.push({ type: "text", text: part.text });
    else if (part.type === "image_url") {
      const image: { url: string; detail?: string } = { url: part.image_url.url };
      if (part.image_url.detail !== undefined) image.detail = part.image_url.detail;
      parts.push({ type: "image_url", image_url: image });
    } else {
      unsupported(request, `messages[${index}].content[${i}]`, "documents (files) cannot be sent as content");
    }
  }
  return parts;
}

function cohereMessages(request: ChatRequest): unknown[] {
  const out: unknown[] = [];
  const messages = request.messages;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as ChatMessage;
    switch (message.role) {
      case "system":
      case "developer":
        out.push({ role: "system", content: textOf(message.content) });
        break;
      case "user":
        out.push({ role: "user", content: userContent(request, message.content, i) });
        break;
      case "assistant": {
        const text = textOf(message.content);
        const calls = message.tool_calls;
        if (calls !== undefined && calls.length > 0) {
          const toolCalls = new Array(calls.length);
          for (let c = 0; c < calls.length; c++) {
            const call = calls[c] as (typeof calls)[number];
            toolCalls[c] = {
              id: call.id,
              type: "function",
              function: { name: call.function.name, arguments: call.function.arguments },
            };
          }
          // Text that comes with tool calls is Cohere's tool plan.
          out.push(
            text === ""
              ? { role: "assistant", tool_calls: toolCalls }
              : { role: "assistant", tool_plan: text, tool_calls: toolCalls },
          );
        } else {
          out.push({ role: "assistant", content: text });
        }
        break;
      }
      case "tool":
        out.push({ role: "tool", tool_call_id: message.tool_call_id, content: textOf(message.content) });
        break;
    }
  }
  return out;
}

function cohereTool(tool: FunctionTool): unknown {
  const fn: { name: string; description?: string; parameters?: Record<string, unknown> } = {
    name: tool.function.name,
  };
  if (tool.function.description !== undefined) fn.description = tool.function.description;
  if (tool.function.parameters !== undefined) fn.parameters = tool.function.parameters;
  return { type: "function", function: fn };
}

export function cohereChatBody(request: ChatRequest, model: string): Record<string, unknown> {
  const raw = request as unknown as Record<string, unknown>;
  for (const field of WITHOUT_EQUIVALENT) {
    const value = raw[field];
    if (value !== undefined && value !== null && value !== false) {
      unsupported(request, field, "the v2 chat API has no such parameter");
    }
  }
  if (request.n !== undefined && request.n !== 1) {
    unsupported(request, "n", "it returns one choice per request");
  }
  if (request.parallel_tool_calls === false) {
    unsupported(request, "parallel_tool_calls", "parallel tool calls cannot be turned off");
  }

  const body: Record<string, unknown> = { model, messages: cohereMessages(request) };
  if (request.stream === true) body.stream = true;

  let tools = request.tools;
  const choice = request.tool_choice;
  if (choice !== undefined && typeof choice === "object") {
    // Cohere cannot name the tool to call; offering only that tool and requiring a call is the same thing.
    const named = choice.function.name;
    tools = tools?.filter((tool) => tool.function.name === named);
    if (tools === undefined || tools.length === 0) {
      throw new UnsupportedRequest(
        `tool_choice names '${named}', which is not among the tools`,
        "tool_choice",
      );
    }
    body.tool_choice = "REQUIRED";
  } else if (choice === "required") body.tool_choice = "REQUIRED";
  else if (choice === "none") body.tool_choice = "NONE";
  if (tools !== undefined && tools.length > 0) {
    const converted = new Array(tools.length);
    let strict = false;
    for (let t = 0; t < tools.length; t++) {
      const tool = tools[t] as FunctionTool;
      converted[t] = cohereTool(tool);
      if (tool.function.strict === true) strict = true;
    }
    body.tools = converted;
    if (strict) body.strict_tools = true;
  }

  const format = request.response_format;
  if (format !== undefined) {
    if (format.type === "json_schema") {
      body.response_format =
        format.json_schema.schema === undefined
          ? { type: "json_object" }
          : { type: "json_object", json_schema: format.json_schema.schema };
    } else body.response_format = { type: format.type };
  }

  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined) body.max_tokens = maxTokens;
  if (request.stop !== undefined)
    body.stop_sequences = typeof request.stop === "string" ? [request.stop] : request.stop;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.top_p !== undefined) body.p = request.top_p;
  if (request.top_k !== undefined) body.k = request.top_k;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.presence_penalty !== undefined) body.presence_penalty = request.presence_penalty;
  if (request.frequency_penalty !== undefined) body.frequency_penalty = request.frequency_penalty;
  if (request.thinking !== undefined) {
    body.thinking =
      request.thinking.type === "enabled"
        ? { type: "enabled", token_budget: request.thinking.budget_tokens }
        : { type: "disabled" };
  }
  // `user` and `metadata` only label the caller and change no output; Cohere has no place for them.
  return body;
}

export function cohereEmbedBody(request: EmbeddingsRequest, model: string): Record<string, unknown> {
  const input = request.input;
  let texts: string[];
  if (typeof input === "string") texts = [input];
  else if (Array.isArray(input) && input.every((item) => typeof item === "string")) texts = input as string[];
  else {
    throw new UnsupportedRequest("Cohere embeds text only; token arrays cannot be sent as 'input'", "input");
  }
  const inputType = (request as unknown as { input_type?: unknown }).input_type;
  const body: Record<string, unknown> = {
    model,
    texts,
    input_type: typeof inputType === "string" ? inputType : DEFAULT_INPUT_TYPE,
    // base64 (OpenAI's little-endian float32) is encoded from the floats on the way back.
    embedding_types: ["float"],
  };
  if (request.dimensions !== undefined) body.output_dimension = request.dimensions;
  return body;
}
