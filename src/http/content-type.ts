// Inference routes take JSON only. A browser page may POST `text/plain` (or form data) to another origin
// without a CORS preflight; requiring a JSON media type makes every cross-origin call preflighted, so a page
// cannot spend a LAN gateway's credits. The official SDKs all send `application/json`.

/** `application/json` or any `type/subtype+json`, parameters such as charset allowed; "" (absent) is not. */
export function isJsonContentType(value: string): boolean {
  if (value === "application/json") return true;
  const semicolon = value.indexOf(";");
  const media = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  if (media === "application/json") return true;
  const slash = media.indexOf("/");
  return (
    slash > 0 &&
    media.endsWith("+json") &&
    media.indexOf("/", slash + 1) === -1 &&
    media.length > slash + "+json".length + 1
  );
}
