import type {
  AssistantMessage,
  ChatMessage,
  ChatRequest,
  ContentPart,
  FunctionTool,
  TextPart,
  ThinkingBlock,
  ToolChoice,
} from "../canonical.js";
import { InvalidRequest } from "../format.js";

// A Responses API request (POST /v1/responses) as a canonical chat request, for providers that have no
// Responses API of their own. What needs server-side state (stored responses, conversations) or OpenAI's
// hosted tools has no chat equivalent: it is refused with a 400 naming the parameter, or dropped when the
// request says `drop_params: true`.

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parameters that map onto the chat request (or change nothing when dropped, as noted). */
const MAPPED = new Set([
  "model",
  "input",
  "instructions",
  "stream",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "max_output_tokens",
  "temperature",
  "top_p",
  "text",
  "reasoning",
  "metadata",
  "user",
  "safety_identifier",
  "store",
  "include",
  "truncation",
  "service_tier",
  // Only `include_obfuscation`, which pads stream events; nothing to carry over.
  "stream_options",
  // A hint for OpenAI's cache routing; it does not change the answer.
  "prompt_cache_key",
  "drop_params",
]);

const EFFORTS = new Set(["minimal", "low", "medium", "high"]);

class Converter {
  readonly drop: boolean;

  constructor(readonly body: Json) {
    this.drop = body.drop_params === true;
  }

  /** A parameter without a chat equivalent: dropped under drop_params, refused otherwise. */
  unsupported(param: string, what: string): void {
    if (this.drop) return;
    throw new InvalidRequest(
      `${what} is not supported for model '${String(this.body.model)}': its provider has no Responses API, so the gateway serves the request through chat completions. Remove '${param}' or set drop_params: true to drop it.`,
      param,
    );
  }

  convert(): ChatRequest {
    const body = this.body;
    if (typeof body.model !== "string" || body.model === "") {
      throw new InvalidRequest("you must provide a model parameter", "model");
    }
    for (const key of Object.keys(body)) {
      const value = body[key];
      // `false` asks for nothing (background, stored prompts off), so it needs no equivalent.
      if (!MAPPED.has(key) && value !== undefined && value !== null && value !== false) {
        this.unsupported(key, `The Responses parameter '${key}'`);
      }
    }
    const request: ChatRequest = { model: body.model, messages: this.messages() };
    if (body.stream === true) {
      request.stream = true;
      // The Responses stream always ends with the usage.
      request.stream_options = { include_usage: true };
    }
    if (body.store === true) this.unsupported("store", "Storing responses ('store': true)");
    if (body.truncation !== undefined && body.truncation !== null && body.truncation !== "disabled") {
      this.unsupported("truncation", `'truncation': '${String(body.truncation)}'`);
    }
    if (
      body.service_tier !== undefined &&
      body.service_tier !== null &&
      body.service_tier !== "auto" &&
      body.service_tier !== "default"
    ) {
      this.unsupported("service_tier", `'service_tier': '${String(body.service_tier)}'`);
    }
    this.include(body.include);
    this.tools(request);
    this.numbers(request);
    this.text(request);
    this.reasoning(request);
    if (isObject(body.metadata)) request.metadata = body.metadata as Record<string, string>;
    if (typeof body.user === "string") request.user = body.user;
    else if (typeof body.safety_identifier === "string") request.user = body.safety_identifier;
    if (typeof body.parallel_tool_calls === "boolean") request.parallel_tool_calls = body.parallel_tool_calls;
    if (this.drop) request.drop_params = true;
    return request;
  }

  private include(include: unknown): void {
    if (include === undefined || include === null) return;
    if (!Array.isArray(include)) throw new InvalidRequest("'include' must be an array", "include");
    for (const entry of include) {
      // Reasoning comes back with its signature in `encrypted_content` whenever the provider gives one.
      if (entry !== "reasoning.encrypted_content")
        this.unsupported("include", `'include': '${String(entry)}'`);
    }
  }

