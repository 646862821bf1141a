import { UnsupportedRequest } from "./adapter.js";

// Upstream URLs carry model and deployment names in their paths, and are sent with the operator's key:
// each name becomes exactly one encoded segment, so `../`, `%2e%2e`, `?` or `#` cannot reach another
// endpoint of the provider's host.

/** `name` as one path segment: percent-encoded (`/`, `?`, `#`, `%` included), never `.` or `..`. */
export function pathSegment(name: string, param = "model"): string {
  if (name === "" || name === "." || name === "..")
    throw new UnsupportedRequest(`'${param}' cannot be a segment of the provider's URL path.`, param);
  // `@` is a plain path character; Vertex model versions (`claude-sonnet-4@20250514`) keep it as written.
  return encodeURIComponent(name).replaceAll("%40", "@");
}

/**
 * The segment before a Google `:method` suffix (Gemini, Vertex). A colon would be read as the method's
 * separator, so names with one are refused rather than encoded; Google's model ids have none.
 */
export function googleModelSegment(name: string): string {
  if (name.includes(":"))
    throw new UnsupportedRequest("A Google model name cannot contain ':' (it names the method).", "model");
  return pathSegment(name);
}
