import type { ChatMessage, ChatRequest } from "../formats/canonical.js";
import { salientSignature } from "./salient.js";

// What the semantic cache compares of a chat request: the text of its conversation (what is embedded),
// and what must match exactly besides (the system prompt, in the scope). A conversation with a part that
// is not text (an image, a file, a tool call or result) or longer than the configured turns is not
// compared: its meaning is not in the text alone, or is too long a history to call "the same question".

export interface SemanticQuery {
  /** The conversation's messages as text, one per line, each led by its role. */
  readonly text: string;
  /** The system and developer messages' text: part of the scope, compared exactly. */
  readonly system: string;
  /** salientSignature of the conversation's text. */
  readonly signature: string;
}

/** The request's semantic query, or undefined when it is not to be compared semantically. */
export function semanticQuery(request: ChatRequest, maxTurns: number): SemanticQuery | undefined {
  const system: string[] = [];
  const turns: string[] = [];
  for (const message of request.messages) {
    const text = textOf(message);
    if (text === undefined) return undefined;
    if (message.role === "system" || message.role === "developer") system.push(text);
    else if (message.role === "user" || message.role === "assistant") {
      if (turns.length >= maxTurns) return undefined;
      turns.push(turns.length === 0 && message.role === "user" ? text : `${message.role}: ${text}`);
    } else return undefined;
  }
  if (turns.length === 0) return undefined;
  const text = turns.join("\n");
  return { text, system: system.join("\n"), signature: salientSignature(text) };
}

function textOf(message: ChatMessage): string | undefined {
  if (message.role === "assistant" && (message.tool_calls?.length ?? 0) > 0) return undefined;
  const content = message.content;
  if (typeof content === "string") return content;
  if (content === null || content === undefined) return undefined;
  let text = "";
  for (const part of content) {
    if (part.type !== "text") return undefined;
    text += part.text;
  }
  return text;
}
