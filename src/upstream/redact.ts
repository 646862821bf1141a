// Provider error bodies sometimes echo the credential they were sent ("Incorrect API key provided: sk-...").
// Every relay passes an error body through `redactSecrets` before anything reads or relays it, so a key
// never reaches a client, a log or a converted error message.

/** Error bodies are relayed up to this size; the rest is dropped unread. */
export const ERROR_BODY_LIMIT = 64 << 10;

export const REDACTED = "[redacted]";

/** A configured key shorter than this is not looked for: replacing it would mangle ordinary text. */
const MIN_SECRET_LENGTH = 8;

/**
 * Shapes of credentials whatever key was used: OpenAI and Anthropic keys (also partly masked, as OpenAI
 * echoes them), Google API keys and OAuth access tokens, AWS access key ids, and any bearer token.
 */
const KEY_SHAPES =
  /\bsk-[\w*-]{8,}|\bAIza[\w-]{20,}|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bya29\.[\w-]{10,}|(?<=\b[Bb]earer\s+)[\w.~+/=-]{8,}/g;

/**
 * `body` cut to ERROR_BODY_LIMIT, with `secret` (the attempt's key) and anything shaped like a key replaced
 * by REDACTED. The same Buffer when there was nothing to change.
 */
export function redactSecrets(body: Buffer, secret: string): Buffer {
  const bounded = body.length > ERROR_BODY_LIMIT ? body.subarray(0, ERROR_BODY_LIMIT) : body;
  const text = bounded.toString("utf8");
  let out = secret.length >= MIN_SECRET_LENGTH ? text.replaceAll(secret, REDACTED) : text;
  out = out.replace(KEY_SHAPES, REDACTED);
  return out === text ? bounded : Buffer.from(out);
}
