import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  EmbeddingsRequest,
  TextPart,
  ThinkingBlock,
} from "../../formats/canonical.js";
import {
  type GeminiContent,
  type GeminiGenerationConfig,
  type GeminiPart,
  type GeminiRequest,
  type GeminiThinkingConfig,
  type GeminiToolConfig,
  signatureOf,
} from "../../formats/gemini/wire.js";
import { UnsupportedRequest } from "../adapter.js";
import { geminiSchema } from "./schema.js";

// Canonical (OpenAI Chat Completions) request → Gemini generateContent request, shared by the Gemini API
// and Vertex AI adapters.
//
// - system/developer messages → `systemInstruction` (all of them, in order: Gemini has one system slot);
// - user → role "user"; assistant → role "model"; tool results → `functionResponse` parts in a "user" turn,
//   named after the tool call they answer (looked up by `tool_call_id`); consecutive turns of the same role
//   are merged, so parallel tool results form one turn as Gemini expects;
// - images: `data:` URLs → `inlineData`; http(s), gs:// and Files API URLs → `fileData` with a MIME type
//   guessed from the extension (image/jpeg when unknown). The Gemini API fetches Files API URIs, YouTube
//   URLs and public http(s) URLs itself; Vertex AI takes gs:// and public https URLs;
// - tool calls → `functionCall` parts; a thought signature that came with a call travels inside its id
//   (see toolCallId) so that the next turn can give it back, which Gemini 3 requires;
// - thinking blocks → thought parts with their signatures;
// - tool_choice → `toolConfig.functionCallingConfig` (none → NONE, auto → AUTO, required → ANY, a named
//   function → ANY with `allowedFunctionNames`);
// - response_format json_object → `responseMimeType: application/json`; json_schema → the same plus
//   `responseSchema` (cleaned as schema.ts says);
// - max_tokens/max_completion_tokens → maxOutputTokens, stop → stopSequences, temperature, top_p → topP,
//   top_k → topK, n → candidateCount, seed, presence/frequency penalties, logprobs/top_logprobs →
//   responseLogprobs/logprobs;
// - thinking budget → `thinkingConfig.thinkingBudget` with thoughts included; disabled → budget 0;
//   reasoning_effort → a budget from REASONING_BUDGETS.
// `user` and `metadata` only label the request and are left out. Anything else with no Gemini equivalent
// (parallel_tool_calls: false, logit_bias, audio output, ...) follows the drop_params policy.

/** Thinking budgets for OpenAI's effort levels, in tokens. */
export const REASONING_BUDGETS = { minimal: 128, low: 1024, medium: 8192, high: 24576 } as const;

/** Fields of the canonical request this converter handles (or knowingly leaves out). */
const HANDLED = new Set([
  "model",
  "messages",
  "stream",
  "stream_options",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "top_k",
  "stop",
  "n",
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "user",
  "metadata",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "response_format",
  "reasoning_effort",
  "thinking",
  "drop_params",
  "logprobs",
  "top_logprobs",
]);

const MIME_BY_EXTENSION: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  heic: "image/heic",
  heif: "image/heif",
  pdf: "application/pdf",
  mp4: "video/mp4",
  mp3: "audio/mp3",
  wav: "audio/wav",
  txt: "text/plain",
};

