import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// A gateway that names no Redis (no cluster mode, no Redis cache) loads no Redis client: every module that
// imports the `redis` package is reached from the entry points only through `import()`, taken when the
// configuration asks for it. Read from the built JavaScript, where type-only imports are gone.

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), "../../dist");
const ENTRIES = ["server.js", "workers/lane.js", "workers/log-worker.js"].map((entry) =>
  resolve(DIST, entry),
);

/** The specifiers a module imports statically (import … from, export … from, bare import). */
function staticImports(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gm))
    found.push(match[1] as string);
  for (const match of source.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) found.push(match[1] as string);
  return found;
}

/** Every package name reached statically from `entries`, with the chain that reaches it first. */
function reachedPackages(entries: readonly string[]): Map<string, string[]> {
  const packages = new Map<string, string[]>();
  const seen = new Set<string>();
  const queue = entries.map((file) => ({ file, chain: [file.slice(DIST.length + 1)] }));
  while (queue.length > 0) {
    const { file, chain } = queue.shift() as { file: string; chain: string[] };
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of staticImports(readFileSync(file, "utf8"))) {
      if (specifier.startsWith(".")) {
        const next = resolve(dirname(file), specifier);
        queue.push({ file: next, chain: [...chain, next.slice(DIST.length + 1)] });
      } else if (!specifier.startsWith("node:") && !packages.has(specifier))
        packages.set(
          specifier.split("/")[0]?.startsWith("@")
            ? specifier.split("/").slice(0, 2).join("/")
            : (specifier.split("/")[0] as string),
          chain,
        );
    }
  }
  return packages;
}

describe("optional Redis", () => {
  it("is not imported statically by anything the gateway's entry points load", () => {
    const packages = reachedPackages(ENTRIES);
    // The walk itself works: packages every gateway loads are found.
    expect(packages.has("better-sqlite3")).toBe(true);
    expect(packages.get("redis")).toBeUndefined();
  });
});
