// Token usage as providers report it at the end of a reply or in a stream's chunks: OpenAI's
// `"usage": {"prompt_tokens": N, "completion_tokens": M}`, Anthropic's input/output_tokens, and Gemini's
// `"usageMetadata": {"promptTokenCount": N, "candidatesTokenCount": M, "thoughtsTokenCount": T}`. Found by
// byte search rather than by parsing the reply, which the gateway otherwise relays untouched.

/** The start both `"usage"` and `"usageMetadata"` share: one search finds either. */
const USAGE_KEY = Buffer.from('"usage');
const USAGE = Buffer.from('"usage"');
const METADATA = Buffer.from('Metadata"');
const GEMINI_PROMPT = Buffer.from('"promptTokenCount"');
const GEMINI_CANDIDATES = Buffer.from('"candidatesTokenCount"');
const GEMINI_THOUGHTS = Buffer.from('"thoughtsTokenCount"');
const PROMPT = Buffer.from('"prompt_tokens"');
const COMPLETION = Buffer.from('"completion_tokens"');
const INPUT = Buffer.from('"input_tokens"');
const OUTPUT = Buffer.from('"output_tokens"');

export interface Usage {
  prompt: number;
  completion: number;
}

/**
 * How many bytes near the usual place of a match are searched in JavaScript. Usage sits in a reply's last
 * few hundred bytes, where a plain loop costs less than a call into Buffer's C++ search; beyond this the
 * C++ search takes over.
 */
export const NEAR = 2048;

/** Reads the last usage object in `chunk` into `into`; false when there is none with numbers. */
export function readUsage(chunk: Buffer, into: Usage): boolean {
  // Another key that starts the same way ("usage_details", text in a message) is passed over.
  for (let at = lastIndexOf(chunk, USAGE_KEY); at !== -1; at = lastIndexOf(chunk, USAGE_KEY, at)) {
    const end = at + USAGE_KEY.length;
    if (chunk[end] === 0x22) return readOpenAIOrAnthropic(chunk, at, end + 1, into);
    if (matchesAt(chunk, end, METADATA)) return readGemini(chunk, at, into);
  }
  return false;
}

function readOpenAIOrAnthropic(chunk: Buffer, at: number, valueAt: number, into: Usage): boolean {
  if (isNullAfter(chunk, valueAt)) return false;
  const prompt = numberAfter(chunk, indexOf(chunk, PROMPT, at), PROMPT.length);
  if (prompt < 0) return readInputOutput(chunk, at, into);
  into.prompt = prompt;
  into.completion = Math.max(0, numberAfter(chunk, indexOf(chunk, COMPLETION, at), COMPLETION.length));
  return true;
}

/** Gemini counts thinking apart from the answer; both are output tokens, as OpenAI counts reasoning. */
function readGemini(chunk: Buffer, at: number, into: Usage): boolean {
  const prompt = numberAfter(chunk, indexOf(chunk, GEMINI_PROMPT, at), GEMINI_PROMPT.length);
  const candidates = numberAfter(chunk, indexOf(chunk, GEMINI_CANDIDATES, at), GEMINI_CANDIDATES.length);
  const thoughts = numberAfter(chunk, indexOf(chunk, GEMINI_THOUGHTS, at), GEMINI_THOUGHTS.length);
  if (prompt < 0 && candidates < 0) return false;
  into.prompt = Math.max(0, prompt);
  into.completion = Math.max(0, candidates) + Math.max(0, thoughts);
  return true;
}

/** `chunk.lastIndexOf(needle)` among matches ending by `end`, with the NEAR bytes before `end` searched here. */
export function lastIndexOf(chunk: Buffer, needle: Buffer, end = chunk.length): number {
  const stop = end > NEAR ? end - NEAR : 0;
  for (let i = end - needle.length; i >= stop; i--) if (matchesAt(chunk, i, needle)) return i;
  return stop === 0 ? -1 : chunk.lastIndexOf(needle, stop - 1);
}

/** `chunk.indexOf(needle, from)`, with the NEAR bytes after `from` searched here. */
export function indexOf(chunk: Buffer, needle: Buffer, from: number): number {
  const last = chunk.length - needle.length;
  const stop = Math.min(last, from + NEAR);
  for (let i = from; i <= stop; i++) if (matchesAt(chunk, i, needle)) return i;
  return stop < last ? chunk.indexOf(needle, stop + 1) : -1;
}

function matchesAt(chunk: Buffer, at: number, needle: Buffer): boolean {
  for (let k = 0; k < needle.length; k++) if (chunk[at + k] !== needle[k]) return false;
  return true;
}

/** OpenAI streams with include_usage carry `"usage":null` in every chunk but the last. */
function isNullAfter(chunk: Buffer, i: number): boolean {
  while (i < chunk.length && (chunk[i] === 0x20 || chunk[i] === 0x3a)) i++;
  return chunk[i] === 0x6e;
}

function numberAfter(chunk: Buffer, keyAt: number, keyLength: number): number {
  if (keyAt === -1) return -1;
  let i = keyAt + keyLength;
  while (
    i < chunk.length &&
    (chunk[i] === 0x20 || chunk[i] === 0x3a || chunk[i] === 0x0a || chunk[i] === 0x09)
  )
    i++;
  let value = 0;
  let digits = 0;
  for (; i < chunk.length; i++) {
    const c = chunk[i] as number;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? -1 : value;
}

/**
 * Anthropic's names (and the Responses API's): a stream's message_start carries input_tokens and its
 * message_delta the cumulative output_tokens, so each is taken where it is found.
 */
function readInputOutput(chunk: Buffer, lastUsage: number, into: Usage): boolean {
  const input = numberAfter(chunk, indexOf(chunk, INPUT, indexOf(chunk, USAGE, 0)), INPUT.length);
  const output = numberAfter(chunk, indexOf(chunk, OUTPUT, lastUsage), OUTPUT.length);
  if (input < 0 && output < 0) return false;
  if (input >= 0) into.prompt = input;
  if (output >= 0) into.completion = output;
  return true;
}
