import type { VectorSearchResult, VectorTask } from "../src/cache/semantic-search.js";
import { type SharedVectors, sharedVectors } from "../src/native/index.js";

// The semantic cache's off-lane searches and adds (src/cache/semantic-search.ts): a piscina thread over the
// addon's vector registry. Being a thread of the gateway's process, it sees the same registry the lanes
// add to, so a task carries only the query, never the index.

if (sharedVectors === undefined) {
  throw new Error("workers/vector-search.js needs the native addon's vector registry");
}
const vectors: SharedVectors = sharedVectors;
// The hit's similarity and id come back through this array.
const out = new Float64Array(2);

export default function run(task: VectorTask): VectorSearchResult | null {
  if (task.op === "add") {
    vectors.add(
      task.scope,
      task.vector,
      Buffer.from(task.payload.buffer, task.payload.byteOffset, task.payload.length),
    );
    return null;
  }
  const payload = vectors.search(task.scope, task.vector, task.threshold, out);
  return payload === null ? null : { similarity: out[0] as number, payload };
}
