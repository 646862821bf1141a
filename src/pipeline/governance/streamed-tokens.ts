import { countTokens } from "../../native/index.js";

// The tokens a streamed reply carried, counted from the events the client got: for a stream cut off before
// the provider reported usage. Every wire format's generated text sits in string fields with one of these
// names (OpenAI's delta content, tool arguments and reasoning, Anthropic's text, thinking and partial_json,
// Gemini's parts' text, the Responses API's delta).

const TEXT_FIELDS = new Set([
  "content",
  "text",
  "arguments",
  "partial_json",
  "thinking",
  "reasoning_content",
  "delta",
  "refusal",
]);

export function countStreamedTokens(pieces: readonly (Uint8Array | string)[]): number {
  const decoder = new TextDecoder();
  let stream = "";
  for (const piece of pieces)
    stream += typeof piece === "string" ? piece : decoder.decode(piece, { stream: true });
  const texts: string[] = [];
  for (const line of stream.split("\n")) {
    if (!line.startsWith("data:")) continue;
    const payload = line.slice(5).trim();
    if (payload === "" || payload === "[DONE]") continue;
    try {
      collect(JSON.parse(payload), texts, 0);
    } catch {
      // A line cut where the client left: its text is not counted.
    }
  }
  return texts.length === 0 ? 0 : countTokens(texts.join(""), "o200k_base");
}

function collect(value: unknown, into: string[], depth: number): void {
  if (depth > 16 || typeof value !== "object" || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) collect(item, into, depth + 1);
    return;
  }
  for (const [name, field] of Object.entries(value)) {
    if (typeof field === "string") {
      if (TEXT_FIELDS.has(name)) into.push(field);
    } else collect(field, into, depth + 1);
  }
}
