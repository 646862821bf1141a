import type { HeaderSource } from "./exchange.js";

// The API key a client presents, wherever its SDK puts it: OpenAI's and LiteLLM's `Authorization: Bearer`,
// Anthropic's `x-api-key`, Google's `x-goog-api-key`, Azure OpenAI's `api-key`, LiteLLM's
// `x-litellm-api-key`, Bifrost's virtual-key header `x-bf-vk` (which wins: a Bifrost client may send a
// placeholder bearer beside it). Read on the front because uWS lets headers be read only while the handler runs.

const KEY_HEADERS = ["x-api-key", "x-goog-api-key", "api-key", "x-litellm-api-key"] as const;
/** Far longer than any real key; a longer value is no key, and is never hashed. */
const MAX_KEY_LENGTH = 1024;

/** The presented key ("" when none). */
export function presentedKey(headers: Pick<HeaderSource, "getHeader">): string {
  const virtualKey = headers.getHeader("x-bf-vk");
  if (virtualKey !== "") return bounded(virtualKey.trim());
  const authorization = headers.getHeader("authorization");
  if (authorization !== "") return bounded(bearerToken(authorization));
  for (const name of KEY_HEADERS) {
    const value = headers.getHeader(name);
    if (value !== "") return bounded(value.trim());
  }
  return "";
}

function bearerToken(authorization: string): string {
  const value = authorization.trim();
  return value.length > 7 && value.slice(0, 7).toLowerCase() === "bearer " ? value.slice(7).trim() : value;
}

const bounded = (key: string): string => (key.length > MAX_KEY_LENGTH ? "" : key);
