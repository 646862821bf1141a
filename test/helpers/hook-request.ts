import type { HookRequest } from "../../src/hooks/plugin.js";

/** A request as plugins see it, with `headers` sent; the upstream headers plugins set are kept in `upstream`. */
export function hookRequest(
  headers: Record<string, string> = {},
): HookRequest & { readonly upstream: [string, string][] } {
  const upstream: [string, string][] = [];
  return {
    id: "req-1",
    route: "openai.chat.completions",
    format: "openai",
    model: "gpt-4o-mini",
    stream: false,
    body: new Uint8Array(),
    header: (name) => headers[name] ?? "",
    setUpstreamHeader: (name, value) => {
      upstream.push([name, value]);
    },
    state: new Map(),
    upstream,
  };
}