export function mimeTypeForUrl(url: string, fallback: string): string {
  const path = url.split(/[?#]/, 1)[0] ?? "";
  const dot = path.lastIndexOf(".");
  if (dot < 0 || dot < path.lastIndexOf("/")) return fallback;
  return MIME_BY_EXTENSION[path.slice(dot + 1).toLowerCase()] ?? fallback;
}

function dataUrlPart(url: string, param: string): GeminiPart {
  const comma = url.indexOf(",");
  const header = url.slice(5, comma);
  if (comma < 0 || !header.endsWith(";base64")) {
    throw new UnsupportedRequest(`${param}: only base64 data URLs can be sent to Gemini.`, param);
  }
  return { inlineData: { mimeType: header.slice(0, -7), data: url.slice(comma + 1) } };
}

function contentParts(content: string | ContentPart[], param: string): GeminiPart[] {
  if (typeof content === "string") return [{ text: content }];
  const parts: GeminiPart[] = [];
  for (let i = 0; i < content.length; i++) {
    const part = content[i] as ContentPart;
    if (part.type === "text") parts.push({ text: part.text });
    else if (part.type === "image_url") {
      const url = part.image_url.url;
      if (url.startsWith("data:")) parts.push(dataUrlPart(url, `${param}[${i}]`));
      else parts.push({ fileData: { mimeType: mimeTypeForUrl(url, "image/jpeg"), fileUri: url } });
    } else if (part.type === "file") {
      const file = part.file;
      if (file.file_data !== undefined) parts.push(dataUrlPart(file.file_data, `${param}[${i}]`));
      else if (file.file_id !== undefined) {
        const mimeType = mimeTypeForUrl(file.filename ?? file.file_id, "application/pdf");
        parts.push({ fileData: { mimeType, fileUri: file.file_id } });
      } else throw new UnsupportedRequest(`${param}[${i}]: a file part needs file_data or file_id.`, param);
    } else {
      throw new UnsupportedRequest(
        `${param}[${i}]: content of type '${(part as { type: string }).type}' cannot be sent to Gemini.`,
        param,
      );
    }
  }
  return parts;
}

function textOf(content: string | TextPart[] | null): string {
  if (content === null) return "";
  if (typeof content === "string") return content;
  let text = "";
  for (const part of content) text += part.text;
  return text;
}

function assistantParts(message: Extract<ChatMessage, { role: "assistant" }>, param: string): GeminiPart[] {
  const parts: GeminiPart[] = [];
  // A signature that came on an answer part (not a thought) is kept as a block with no text.
  let pendingSignature: string | undefined;
  for (const block of message.thinking_blocks ?? ([] as ThinkingBlock[])) {
    if (block.type === "redacted_thinking") {
      throw new UnsupportedRequest(`${param}: Gemini cannot take redacted thinking blocks.`, param);
    }
    if (block.thinking === "") pendingSignature = block.signature;
    else {
      const part: GeminiPart = { text: block.thinking, thought: true };
      if (block.signature !== undefined) part.thoughtSignature = block.signature;
      parts.push(part);
    }
  }
  const text = textOf(message.content);
  if (text !== "") {
    const part: GeminiPart = { text };
    if (pendingSignature !== undefined) part.thoughtSignature = pendingSignature;
    parts.push(part);
  }
  for (const call of message.tool_calls ?? []) {
    let args: unknown;
    try {
      args = call.function.arguments === "" ? {} : JSON.parse(call.function.arguments);
    } catch {
      throw new UnsupportedRequest(
        `${param}: the arguments of tool call '${call.id}' are not valid JSON.`,
        param,
      );
    }
    const part: GeminiPart = {
      functionCall: { name: call.function.name, args: (args ?? {}) as Record<string, unknown> },
    };
    const signature = signatureOf(call.id);
    if (signature !== undefined) part.thoughtSignature = signature;
    parts.push(part);
  }
  return parts;
}

function toolResponse(content: string | TextPart[]): Record<string, unknown> {
  const text = typeof content === "string" ? content : textOf(content);
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
    return { result: parsed };
  } catch {
    return { result: text };
  }
}

function push(contents: GeminiContent[], role: "user" | "model", parts: GeminiPart[]): void {
  const last = contents[contents.length - 1];
  if (last !== undefined && last.role === role) {
    for (const part of parts) last.parts.push(part);
  } else contents.push({ role, parts });
}

function unsupported(request: ChatRequest, name: string, detail: string): void {
  if (request.drop_params === true) return;
  throw new UnsupportedRequest(
    `Gemini does not support '${name}'${detail}. Remove it, or set drop_params: true to drop it.`,
    name,
  );
}

export function geminiRequest(request: ChatRequest): GeminiRequest {
  for (const key in request) {
    if (!HANDLED.has(key) && (request as unknown as Record<string, unknown>)[key] !== undefined) {
      unsupported(request, key, "");
    }
  }

  const contents: GeminiContent[] = [];
  const system: GeminiPart[] = [];
  const toolNames = new Map<string, string>();
  for (let i = 0; i < request.messages.length; i++) {
    const message = request.messages[i] as ChatMessage;
    const param = `messages[${i}]`;
    switch (message.role) {
      case "system":
      case "developer":
        system.push({ text: textOf(message.content) });
        break;
      case "user":
        push(contents, "user", contentParts(message.content, `${param}.content`));
        break;
      case "assistant":
        for (const call of message.tool_calls ?? []) toolNames.set(call.id, call.function.name);
        push(contents, "model", assistantParts(message, param));
        break;
      case "tool": {
        const name = toolNames.get(message.tool_call_id);
        if (name === undefined) {
          throw new UnsupportedRequest(
            `${param}.tool_call_id '${message.tool_call_id}' answers no tool call of an earlier assistant message.`,
            `${param}.tool_call_id`,
          );
        }
        push(contents, "user", [{ functionResponse: { name, response: toolResponse(message.content) } }]);
        break;
      }
      default:
        throw new UnsupportedRequest(`${param}: unknown role.`, `${param}.role`);
    }
  }

  const out: GeminiRequest = { contents };
  if (system.length > 0) out.systemInstruction = { parts: system };

  if (request.tools !== undefined && request.tools.length > 0) {
    out.tools = [
      {
        functionDeclarations: request.tools.map((tool, i) => {
          const fn = tool.function;
          const declaration: { name: string; description?: string; parameters?: Record<string, unknown> } = {
            name: fn.name,
          };
          if (fn.description !== undefined) declaration.description = fn.description;
          const parameters = fn.parameters;
          // Gemini refuses an OBJECT schema without properties; a function without arguments has none.
          if (parameters !== undefined && !(parameters.type === "object" && isEmpty(parameters.properties))) {
            declaration.parameters = geminiSchema(parameters, `tools[${i}].function.parameters`);
          }
          return declaration;
        }),
      },
    ];
  }
  const toolConfig = toolConfigOf(request);
  if (toolConfig !== undefined) out.toolConfig = toolConfig;
  if (request.parallel_tool_calls === false) {
    unsupported(request, "parallel_tool_calls", " set to false (it cannot limit a turn to one call)");
  }

  const config: GeminiGenerationConfig = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens;
  if (request.stop !== undefined)
    config.stopSequences = typeof request.stop === "string" ? [request.stop] : request.stop;
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.top_p !== undefined) config.topP = request.top_p;
  if (request.top_k !== undefined) config.topK = request.top_k;
  if (request.n !== undefined) config.candidateCount = request.n;
  if (request.seed !== undefined) config.seed = request.seed;
  if (request.presence_penalty !== undefined) config.presencePenalty = request.presence_penalty;
  if (request.frequency_penalty !== undefined) config.frequencyPenalty = request.frequency_penalty;
  const extra = request as { logprobs?: boolean; top_logprobs?: number };
  if (extra.logprobs === true) config.responseLogprobs = true;
  if (extra.top_logprobs !== undefined) config.logprobs = extra.top_logprobs;
  const format = request.response_format;
  if (format !== undefined && format.type !== "text") {
    config.responseMimeType = "application/json";
    if (format.type === "json_schema" && format.json_schema.schema !== undefined) {
      config.responseSchema = geminiSchema(format.json_schema.schema, "response_format.json_schema.schema");
    }
  }
  const thinking = thinkingConfigOf(request);
  if (thinking !== undefined) config.thinkingConfig = thinking;
  if (!isEmpty(config)) out.generationConfig = config;
  return out;
}