  private numbers(request: ChatRequest): void {
    const { max_output_tokens, temperature, top_p } = this.body;
    if (typeof max_output_tokens === "number") request.max_tokens = max_output_tokens;
    if (typeof temperature === "number") request.temperature = temperature;
    if (typeof top_p === "number") request.top_p = top_p;
  }

  private text(request: ChatRequest): void {
    const text = this.body.text;
    if (text === undefined || text === null) return;
    if (!isObject(text)) throw new InvalidRequest("'text' must be an object", "text");
    if (text.verbosity !== undefined && text.verbosity !== null) {
      this.unsupported("text.verbosity", "'text.verbosity'");
    }
    const format = text.format;
    if (format === undefined || format === null) return;
    if (!isObject(format)) throw new InvalidRequest("'text.format' must be an object", "text.format");
    if (format.type === "text") request.response_format = { type: "text" };
    else if (format.type === "json_object") request.response_format = { type: "json_object" };
    else if (format.type === "json_schema") {
      const schema: {
        name: string;
        description?: string;
        schema?: Record<string, unknown>;
        strict?: boolean;
      } = { name: typeof format.name === "string" ? format.name : "response" };
      if (typeof format.description === "string") schema.description = format.description;
      if (isObject(format.schema)) schema.schema = format.schema;
      if (typeof format.strict === "boolean") schema.strict = format.strict;
      request.response_format = { type: "json_schema", json_schema: schema };
    } else {
      throw new InvalidRequest(`Unknown 'text.format.type': '${String(format.type)}'`, "text.format.type");
    }
  }

  private reasoning(request: ChatRequest): void {
    const reasoning = this.body.reasoning;
    if (reasoning === undefined || reasoning === null) return;
    if (!isObject(reasoning)) throw new InvalidRequest("'reasoning' must be an object", "reasoning");
    // `summary` only chooses how reasoning is shown; the provider's reasoning text comes back as it is.
    const effort = reasoning.effort;
    if (effort === undefined || effort === null) return;
    if (typeof effort === "string" && EFFORTS.has(effort)) {
      request.reasoning_effort = effort as ChatRequest["reasoning_effort"];
    } else if (effort === "none") {
      request.thinking = { type: "disabled" };
    } else {
      this.unsupported("reasoning.effort", `'reasoning.effort': '${String(effort)}'`);
    }
  }

  private tools(request: ChatRequest): void {
    const { tools, tool_choice: choice } = this.body;
    if (tools !== undefined && tools !== null) {
      if (!Array.isArray(tools)) throw new InvalidRequest("'tools' must be an array", "tools");
      const out: FunctionTool[] = [];
      for (let i = 0; i < tools.length; i++) {
        const tool: unknown = tools[i];
        if (!isObject(tool)) throw new InvalidRequest(`'tools[${i}]' must be an object`, `tools[${i}]`);
        if (tool.type !== "function") {
          this.unsupported(`tools[${i}]`, `The built-in tool '${String(tool.type)}'`);
          continue;
        }
        if (typeof tool.name !== "string" || tool.name === "") {
          throw new InvalidRequest(`'tools[${i}].name' is required`, `tools[${i}].name`);
        }
        const fn: FunctionTool["function"] = { name: tool.name };
        if (typeof tool.description === "string") fn.description = tool.description;
        if (isObject(tool.parameters)) fn.parameters = tool.parameters;
        if (typeof tool.strict === "boolean") fn.strict = tool.strict;
        out.push({ type: "function", function: fn });
      }
      if (out.length > 0) request.tools = out;
    }
    if (choice === undefined || choice === null) return;
    const mapped = this.toolChoice(choice);
    if (mapped !== undefined) request.tool_choice = mapped;
  }

  private toolChoice(choice: unknown): ToolChoice | undefined {
    if (choice === "none" || choice === "auto" || choice === "required") return choice;
    if (isObject(choice) && choice.type === "function" && typeof choice.name === "string") {
      return { type: "function", function: { name: choice.name } };
    }
    const kind = isObject(choice) ? String(choice.type) : JSON.stringify(choice);
    this.unsupported("tool_choice", `'tool_choice' of type '${kind}'`);
    return undefined;
  }

