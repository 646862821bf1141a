import { randomBytes } from "node:crypto";
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
  ThinkingBlock,
  ToolCall,
  Usage,
} from "../canonical.js";
import { type InboundFormat, InvalidRequest, type StreamEncoder } from "../format.js";
import {
  type GeminiCandidate,
  type GeminiPart,
  type GeminiResponse,
  type GeminiUsage,
  toolCallId,
} from "./wire.js";

// Gemini's generateContent format for clients (the @google/genai SDK and REST callers) whose model is
// served by another provider. The model and streaming come from the URL
// (/genai/v1beta/models/{model}:generateContent | :streamGenerateContent). Streams are SSE of
// GenerateContentResponse objects with `alt=sse` (what the SDK asks for) and one JSON array otherwise.
//
// Request: systemInstruction → system message; "model" turns → assistant (thought parts → thinking
// blocks, functionCall → tool_calls); functionResponse parts → tool messages answering the earlier call of
// that id (or the oldest unanswered call of that name); inlineData/fileData → image_url for images, file
// parts otherwise; functionDeclarations (parametersJsonSchema as it is, `parameters` from Gemini's OpenAPI
// subset back to JSON Schema) → tools; functionCallingConfig → tool_choice (ANY with allowed names offers
// only those tools); generationConfig → sampling fields, response_format, thinking. safetySettings and
// labels only apply to Gemini's own filters and billing and are left out; tools other than functions
// (Google Search, code execution, URL context), cachedContent and output modalities have no equivalent
// elsewhere and are refused.
// Response: finish_reason stop/tool_calls → STOP, length → MAX_TOKENS, content_filter → SAFETY.

const SSE_HEADERS = [
  ["content-type", "text/event-stream"],
  ["cache-control", "no-cache"],
] as const;
const JSON_HEADERS = [["content-type", "application/json; charset=UTF-8"]] as const;

/** `list` with `item` added, creating the list on first use. */
function append<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// --- request ---------------------------------------------------------------------------------------

/** Gemini's OpenAPI-subset `Schema` (upper-case types, `nullable`) as JSON Schema. */
export function jsonSchemaOf(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in schema) {
    const value = schema[key];
    switch (key) {
      case "type":
        out.type = typeof value === "string" ? value.toLowerCase() : value;
        break;
      case "nullable":
        break;
      case "properties":
        if (isObject(value)) {
          const properties: Record<string, unknown> = {};
          for (const name in value) {
            const property = value[name];
            properties[name] = isObject(property) ? jsonSchemaOf(property) : property;
          }
          out.properties = properties;
        }
        break;
      case "items":
        out.items = isObject(value) ? jsonSchemaOf(value) : value;
        break;
      case "anyOf":
        out.anyOf = Array.isArray(value) ? value.map((v) => (isObject(v) ? jsonSchemaOf(v) : v)) : value;
        break;
      case "propertyOrdering":
        break;
      default:
        out[key] = value;
    }
  }
  if (schema.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}

function dataUrl(mimeType: string, data: string): string {
  return `data:${mimeType};base64,${data}`;
}

/** The members of a part the conversion reads have the types it reads them as. */
function checkPart(part: GeminiPart, param: string): void {
  const loose = part as Record<string, unknown>;
  const fail = (field: string, expected: string): never => {
    throw new InvalidRequest(`${param}.${field} must be ${expected}.`, `${param}.${field}`);
  };
  if (loose.text !== undefined && typeof loose.text !== "string") fail("text", "a string");
  const inline = loose.inlineData;
  if (inline !== undefined) {
    if (!isObject(inline)) fail("inlineData", "an object");
    else if (typeof inline.mimeType !== "string") fail("inlineData.mimeType", "a string");
    else if (typeof inline.data !== "string") fail("inlineData.data", "a string");
  }
  const file = loose.fileData;
  if (file !== undefined) {
    if (!isObject(file)) fail("fileData", "an object");
    else if (typeof file.fileUri !== "string") fail("fileData.fileUri", "a string");
    else if (file.mimeType !== undefined && typeof file.mimeType !== "string")
      fail("fileData.mimeType", "a string");
  }
  for (const field of ["functionCall", "functionResponse"] as const) {
    const call = loose[field];
    if (call === undefined) continue;
    if (!isObject(call)) fail(field, "an object");
    else if (typeof call.name !== "string") fail(`${field}.name`, "a string");
    else if (call.id !== undefined && typeof call.id !== "string") fail(`${field}.id`, "a string");
  }
}

