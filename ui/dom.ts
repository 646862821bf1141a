import { failureText } from "./api.js";
// Building the page: elements made in code, every value from the API set as text (never parsed as HTML),
// listeners attached in code (the gateway's Content-Security-Policy allows no inline script or style).

export type Child = Node | string | number | null | undefined | false;

type Listener = (event: Event) => void;

export interface Props {
  readonly class?: string;
  readonly on?: Readonly<Record<string, Listener>>;
  /** Attributes, set as given (names fixed in code, values as text). */
  readonly [attribute: string]: string | number | boolean | undefined | Readonly<Record<string, Listener>>;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: ReadonlyArray<Child | readonly Child[]>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "on") {
      for (const [type, listener] of Object.entries(value as Record<string, Listener>))
        node.addEventListener(type, listener);
    } else if (value === true) node.setAttribute(name, "");
    else if (value !== false && value !== undefined) node.setAttribute(name, String(value));
  }
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: ReadonlyArray<Child | readonly Child[]>): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `parent` holds. */
export function replace(parent: Element, ...children: ReadonlyArray<Child | readonly Child[]>): void {
  parent.replaceChildren();
  append(parent, ...children);
}

export interface Column<T> {
  readonly title: string;
  readonly cell: (row: T) => Child | readonly Child[];
  readonly class?: string;
}

/** A table inside its own horizontally scrolling box, so a wide one never widens the page. */
export function table<T>(
  columns: readonly Column<T>[],
  rows: readonly T[],
  empty = "Nothing yet.",
): HTMLElement {
  const body = el("tbody");
  for (const row of rows) body.append(tableRow(columns, row));
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
          columns.map((c) => el("th", { scope: "col", class: c.class }, c.title)),
        ),
      ),
      body,
    ),
    rows.length === 0 ? el("p", { class: "muted empty" }, empty) : null,
  );
}

export function tableRow<T>(columns: readonly Column<T>[], row: T): HTMLTableRowElement {
  return el(
    "tr",
    {},
    columns.map((c) => el("td", { class: c.class }, c.cell(row))),
  );
}

/** A bar of `used` against `limit` (CSSOM width, which the policy allows), with its numbers as text. */
export function bar(used: number, limit: number, label: string): HTMLElement {
  const ratio = limit > 0 ? Math.min(used / limit, 1) : 0;
  // Any use at all shows (a sliver), so a bar that moved never looks empty.
  const level = ratio >= 1 ? " over" : ratio >= 0.8 ? " near" : used > 0 ? " used" : "";
  const fill = el("span", { class: `fill${level}` });
  fill.style.width = `${(ratio * 100).toFixed(1)}%`;
  return el(
    "div",
    {
      class: "bar",
      role: "meter",
      "aria-label": label,
      "aria-valuemin": 0,
      "aria-valuemax": limit,
      "aria-valuenow": used,
    },
    fill,
  );
}

/** A labelled input for a form. */
export function field(
  label: string,
  input: HTMLInputElement | HTMLSelectElement,
  hint?: string,
): HTMLElement {
  return el("label", { class: "field" }, el("span", {}, label), input, hint ? el("small", {}, hint) : null);
}

export function button(text: string, onClick: (event: Event) => void, kind = ""): HTMLButtonElement {
  return el("button", { type: "button", class: kind, on: { click: onClick } }, text);
}

/** A message region the page writes results and errors into; screen readers announce it. */
export interface Notice extends HTMLElement {
  show(text: string, kind?: "error" | "ok"): void;
}

export function notice(): Notice {
  const region = el("p", { class: "notice", role: "status", "aria-live": "polite" });
  return Object.assign(region, {
    show(text: string, kind?: "error" | "ok") {
      region.textContent = text;
      region.className = `notice${kind ? ` ${kind}` : ""}`;
    },
  });
}

/** A form whose submission runs `work`; its answer (or failure) goes to `message`, then `done` redraws. */
export function submitting(
  form: HTMLFormElement,
  message: Notice,
  work: () => Promise<string>,
  done: () => void,
): void {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void work().then(
      (text) => {
        message.show(text, "ok");
        done();
      },
      (error) => message.show(failureText(error), "error"),
    );
  });
}
