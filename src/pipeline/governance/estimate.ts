import { countTokens } from "../../native/index.js";

// A request's token estimate before it is sent: the prompt counted with the tokenizer over the whole body
// (JSON syntax and image data count too), and never under a quarter of its bytes, since providers whose
// tokenizers differ from o200k (Anthropic's, Gemini's) count more tokens for the same text; and the most it
// may generate, as the client capped it, else the model's own limit, else a default stated in the docs.

/** Output tokens assumed when neither the request nor the price table gives a limit. */
export const DEFAULT_OUTPUT_TOKENS = 4096;

/** The request fields that cap output, per wire format. */
const OUTPUT_CAPS = ["max_tokens", "max_completion_tokens", "max_output_tokens"] as const;

export interface TokenEstimate {
  readonly prompt: number;
  /** The client's cap on output tokens; -1 when it set none. */
  readonly outputCap: number;
}

export function estimateTokens(body: Buffer): TokenEstimate {
  const text = body.toString("utf8");
  const prompt = Math.max(countTokens(text, "o200k_base"), Math.ceil(body.length / 4));
  return { prompt, outputCap: outputCapOf(text) };
}

/** The client's cap on output, read from the parsed body (a byte search could be fooled by message text). */
function outputCapOf(text: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return -1;
  }
  if (typeof parsed !== "object" || parsed === null) return -1;
  const fields = parsed as Record<string, unknown>;
  for (const name of OUTPUT_CAPS) {
    const value = fields[name];
    if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  }
  const generation = fields.generationConfig;
  if (typeof generation === "object" && generation !== null) {
    const value = (generation as Record<string, unknown>).maxOutputTokens;
    if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  }
  return -1;
}