function userPart(part: GeminiPart, param: string): ContentPart {
  if (part.text !== undefined) return { type: "text", text: part.text };
  if (part.inlineData !== undefined) {
    const { mimeType, data } = part.inlineData;
    const url = dataUrl(mimeType, data);
    return mimeType.startsWith("image/")
      ? { type: "image_url", image_url: { url } }
      : { type: "file", file: { file_data: url } };
  }
  if (part.fileData !== undefined) {
    const { mimeType, fileUri } = part.fileData;
    if (mimeType === undefined || mimeType.startsWith("image/"))
      return { type: "image_url", image_url: { url: fileUri } };
    return { type: "file", file: { file_id: fileUri } };
  }
  throw new InvalidRequest(`${param}: this kind of part can only be sent to a Gemini model.`, param);
}

interface OpenCall {
  id: string;
  name: string;
  geminiId: string | undefined;
  answered: boolean;
}

function responseText(response: unknown): string {
  return JSON.stringify(response ?? {});
}

function convertContents(contents: unknown[], messages: ChatMessage[]): void {
  const calls: OpenCall[] = [];
  for (let i = 0; i < contents.length; i++) {
    const content = contents[i];
    const param = `contents[${i}]`;
    if (!isObject(content) || !Array.isArray(content.parts)) {
      throw new InvalidRequest(`${param} must be an object with 'parts'.`, param);
    }
    const parts = content.parts as GeminiPart[];
    if (content.role === "model") {
      const message: AssistantMessage = { role: "assistant", content: null };
      let text = "";
      let hasText = false;
      const blocks: ThinkingBlock[] = [];
      for (let p = 0; p < parts.length; p++) {
        const part = parts[p] as GeminiPart;
        if (typeof part !== "object" || part === null)
          throw new InvalidRequest(`${param}.parts[${p}] must be an object.`, param);
        checkPart(part, `${param}.parts[${p}]`);
        if (part.thought === true) {
          const block: ThinkingBlock = { type: "thinking", thinking: part.text ?? "" };
          if (part.thoughtSignature !== undefined) block.signature = part.thoughtSignature;
          blocks.push(block);
        } else if (part.functionCall !== undefined) {
          const call = part.functionCall;
          const id = toolCallId(
            call.id ?? `call_${randomBytes(12).toString("base64url")}`,
            part.thoughtSignature,
          );
          message.tool_calls = append(message.tool_calls, {
            id,
            type: "function",
            function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
          });
          calls.push({ id, name: call.name, geminiId: call.id, answered: false });
        } else if (part.text !== undefined) {
          text += part.text;
          hasText = true;
          if (part.thoughtSignature !== undefined)
            blocks.push({ type: "thinking", thinking: "", signature: part.thoughtSignature });
        } else {
          throw new InvalidRequest(
            `${param}.parts[${p}]: this kind of part can only be sent to a Gemini model.`,
            param,
          );
        }
      }
      if (hasText) message.content = text;
      if (blocks.length > 0) message.thinking_blocks = blocks;
      messages.push(message);
      continue;
    }
    if (content.role !== undefined && content.role !== "user" && content.role !== "function") {
      throw new InvalidRequest(`${param}.role must be 'user' or 'model'.`, `${param}.role`);
    }
    const userParts: ContentPart[] = [];
    for (let p = 0; p < parts.length; p++) {
      const part = parts[p] as GeminiPart;
      if (typeof part !== "object" || part === null)
        throw new InvalidRequest(`${param}.parts[${p}] must be an object.`, param);
      checkPart(part, `${param}.parts[${p}]`);
      if (part.functionResponse !== undefined) {
        const answer = part.functionResponse;
        const call =
          calls.find((c) => !c.answered && answer.id !== undefined && c.geminiId === answer.id) ??
          calls.find((c) => !c.answered && c.name === answer.name);
        if (call === undefined) {
          throw new InvalidRequest(
            `${param}.parts[${p}]: functionResponse '${answer.name}' answers no earlier functionCall.`,
            `${param}.parts[${p}]`,
          );
        }
        call.answered = true;
        messages.push({ role: "tool", tool_call_id: call.id, content: responseText(answer.response) });
      } else userParts.push(userPart(part, `${param}.parts[${p}]`));
    }
    if (userParts.length > 0) {
      const only = userParts[0];
      messages.push({
        role: "user",
        content: userParts.length === 1 && only?.type === "text" ? only.text : userParts,
      });
    }
  }
}

