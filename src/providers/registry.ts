import type { ProviderAdapter } from "./adapter.js";
import { anthropicAdapter } from "./anthropic/adapter.js";
import { azureAdapter } from "./azure/adapter.js";
import { bedrockAdapter } from "./bedrock/adapter.js";
import { cohereAdapter } from "./cohere/adapter.js";
import { compatibleAdapters } from "./compatible/params.js";
import { geminiAdapter } from "./gemini/adapter.js";
import { openAICompatibleAdapter } from "./openai/adapter.js";
import { vertexAdapter } from "./vertex/adapter.js";

// Which adapter serves a provider kind. Kinds without an adapter of their own speak the OpenAI API.

const adapters = new Map<string, ProviderAdapter>();

function register(adapter: ProviderAdapter): void {
  for (const kind of adapter.kinds) adapters.set(kind, adapter);
}

register(openAICompatibleAdapter);
register(azureAdapter);
register(cohereAdapter);
for (const adapter of compatibleAdapters) register(adapter);
register(anthropicAdapter);
register(geminiAdapter);
register(vertexAdapter);
register(bedrockAdapter);

export function adapterFor(kind: string): ProviderAdapter {
  return adapters.get(kind) ?? openAICompatibleAdapter;
}

/** True when requests in OpenAI's format reach this kind of provider as bytes, without conversion. */
export function speaksOpenAI(kind: string): boolean {
  return adapterFor(kind).openAIEndpoint !== undefined;
}
