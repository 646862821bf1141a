import { CACHE_REQUEST_HEADERS } from "../cache/controls.js";
import { presentedKey } from "./credentials.js";
import type { HeaderSource, HeadNeeds, RequestHead } from "./exchange.js";
import { headerValue, requestId, tokenList } from "./header-value.js";

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
    metadata: needs.metadata ? metadataOf(headers) : NO_VALUES,
    cacheHeaders: needs.cache ? valuesOf(CACHE_REQUEST_HEADERS, headers) : NO_VALUES,
  };
}

const METADATA_PREFIX = "x-switchyard-metadata-";
/** A client's metadata is a few labels, not a payload: what passes these bounds is left out. */
export const MAX_METADATA_ENTRIES = 16;
const METADATA_NAME = /^[a-z0-9_.-]{1,64}$/;
export const MAX_METADATA_VALUE = 256;

/** The metadata headers as name/value pairs: names checked, values cut and made printable ASCII. */
function metadataOf(headers: HeaderSource): readonly string[] {
  let pairs: string[] | undefined;
  headers.forEach((name, value) => {
    if (!name.startsWith(METADATA_PREFIX)) return;
    pairs ??= [];
    if (pairs.length >= MAX_METADATA_ENTRIES * 2) return;
    const key = name.slice(METADATA_PREFIX.length);
    if (!METADATA_NAME.test(key)) return;
    pairs.push(
      key,
      headerValue(value.length > MAX_METADATA_VALUE ? value.slice(0, MAX_METADATA_VALUE) : value),
    );
  });
  return pairs ?? NO_VALUES;
}

function valuesOf(names: readonly string[], headers: HeaderSource): readonly string[] {
  const values = new Array<string>(names.length);
  for (let i = 0; i < names.length; i++) values[i] = headers.getHeader(names[i] as string);
  return values;
}
