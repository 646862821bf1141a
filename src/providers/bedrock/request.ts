import type {
  AssistantMessage,
  CacheControl,
  ChatMessage,
  ChatRequest,
  ContentPart,
  FunctionTool,
  TextPart,
} from "../../formats/canonical.js";
import { UnsupportedRequest } from "../adapter.js";

// Canonical (OpenAI-shaped) chat request → Bedrock Converse request body. Converse speaks one shape for
// every model family; model-specific knobs (Claude's thinking and top_k) go in additionalModelRequestFields.

/** The tool that carries a response_format schema: Converse has no JSON mode, so the schema becomes a tool. */
export const JSON_TOOL = "switchyard_json_response";

type Block = Record<string, unknown>;
interface Message {
  role: "user" | "assistant";
  content: Block[];
}

const CACHE_POINT: Block = { cachePoint: { type: "default" } };

const IMAGE_FORMATS: Record<string, string> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp",
};

const DOCUMENT_FORMATS: Record<string, string> = {
  "application/pdf": "pdf",
  "text/csv": "csv",
  "application/msword": "doc",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
  "application/vnd.ms-excel": "xls",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
  "text/html": "html",
  "text/plain": "txt",
  "text/markdown": "md",
};

interface Context {
  readonly drop: boolean;
  readonly anthropic: boolean;
}

/** Throws UnsupportedRequest for a parameter Bedrock cannot take, unless the request allows dropping it. */
function refuse(context: Context, message: string, param: string): void {
  if (!context.drop) throw new UnsupportedRequest(`${message} Set drop_params to drop it.`, param);
}

function dataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = /^data:([^;,]+)((?:;[^;,]+)*);base64,(.*)$/s.exec(url);
  if (match === null) return undefined;
  return { mediaType: (match[1] as string).toLowerCase(), data: match[3] as string };
}

function cachePoint(context: Context, cache: CacheControl | undefined, out: Block[], param: string): void {
  if (cache === undefined) return;
  // Converse's cache point has no TTL; the default (5 minutes) is what it gives.
  if (cache.ttl === "1h") refuse(context, "Bedrock cache points have no 1h TTL.", param);
  out.push(CACHE_POINT);
}

/** Bedrock accepts document names of letters, digits, spaces, hyphens, parentheses and brackets. */
function documentName(filename: string | undefined, index: number): string {
  const base = (filename ?? "").replace(/\.[^.]*$/, "");
  const cleaned = base
    .replace(/[^A-Za-z0-9 ()[\]-]/g, "-")
    .replace(/\s+/g, " ")
    .trim();
  return cleaned === "" ? `document-${index + 1}` : cleaned;
}

function partBlocks(context: Context, part: ContentPart, out: Block[], param: string, index: number): void {
  if (part.type === "text") {
    out.push({ text: part.text });
  } else if (part.type === "image_url") {
    const data = dataUrl(part.image_url.url);
    if (data === undefined) {
      refuse(context, "Bedrock takes images only as base64 data URLs, not by URL.", param);
      return;
    }
    const format = IMAGE_FORMATS[data.mediaType];
    if (format === undefined) {
      refuse(context, `Bedrock does not accept images of type ${data.mediaType}.`, param);
      return;
    }
    out.push({ image: { format, source: { bytes: data.data } } });
  } else if (part.type === "file") {
    const data = part.file.file_data === undefined ? undefined : dataUrl(part.file.file_data);
    if (data === undefined) {
      refuse(context, "Bedrock takes documents only inline as base64 file_data, not by file_id.", param);
      return;
    }
    const format = DOCUMENT_FORMATS[data.mediaType];
    if (format === undefined) {
      refuse(context, `Bedrock does not accept documents of type ${data.mediaType}.`, param);
      return;
    }
    out.push({
      document: { format, name: documentName(part.file.filename, index), source: { bytes: data.data } },
    });
  }
  cachePoint(context, part.cache_control, out, param);
}

function contentBlocks(context: Context, content: string | ContentPart[] | null, param: string): Block[] {
  if (content === null) return [];
  if (typeof content === "string") return content === "" ? [] : [{ text: content }];
  const out: Block[] = [];
  for (let i = 0; i < content.length; i++) partBlocks(context, content[i] as ContentPart, out, param, i);
  return out;
}

function toolInput(args: string, param: string): unknown {
  if (args.trim() === "") return {};
  try {
    return JSON.parse(args);
  } catch {
    throw new UnsupportedRequest(
      "A tool call's arguments are not valid JSON; Bedrock needs a JSON object.",
      param,
    );
  }
}

