// Token usage as OpenAI-compatible providers report it: `"usage": {"prompt_tokens": N, "completion_tokens": M}`
// at the end of a reply, or in the last chunk of a stream. Found by byte search rather than by parsing
// the reply, which the gateway otherwise relays untouched.

const USAGE = Buffer.from('"usage"');
const PROMPT = Buffer.from('"prompt_tokens"');
const COMPLETION = Buffer.from('"completion_tokens"');

export interface Usage {
  prompt: number;
  completion: number;
}

/** Reads the last usage object in `chunk` into `into`; false when there is none with numbers. */
export function readUsage(chunk: Buffer, into: Usage): boolean {
  const at = chunk.lastIndexOf(USAGE);
  if (at === -1) return false;
  const prompt = numberAfter(chunk, chunk.indexOf(PROMPT, at), PROMPT.length);
  if (prompt < 0) return false;
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
