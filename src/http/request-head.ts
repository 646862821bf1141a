import { presentedKey } from "./credentials.js";
import type { HeaderSource, HeadNeeds, RequestHead } from "./exchange.js";
import { requestId, tokenList } from "./header-value.js";

const NO_VALUES: readonly string[] = Object.freeze([]);

/**
 * The request head as the pipeline reads it, from either front. Headers a route may never need are read
 * only where it can need them.
 */
export function requestHead(
  method: string,
  path: string,
  query: string,
  headers: HeaderSource,
  needs: HeadNeeds,
): RequestHead {
  const contentLength = headers.getHeader("content-length");
  return {
    method,
    path,
    query,
    contentLength: contentLength === "" ? -1 : Number(contentLength),
    contentType: headers.getHeader("content-type"),
    requestId: requestId(headers.getHeader("x-request-id")),
    origin: headers.getHeader("origin"),
    corsRequestHeaders:
      method === "OPTIONS" ? tokenList(headers.getHeader("access-control-request-headers")) : "",
    anthropicBeta: path.startsWith("/anthropic/") ? tokenList(headers.getHeader("anthropic-beta")) : "",
    timeout: headers.getHeader("x-switchyard-timeout"),
    apiKey: needs.apiKey ? presentedKey(headers) : "",
    pluginHeaderValues: needs.pluginHeaders.length === 0 ? NO_VALUES : valuesOf(needs.pluginHeaders, headers),
    traceparent: needs.traceparent ? headers.getHeader("traceparent") : "",
  };
}

function valuesOf(names: readonly string[], headers: HeaderSource): readonly string[] {
  const values = new Array<string>(names.length);
  for (let i = 0; i < names.length; i++) values[i] = headers.getHeader(names[i] as string);
  return values;
}
