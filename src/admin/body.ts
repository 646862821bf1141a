import { AdminError, invalidField } from "./errors.js";

// Reading what a management request sent: its JSON body and its query string. The body is at most 1 MB
// (the lane refuses more before it reaches the main thread).

/** JSON.parse keeps "__proto__" as an own field, but any later copy by assignment would set a prototype. */
function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (key === "__proto__") throw invalidField("body", 'a field named "__proto__" is not allowed');
  return value;
}

/** The request's JSON body; an empty body is `{}`. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  const text = body.toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text, refusePrototypeKeys);
  } catch (error) {
    if (error instanceof AdminError) throw error;
    // A SyntaxError's message quotes the body; a RangeError is a body nested too deep to parse.
    throw new AdminError(400, "invalid_request_error", "invalid_json", "the body is not valid JSON", "body");
  }
}

/** Query parameters by name; a name given twice is refused rather than guessed at. */
export function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  const text = query.startsWith("?") ? query.slice(1) : query;
  for (const [name, value] of new URLSearchParams(text)) {
    if (params.has(name)) throw invalidField(name.slice(0, 64), "is given more than once");
    params.set(name, value);
  }
  return params;
}

/** Empty, or the default LiteLLM's clients send for a field they did not set (key_type "default", spend 0). */
function isEmpty(name: string, value: unknown): boolean {
  if (value === null || value === false || value === "" || (name === "spend" && value === 0)) return true;
  if (name === "key_type" && value === "default") return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && Object.keys(value as object).length === 0;
}

/** The body without the unsupported fields it gives empty; one with a value is refused, naming it. */
export function withoutUnsupported(body: unknown, names: readonly string[]): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const name of names) {
    if (!Object.hasOwn(copy, name)) continue;
    if (!isEmpty(name, copy[name]))
      throw invalidField(name, "is not supported by Switchyard (give it empty or leave it out)");
    delete copy[name];
  }
  return copy;
}
