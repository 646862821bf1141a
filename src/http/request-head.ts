import { presentedKey } from "./credentials.js";
import type { HeadNeeds, RequestHead } from "./exchange.js";
import { requestId, tokenList } from "./header-value.js";

const NO_VALUES: readonly string[] = Object.freeze([]);

/**
 * The request head as the pipeline reads it, from either front: `header` returns a header's value, ""
 * when absent. Headers a route may never need are read only where it can need them.
 */
export function requestHead(
  method: string,
  path: string,
  query: string,
  header: (name: string) => string,
  needs: HeadNeeds,
): RequestHead {
  const contentLength = header("content-length");
  return {
    method,
    path,
    query,
    contentLength: contentLength === "" ? -1 : Number(contentLength),
    contentType: header("content-type"),
    requestId: requestId(header("x-request-id")),
    origin: header("origin"),
    corsRequestHeaders: method === "OPTIONS" ? tokenList(header("access-control-request-headers")) : "",
    anthropicBeta: path.startsWith("/anthropic/") ? tokenList(header("anthropic-beta")) : "",
    timeout: header("x-switchyard-timeout"),
    apiKey: needs.apiKey ? presentedKey(header) : "",
    pluginHeaderValues: needs.pluginHeaders.length === 0 ? NO_VALUES : valuesOf(needs.pluginHeaders, header),
  };
}

function valuesOf(names: readonly string[], header: (name: string) => string): readonly string[] {
  const values = new Array<string>(names.length);
  for (let i = 0; i < names.length; i++) values[i] = header(names[i] as string);
  return values;
}
