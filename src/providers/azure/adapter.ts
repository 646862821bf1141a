import type { ChatChunk } from "../../formats/canonical.js";
import type { ProviderAdapter, StreamDecoder } from "../adapter.js";
import { openAICompatibleAdapter } from "../openai/adapter.js";
import { azureEndpoint } from "./endpoint.js";

// Azure OpenAI speaks OpenAI's wire format at its own URLs: requests from other formats are converted
// exactly as for OpenAI and sent to the key's deployment URL, which the endpoint builds.

/**
 * Azure opens a stream with a chunk that has no choices, only `prompt_filter_results`; other formats'
 * encoders expect every chunk to say something, so chunks with neither choices nor usage are left out.
 */
function withoutAnnotations(chunks: ChatChunk[]): ChatChunk[] {
  let kept = 0;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i] as ChatChunk;
    if (chunk.choices.length > 0 || (chunk.usage !== undefined && chunk.usage !== null))
      chunks[kept++] = chunk;
  }
  chunks.length = kept;
  return chunks;
}

export const azureAdapter: ProviderAdapter = {
  ...openAICompatibleAdapter,
  kinds: ["azure"],

  chatStream(target): StreamDecoder {
    const inner = openAICompatibleAdapter.chatStream(target);
    return {
      push: (bytes) => withoutAnnotations(inner.push(bytes)),
      end: () => withoutAnnotations(inner.end()),
    };
  },

  openAIEndpoint: azureEndpoint,
};
