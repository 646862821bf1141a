import { countTokens } from "../../native/index.js";

// An estimate of a Messages request's input tokens for models that are not Anthropic's: the o200k_base
// count of the text the model reads (system, message text, tool calls and results, thinking, tool
// definitions). Images and documents are not counted, and Anthropic's own tokenizer differs, which is why
// requests for Anthropic models go to Anthropic's count_tokens endpoint instead.

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
  return out.length === 0 ? 0 : countTokens(out.join("\n"), "o200k_base");
}
