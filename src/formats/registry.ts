import { anthropicFormat } from "./anthropic/format.js";
import type { InboundFormat } from "./format.js";
import { geminiArrayFormat, geminiFormat } from "./gemini/format.js";
import { openAIFormat } from "./openai/format.js";
import { responsesFormat } from "./responses/format.js";

// Inbound wire formats by the name routes give them (see src/pipeline/routes.ts).

const formats = new Map<string, InboundFormat>([
  [openAIFormat.name, openAIFormat],
  [geminiFormat.name, geminiFormat],
  [geminiArrayFormat.name, geminiArrayFormat],
  [anthropicFormat.name, anthropicFormat],
  [responsesFormat.name, responsesFormat],
]);

export function formatFor(name: string): InboundFormat {
  const format = formats.get(name);
  if (format === undefined) throw new Error(`no inbound format named '${name}'`);
  return format;
}