function systemText(instruction: unknown): string {
  if (typeof instruction === "string") return instruction;
  if (!isObject(instruction) || !Array.isArray(instruction.parts)) {
    throw new InvalidRequest("systemInstruction must be a Content with 'parts'.", "systemInstruction");
  }
  let text = "";
  for (const part of instruction.parts as GeminiPart[]) {
    if (typeof part?.text !== "string") {
      throw new InvalidRequest("systemInstruction may only hold text parts.", "systemInstruction");
    }
    text += text === "" ? part.text : `\n${part.text}`;
  }
  return text;
}

function toolsOf(tools: unknown[]): FunctionTool[] {
  const out: FunctionTool[] = [];
  for (let i = 0; i < tools.length; i++) {
    const tool = tools[i];
    if (!isObject(tool)) throw new InvalidRequest(`tools[${i}] must be an object.`, `tools[${i}]`);
    for (const kind in tool) {
      if (kind !== "functionDeclarations") {
        throw new InvalidRequest(
          `tools[${i}].${kind} can only be used with a Gemini model.`,
          `tools[${i}].${kind}`,
        );
      }
    }
    const declarations = tool.functionDeclarations;
    if (!Array.isArray(declarations)) continue;
    for (const declaration of declarations as Record<string, unknown>[]) {
      if (!isObject(declaration) || typeof declaration.name !== "string") {
        throw new InvalidRequest(`tools[${i}].functionDeclarations: each needs a name.`, `tools[${i}]`);
      }
      const fn: FunctionTool["function"] = { name: declaration.name };
      if (typeof declaration.description === "string") fn.description = declaration.description;
      if (isObject(declaration.parametersJsonSchema)) fn.parameters = declaration.parametersJsonSchema;
      else if (isObject(declaration.parameters)) fn.parameters = jsonSchemaOf(declaration.parameters);
      else fn.parameters = { type: "object", properties: {} };
      out.push({ type: "function", function: fn });
    }
  }
  return out;
}

const GENERATION_FIELDS = new Set([
  "maxOutputTokens",
  "temperature",
  "topP",
  "topK",
  "candidateCount",
  "stopSequences",
  "seed",
  "presencePenalty",
  "frequencyPenalty",
  "responseMimeType",
  "responseSchema",
  "responseJsonSchema",
  "thinkingConfig",
  "responseLogprobs",
  "logprobs",
]);