  private messages(): ChatMessage[] {
    const { input, instructions } = this.body;
    const messages: ChatMessage[] = [];
    if (typeof instructions === "string" && instructions !== "") {
      messages.push({ role: "system", content: instructions });
    }
    if (typeof input === "string") {
      messages.push({ role: "user", content: input });
      return messages;
    }
    if (!Array.isArray(input)) {
      throw new InvalidRequest("'input' must be a string or an array of input items", "input");
    }
    // Output items of one assistant turn (reasoning, message, function calls) come back as separate
    // input items; they form one chat assistant message.
    let assistant: AssistantMessage | undefined;
    const turn = (): AssistantMessage => {
      if (assistant === undefined) {
        assistant = { role: "assistant", content: null };
        messages.push(assistant);
      }
      return assistant;
    };
    for (let i = 0; i < input.length; i++) {
      const item: unknown = input[i];
      const at = `input[${i}]`;
      if (!isObject(item)) throw new InvalidRequest(`'${at}' must be an object`, at);
      const type = item.type ?? (item.role !== undefined ? "message" : undefined);
      switch (type) {
        case "message": {
          if (item.role === "assistant") {
            if (
              assistant !== undefined &&
              (assistant.content !== null || assistant.tool_calls !== undefined)
            ) {
              assistant = undefined;
            }
            const content = assistantText(item.content, at);
            const current = turn();
            current.content = content.text;
            if (content.refusal !== undefined) current.refusal = content.refusal;
          } else {
            assistant = undefined;
            messages.push(this.message(item, at));
          }
          break;
        }
        case "function_call": {
          if (typeof item.call_id !== "string" || typeof item.name !== "string") {
            throw new InvalidRequest(`'${at}' needs 'call_id' and 'name'`, at);
          }
          const current = turn();
          if (current.tool_calls === undefined) current.tool_calls = [];
          current.tool_calls.push({
            id: item.call_id,
            type: "function",
            function: {
              name: item.name,
              arguments: typeof item.arguments === "string" ? item.arguments : "{}",
            },
          });
          break;
        }
        case "function_call_output": {
          assistant = undefined;
          if (typeof item.call_id !== "string") {
            throw new InvalidRequest(`'${at}.call_id' is required`, `${at}.call_id`);
          }
          messages.push({ role: "tool", tool_call_id: item.call_id, content: toolOutput(item.output, at) });
          break;
        }
        case "reasoning": {
          if (assistant !== undefined && (assistant.content !== null || assistant.tool_calls !== undefined)) {
            assistant = undefined;
          }
          const block = thinkingOf(item);
          if (block !== undefined) {
            const current = turn();
            if (current.thinking_blocks === undefined) current.thinking_blocks = [];
            current.thinking_blocks.push(block);
          }
          break;
        }
        case "item_reference":
          this.unsupported(at, "Referring to a stored item ('item_reference')");
          break;
        default:
          this.unsupported(at, `The input item type '${String(type)}'`);
      }
    }
    return messages;
  }

