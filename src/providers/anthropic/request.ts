import type {
  ContentBlock,
  DocumentBlock,
  ImageBlock,
  MessageParam,
  MessagesRequest,
  TextBlock,
  Tool,
  ToolChoice,
} from "../../formats/anthropic/wire.js";
import type {
  AssistantMessage,
  ChatRequest,
  ContentPart,
  FunctionTool,
  TextPart,
  ToolMessage,
} from "../../formats/canonical.js";
import { UnsupportedRequest } from "../adapter.js";

// Canonical (OpenAI Chat Completions) request → Anthropic Messages request.
//
// Choices where the two APIs differ:
// - `max_tokens` is required by Anthropic; absent, DEFAULT_MAX_TOKENS is sent, raised above the thinking
//   budget when one is set (Anthropic requires max_tokens > budget_tokens).
// - System and developer messages, wherever they stand, become the top-level `system` in their order.
// - `reasoning_effort` becomes a thinking budget by EFFORT_BUDGETS unless `thinking` is given.
// - `response_format: json_schema` becomes `output_config.format` (Anthropic's structured outputs; the
//   reply is JSON text, so nothing changes on the way back). `json_object` has no schema to give, so it
//   becomes a forced tool named JSON_TOOL whose input is the JSON object; the response converters turn
//   that call back into text.

export const DEFAULT_MAX_TOKENS = 4096;

/** Thinking budgets for OpenAI's effort levels; the inverse of the OpenAI adapter's budget → effort. */
export const EFFORT_BUDGETS = { minimal: 1024, low: 2048, medium: 8192, high: 24576 } as const;

/** The forced tool that carries `response_format: json_object`. */
export const JSON_TOOL = "json_output";

/** Canonical fields Anthropic has no equivalent for (subject to drop_params). */
const UNSUPPORTED = [
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "logprobs",
  "top_logprobs",
  "audio",
  "modalities",
  "prediction",
  "web_search_options",
] as const;

function unsupported(request: ChatRequest, param: string, why: string): void {
  if (request.drop_params === true) return;
  throw new UnsupportedRequest(
    `Anthropic does not support '${param}'${why}; remove it or set drop_params: true to drop it.`,
    param,
  );
}

function textBlock(part: TextPart): TextBlock {
  return part.cache_control === undefined
    ? { type: "text", text: part.text }
    : { type: "text", text: part.text, cache_control: part.cache_control };
}

/** `data:<media type>;base64,<data>` → its parts; undefined for anything else. */
function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  if (!url.startsWith("data:")) return undefined;
  const comma = url.indexOf(",");
  const meta = url.slice(5, comma);
  if (comma === -1 || !meta.endsWith(";base64")) return undefined;
  return { mediaType: meta.slice(0, -7), data: url.slice(comma + 1) };
}

function userBlock(part: ContentPart, index: number): ContentBlock {
  if (part.type === "text") return textBlock(part);
  if (part.type === "image_url") {
    const url = part.image_url.url;
    const inline = parseDataUrl(url);
    let block: ImageBlock;
    if (inline !== undefined) {
      block = { type: "image", source: { type: "base64", media_type: inline.mediaType, data: inline.data } };
    } else if (url.startsWith("data:")) {
      throw new UnsupportedRequest(
        `Image ${index} is a data URL without base64 encoding; Anthropic takes base64 or https images.`,
        "messages",
      );
    } else block = { type: "image", source: { type: "url", url } };
    if (part.cache_control !== undefined) block.cache_control = part.cache_control;
    return block;
  }
  if (part.type === "file") {
    const inline = part.file.file_data === undefined ? undefined : parseDataUrl(part.file.file_data);
    if (inline === undefined) {
      throw new UnsupportedRequest(
        "Anthropic takes documents inline as base64 data URLs ('file.file_data'); file ids are not portable.",
        "messages",
      );
    }
    const block: DocumentBlock = {
      type: "document",
      source: { type: "base64", media_type: inline.mediaType, data: inline.data },
    };
    if (part.file.filename !== undefined) block.title = part.file.filename;
    if (part.cache_control !== undefined) block.cache_control = part.cache_control;
    return block;
  }
  throw new UnsupportedRequest(`Unknown content part type '${(part as { type: string }).type}'.`, "messages");
}

function assistantBlocks(message: AssistantMessage): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  // Thinking goes back first and verbatim: Anthropic checks the signatures.
  if (message.thinking_blocks !== undefined) {
    for (const block of message.thinking_blocks) {
      blocks.push(
        block.type === "thinking"
          ? { type: "thinking", thinking: block.thinking, signature: block.signature ?? "" }
          : { type: "redacted_thinking", data: block.data },
      );
    }
  }
  const content = message.content;
  if (typeof content === "string") {
    if (content !== "") blocks.push({ type: "text", text: content });
  } else if (content !== null) {
    for (const part of content) if (part.text !== "" || part.cache_control) blocks.push(textBlock(part));
  }
  if (message.tool_calls !== undefined) {
    for (const call of message.tool_calls) {
      let input: unknown;
      try {
        input = call.function.arguments === "" ? {} : JSON.parse(call.function.arguments);
      } catch {
        throw new UnsupportedRequest(
          `The arguments of tool call '${call.id}' are not valid JSON; Anthropic takes tool input as an object.`,
          "messages",
        );
      }
      blocks.push({ type: "tool_use", id: call.id, name: call.function.name, input });
    }
  }
  return blocks;
}

function toolResult(message: ToolMessage): ContentBlock {
  const content = message.content;
  return {
    type: "tool_result",
    tool_use_id: message.tool_call_id,
    content: typeof content === "string" ? content : content.map(textBlock),
  };
}

