// Token usage as OpenAI-compatible providers report it: `"usage": {"prompt_tokens": N, "completion_tokens": M}`
// at the end of a reply, or in the last chunk of a stream. Found by byte search rather than by parsing
// the reply, which the gateway otherwise relays untouched.

const USAGE = Buffer.from('"usage"');
const PROMPT = Buffer.from('"prompt_tokens"');
const COMPLETION = Buffer.from('"completion_tokens"');
const INPUT = Buffer.from('"input_tokens"');
const OUTPUT = Buffer.from('"output_tokens"');

export interface Usage {
  prompt: number;
  completion: number;
}

/** Reads the last usage object in `chunk` into `into`; false when there is none with numbers. */
export function readUsage(chunk: Buffer, into: Usage): boolean {
  const at = chunk.lastIndexOf(USAGE);
  if (at === -1) return false;
  const prompt = numberAfter(chunk, chunk.indexOf(PROMPT, at), PROMPT.length);
  if (prompt < 0) return readInputOutput(chunk, at, into);
  into.prompt = prompt;
  into.completion = Math.max(0, numberAfter(chunk, chunk.indexOf(COMPLETION, at), COMPLETION.length));
  return true;
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
  const input = numberAfter(chunk, chunk.indexOf(INPUT, chunk.indexOf(USAGE)), INPUT.length);
  const output = numberAfter(chunk, chunk.indexOf(OUTPUT, lastUsage), OUTPUT.length);
  if (input < 0 && output < 0) return false;
  if (input >= 0) into.prompt = input;
  if (output >= 0) into.completion = output;
  return true;
}
