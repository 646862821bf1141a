import { countTokens } from "../../native/index.js";

// A request's token estimate before it is sent. Its prompt is first bounded by its size: every token of
// every supported tokenizer (o200k, Anthropic's, Gemini's) covers at least one byte, so the body's bytes
// are more tokens than any provider counts for it, at no cost. Only when that bound does not fit a limit
// is the prompt counted with the Rust tokenizer over the whole body (JSON syntax and image data count
// too), never under a quarter of its bytes, since providers whose tokenizers differ from o200k count more
// tokens for the same text. Output is bounded by the client's cap, else the model's own limit, else a
// default stated in docs/governance.md.

/** Output tokens assumed when neither the request nor the price table gives a limit. */
export const DEFAULT_OUTPUT_TOKENS = 4096;

/**
 * Larger bodies are neither tokenized nor parsed for their output cap (a hostile body could hold a lane
 * for seconds): their prompt stays bounded by their bytes, their output by the model's limit.
 */
export const COUNTED_BODY_LIMIT = 1 << 20;

const MAX_ = Buffer.from('"max_');
const MAX_OUTPUT = Buffer.from('"maxOutputTokens"');

/** The request fields that cap output, per wire format. */
const OUTPUT_CAPS = ["max_tokens", "max_completion_tokens", "max_output_tokens"] as const;

/** The prompt's tokens as the tokenizer counts them (see above); its bytes past COUNTED_BODY_LIMIT. */
export function countedPromptTokens(body: Buffer): number {
  if (body.length > COUNTED_BODY_LIMIT) return body.length;
  return Math.max(countTokens(body.toString("utf8"), "o200k_base"), Math.ceil(body.length / 4));
}

/** The client's cap on output tokens; -1 when it set none (or the body is too large to read for it). */
export function outputCapOf(body: Buffer): number {
  // Without the bytes of any cap's name there is no cap to read (a name hidden behind escapes counts as
  // none, which only makes the estimate larger).
  if (body.length > COUNTED_BODY_LIMIT || (body.indexOf(MAX_) < 0 && body.indexOf(MAX_OUTPUT) < 0)) return -1;
  let parsed: unknown;
  try {
    // Parsed, not searched: a byte search could be fooled by "max_tokens" in a message's text.
    parsed = JSON.parse(body.toString("utf8"));
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