function applyGenerationConfig(config: Record<string, unknown>, out: ChatRequest): void {
  for (const key in config) {
    if (!GENERATION_FIELDS.has(key) && config[key] !== undefined && config[key] !== null) {
      throw new InvalidRequest(
        `generationConfig.${key} can only be used with a Gemini model.`,
        `generationConfig.${key}`,
      );
    }
  }
  const c = config as Record<string, never>;
  if (typeof c.maxOutputTokens === "number") out.max_tokens = c.maxOutputTokens;
  if (typeof c.temperature === "number") out.temperature = c.temperature;
  if (typeof c.topP === "number") out.top_p = c.topP;
  if (typeof c.topK === "number") out.top_k = c.topK;
  if (typeof c.candidateCount === "number") out.n = c.candidateCount;
  if (Array.isArray(c.stopSequences)) out.stop = c.stopSequences;
  if (typeof c.seed === "number") out.seed = c.seed;
  if (typeof c.presencePenalty === "number") out.presence_penalty = c.presencePenalty;
  if (typeof c.frequencyPenalty === "number") out.frequency_penalty = c.frequencyPenalty;
  const extra = out as { logprobs?: boolean; top_logprobs?: number };
  if (c.responseLogprobs === true) extra.logprobs = true;
  if (typeof c.logprobs === "number") extra.top_logprobs = c.logprobs;
  const mime = config.responseMimeType;
  if (mime === "application/json") {
    const schema = isObject(config.responseJsonSchema)
      ? config.responseJsonSchema
      : isObject(config.responseSchema)
        ? jsonSchemaOf(config.responseSchema)
        : undefined;
    out.response_format =
      schema === undefined
        ? { type: "json_object" }
        : { type: "json_schema", json_schema: { name: "response", schema } };
  } else if (mime !== undefined && mime !== "text/plain") {
    throw new InvalidRequest(
      `responseMimeType '${String(mime)}' can only be used with a Gemini model.`,
      "generationConfig.responseMimeType",
    );
  }
  const thinking = config.thinkingConfig;
  if (isObject(thinking)) {
    const budget = thinking.thinkingBudget;
    if (budget === 0) out.thinking = { type: "disabled" };
    else if (typeof budget === "number" && budget > 0)
      out.thinking = { type: "enabled", budget_tokens: budget };
    else if (budget === -1) out.reasoning_effort = "medium";
    else if (thinking.thinkingLevel === "low" || thinking.thinkingLevel === "high") {
      out.reasoning_effort = thinking.thinkingLevel;
    }
  }
}

function applyToolConfig(config: unknown, out: ChatRequest): void {
  if (!isObject(config) || !isObject(config.functionCallingConfig)) return;
  const { mode, allowedFunctionNames } = config.functionCallingConfig;
  if (mode === "NONE") out.tool_choice = "none";
  else if (mode === "AUTO" || mode === undefined) out.tool_choice = "auto";
  else if (mode === "ANY" || mode === "VALIDATED") {
    const allowed = Array.isArray(allowedFunctionNames) ? (allowedFunctionNames as string[]) : [];
    const only = allowed[0];
    if (allowed.length === 1 && only !== undefined)
      out.tool_choice = { type: "function", function: { name: only } };
    else {
      out.tool_choice = "required";
      // ANY among several named functions: offering only those is the same constraint.
      if (allowed.length > 1 && out.tools !== undefined) {
        out.tools = out.tools.filter((tool) => allowed.includes(tool.function.name));
      }
    }
  } else throw new InvalidRequest(`functionCallingConfig.mode '${String(mode)}' is not known.`, "toolConfig");
}

