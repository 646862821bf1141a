import type { EmbeddingsRequest } from "../../formats/canonical.js";
import type { Target } from "../../providers/adapter.js";
import { adapterFor } from "../../providers/registry.js";
import { candidatesFor } from "../../routing/candidates.js";
import type { RoutingTable } from "../../routing/table.js";
import { sendUpstream } from "../../upstream/pools.js";

// The semantic cache's embeddings: the configured embedding model, routed like any model the gateway
// serves (so any provider with embeddings will do), asked through the lane's own connection pools. A
// failure is a semantic miss, never the request's error: the request goes on to its provider.

/** An embedding that takes longer than this is given up: the request has waited long enough. */
const EMBEDDING_TIMEOUT_MS = 5_000;
/** The text embedded is cut here: a question, not a document, is what the cache compares. */
const MAX_EMBEDDED_CHARS = 8_192;

export type Embedding = Float32Array;

/** The embedding of `text` by `model` as the table routes it; undefined when it cannot be had. */
export async function embed(
  table: RoutingTable,
  model: string,
  text: string,
): Promise<Embedding | undefined> {
  const plan = candidatesFor(table, model);
  if ("status" in plan) return undefined;
  const candidate = plan.candidates[0];
  if (candidate === undefined) return undefined;
  const { provider, keyIndex } = candidate;
  const key = provider.keys[keyIndex];
  if (key === undefined) return undefined;
  const adapter = adapterFor(provider.config.kind);
  if (adapter.embeddingsRequest === undefined || adapter.embeddingsResponse === undefined) return undefined;
  const target: Target = { provider, key, keyIndex, model: candidate.model, stream: false };
  const request: EmbeddingsRequest = {
    model: candidate.model,
    input: text.length > MAX_EMBEDDED_CHARS ? text.slice(0, MAX_EMBEDDED_CHARS) : text,
  };
  try {
    const upstream = await adapter.embeddingsRequest(request, target, sendUpstream);
    const reply = await sendUpstream(upstream, EMBEDDING_TIMEOUT_MS);
    if (reply.status !== 200) return undefined;
    const vector = adapter.embeddingsResponse(reply.body, target).data[0]?.embedding;
    return vector === undefined ? undefined : asFloats(vector);
  } catch {
    return undefined;
  }
}

/** An embedding as floats: a JSON array, or OpenAI's base64 of little-endian f32s. */
function asFloats(vector: number[] | string): Embedding | undefined {
  if (typeof vector !== "string") {
    const out = Float32Array.from(vector);
    return out.every(Number.isFinite) && out.length > 0 ? out : undefined;
  }
  const bytes = Buffer.from(vector, "base64");
  if (bytes.length === 0 || bytes.length % 4 !== 0) return undefined;
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out.every(Number.isFinite) ? out : undefined;
}