/** Appends blocks to the last turn when it has the same role: Anthropic requires alternating turns. */
function push(messages: MessageParam[], role: "user" | "assistant", blocks: ContentBlock[]): void {
  const last = messages[messages.length - 1];
  if (last !== undefined && last.role === role) {
    if (typeof last.content === "string") last.content = [{ type: "text", text: last.content }];
    for (const block of blocks) last.content.push(block);
    return;
  }
  messages.push({ role, content: blocks });
}

function tool(definition: FunctionTool): Tool {
  const out: Tool = {
    name: definition.function.name,
    input_schema: definition.function.parameters ?? { type: "object", properties: {} },
  };
  if (definition.function.description !== undefined) out.description = definition.function.description;
  if (definition.cache_control !== undefined) out.cache_control = definition.cache_control;
  return out;
}

export function anthropicRequest(request: ChatRequest, model: string): MessagesRequest {
  const body = request as unknown as Record<string, unknown>;
  for (const param of UNSUPPORTED) {
    if (body[param] !== undefined && body[param] !== null) unsupported(request, param, "");
  }
  if (request.n !== undefined && request.n !== 1) unsupported(request, "n", " (more than one choice)");

  const system: TextBlock[] = [];
  const messages: MessageParam[] = [];
  for (const message of request.messages) {
    switch (message.role) {
      case "system":
      case "developer":
        if (typeof message.content === "string") system.push({ type: "text", text: message.content });
        else for (const part of message.content) system.push(textBlock(part));
        break;
      case "user":
        if (typeof message.content === "string") {
          const last = messages[messages.length - 1];
          if (last?.role === "user") push(messages, "user", [{ type: "text", text: message.content }]);
          else messages.push({ role: "user", content: message.content });
        } else {
          const blocks: ContentBlock[] = [];
          for (let i = 0; i < message.content.length; i++) {
            blocks.push(userBlock(message.content[i] as ContentPart, i));
          }
          push(messages, "user", blocks);
        }
        break;
      case "assistant":
        push(messages, "assistant", assistantBlocks(message));
        break;
      case "tool":
        // Parallel results land in one user turn, in the order the calls were answered.
        push(messages, "user", [toolResult(message)]);
        break;
    }
  }

  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  const out: MessagesRequest = { model, max_tokens: maxTokens ?? DEFAULT_MAX_TOKENS, messages };
  if (system.length > 0) {
    const plain = system.length === 1 && system[0]?.cache_control === undefined;
    out.system = plain ? (system[0] as TextBlock).text : system;
  }

  if (request.thinking !== undefined) out.thinking = request.thinking;
  else if (request.reasoning_effort !== undefined) {
    const budget = EFFORT_BUDGETS[request.reasoning_effort];
    if (budget === undefined)
      unsupported(request, "reasoning_effort", ` value '${request.reasoning_effort}'`);
    else out.thinking = { type: "enabled", budget_tokens: budget };
  }
  if (out.thinking?.type === "enabled" && maxTokens === undefined) {
    out.max_tokens = Math.max(DEFAULT_MAX_TOKENS, out.thinking.budget_tokens + DEFAULT_MAX_TOKENS);
  }

  if (request.stop !== undefined && request.stop !== null) {
    out.stop_sequences = typeof request.stop === "string" ? [request.stop] : request.stop;
  }
  if (request.temperature !== undefined && request.temperature !== null)
    out.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) out.top_p = request.top_p;
  if (request.top_k !== undefined && request.top_k !== null) out.top_k = request.top_k;
  if (request.stream === true) out.stream = true;
  if (request.user !== undefined) out.metadata = { user_id: request.user };
  if (request.metadata !== undefined) {
    for (const key in request.metadata) {
      if (key === "user_id") out.metadata = { user_id: request.metadata[key] as string };
      else unsupported(request, "metadata", ` keys other than 'user_id' (got '${key}')`);
    }
  }

  if (request.tools !== undefined && request.tools.length > 0) out.tools = request.tools.map(tool);
  const choice = toolChoice(request);
  if (choice !== undefined) out.tool_choice = choice;

  const format = request.response_format;
  if (format?.type === "json_schema") {
    out.output_config = {
      format: { type: "json_schema", schema: format.json_schema.schema ?? { type: "object" } },
    };
  } else if (format?.type === "json_object") {
    if (out.tools !== undefined || out.tool_choice !== undefined) {
      unsupported(request, "response_format", " of type json_object together with tools");
    } else {
      out.tools = [
        {
          name: JSON_TOOL,
          description: "Answer with a JSON object.",
          input_schema: { type: "object" },
        },
      ];
      out.tool_choice = { type: "tool", name: JSON_TOOL };
    }
  }
  return out;
}

function toolChoice(request: ChatRequest): ToolChoice | undefined {
  const choice = request.tool_choice;
  const serial = request.parallel_tool_calls === false;
  if (choice === undefined || choice === null) {
    return serial && request.tools !== undefined && request.tools.length > 0
      ? { type: "auto", disable_parallel_tool_use: true }
      : undefined;
  }
  if (choice === "none") return { type: "none" };
  let out: ToolChoice;
  if (choice === "auto") out = { type: "auto" };
  else if (choice === "required") out = { type: "any" };
  else if (typeof choice === "object" && choice.type === "function") {
    out = { type: "tool", name: choice.function.name };
  } else {
    throw new UnsupportedRequest(`Unknown tool_choice ${JSON.stringify(choice)}.`, "tool_choice");
  }
  if (serial) out.disable_parallel_tool_use = true;
  return out;
}
