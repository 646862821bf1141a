import type { BuiltinPluginName } from "../../config/types.js";
import { isPlainHeaderValue } from "../../http/header-value.js";
import type { HookRequest, Plugin } from "../plugin.js";

// Passes the request headers an operator names on to the provider, as they came. Names are fixed by the
// configuration (the fronts capture only those); a value is passed on only when it is short and plain.

export const HEADER_ALLOWLIST_PLUGIN: BuiltinPluginName = "header_allowlist";

/** Longer values are not passed on: nothing an operator would forward (a trace id, an org) comes close. */
export const MAX_FORWARDED_VALUE = 1024;

/** Headers the gateway writes itself on every upstream request; a client's copy must not replace them. */
const GATEWAY_HEADERS = new Set([
  "host",
  "content-length",
  "content-type",
  "content-encoding",
  "accept-encoding",
  "expect",
  "x-request-id",
]);

export function headerAllowlistPlugin(options: unknown): Plugin {
  const headers = headersOf(options);
  return {
    name: HEADER_ALLOWLIST_PLUGIN,
    requestHeaders: headers,
    onRequest(request: HookRequest) {
      for (let i = 0; i < headers.length; i++) {
        const name = headers[i] as string;
        const value = request.header(name);
        if (value !== "" && value.length <= MAX_FORWARDED_VALUE && isPlainHeaderValue(value))
          request.setUpstreamHeader(name, value);
      }
      return undefined;
    },
  };
}

/** `options.headers`, lower case and each once; throws naming the problem (the chain checks the names). */
function headersOf(options: unknown): readonly string[] {
  const list =
    typeof options === "object" && options !== null ? (options as { headers?: unknown }).headers : undefined;
  if (!Array.isArray(list) || list.length === 0)
    throw new Error('options.headers must be a non-empty list of header names, e.g. ["x-trace-id"]');
  const names = new Set<string>();
  list.forEach((name: unknown, i) => {
    if (typeof name !== "string" || name.trim() === "")
      throw new Error(`options.headers[${i}] must be a header name`);
    const lower = name.trim().toLowerCase();
    if (GATEWAY_HEADERS.has(lower))
      throw new Error(
        `options.headers[${i}]: ${lower} is written by the gateway itself and cannot be forwarded`,
      );
    names.add(lower);
  });
  return Object.freeze([...names]);
}
