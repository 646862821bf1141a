import { countTokens, nativeStatus } from "../../native/index.js";

// An estimate of a Messages request's input tokens for models that are not Anthropic's: the o200k_base
// count of the text the model reads (system, message text, tool calls and results, thinking, tool
// definitions). Images and documents are not counted, and Anthropic's own tokenizer differs, which is why
// requests for Anthropic models go to Anthropic's count_tokens endpoint instead.

// Counting is CPU time a lane spends on nothing else, so it is bounded (measured with o200k_base on one
// core): runs of whitespace or of anything else are broken every MAX_RUN characters, since the work on one
// run grows with its length squared (64 Ki characters without whitespace took 2.8 s in the addon and 1 Mi
// overflowed its stack, 64 Ki spaces took 1.8 s; the fallback took 2 s on 4 Ki characters), and text past
// COUNTED_CHARS is estimated at the rate of its first COUNTED_CHARS. The addon counts 64 Ki characters of
// anything in at most ~20 ms; the TypeScript fallback is up to 50 µs a character (CJK), so it counts 4 Ki.
export const COUNTED_CHARS = nativeStatus.loaded ? 64 << 10 : 4 << 10;
const MAX_RUN = 64;
const LONG_RUN = new RegExp(`\\S{${MAX_RUN}}(?=\\S)|\\s{${MAX_RUN}}(?=\\s)`, "g");
/** A run is broken by a character of the other kind. */
const breakRun = (run: string): string => (/\s/.test(run.charAt(0)) ? `${run}.` : `${run} `);

/** The o200k_base count of `text`, exact for texts within the bounds above and estimated beyond them. */
export function boundedTokenCount(text: string): number {
  const sample = text.length > COUNTED_CHARS ? text.slice(0, COUNTED_CHARS) : text;
  const counted = countTokens(sample.replace(LONG_RUN, breakRun), "o200k_base");
  return sample.length === text.length ? counted : Math.round((counted * text.length) / sample.length);
}

// biome-ignore lint/suspicious/noExplicitAny: the body is read leniently; anything unexpected counts as nothing
type Loose = any;

function blockText(block: Loose, out: string[]): void {
  if (typeof block === "string") {
    out.push(block);
    return;
  }
  if (typeof block !== "object" || block === null) return;
  switch (block.type) {
    case "text":
      if (typeof block.text === "string") out.push(block.text);
      return;
    case "thinking":
      if (typeof block.thinking === "string") out.push(block.thinking);
      return;
    case "tool_use":
      if (typeof block.name === "string") out.push(block.name);
      out.push(JSON.stringify(block.input ?? {}));
      return;
    case "tool_result":
      if (Array.isArray(block.content)) for (const item of block.content) blockText(item, out);
      else blockText(block.content, out);
      return;
    case "document":
      if (block.source?.type === "text" && typeof block.source.data === "string") out.push(block.source.data);
      return;
  }
}

export function estimateInputTokens(body: Loose): number {
  const out: string[] = [];
  const system = body?.system;
  if (Array.isArray(system)) for (const block of system) blockText(block, out);
  else blockText(system, out);
  if (Array.isArray(body?.messages)) {
    for (const message of body.messages) {
      const content = message?.content;
      if (Array.isArray(content)) for (const block of content) blockText(block, out);
      else blockText(content, out);
    }
  }
  if (Array.isArray(body?.tools)) {
    for (const tool of body.tools) {
      if (typeof tool?.name === "string") out.push(tool.name);
      if (typeof tool?.description === "string") out.push(tool.description);
      if (tool?.input_schema !== undefined) out.push(JSON.stringify(tool.input_schema));
    }
  }
  return out.length === 0 ? 0 : boundedTokenCount(out.join("\n"));
}