function isEmpty(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  for (const _ in value) return false;
  return true;
}

function toolConfigOf(request: ChatRequest): GeminiToolConfig | undefined {
  const choice = request.tool_choice;
  if (choice === undefined) return undefined;
  if (choice === "none") return { functionCallingConfig: { mode: "NONE" } };
  if (choice === "auto") return { functionCallingConfig: { mode: "AUTO" } };
  if (choice === "required") return { functionCallingConfig: { mode: "ANY" } };
  return { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [choice.function.name] } };
}

function thinkingConfigOf(request: ChatRequest): GeminiThinkingConfig | undefined {
  const thinking = request.thinking;
  if (thinking?.type === "disabled") return { thinkingBudget: 0 };
  if (thinking?.type === "enabled") return { thinkingBudget: thinking.budget_tokens, includeThoughts: true };
  const effort = request.reasoning_effort;
  if (effort !== undefined) {
    const budget = REASONING_BUDGETS[effort];
    if (budget === undefined) {
      throw new UnsupportedRequest(
        `reasoning_effort '${effort}' is not one of minimal, low, medium, high.`,
        "reasoning_effort",
      );
    }
    return { thinkingBudget: budget, includeThoughts: true };
  }
  return undefined;
}

/** Canonical embeddings request → `batchEmbedContents` body (Gemini API). */
export function geminiEmbeddingsTexts(request: EmbeddingsRequest): string[] {
  const input = request.input;
  if (typeof input === "string") return [input];
  const texts: string[] = [];
  for (const item of input) {
    if (typeof item !== "string") {
      throw new UnsupportedRequest("Gemini embeddings take text input only, not token arrays.", "input");
    }
    texts.push(item);
  }
  return texts;
}
