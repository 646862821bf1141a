import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// The top-level folders of src/ are layers: native, formats, observability, governance (the model:
// entities, windows, prices), config, cluster (budgets and rate limits shared between gateway instances
// through Redis leases), providers, upstream, routing, cache (the exact cache's keys and
// stores), hooks, pipeline (with governance's enforcement), store, admin, http, control (lowest first). A
// folder never imports from a folder that imports it back, directly or through others; a type both sides
// need lives in the lower one. This builds the folder graph from every non-test source file's relative
// imports (`import type`, re-exports and `import()` count) and names each loop with one import per edge.

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Folder → folder it imports from → one import that makes the edge ("src/a/x.ts imports ../b/y.js"). */
type FolderGraph = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** The relative module specifiers a file imports or re-exports; comments and strings are not imports. */
function relativeImports(source: string): string[] {
  return ts
    .preProcessFile(source, true, true)
    .importedFiles.map((file) => file.fileName)
    .filter((name) => name.startsWith("."));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") ? [path] : [];
  });
}

/** The top-level folder of src/ holding `path`, or the module's name at src/ itself; undefined outside src/. */
function folderOf(path: string): string | undefined {
  const within = relative(SRC, path);
  if (within.startsWith("..")) return undefined;
  const parts = within.split(sep);
  // A module at the top of src/ (server.ts, errors.ts) is a layer of its own.
  return parts.length > 1 ? parts[0] : parts[0]?.replace(/\.ts$/, "");
}

function folderGraph(): FolderGraph {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file) as string;
    for (const specifier of relativeImports(readFileSync(file, "utf8"))) {
      const to = folderOf(resolve(dirname(file), specifier));
      if (to === undefined || to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      graph.set(from, edges);
      if (!edges.has(to))
        edges.set(to, `src/${relative(SRC, file).split(sep).join("/")} imports ${specifier}`);
    }
  }
  return graph;
}

/**
 * Every elementary cycle of `graph`, each listed once, starting at its alphabetically first folder: from
 * each folder, paths through later folders only that lead back to it.
 */
function findCycles(graph: FolderGraph): string[][] {
  const cycles: string[][] = [];
  const folders = [...graph.keys()].sort();
  for (const start of folders) {
    const path = [start];
    const walk = (at: string): void => {
      for (const next of [...(graph.get(at)?.keys() ?? [])].sort()) {
        if (next === start) cycles.push([...path]);
        else if (next > start && !path.includes(next)) {
          path.push(next);
          walk(next);
          path.pop();
        }
      }
    };
    walk(start);
  }
  return cycles;
}

function describeCycle(graph: FolderGraph, cycle: readonly string[]): string {
  const edges = cycle.map((from, i) => {
    const to = cycle[(i + 1) % cycle.length] as string;
    return `  ${from} -> ${to}: ${graph.get(from)?.get(to)}`;
  });
  return [[...cycle, cycle[0]].join(" -> "), ...edges].join("\n");
}

const graphOf = (edges: Record<string, Record<string, string>>): FolderGraph =>
  new Map(Object.entries(edges).map(([from, to]) => [from, new Map(Object.entries(to))]));

describe("src/ folder layering", () => {
  it("no folder imports, directly or through others, from a folder that imports it", () => {
    const graph = folderGraph();
    expect(findCycles(graph).map((cycle) => describeCycle(graph, cycle))).toEqual([]);
  });

  it("sees the imports between folders", () => {
    const graph = folderGraph();
    expect(graph.get("pipeline")?.get("routing")).toMatch(/^src\/pipeline\/\S+\.ts imports \.\.\/routing\//);
    expect(graph.get("providers")?.has("formats")).toBe(true);
  });
});

describe("the layering check", () => {
  it("reads import type, multi-line imports, re-exports and import(), not comments or strings", () => {
    const source = [
      'import type { A } from "../a/x.js";',
      "import {",
      "  b,",
      "  type C,",
      '} from "../b/y.js";',
      'export * from "../c/z.js";',
      'export type { D } from "../d/w.js";',
      'const lazy = () => import("../e/v.js");',
      '// import { z } from "../z/z.js";',
      'const text = "import { q } from \\"../q/q.js\\"";',
      'import { readFileSync } from "node:fs";',
    ].join("\n");
    expect(relativeImports(source)).toEqual([
      "../a/x.js",
      "../b/y.js",
      "../c/z.js",
      "../d/w.js",
      "../e/v.js",
    ]);
  });

  it("finds pairs and longer loops, each once, with one import per edge", () => {
    const graph = graphOf({
      a: { b: "src/a/1.ts imports ../b/1.js" },
      b: { a: "src/b/1.ts imports ../a/1.js", c: "src/b/2.ts imports ../c/1.js" },
      c: { a: "src/c/1.ts imports ../a/2.js", d: "src/c/2.ts imports ../d/1.js" },
      d: {},
    });
    const cycles = findCycles(graph);
    expect(cycles).toEqual([
      ["a", "b"],
      ["a", "b", "c"],
    ]);
    expect(describeCycle(graph, cycles[1] as string[])).toBe(
      [
        "a -> b -> c -> a",
        "  a -> b: src/a/1.ts imports ../b/1.js",
        "  b -> c: src/b/2.ts imports ../c/1.js",
        "  c -> a: src/c/1.ts imports ../a/2.js",
      ].join("\n"),
    );
  });

  it("finds nothing in a graph without loops", () => {
    expect(findCycles(graphOf({ a: { b: "x", c: "x" }, b: { c: "x" }, c: {} }))).toEqual([]);
  });
});
