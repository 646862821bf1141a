// The canonical shape every wire format converts to and from. It is OpenAI's Chat Completions shape,
// because most clients and most providers already speak it (so the common case needs no conversion), plus
// the few fields other providers carry that OpenAI's shape has no place for: thinking blocks with their
// signatures, prompt-cache markers, top_k. Converters map what has an equivalent and follow the
// `drop_params` policy (UnsupportedRequest in src/providers/adapter.ts) for what does not.

export type Role = "system" | "developer" | "user" | "assistant" | "tool";

/** Anthropic's prompt-cache marker, carried on content parts, tools and system parts. */
export interface CacheControl {
  type: "ephemeral";
  ttl?: "5m" | "1h";
}

export interface TextPart {
  type: "text";
  text: string;
  cache_control?: CacheControl;
}

export interface ImagePart {
  type: "image_url";
  /** An https URL or a `data:<media type>;base64,<data>` URL. */
  image_url: { url: string; detail?: "auto" | "low" | "high" };
  cache_control?: CacheControl;
}

/** A document (PDF) given inline, as OpenAI's `file` part with `file_data` as a data URL. */
export interface FilePart {
  type: "file";
  file: { file_data?: string; file_id?: string; filename?: string };
  cache_control?: CacheControl;
}

export type ContentPart = TextPart | ImagePart | FilePart;

export interface ToolCall {
  id: string;
  type: "function";
  /** `arguments` is JSON text, as OpenAI sends it. */
  function: { name: string; arguments: string };
}

/** Reasoning a provider returned, kept verbatim so it can be sent back on the next turn. */
export type ThinkingBlock =
  | { type: "thinking"; thinking: string; signature?: string }
  | { type: "redacted_thinking"; data: string };

export interface SystemMessage {
  role: "system" | "developer";
  content: string | TextPart[];
  name?: string;
}

export interface UserMessage {
  role: "user";
  content: string | ContentPart[];
  name?: string;
}

export interface AssistantMessage {
  role: "assistant";
  content: string | TextPart[] | null;
  tool_calls?: ToolCall[];
  /** Plain-text reasoning (DeepSeek, OpenRouter, vLLM name it so). */
  reasoning_content?: string;
  thinking_blocks?: ThinkingBlock[];
  refusal?: string | null;
  name?: string;
}

export interface ToolMessage {
  role: "tool";
  tool_call_id: string;
  content: string | TextPart[];
}

export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

export interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
  cache_control?: CacheControl;
}

export type ToolChoice = "none" | "auto" | "required" | { type: "function"; function: { name: string } };

export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | {
      type: "json_schema";
      json_schema: { name: string; description?: string; schema?: Record<string, unknown>; strict?: boolean };
    };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop?: string | string[];
  n?: number;
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  user?: string;
  tools?: FunctionTool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  reasoning_effort?: "minimal" | "low" | "medium" | "high";
  /** Anthropic-style reasoning budget; converters map it to each provider's own knob. */
  thinking?: { type: "enabled"; budget_tokens: number } | { type: "disabled" };
  metadata?: Record<string, string>;
  /** LiteLLM's per-request policy for parameters the provider cannot take. */
  drop_params?: boolean;
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
  /** Tokens written to the provider's prompt cache (Anthropic, Bedrock). */
  cache_creation_input_tokens?: number;
}

export interface ChatResponse {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: {
    index: number;
    message: AssistantMessage;
    finish_reason: FinishReason | null;
  }[];
  usage?: Usage;
}

export interface ChatChunkDelta {
  role?: "assistant";
  content?: string | null;
  reasoning_content?: string;
  /** A thinking block's signature arrives at its end, as its own delta. */
  thinking_blocks?: ThinkingBlock[];
  tool_calls?: {
    index: number;
    id?: string;
    type?: "function";
    function?: { name?: string; arguments?: string };
  }[];
  refusal?: string | null;
}

export interface ChatChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: { index: number; delta: ChatChunkDelta; finish_reason: FinishReason | null }[];
  usage?: Usage | null;
}

export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: "float" | "base64";
  dimensions?: number;
  user?: string;
}

export interface EmbeddingsResponse {
  object: "list";
  model: string;
  data: { object: "embedding"; index: number; embedding: number[] | string }[];
  usage: { prompt_tokens: number; total_tokens: number };
}

/** An error in the canonical (OpenAI) shape, with the HTTP status it came with. */
export interface CanonicalError {
  status: number;
  message: string;
  type: string;
  code: string | number | null;
  param: string | null;
}
