import type { Operations } from "./api-types.js";

// The management API from the browser: the admin key from the session (never the URL) as a bearer token,
// shapes from ui/api-types.ts (generated from the gateway's OpenAPI document).

const KEY_STORAGE = "switchyard.adminKey";

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY_STORAGE),
  signIn: (key: string): void => sessionStorage.setItem(KEY_STORAGE, key),
  signOut: (): void => sessionStorage.removeItem(KEY_STORAGE),
};

export type Route = keyof Operations;
type Entry<R extends Route> = Operations[R];
export type Answer<R extends Route> = Entry<R>["response"];

type Args<R extends Route> = (Entry<R>["path"] extends Record<string, never>
  ? { path?: undefined }
  : { path: Entry<R>["path"] }) & {
  query?: Entry<R>["query"];
} & (Entry<R>["body"] extends undefined ? { body?: undefined } : { body: Entry<R>["body"] });

/** A refusal or failure the API answered with: its status and error code. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The gateway has no admin key, so its management API is shut. */
  get unprotected(): boolean {
    return this.status === 403 && this.code === "request_refused";
  }

  get signInNeeded(): boolean {
    return (this.status === 401 || this.status === 403) && !this.unprotected;
  }
}

/** Told of a 401 or 403: the app goes back to sign-in. */
let onRefused: (failure: ApiFailure) => void = () => {};
export const whenRefused = (handler: (failure: ApiFailure) => void): void => {
  onRefused = handler;
};

export function url(
  route: Route,
  path: Record<string, string> = {},
  query: Record<string, string | undefined> = {},
): string {
  const [, template = ""] = route.split(" ");
  const filled = template.replace(/\{([a-z_]+)\}/g, (_, name: string) =>
    encodeURIComponent(path[name] ?? ""),
  );
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query))
    if (value !== undefined && value !== "") search.set(name, value);
  const text = search.toString();
  return text === "" ? filled : `${filled}?${text}`;
}

export async function call<R extends Route>(
  route: R,
  ...[args]: Args<R> extends { path?: undefined; body?: undefined } ? [Args<R>?] : [Args<R>]
): Promise<Answer<R>> {
  const [method = "GET"] = route.split(" ");
  const { path, query, body } = (args ?? {}) as {
    path?: Record<string, string>;
    query?: Record<string, string>;
    body?: unknown;
  };
  // The management API takes a JSON body with every POST, PUT and PATCH, an empty object at least.
  const sent = method === "GET" || method === "DELETE" ? undefined : JSON.stringify(body ?? {});
  const response = await fetch(url(route, path, query), {
    method,
    headers: {
      authorization: `Bearer ${session.key() ?? ""}`,
      ...(sent === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(sent === undefined ? {} : { body: sent }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const failure = new ApiFailure(
      response.status,
      typeof error?.code === "string" ? error.code : String(response.status),
      typeof error?.message === "string" ? error.message : `${response.status} ${response.statusText}`,
    );
    if (failure.signInNeeded || failure.unprotected) onRefused(failure);
    throw failure;
  }
  return json as Answer<R>;
}

/** The message to show for anything a call threw. */
export const failureText = (error: unknown): string =>
  error instanceof ApiFailure ? `${error.message} (${error.status} ${error.code})` : String(error);
