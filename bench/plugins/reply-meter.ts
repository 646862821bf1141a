import type { Plugin } from "../../src/hooks/plugin.js";

// The plugin of the benchmark's "switchyard-hooks" target: it looks at every request and every byte of
// every reply (the most a plugin can ask of the hot path) and does next to nothing with them, so the run
// measures what the hook points themselves cost.

/** What it has seen, kept so that the work cannot be optimised away. */
export const seen = { requests: 0, replyBytes: 0 };

const length = (chunk: Uint8Array | string): number =>
  typeof chunk === "string" ? chunk.length : chunk.byteLength;

export default function replyMeter(): Plugin {
  return {
    name: "reply-meter",
    onRequest() {
      seen.requests++;
      return undefined;
    },
    onResponse(_request, _outcome, body) {
      seen.replyBytes += length(body);
    },
    onStreamChunk(_request, chunk) {
      seen.replyBytes += length(chunk);
    },
    onStreamEnd() {},
    onError() {},
  };
}
