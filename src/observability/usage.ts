// Token usage as providers report it at the end of a reply or in a stream's chunks: OpenAI's
// `"usage": {"prompt_tokens": N, "completion_tokens": M, "prompt_tokens_details": {"cached_tokens": C}, ...}`,
// the Responses API's and Anthropic's input/output_tokens, and Gemini's `"usageMetadata": {...}`. Found by
// byte search rather than by parsing the reply, which the gateway otherwise relays untouched.
import type { Usage as CanonicalUsage } from "../formats/canonical.js";

/** The start both `"usage"` and `"usageMetadata"` share: one search finds either. */
const USAGE_KEY = Buffer.from('"usage');
const USAGE = Buffer.from('"usage"');
const METADATA = Buffer.from('Metadata"');
const GEMINI_PROMPT = Buffer.from('"promptTokenCount"');
const GEMINI_TOOL_PROMPT = Buffer.from('"toolUsePromptTokenCount"');
const GEMINI_CANDIDATES = Buffer.from('"candidatesTokenCount"');
const GEMINI_THOUGHTS = Buffer.from('"thoughtsTokenCount"');
const GEMINI_CACHED = Buffer.from('"cachedContentTokenCount"');
const PROMPT = Buffer.from('"prompt_tokens"');
const COMPLETION = Buffer.from('"completion_tokens"');
const INPUT = Buffer.from('"input_tokens"');
const OUTPUT = Buffer.from('"output_tokens"');
/** OpenAI's prompt_tokens_details and the Responses API's input_tokens_details. */
const CACHED = Buffer.from('"cached_tokens"');
/** DeepSeek's name for cache hits, beside or instead of cached_tokens. */
const CACHE_HIT = Buffer.from('"prompt_cache_hit_tokens"');
const REASONING = Buffer.from('"reasoning_tokens"');
const CACHE_READ = Buffer.from('"cache_read_input_tokens"');
const CACHE_CREATION = Buffer.from('"cache_creation_input_tokens"');

/**
 * One exchange's tokens, in OpenAI's sense of the totals whatever the provider: `prompt` is every input
 * token, cache reads and cache writes included (Anthropic's input_tokens counts neither, so there prompt
 * is input_tokens + cache_read_input_tokens + cache_creation_input_tokens), and `completion` every output
 * token, reasoning included. The other three are parts of those totals, so the input billed at the plain
 * rate is `prompt - cachedRead - cacheWrite`.
 */
export interface Usage {
  prompt: number;
  completion: number;
  /** Of `prompt`, tokens read from the provider's prompt cache. */
  cachedRead: number;
  /** Of `prompt`, tokens written to the provider's prompt cache (Anthropic, Bedrock). */
  cacheWrite: number;
  /** Of `completion`, reasoning (thinking) tokens. */
  reasoning: number;
}

export function emptyUsage(): Usage {
  return { prompt: 0, completion: 0, cachedRead: 0, cacheWrite: 0, reasoning: 0 };
}

/** Copies the canonical (OpenAI-shaped) usage a converted reply carries into `into`. */
export function copyCanonicalUsage(usage: CanonicalUsage, into: Usage): void {
  into.prompt = usage.prompt_tokens;
  into.completion = usage.completion_tokens;
  into.cachedRead = usage.prompt_tokens_details?.cached_tokens ?? 0;
  into.cacheWrite = usage.cache_creation_input_tokens ?? 0;
  into.reasoning = usage.completion_tokens_details?.reasoning_tokens ?? 0;
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
    if (matchesAt(chunk, end, METADATA)) return readGemini(chunk, at, end + METADATA.length, into);
  }
  return false;
}

function readOpenAIOrAnthropic(chunk: Buffer, at: number, valueAt: number, into: Usage): boolean {
  const end = objectEnd(chunk, valueAt);
  if (end === -1) return false;
  const prompt = numberIn(chunk, PROMPT, at, end);
  if (prompt < 0) return readInputOutput(chunk, at, end, into);
  into.prompt = prompt;
  into.completion = Math.max(0, numberIn(chunk, COMPLETION, at, end));
  const cached = numberIn(chunk, CACHED, at, end);
  into.cachedRead = cached >= 0 ? cached : Math.max(0, numberIn(chunk, CACHE_HIT, at, end));
  // Gateways that translate Anthropic replies (this one included) report cache writes under Anthropic's name.
  into.cacheWrite = Math.max(0, numberIn(chunk, CACHE_CREATION, at, end));
  into.reasoning = Math.max(0, numberIn(chunk, REASONING, at, end));
  return true;
}

/**
 * Gemini counts thinking apart from the answer; both are output tokens, as OpenAI counts reasoning. Its
 * promptTokenCount already includes cachedContentTokenCount.
 */
