// Well-known providers: where they live, how they authenticate, which environment variables configure
// them and which model names they are known to serve. `openaiPath` is where a provider's OpenAI-compatible
// API lives; providers with a wire format of their own are reached through their adapters
// (src/providers/<name>/).

/** How a key is sent: `Authorization: Bearer <key>`, an `api-key: <key>` header (Azure), or not at all. */
export type AuthStyle = "bearer" | "api-key" | "none";

export interface CatalogEntry {
  readonly name: string;
  readonly defaultBaseUrl: string;
  /** Path of the OpenAI-compatible API under the root, e.g. "/v1" or "/v1beta/openai". */
  readonly openaiPath: string;
  readonly auth: AuthStyle;
  /** Environment variables holding the API key, first found wins. */
  readonly keyEnv: readonly string[];
  readonly baseUrlEnv: string;
  /** A bare model name matching one of these resolves to this provider. */
  readonly modelFamilies: readonly RegExp[];
}

const entry = (e: CatalogEntry): CatalogEntry => e;

export const PROVIDER_CATALOG: readonly CatalogEntry[] = [
  entry({
    name: "openai",
    defaultBaseUrl: "https://api.openai.com",
    openaiPath: "/v1",
    auth: "bearer",
    keyEnv: ["OPENAI_API_KEY"],
    baseUrlEnv: "OPENAI_BASE_URL",
    modelFamilies: [
      /^gpt-/,
      /^o\d(-|$)/,
      /^chatgpt-/,
      /^text-embedding-/,
      /^(davinci|babbage)-/,
      /^omni-moderation/,
      /^text-moderation/,
      /^(whisper|tts)-/,
      /^dall-e-/,
      /^codex-/,
    ],
  }),
  entry({
    name: "anthropic",
    defaultBaseUrl: "https://api.anthropic.com",
    openaiPath: "/v1",
    auth: "bearer",
    keyEnv: ["ANTHROPIC_API_KEY"],
    baseUrlEnv: "ANTHROPIC_BASE_URL",
    modelFamilies: [/^claude-/],
  }),
  entry({
    name: "gemini",
    defaultBaseUrl: "https://generativelanguage.googleapis.com",
    openaiPath: "/v1beta/openai",
    auth: "bearer",
    keyEnv: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    baseUrlEnv: "GEMINI_BASE_URL",
    modelFamilies: [/^gemini-/, /^gemma-/, /^text-embedding-004$/, /^gemini-embedding-/],
  }),
  entry({
    name: "groq",
    defaultBaseUrl: "https://api.groq.com",
    openaiPath: "/openai/v1",
    auth: "bearer",
    keyEnv: ["GROQ_API_KEY"],
    baseUrlEnv: "GROQ_BASE_URL",
    modelFamilies: [
      /^llama-3\.\d+-\d+b-(versatile|instant)$/,
      /^llama3-/,
      /^gemma2-/,
      /^mixtral-8x7b-32768$/,
    ],
  }),
  entry({
    name: "mistral",
    defaultBaseUrl: "https://api.mistral.ai",
    openaiPath: "/v1",
    auth: "bearer",
    keyEnv: ["MISTRAL_API_KEY"],
    baseUrlEnv: "MISTRAL_BASE_URL",
    modelFamilies: [
      /^mistral-/,
      /^codestral-/,
      /^pixtral-/,
      /^magistral-/,
      /^ministral-/,
      /^devstral-/,
      /^open-mi[sx]tral-/,
    ],
  }),
  entry({
    name: "deepseek",
    defaultBaseUrl: "https://api.deepseek.com",
    openaiPath: "/v1",
    auth: "bearer",
    keyEnv: ["DEEPSEEK_API_KEY"],
    baseUrlEnv: "DEEPSEEK_BASE_URL",
    modelFamilies: [/^deepseek-(chat|reasoner|coder)/],
  }),
  entry({
    name: "xai",
    defaultBaseUrl: "https://api.x.ai",
    openaiPath: "/v1",
    auth: "bearer",
    keyEnv: ["XAI_API_KEY"],
    baseUrlEnv: "XAI_BASE_URL",
    modelFamilies: [/^grok-/],
  }),
  entry({
    name: "openrouter",
    defaultBaseUrl: "https://openrouter.ai",
    openaiPath: "/api/v1",
    auth: "bearer",
    keyEnv: ["OPENROUTER_API_KEY"],
    baseUrlEnv: "OPENROUTER_BASE_URL",
    modelFamilies: [],
  }),
  entry({
    name: "together",
    defaultBaseUrl: "https://api.together.xyz",
    openaiPath: "/v1",
    auth: "bearer",
    keyEnv: ["TOGETHER_API_KEY", "TOGETHERAI_API_KEY"],
    baseUrlEnv: "TOGETHER_BASE_URL",
    modelFamilies: [],
  }),
  entry({
    name: "fireworks",
    defaultBaseUrl: "https://api.fireworks.ai",
    openaiPath: "/inference/v1",
    auth: "bearer",
    keyEnv: ["FIREWORKS_API_KEY"],
    baseUrlEnv: "FIREWORKS_BASE_URL",
    modelFamilies: [/^accounts\/fireworks\//],
  }),
  entry({
    name: "cerebras",
    defaultBaseUrl: "https://api.cerebras.ai",
    openaiPath: "/v1",
    auth: "bearer",
    keyEnv: ["CEREBRAS_API_KEY"],
    baseUrlEnv: "CEREBRAS_BASE_URL",
    modelFamilies: [],
  }),
  entry({
    name: "perplexity",
    defaultBaseUrl: "https://api.perplexity.ai",
    openaiPath: "",
    auth: "bearer",
    keyEnv: ["PERPLEXITY_API_KEY", "PERPLEXITYAI_API_KEY"],
    baseUrlEnv: "PERPLEXITY_BASE_URL",
    modelFamilies: [/^sonar(-|$)/, /^r1-1776$/],
  }),
  entry({
    name: "ollama",
    defaultBaseUrl: "http://localhost:11434",
    openaiPath: "/v1",
    auth: "none",
    keyEnv: [],
    baseUrlEnv: "OLLAMA_BASE_URL",
    modelFamilies: [],
  }),
  entry({
    // Each key names its own resource (azure.endpoint); the base URL is the fallback for keys without one.
    name: "azure",
    defaultBaseUrl: "",
    openaiPath: "",
    auth: "api-key",
    keyEnv: ["AZURE_API_KEY", "AZURE_OPENAI_API_KEY"],
    baseUrlEnv: "AZURE_API_BASE",
    modelFamilies: [],
  }),
  entry({
    name: "cohere",
    defaultBaseUrl: "https://api.cohere.com",
    openaiPath: "",
    auth: "bearer",
    keyEnv: ["COHERE_API_KEY", "CO_API_KEY"],
    baseUrlEnv: "COHERE_BASE_URL",
    modelFamilies: [/^command(-|$)/, /^c4ai-aya-/, /^embed-(english|multilingual|v\d)/],
  }),
  entry({
    name: "vllm",
    defaultBaseUrl: "http://localhost:8000",
    openaiPath: "/v1",
    auth: "bearer",
    keyEnv: ["VLLM_API_KEY"],
    baseUrlEnv: "VLLM_BASE_URL",
    modelFamilies: [],
  }),
  entry({
    name: "lmstudio",
    defaultBaseUrl: "http://localhost:1234",
    openaiPath: "/v1",
    auth: "none",
    keyEnv: [],
    baseUrlEnv: "LMSTUDIO_BASE_URL",
    modelFamilies: [],
  }),
  entry({
    // Signed with SigV4 per key (bedrock key config); the origin follows the key's region unless a base
    // URL is configured. AWS_* credentials are read by the environment loader, not as a bearer key.
    name: "bedrock",
    defaultBaseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com",
    openaiPath: "",
    auth: "none",
    keyEnv: [],
    baseUrlEnv: "",
    modelFamilies: [
      /^(?:(?:us|eu|apac|global|us-gov|jp|au|ca)\.)?(?:anthropic|amazon|meta|mistral|cohere|ai21|deepseek|writer|qwen|openai)\.[\w.-]+(?::\d+)?$/,
      /^arn:aws(?:-[a-z]+)*:bedrock:/,
    ],
  }),
  entry({
    // The origin comes from each key's region (https://{region}-aiplatform.googleapis.com) unless a base
    // URL is configured; keys authenticate with a service account, not a static key.
    name: "vertex",
    defaultBaseUrl: "",
    openaiPath: "",
    auth: "none",
    keyEnv: [],
    baseUrlEnv: "",
    modelFamilies: [],
  }),
];

const byName = new Map(PROVIDER_CATALOG.map((e) => [e.name, e]));

/** Providers not in the catalog (vLLM, LM Studio, any `custom` entry) speak the OpenAI API under /v1. */
export const CUSTOM_PROVIDER: CatalogEntry = {
  name: "custom",
  defaultBaseUrl: "",
  openaiPath: "/v1",
  auth: "bearer",
  keyEnv: [],
  baseUrlEnv: "",
  modelFamilies: [],
};

export function catalogEntry(kind: string): CatalogEntry {
  return byName.get(kind) ?? CUSTOM_PROVIDER;
}

/** `root` plus `apiPath`, unless the root already ends with that path (OPENAI_BASE_URL usually has /v1). */
export function apiBaseUrl(root: string, apiPath: string): string {
  const trimmed = root.endsWith("/") ? root.slice(0, -1) : root;
  return apiPath === "" || trimmed.endsWith(apiPath) ? trimmed : trimmed + apiPath;
}
