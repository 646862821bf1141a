import type { CanonicalError } from "../formats/canonical.js";

// Providers that speak the OpenAI API mostly answer errors in OpenAI's shape already; the rest (an HTML
// page from a proxy, `{"detail": ...}`, a JSON array, a bare string) are rewrapped so that clients always
// get `{"error": {"message", "type", "code", "param"}}` with the provider's status.

export function providerErrorBody(status: number, provider: string, body: Buffer): string {
  const { message, type, param, code } = providerError(status, provider, body);
  return JSON.stringify({ error: { message, type, param, code } });
}

/**
 * An error body's JSON, undefined when it is not JSON; of an array (a non-SSE stream's error, Google's
 * array form) the first element.
 */
export function errorJson(text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed[0] : parsed;
  } catch {
    return undefined;
  }
}

/** A provider's error reply, whatever its shape, as a canonical error with the provider's status. */
export function providerError(status: number, provider: string, body: Buffer): CanonicalError {
  const text = body.toString("utf8");
  const parsed = errorJson(text);
  const error = isObject(parsed) ? parsed.error : undefined;
  if (isObject(error) && typeof error.message === "string") {
    return {
      status,
      message: error.message,
      type: typeof error.type === "string" ? error.type : typeForStatus(status),
      param: typeof error.param === "string" ? error.param : null,
      code: typeof error.code === "string" || typeof error.code === "number" ? error.code : null,
    };
  }
  const message =
    typeof error === "string"
      ? error
      : isObject(parsed) && typeof parsed.message === "string"
        ? parsed.message
        : isObject(parsed) && typeof parsed.detail === "string"
          ? parsed.detail
          : text.trim().slice(0, 500) || `HTTP ${status}`;
  return { status, message: `${provider}: ${message}`, type: typeForStatus(status), param: null, code: null };
}

export function typeForStatus(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