function assistantBlocks(context: Context, message: AssistantMessage, param: string): Block[] {
  const out: Block[] = [];
  // Reasoning goes back first and verbatim: Claude checks the signatures.
  if (message.thinking_blocks !== undefined) {
    for (const block of message.thinking_blocks) {
      if (block.type === "thinking") {
        const reasoningText: Block = { text: block.thinking };
        if (block.signature !== undefined && block.signature !== "")
          reasoningText.signature = block.signature;
        out.push({ reasoningContent: { reasoningText } });
      } else {
        out.push({ reasoningContent: { redactedContent: block.data } });
      }
    }
  }
  for (const block of contentBlocks(context, message.content, param)) out.push(block);
  if (message.tool_calls !== undefined) {
    for (let i = 0; i < message.tool_calls.length; i++) {
      const call = message.tool_calls[i] as NonNullable<AssistantMessage["tool_calls"]>[number];
      out.push({
        toolUse: {
          toolUseId: call.id,
          name: call.function.name,
          input: toolInput(call.function.arguments, `${param}.tool_calls[${i}].function.arguments`),
        },
      });
    }
  }
  return out;
}

function toolResultContent(content: string | TextPart[]): Block[] {
  if (typeof content === "string") return [{ text: content }];
  const out: Block[] = [];
  for (const part of content) out.push({ text: part.text });
  return out;
}

function append(messages: Message[], role: "user" | "assistant", blocks: Block[]): void {
  if (blocks.length === 0) return;
  const last = messages[messages.length - 1];
  // Converse wants turns to alternate: consecutive messages of one role (tool results and the user's
  // next words, say) become one turn.
  if (last !== undefined && last.role === role) {
    for (const block of blocks) last.content.push(block);
  } else {
    messages.push({ role, content: blocks });
  }
}

function conversation(context: Context, input: ChatMessage[]): { system: Block[]; messages: Message[] } {
  const system: Block[] = [];
  const messages: Message[] = [];
  for (let i = 0; i < input.length; i++) {
    const message = input[i] as ChatMessage;
    const param = `messages[${i}]`;
    switch (message.role) {
      case "system":
      case "developer":
        if (typeof message.content === "string") system.push({ text: message.content });
        else
          for (const part of message.content) {
            system.push({ text: part.text });
            cachePoint(context, part.cache_control, system, param);
          }
        break;
      case "user":
        append(messages, "user", contentBlocks(context, message.content, param));
        break;
      case "assistant":
        append(messages, "assistant", assistantBlocks(context, message, param));
        break;
      case "tool": {
        const blocks: Block[] = [
          { toolResult: { toolUseId: message.tool_call_id, content: toolResultContent(message.content) } },
        ];
        if (typeof message.content !== "string") {
          for (const part of message.content) cachePoint(context, part.cache_control, blocks, param);
        }
        append(messages, "user", blocks);
        break;
      }
    }
  }
  return { system, messages };
}

function toolSpecs(context: Context, tools: FunctionTool[]): Block[] {
  const out: Block[] = [];
  for (let i = 0; i < tools.length; i++) {
    const tool = tools[i] as FunctionTool;
    if (tool.function.strict === true)
      refuse(context, "Bedrock has no strict tool schemas.", `tools[${i}].function.strict`);
    const toolSpec: Block = {
      name: tool.function.name,
      inputSchema: { json: tool.function.parameters ?? { type: "object", properties: {} } },
    };
    if (tool.function.description !== undefined) toolSpec.description = tool.function.description;
    out.push({ toolSpec });
    cachePoint(context, tool.cache_control, out, `tools[${i}]`);
  }
  return out;
}

function hasToolBlocks(messages: Message[]): boolean {
  for (const message of messages) {
    for (const block of message.content)
      if (block.toolUse !== undefined || block.toolResult !== undefined) return true;
  }
  return false;
}

