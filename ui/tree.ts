import { el } from "./dom.js";

// Any JSON answer as nested, readable blocks: objects as name/value lists, arrays of objects as tables,
// secrets as the API masked them, a circuit's state as a coloured badge. The configuration and routing pages
// use it, so a field the server adds shows without a change here.

const MAX_DEPTH = 8;
const CIRCUIT_BADGES: Readonly<Record<string, string>> = { CLOSED: "ok", HALF_OPEN: "near", OPEN: "off" };

export function tree(value: unknown, name = "", depth = 0): HTMLElement {
  if (value === null || value === undefined) return el("span", { class: "muted" }, "none");
  if (typeof value === "string" && name === "circuit")
    return el("span", { class: `badge ${CIRCUIT_BADGES[value] ?? ""}` }, value);
  if (typeof value !== "object") return el("span", { class: `v-${typeof value}` }, String(value));
  if (depth >= MAX_DEPTH) return el("code", {}, JSON.stringify(value));
  if (Array.isArray(value)) {
    if (value.length === 0) return el("span", { class: "muted" }, "none");
    if (value.every((item) => typeof item !== "object" || item === null))
      return el("span", {}, value.map((item) => String(item)).join(", "));
    if (value.every(isPlainObject)) return objectTable(value, depth);
    return el(
      "ol",
      { class: "tree-list" },
      value.map((item) => el("li", {}, tree(item, name, depth + 1))),
    );
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return el("span", { class: "muted" }, "none");
  return el(
    "dl",
    { class: "pairs tree" },
    entries.flatMap(([field, item]) => [el("dt", {}, field), el("dd", {}, tree(item, field, depth + 1))]),
  );
}

/** A field name as a heading: "model_groups" → "Model groups". */
export function titleOf(name: string): string {
  const words = name.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const isPlainObject = (item: unknown): item is Record<string, unknown> =>
  typeof item === "object" && item !== null && !Array.isArray(item);

function objectTable(rows: readonly Record<string, unknown>[], depth: number): HTMLElement {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      {},
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          columns.map((c) => el("th", { scope: "col" }, c)),
        ),
      ),
      el(
        "tbody",
        {},
        rows.map((row) =>
          el(
            "tr",
            {},
            columns.map((c) => el("td", {}, tree(row[c], c, depth + 1))),
          ),
        ),
      ),
    ),
  );
}
