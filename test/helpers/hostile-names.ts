// Model and deployment names a client could use to leave the model's place in an upstream URL, for the
// providers' URL tests.
export const HOSTILE_NAMES = [
  "../../v1beta/files",
  "a/../../b",
  "%2e%2e/%2e%2e/files",
  "%2E%2E",
  "x?key=evil",
  "x#fragment",
  "x/y",
  "..\\..\\files",
];

/** An upstream path as the provider's host resolves it (dot segments removed, query and fragment split). */
export function resolvedUrl(path: string): URL {
  return new URL(`https://provider.test${path}`);
}