function toolConfig(context: Context, request: ChatRequest, messages: Message[]): Block | undefined {
  const tools =
    request.tools !== undefined && request.tools.length > 0 ? toolSpecs(context, request.tools) : [];
  const format = request.response_format;
  const jsonSchema =
    format?.type === "json_schema"
      ? (format.json_schema.schema ?? { type: "object" })
      : format?.type === "json_object"
        ? { type: "object" }
        : undefined;
  if (jsonSchema !== undefined) {
    const description =
      format?.type === "json_schema" && format.json_schema.description !== undefined
        ? format.json_schema.description
        : "Respond with JSON that follows this schema.";
    tools.push({ toolSpec: { name: JSON_TOOL, description, inputSchema: { json: jsonSchema } } });
  }
  if (tools.length === 0) return undefined;

  let toolChoice: Block | undefined;
  const choice = request.tool_choice;
  if (jsonSchema !== undefined) {
    // The answer must be the JSON tool's input; with the client's own tools present, any tool will do.
    toolChoice = tools.length === 1 ? { tool: { name: JSON_TOOL } } : { any: {} };
  } else if (choice === "auto") {
    toolChoice = { auto: {} };
  } else if (choice === "required") {
    toolChoice = { any: {} };
  } else if (typeof choice === "object") {
    toolChoice = { tool: { name: choice.function.name } };
  } else if (choice === "none") {
    // Without the tools the model cannot call one; Converse insists on the tools while the
    // conversation holds tool calls, so there "none" has no equivalent.
    if (!hasToolBlocks(messages)) return undefined;
    refuse(
      context,
      "Bedrock has no tool_choice 'none' while the conversation holds tool calls.",
      "tool_choice",
    );
  }
  if (request.parallel_tool_calls === false) {
    refuse(context, "Bedrock cannot turn off parallel tool calls.", "parallel_tool_calls");
  }
  const config: Block = { tools };
  if (toolChoice !== undefined) config.toolChoice = toolChoice;
  return config;
}

const EFFORT_BUDGET = { minimal: 1024, low: 2048, medium: 8192, high: 24576 } as const;

function additionalFields(context: Context, request: ChatRequest, modelId: string): Block | undefined {
  const fields: Block = {};
  if (request.top_k !== undefined) {
    if (context.anthropic) fields.top_k = request.top_k;
    else if (/(^|\.)amazon\.nova-/.test(modelId)) fields.inferenceConfig = { topK: request.top_k };
    else refuse(context, `top_k is not known to work with ${modelId} on Bedrock.`, "top_k");
  }
  let thinking: { type: "enabled"; budget_tokens: number } | undefined;
  if (request.thinking?.type === "enabled") thinking = request.thinking;
  else if (request.thinking === undefined && request.reasoning_effort !== undefined) {
    thinking = { type: "enabled", budget_tokens: EFFORT_BUDGET[request.reasoning_effort] };
  }
  if (thinking !== undefined) {
    if (context.anthropic) fields.thinking = { type: "enabled", budget_tokens: thinking.budget_tokens };
    else
      refuse(
        context,
        `Reasoning budgets are only mapped for Anthropic models on Bedrock, not ${modelId}.`,
        request.thinking !== undefined ? "thinking" : "reasoning_effort",
      );
  }
  return Object.keys(fields).length > 0 ? fields : undefined;
}

const UNSUPPORTED_SCALARS = [
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "logprobs",
  "top_logprobs",
];

/** The model id part that tells the family, past any cross-region prefix (us., eu., global., ...). */
export function isAnthropicModel(modelId: string): boolean {
  return /(^|[./])anthropic\.claude/.test(modelId);
}

export function converseBody(
  request: ChatRequest,
  modelId: string,
  dropByConfig = false,
): Record<string, unknown> {
  const context: Context = {
    drop: request.drop_params === true || dropByConfig,
    anthropic: isAnthropicModel(modelId),
  };
  const { system, messages } = conversation(context, request.messages);
  const body: Record<string, unknown> = { messages };
  if (system.length > 0) body.system = system;

  const inference: Block = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) inference.maxTokens = maxTokens;
  if (request.temperature !== undefined && request.temperature !== null)
    inference.temperature = request.temperature;
  if (request.top_p !== undefined && request.top_p !== null) inference.topP = request.top_p;
  if (request.stop !== undefined && request.stop !== null) {
    inference.stopSequences = typeof request.stop === "string" ? [request.stop] : request.stop;
  }
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;

  const tools = toolConfig(context, request, messages);
  if (tools !== undefined) body.toolConfig = tools;
  const additional = additionalFields(context, request, modelId);
  if (additional !== undefined) body.additionalModelRequestFields = additional;

  if (request.n !== undefined && request.n !== null && request.n !== 1) {
    refuse(context, "Bedrock returns one choice per request.", "n");
  }
  const raw = request as unknown as Record<string, unknown>;
  for (const name of UNSUPPORTED_SCALARS) {
    if (raw[name] !== undefined && raw[name] !== null && raw[name] !== false) {
      refuse(context, `Bedrock's Converse API has no ${name}.`, name);
    }
  }
  // Bedrock's request metadata tags the invocation log, as OpenAI's user and metadata do.
  const metadata: Record<string, string> = {};
  if (request.metadata !== undefined) for (const [k, v] of Object.entries(request.metadata)) metadata[k] = v;
  if (request.user !== undefined && request.user !== "") metadata.user = request.user;
  if (Object.keys(metadata).length > 0) body.requestMetadata = metadata;
  return body;
}
