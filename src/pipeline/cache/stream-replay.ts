import type { ChatChunk, ChatResponse } from "../../formats/canonical.js";
import type { InboundFormat } from "../../formats/format.js";
import type { GeminiResponse } from "../../formats/gemini/wire.js";
import { chatResponse as anthropicChatResponse } from "../../providers/anthropic/response.js";
import { chatResponseOf as geminiChatResponse } from "../../providers/gemini/response.js";

// A whole cached answer replayed to a client that asked for a stream: read back into the canonical shape
// through the same readers the gateway uses for providers of that format, cut into the chunks a provider
// would have streamed (the whole text in one delta), and written by the client format's stream encoder.
// A format whose answers the gateway cannot read back (the Responses API) is not replayed this way.

export interface ReplayedStream {
  readonly contentType: string;
  readonly body: Buffer;
}

/** `body`, a whole answer in `format`, as that format's stream; undefined when it cannot be read back. */
export function wholeAsStream(
  format: InboundFormat,
  body: Uint8Array,
  requestedModel: string,
  includeUsage: boolean,
): ReplayedStream | undefined {
  const response = readWhole(
    format.name,
    Buffer.from(body.buffer, body.byteOffset, body.length),
    requestedModel,
  );
  if (response === undefined) return undefined;
  const encoder = format.streamEncoder(requestedModel, { includeUsage });
  let text = "";
  for (const chunk of chunksOf(response)) text += encoder.encode(chunk);
  text += encoder.end();
  const contentType = encoder.headers.find(([name]) => name === "content-type")?.[1] ?? "text/event-stream";
  return { contentType, body: Buffer.from(text) };
}

function readWhole(format: string, body: Buffer, model: string): ChatResponse | undefined {
  try {
    if (format === "openai") {
      const response = JSON.parse(body.toString("utf8")) as ChatResponse;
      return response.object === "chat.completion" && Array.isArray(response.choices) ? response : undefined;
    }
    if (format === "anthropic") return anthropicChatResponse(body);
    if (format === "gemini" || format === "gemini-array")
      return geminiChatResponse(JSON.parse(body.toString("utf8")) as GeminiResponse, model);
  } catch {
    return undefined;
  }
  return undefined;
}

/** The chunks a provider streams for `response`: per choice, its message in one delta, then its finish. */
function chunksOf(response: ChatResponse): ChatChunk[] {
  const chunk = (choices: ChatChunk["choices"], usage?: ChatChunk["usage"]): ChatChunk => ({
    id: response.id,
    object: "chat.completion.chunk",
    created: response.created,
    model: response.model,
    choices,
    ...(usage === undefined ? {} : { usage }),
  });
  const chunks: ChatChunk[] = [];
  for (const { index, message, finish_reason } of response.choices) {
    const content =
      typeof message.content === "string"
        ? message.content
        : (message.content ?? []).map((part) => part.text).join("");
    chunks.push(
      chunk([
        {
          index,
          delta: {
            role: "assistant",
            content,
            ...(message.reasoning_content === undefined
              ? {}
              : { reasoning_content: message.reasoning_content }),
            ...(message.thinking_blocks === undefined ? {} : { thinking_blocks: message.thinking_blocks }),
            ...(message.tool_calls === undefined
              ? {}
              : {
                  tool_calls: message.tool_calls.map((call, at) => ({
                    index: at,
                    id: call.id,
                    type: call.type,
                    function: call.function,
                  })),
                }),
          },
          finish_reason: null,
        },
      ]),
      chunk([{ index, delta: {}, finish_reason }]),
    );
  }
  if (response.usage !== undefined) chunks.push(chunk([], response.usage));
  return chunks;
}
