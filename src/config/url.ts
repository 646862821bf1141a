/**
 * The configured root URL without trailing slashes, or undefined when it is not an absolute http(s) URL.
 * Keeps the user's spelling (a path such as /v1 stays; adapters decide whether to append theirs).
 */
export function normalizeBaseUrl(raw: string): string | undefined {
  const trimmed = raw.trim();
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined;
  if (parsed.hash !== "" || parsed.search !== "") return undefined;
  return trimmed.replace(/\/+$/, "");
}

/** A CORS origin: "*" or scheme://host[:port] with nothing after it. */
export function normalizeOrigin(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (trimmed === "*") return trimmed;
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined;
  if (trimmed.replace(/\/+$/, "") !== parsed.origin) return undefined;
  return parsed.origin;
}

/** The URL with credentials and query removed, for start-up lines and logs. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    const s = u.toString();
    return raw.endsWith("/") ? s : s.replace(/\/$/, "");
  } catch {
    return "(invalid URL)";
  }
}
