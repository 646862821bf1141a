import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import type { ResponseHeaders } from "./exchange.js";

// The web UI's static files (built into dist/ui by `npm run build`), read once by the control plane and kept
// in memory by every lane: a client never makes the gateway touch the disk. Only regular files under the
// directory are read (no symlinks, no dot files), only of the types below and up to a bounded total, so a
// stray link or a huge file in the build cannot serve something else or fill the lanes' memory.

/** The UI's files are served under this path; `/` serves its index.html. */
export const UI_PREFIX = "/ui/";
export const UI_INDEX = "index.html";
/** The most the UI's files may take together. */
export const STATIC_BYTES_LIMIT = 8 * 1024 * 1024;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".woff2": "font/woff2",
};

/** The UI's own origin only: no inline script, no other host, never inside a frame. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; " +
  "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ["x-content-type-options", "nosniff"],
  ["referrer-policy", "no-referrer"],
  ["x-frame-options", "DENY"],
  ["content-security-policy", CONTENT_SECURITY_POLICY],
];

/**
 * Every file is checked again on each load: the UI's modules keep their names from build to build (tsc
 * emits them as they are named), so a cached one could outlive an upgrade. They are small, and local.
 */
const CACHE_CONTROL = "no-cache";

/** A file name as it appears in a URL path as it is: no encoding to undo, no dot segment. */
const SAFE_NAME = /^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*$/;
/** Directories deeper than this are not read. */
const MAX_DEPTH = 8;

export interface StaticFile {
  readonly headers: ResponseHeaders;
  readonly body: Uint8Array;
}

/** What lanes serve: files by URL path ("/ui/app.js"), or why there are none. */
export interface StaticSite {
  readonly files: ReadonlyMap<string, StaticFile>;
  /** The index.html every UI route without a file of its own serves; absent, the UI is not there. */
  readonly index?: StaticFile;
  /** Why the UI is not served (no build, too large); a line for the operator, no path beyond `dir`'s. */
  readonly problem?: string;
  readonly bytes: number;
}

export const NO_SITE: StaticSite = { files: new Map(), problem: "no web UI directory", bytes: 0 };

/** Reads `dir` into a site; never throws: a missing or unusable directory is a site with a problem. */
export function loadStaticSite(dir: string, maxBytes = STATIC_BYTES_LIMIT): StaticSite {
  const found: Array<{ path: string; file: string; size: number }> = [];
  try {
    if (!lstatSync(join(dir, UI_INDEX)).isFile()) throw new Error("not a file");
  } catch {
    return { files: new Map(), problem: `the web UI is not built (no ${UI_INDEX} in ${dir})`, bytes: 0 };
  }
  collect(dir, UI_PREFIX, 0, found);
  const bytes = found.reduce((sum, entry) => sum + entry.size, 0);
  if (bytes > maxBytes)
    return {
      files: new Map(),
      problem: `the web UI's files in ${dir} take ${bytes} bytes, more than the ${maxBytes} allowed`,
      bytes: 0,
    };
  const files = new Map<string, StaticFile>();
  let read = 0;
  for (const entry of found) {
    const body = readFileSync(entry.file);
    read += body.length;
    // A file that grew since it was listed counts as it is now.
    if (read > maxBytes)
      return {
        files: new Map(),
        problem: `the web UI's files in ${dir} grew past ${maxBytes} bytes`,
        bytes: 0,
      };
    files.set(entry.path, staticFile(entry.path, body));
  }
  return { files, index: files.get(UI_PREFIX + UI_INDEX), bytes: read };
}

/** Regular files of a served type under `dir`, depth first; symlinks and other entries are passed over. */
function collect(
  dir: string,
  urlPath: string,
  depth: number,
  into: Array<{ path: string; file: string; size: number }>,
): void {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    if (!SAFE_NAME.test(entry.name)) continue;
    const file = join(dir, entry.name);
    if (entry.isDirectory() && depth < MAX_DEPTH) collect(file, `${urlPath}${entry.name}/`, depth + 1, into);
    else if (entry.isFile() && contentTypeOf(entry.name) !== undefined) {
      const stat = lstatSync(file);
      if (stat.isFile()) into.push({ path: urlPath + entry.name, file, size: stat.size });
    }
  }
}

export function contentTypeOf(name: string): string | undefined {
  const ext = extname(name).toLowerCase();
  return Object.hasOwn(CONTENT_TYPES, ext) ? CONTENT_TYPES[ext] : undefined;
}

function staticFile(path: string, body: Uint8Array): StaticFile {
  return {
    headers: [
      ["content-type", contentTypeOf(path) as string],
      ["cache-control", CACHE_CONTROL],
      ...SECURITY_HEADERS,
    ],
    body,
  };
}

/** Whether `path` is the UI's: `/`, `/ui` and everything under `/ui/`. */
export function isUiPath(path: string): boolean {
  return path === "/" || path === "/ui" || path.startsWith(UI_PREFIX);
}

/**
 * The file a UI path serves: its own, or index.html for `/`, `/ui/` and paths without an extension (the app
 * routes by the URL's hash; this only keeps a reload of a deeper URL working). Undefined: 404.
 */
export function findStaticFile(site: StaticSite, path: string): StaticFile | undefined {
  const file = site.files.get(path);
  if (file !== undefined) return file;
  const last = path.slice(path.lastIndexOf("/") + 1);
  return last.includes(".") ? undefined : site.index;
}