function readGemini(chunk: Buffer, at: number, valueAt: number, into: Usage): boolean {
  const end = objectEnd(chunk, valueAt);
  if (end === -1) return false;
  const prompt = numberIn(chunk, GEMINI_PROMPT, at, end);
  const candidates = numberIn(chunk, GEMINI_CANDIDATES, at, end);
  if (prompt < 0 && candidates < 0) return false;
  const thoughts = Math.max(0, numberIn(chunk, GEMINI_THOUGHTS, at, end));
  into.prompt = Math.max(0, prompt) + Math.max(0, numberIn(chunk, GEMINI_TOOL_PROMPT, at, end));
  into.completion = Math.max(0, candidates) + thoughts;
  into.cachedRead = Math.max(0, numberIn(chunk, GEMINI_CACHED, at, end));
  into.cacheWrite = 0;
  into.reasoning = thoughts;
  return true;
}

/**
 * Anthropic's names and the Responses API's. A stream's message_start carries Anthropic's input counts and
 * its message_delta the cumulative output_tokens, so the input is taken from the last usage object that
 * has it, else the first, and the output from the last. Anthropic's input_tokens leaves out cache reads
 * and writes, reported beside it; the Responses API's includes its input_tokens_details.cached_tokens.
 */
function readInputOutput(chunk: Buffer, lastAt: number, lastEnd: number, into: Usage): boolean {
  const output = numberIn(chunk, OUTPUT, lastAt, lastEnd);
  let inAt = lastAt;
  let inEnd = lastEnd;
  let input = numberIn(chunk, INPUT, lastAt, lastEnd);
  if (input < 0) {
    inAt = firstUsageObject(chunk);
    if (inAt !== -1 && inAt < lastAt) {
      inEnd = objectEnd(chunk, inAt + USAGE.length);
      input = numberIn(chunk, INPUT, inAt, inEnd);
    }
  }
  if (input < 0 && output < 0) return false;
  if (input >= 0) {
    const cacheRead = numberIn(chunk, CACHE_READ, inAt, inEnd);
    const cacheWrite = numberIn(chunk, CACHE_CREATION, inAt, inEnd);
    if (cacheRead >= 0 || cacheWrite >= 0) {
      into.cachedRead = Math.max(0, cacheRead);
      into.cacheWrite = Math.max(0, cacheWrite);
      into.prompt = input + into.cachedRead + into.cacheWrite;
    } else {
      into.cachedRead = Math.max(0, numberIn(chunk, CACHED, inAt, inEnd));
      into.cacheWrite = 0;
      into.prompt = input;
    }
  }
  if (output >= 0) {
    into.completion = output;
    into.reasoning = Math.max(0, numberIn(chunk, REASONING, lastAt, lastEnd));
  }
  return true;
}

/** The first `"usage"` in `chunk` whose value is an object (stream events before the last carry null). */
function firstUsageObject(chunk: Buffer): number {
  for (let at = indexOf(chunk, USAGE, 0); at !== -1; at = indexOf(chunk, USAGE, at + USAGE.length))
    if (objectEnd(chunk, at + USAGE.length) !== -1) return at;
  return -1;
}

/** `chunk.lastIndexOf(needle)` among matches ending by `end`, with the NEAR bytes before `end` searched here. */
export function lastIndexOf(chunk: Buffer, needle: Buffer, end = chunk.length): number {
  const stop = end > NEAR ? end - NEAR : 0;
  for (let i = end - needle.length; i >= stop; i--) if (matchesAt(chunk, i, needle)) return i;
  return stop === 0 ? -1 : chunk.lastIndexOf(needle, stop - 1);
}

/**
 * `chunk.indexOf(needle, from)` among matches ending by `end`, with the NEAR bytes after `from` searched
 * here.
 */
export function indexOf(chunk: Buffer, needle: Buffer, from: number, end = chunk.length): number {
  const last = end - needle.length;
  const stop = Math.min(last, from + NEAR);
  for (let i = from; i <= stop; i++) if (matchesAt(chunk, i, needle)) return i;
  if (stop >= last) return -1;
  const found = chunk.indexOf(needle, stop + 1);
  return found <= last ? found : -1;
}

function matchesAt(chunk: Buffer, at: number, needle: Buffer): boolean {
  for (let k = 0; k < needle.length; k++) if (chunk[at + k] !== needle[k]) return false;
  return true;
}

/**
 * Where the object that is the value after a key ends (just past its `}`, or the chunk's end when the chunk
 * cuts it off); -1 when the value is no object (OpenAI streams with include_usage carry `"usage":null` in
 * every chunk but the last). Keys are searched only inside it, so a count missing from one usage object is
 * never taken from another event's.
 */
function objectEnd(chunk: Buffer, i: number): number {
  while (i < chunk.length && isBlankOrColon(chunk[i] as number)) i++;
  if (chunk[i] !== 0x7b) return -1;
  let depth = 0;
  let inString = false;
  for (; i < chunk.length; i++) {
    const c = chunk[i] as number;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return i + 1;
  }
  return chunk.length;
}

function isBlankOrColon(c: number): boolean {
  return c === 0x20 || c === 0x3a || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The whole number after `key` between `from` and `end`; -1 when the key is not there or has no number. */
function numberIn(chunk: Buffer, key: Buffer, from: number, end: number): number {
  const keyAt = indexOf(chunk, key, from, end);
  if (keyAt === -1) return -1;
  let i = keyAt + key.length;
  while (i < end && isBlankOrColon(chunk[i] as number)) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = chunk[i] as number;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
    digits++;
  }
  return digits === 0 ? -1 : value;
}