export function geminiToCanonical(body: unknown, pathModel?: string, pathStream?: boolean): ChatRequest {
  if (!isObject(body)) throw new InvalidRequest("The request body must be a JSON object.");
  if (pathModel === undefined || pathModel === "")
    throw new InvalidRequest("The URL names no model.", "model");
  if (!Array.isArray(body.contents)) throw new InvalidRequest("'contents' must be an array.", "contents");
  for (const field of ["cachedContent"]) {
    if (body[field] !== undefined)
      throw new InvalidRequest(`${field} can only be used with a Gemini model.`, field);
  }
  const messages: ChatMessage[] = [];
  if (body.systemInstruction !== undefined)
    messages.push({ role: "system", content: systemText(body.systemInstruction) });
  convertContents(body.contents, messages);
  const model = pathModel.startsWith("models/") ? pathModel.slice(7) : pathModel;
  const out: ChatRequest = { model, messages };
  if (pathStream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  if (Array.isArray(body.tools)) {
    const tools = toolsOf(body.tools);
    if (tools.length > 0) out.tools = tools;
  }
  applyToolConfig(body.toolConfig, out);
  if (isObject(body.generationConfig)) applyGenerationConfig(body.generationConfig, out);
  return out;
}

// --- response ------------------------------------------------------------------------------------

export function geminiFinishReason(reason: FinishReason): string {
  if (reason === "length") return "MAX_TOKENS";
  if (reason === "content_filter") return "SAFETY";
  return "STOP";
}

export function geminiUsage(usage: Usage): GeminiUsage {
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  const out: GeminiUsage = {
    promptTokenCount: usage.prompt_tokens,
    candidatesTokenCount: usage.completion_tokens - (reasoning ?? 0),
    totalTokenCount: usage.total_tokens,
  };
  if (reasoning !== undefined && reasoning > 0) out.thoughtsTokenCount = reasoning;
  const cached = usage.prompt_tokens_details?.cached_tokens;
  if (cached !== undefined && cached > 0) out.cachedContentTokenCount = cached;
  return out;
}

const SEPARATOR = "__thought__";

function functionCallPart(id: string | undefined, name: string, args: string): GeminiPart {
  let parsed: unknown;
  try {
    parsed = args === "" ? {} : JSON.parse(args);
  } catch {
    parsed = { arguments: args };
  }
  const part: GeminiPart = {
    functionCall: { name, args: (isObject(parsed) ? parsed : { value: parsed }) as Record<string, unknown> },
  };
  if (id !== undefined && id !== "") {
    const at = id.indexOf(SEPARATOR);
    (part.functionCall as { id?: string }).id = at < 0 ? id : id.slice(0, at);
    if (at >= 0) part.thoughtSignature = id.slice(at + SEPARATOR.length);
  }
  return part;
}

function thoughtParts(
  blocks: ThinkingBlock[] | undefined,
  reasoning: string | undefined,
  parts: GeminiPart[],
): string | undefined {
  let answerSignature: string | undefined;
  if (blocks !== undefined && blocks.length > 0) {
    for (const block of blocks) {
      if (block.type !== "thinking") continue;
      if (block.thinking === "") answerSignature = block.signature;
      else {
        const part: GeminiPart = { text: block.thinking, thought: true };
        if (block.signature !== undefined) part.thoughtSignature = block.signature;
        parts.push(part);
      }
    }
  } else if (reasoning !== undefined && reasoning !== "") parts.push({ text: reasoning, thought: true });
  return answerSignature;
}

function candidateOf(message: AssistantMessage, index: number, finish: FinishReason | null): GeminiCandidate {
  const parts: GeminiPart[] = [];
  const signature = thoughtParts(message.thinking_blocks, message.reasoning_content, parts);
  const text =
    typeof message.content === "string"
      ? message.content
      : (message.content ?? []).map((p) => p.text).join("");
  if (text !== "") {
    const part: GeminiPart = { text };
    if (signature !== undefined) part.thoughtSignature = signature;
    parts.push(part);
  }
  for (const call of message.tool_calls ?? ([] as ToolCall[])) {
    parts.push(functionCallPart(call.id, call.function.name, call.function.arguments));
  }
  const candidate: GeminiCandidate = { content: { role: "model", parts }, index };
  if (finish !== null) candidate.finishReason = geminiFinishReason(finish);
  return candidate;
}

export function geminiFromCanonical(response: ChatResponse, requestedModel: string): string {
  const out: GeminiResponse = {
    candidates: response.choices.map((choice) =>
      candidateOf(choice.message, choice.index, choice.finish_reason),
    ),
    modelVersion: requestedModel,
    responseId: response.id,
  };
  if (response.usage !== undefined) out.usageMetadata = geminiUsage(response.usage);
  return JSON.stringify(out);
}

const GOOGLE_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  413: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

export function geminiErrorBody(error: CanonicalError): string {
  const status =
    typeof error.code === "string" && /^[A-Z_]+$/.test(error.code)
      ? error.code
      : (GOOGLE_STATUS[error.status] ?? (error.status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION"));
  return JSON.stringify({ error: { code: error.status, message: error.message, status } });
}

// --- stream --------------------------------------------------------------------------------------

interface PendingCall {
  id: string | undefined;
  name: string;
  args: string;
}

/**
 * OpenAI-style chunks → GenerateContentResponse events. Text and thoughts go out as they come; tool calls
 * arrive in pieces but Gemini sends each call whole, so they are gathered and sent with the finish reason
 * and usage in the last event.
 */
function streamEncoder(requestedModel: string, array: boolean): StreamEncoder {
  let responseId = "";
  let events = 0;
  let usage: Usage | undefined;
  const calls = new Map<number, PendingCall[]>();
  const finishes = new Map<number, FinishReason>();

  const frame = (response: GeminiResponse): string => {
    const json = JSON.stringify(response);
    events++;
    if (!array) return `data: ${json}\r\n\r\n`;
    return events === 1 ? `[${json}` : `,\r\n${json}`;
  };

  return {
    headers: array ? JSON_HEADERS : SSE_HEADERS,
    encode(chunk: ChatChunk): string {
      if (responseId === "") responseId = chunk.id;
      if (chunk.usage) usage = chunk.usage;
      const candidates: GeminiCandidate[] = [];
      for (const choice of chunk.choices) {
        const delta = choice.delta;
        const parts: GeminiPart[] = [];
        const signature = thoughtParts(delta.thinking_blocks, delta.reasoning_content, parts);
        if (typeof delta.content === "string" && delta.content !== "") {
          const part: GeminiPart = { text: delta.content };
          if (signature !== undefined) part.thoughtSignature = signature;
          parts.push(part);
        }
        if (delta.tool_calls !== undefined) {
          let pending = calls.get(choice.index);
          if (pending === undefined) {
            pending = [];
            calls.set(choice.index, pending);
          }
          for (const call of delta.tool_calls) {
            let entry = pending[call.index];
            if (entry === undefined) {
              entry = { id: call.id, name: "", args: "" };
              pending[call.index] = entry;
            }
            if (call.id !== undefined) entry.id = call.id;
            if (call.function?.name !== undefined) entry.name += call.function.name;
            if (call.function?.arguments !== undefined) entry.args += call.function.arguments;
          }
        }
        if (choice.finish_reason !== null) finishes.set(choice.index, choice.finish_reason);
        if (parts.length > 0) candidates.push({ content: { role: "model", parts }, index: choice.index });
      }
      if (candidates.length === 0) return "";
      return frame({ candidates, modelVersion: requestedModel, responseId });
    },
    end(): string {
      const indexes = new Set<number>([...calls.keys(), ...finishes.keys()]);
      const candidates: GeminiCandidate[] = [];
      for (const index of [...indexes].sort((a, b) => a - b)) {
        const parts: GeminiPart[] = [];
        for (const call of calls.get(index) ?? []) {
          if (call !== undefined) parts.push(functionCallPart(call.id, call.name, call.args));
        }
        const candidate: GeminiCandidate = { content: { role: "model", parts }, index };
        const finish = finishes.get(index);
        candidate.finishReason = geminiFinishReason(finish ?? "stop");
        candidates.push(candidate);
      }
      const last: GeminiResponse = { candidates, modelVersion: requestedModel, responseId };
      if (usage !== undefined) last.usageMetadata = geminiUsage(usage);
      const text = frame(last);
      return array ? `${text}]` : text;
    },
    error(error: CanonicalError): string {
      const body = geminiErrorBody(error);
      if (!array) return `data: ${body}\r\n\r\n`;
      return events === 0 ? `[${body}]` : `,\r\n${body}]`;
    },
  };
}

function format(name: string, array: boolean): InboundFormat {
  return {
    name,
    toCanonical: geminiToCanonical,
    fromCanonical: geminiFromCanonical,
    streamEncoder: (requestedModel) => streamEncoder(requestedModel, array),
    errorBody: geminiErrorBody,
  };
}

/** `alt=sse` streams (and every non-streamed call). */
export const geminiFormat = format("gemini", false);
/** `:streamGenerateContent` without `alt=sse`: one JSON array, written as the elements come. */
export const geminiArrayFormat = format("gemini-array", true);