  private message(item: Json, at: string): ChatMessage {
    const role = item.role;
    const content = item.content;
    if (role === "system" || role === "developer") {
      if (typeof content === "string") return { role, content };
      return { role, content: textParts(content, `${at}.content`) };
    }
    if (role !== "user")
      throw new InvalidRequest(`'${at}.role' must be user, system, developer or assistant`, `${at}.role`);
    if (typeof content === "string") return { role, content };
    if (!Array.isArray(content)) {
      throw new InvalidRequest(`'${at}.content' must be a string or an array`, `${at}.content`);
    }
    const parts: ContentPart[] = [];
    for (let j = 0; j < content.length; j++) {
      const part: unknown = content[j];
      const where = `${at}.content[${j}]`;
      if (!isObject(part)) throw new InvalidRequest(`'${where}' must be an object`, where);
      if (part.type === "input_text" && typeof part.text === "string") {
        parts.push({ type: "text", text: part.text });
      } else if (part.type === "input_image") {
        if (typeof part.image_url !== "string") {
          this.unsupported(where, "An image given by 'file_id'");
          continue;
        }
        const image: { url: string; detail?: "auto" | "low" | "high" } = { url: part.image_url };
        if (part.detail === "auto" || part.detail === "low" || part.detail === "high")
          image.detail = part.detail;
        parts.push({ type: "image_url", image_url: image });
      } else if (part.type === "input_file") {
        if (typeof part.file_data !== "string" && typeof part.file_id !== "string") {
          this.unsupported(where, "A file given by 'file_url'");
          continue;
        }
        const file: { file_data?: string; file_id?: string; filename?: string } = {};
        if (typeof part.file_data === "string") file.file_data = part.file_data;
        if (typeof part.file_id === "string") file.file_id = part.file_id;
        if (typeof part.filename === "string") file.filename = part.filename;
        parts.push({ type: "file", file });
      } else {
        this.unsupported(where, `The content part type '${String(part.type)}'`);
      }
    }
    return { role, content: parts };
  }
}

function textParts(content: unknown, at: string): TextPart[] {
  if (!Array.isArray(content)) throw new InvalidRequest(`'${at}' must be a string or an array`, at);
  const parts: TextPart[] = [];
  for (let j = 0; j < content.length; j++) {
    const part: unknown = content[j];
    if (
      !isObject(part) ||
      (part.type !== "input_text" && part.type !== "output_text") ||
      typeof part.text !== "string"
    ) {
      throw new InvalidRequest(`'${at}[${j}]' must be a text part`, `${at}[${j}]`);
    }
    parts.push({ type: "text", text: part.text });
  }
  return parts;
}

function assistantText(content: unknown, at: string): { text: string | null; refusal?: string } {
  if (typeof content === "string") return { text: content };
  if (!Array.isArray(content))
    throw new InvalidRequest(`'${at}.content' must be a string or an array`, `${at}.content`);
  let text: string | null = null;
  let refusal: string | undefined;
  for (let j = 0; j < content.length; j++) {
    const part: unknown = content[j];
    if (
      isObject(part) &&
      (part.type === "output_text" || part.type === "input_text") &&
      typeof part.text === "string"
    ) {
      text = text === null ? part.text : text + part.text;
    } else if (isObject(part) && part.type === "refusal" && typeof part.refusal === "string") {
      refusal = part.refusal;
    } else {
      throw new InvalidRequest(
        `'${at}.content[${j}]' must be an output_text or refusal part`,
        `${at}.content[${j}]`,
      );
    }
  }
  return refusal === undefined ? { text } : { text, refusal };
}

function toolOutput(output: unknown, at: string): string | TextPart[] {
  if (typeof output === "string") return output;
  return textParts(output, `${at}.output`);
}

/**
 * Reasoning items the gateway returned carry the provider's reasoning text in `content` and its signature
 * (or a redacted block's data) in `encrypted_content`; see response.ts.
 */
function thinkingOf(item: Json): ThinkingBlock | undefined {
  let text = "";
  let hasText = false;
  const collect = (parts: unknown, type: string) => {
    if (!Array.isArray(parts)) return;
    for (const part of parts) {
      if (isObject(part) && part.type === type && typeof part.text === "string") {
        text += part.text;
        hasText = true;
      }
    }
  };
  collect(item.content, "reasoning_text");
  if (!hasText) collect(item.summary, "summary_text");
  const encrypted = typeof item.encrypted_content === "string" ? item.encrypted_content : undefined;
  if (hasText)
    return encrypted === undefined
      ? { type: "thinking", thinking: text }
      : { type: "thinking", thinking: text, signature: encrypted };
  if (encrypted !== undefined) return { type: "redacted_thinking", data: encrypted };
  return undefined;
}

export function responsesToChat(body: unknown): ChatRequest {
  if (!isObject(body)) throw new InvalidRequest("The request body must be a JSON object.");
  return new Converter(body).convert();
}
