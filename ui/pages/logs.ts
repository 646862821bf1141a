import { call, failureText } from "../api.js";
import { button, type Column, el, field, notice, replace, table, tableRow } from "../dom.js";
import { money, ms, number, time } from "../format.js";
import { type LiveTail, type LogRecord, openLiveTail } from "../live.js";

// The request log: a filtered table a page at a time (next_cursor), a live tail that prepends records as
// they arrive, and a detail panel (GET /api/logs/{id}) that Escape closes.

const FILTERS = ["provider", "model", "status", "virtual_key", "team", "customer", "q"] as const;
type Filter = (typeof FILTERS)[number];
const LABELS: Record<Filter, string> = {
  provider: "Provider",
  model: "Model",
  status: "Status (429, 4xx, error)",
  virtual_key: "Virtual key",
  team: "Team",
  customer: "Customer",
  q: "Text",
};
const RANGES: ReadonlyArray<readonly [label: string, spanMs: number | undefined]> = [
  ["Last hour", 3_600_000],
  ["Last 24 hours", 86_400_000],
  ["Last 7 days", 7 * 86_400_000],
  ["All time", undefined],
];

export function logsPage(main: HTMLElement): () => void {
  const inputs = Object.fromEntries(
    FILTERS.map((name) => [
      name,
      el("input", { name, type: name === "q" ? "search" : "text", autocomplete: "off" }),
    ]),
  ) as Record<Filter, HTMLInputElement>;
  const range = el(
    "select",
    { name: "range" },
    RANGES.map(([label]) => el("option", {}, label)),
  );
  range.selectedIndex = 1;
  // Exact bounds, in the viewer's local time; a From given wins over the range.
  const from = el("input", { name: "from", type: "datetime-local" });
  const to = el("input", { name: "to", type: "datetime-local" });
  const liveToggle = el(
    "button",
    { type: "button", class: "toggle", "aria-pressed": "false" },
    "Live tail: off",
  );
  const message = notice();
  const tableBox = el("div", { class: "logs-table" });
  const more = el("button", { type: "button", hidden: true }, "Load more");
  const panel = el("aside", {
    class: "detail",
    hidden: true,
    role: "dialog",
    "aria-modal": "false",
    "aria-label": "Request detail",
    tabindex: "-1",
  });

  const form = el(
    "form",
    {
      class: "filters card",
      on: {
        submit: (event) => {
          event.preventDefault();
          void load(true);
        },
      },
    },
    field("Range", range),
    field("From", from),
    field("To", to),
    FILTERS.map((name) => field(LABELS[name], inputs[name])),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, "Apply"), liveToggle),
  );
  replace(
    main,
    el("div", { class: "page-head" }, el("h1", {}, "Logs")),
    form,
    message,
    tableBox,
    more,
    panel,
  );

  const columns: Column<LogRecord>[] = [
    { title: "Time", cell: (r) => button(time(r.time), () => void openDetail(r.id ?? ""), "link") },
    {
      title: "Status",
      cell: (r) => el("span", { class: `status s${String(r.status ?? 0)[0]}` }, String(r.status ?? "–")),
    },
    { title: "Model", cell: (r) => el("span", { class: "name", title: r.model ?? "" }, r.model ?? "–") },
    { title: "Provider", cell: (r) => r.provider || "–" },
    { title: "Virtual key", cell: (r) => r.virtual_key || "–" },
    { title: "Latency", cell: (r) => ms(r.latency_ms), class: "num" },
    {
      title: "Tokens in/out",
      cell: (r) => `${number(r.input_tokens)} / ${number(r.output_tokens)}`,
      class: "num",
    },
    { title: "Cost", cell: (r) => money(r.cost), class: "num" },
  ];
  let cursor: string | null | undefined;
  let body: HTMLTableSectionElement | undefined;

  const query = (): Record<string, string> => {
    const values: Record<string, string> = {};
    for (const name of FILTERS)
      if (inputs[name].value.trim() !== "") values[name] = inputs[name].value.trim();
    const span = RANGES[range.selectedIndex]?.[1];
    if (from.value !== "") values.from = new Date(from.value).toISOString();
    else if (span !== undefined) values.from = new Date(Date.now() - span).toISOString();
    if (to.value !== "") values.to = new Date(to.value).toISOString();
    return values;
  };

  async function load(fresh: boolean): Promise<void> {
    message.show("");
    try {
      const page = await call("GET /api/logs", {
        query: { ...query(), limit: "50", ...(fresh || !cursor ? {} : { cursor }) },
      });
      const rows = page.data ?? [];
      if (fresh || body === undefined) {
        const wrap = table(columns, rows, "No requests match.");
        replace(tableBox, wrap);
        body = wrap.querySelector("tbody") ?? undefined;
      } else for (const row of rows) body.append(tableRow(columns, row));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (error) {
      message.show(failureText(error), "error");
    }
  }
  more.addEventListener("click", () => void load(false));
  // A click anywhere on a row opens it, as its time button does from the keyboard.
  tableBox.addEventListener("click", (event) => {
    const target = event.target as Element;
    if (target.closest("button, a") === null) target.closest("tr")?.querySelector("button")?.click();
  });

  /** Whether a live record passes the exact-match filters (the text filter is the server's alone). */
  const matches = (record: LogRecord): boolean => {
    const q = query();
    for (const name of ["provider", "model", "virtual_key", "team", "customer"] as const)
      if (q[name] !== undefined && record[name] !== q[name]) return false;
    if (q.to !== undefined && Date.parse(record.time ?? "") >= Date.parse(q.to)) return false;
    const status = q.status;
    if (status === undefined) return true;
    const code = String(record.status ?? "");
    if (status === "error") return (record.status ?? 0) >= 400;
    return status.endsWith("xx") ? code[0] === status[0] : code === status;
  };

  let tail: LiveTail | undefined;
  liveToggle.addEventListener("click", () => {
    if (tail !== undefined) {
      tail.close();
      tail = undefined;
      liveToggle.setAttribute("aria-pressed", "false");
      liveToggle.textContent = "Live tail: off";
      return;
    }
    liveToggle.setAttribute("aria-pressed", "true");
    tail = openLiveTail(
      (logs) => {
        if (body === undefined) return;
        body.closest(".table-wrap")?.querySelector(".empty")?.remove();
        // The socket sends oldest first; each goes on top.
        for (const record of logs) if (matches(record)) body.prepend(tableRow(columns, record));
        while (body.rows.length > 500) body.lastElementChild?.remove();
      },
      (state, detail) => {
        liveToggle.textContent = `Live tail: ${state}${detail ? ` (${detail})` : ""}`;
      },
    );
  });

  let opener: Element | null = null;
  const closeDetail = () => {
    if (panel.hidden) return;
    panel.hidden = true;
    panel.replaceChildren();
    if (opener instanceof HTMLElement) opener.focus();
  };
  const onKey = (event: KeyboardEvent) => {
    if (event.key === "Escape") closeDetail();
  };
  document.addEventListener("keydown", onKey);

  async function openDetail(id: string): Promise<void> {
    opener = document.activeElement;
    panel.hidden = false;
    replace(panel, el("p", { class: "muted" }, "Loading…"));
    panel.focus();
    try {
      const record = await call("GET /api/logs/{id}", { path: { id } });
      replace(panel, ...detail(record, closeDetail));
      panel.querySelector("button")?.focus();
    } catch (error) {
      replace(panel, button("Close", closeDetail), el("p", { class: "notice error" }, failureText(error)));
    }
  }

  void load(true);
  return () => {
    tail?.close();
    document.removeEventListener("keydown", onKey);
  };
}

type Detail = LogRecord & { input?: string | null; output?: string | null };

function detail(r: Detail, close: () => void): HTMLElement[] {
  const rows: ReadonlyArray<readonly [string, string]> = [
    ["Id", r.id ?? ""],
    ["Request id", r.request_id ?? ""],
    ["Time", time(r.time)],
    ["Route", `${r.route ?? ""} (${r.format ?? ""})`],
    [
      "Status",
      `${r.status ?? ""}${r.error_code ? ` · ${r.error_code}` : ""}${r.error_class ? ` (${r.error_class})` : ""}`,
    ],
    ["Error", r.error_message ?? ""],
    ["Model", r.model ?? ""],
    ["Provider", `${r.provider ?? ""}${r.provider_model ? ` · ${r.provider_model}` : ""}`],
    ["Provider key", r.provider_key ?? ""],
    ["Virtual key", r.virtual_key ?? ""],
    ["Team", r.team ?? ""],
    ["Customer", r.customer ?? ""],
    ["Latency", ms(r.latency_ms)],
    ["Time to first token", ms(r.ttft_ms)],
    ["Retries", number(r.retries)],
    ["Fallback index", number(r.fallback_index)],
    ["Cache", r.cache ?? ""],
    ["Stream", r.stream ? "yes" : "no"],
    ["Input tokens", number(r.input_tokens)],
    ["Output tokens", number(r.output_tokens)],
    ["Cached tokens", number(r.cached_tokens)],
    ["Reasoning tokens", number(r.reasoning_tokens)],
    ["Cost", money(r.cost)],
    ["Saved by the cache", r.cache === "hit" || r.cache === "semantic" ? money(r.cache_saved) : ""],
    ["Bytes in/out", `${number(r.input_bytes)} / ${number(r.output_bytes)}`],
  ];
  return [
    el("div", { class: "page-head" }, el("h2", {}, "Request"), button("Close", close)),
    el(
      "dl",
      { class: "pairs" },
      rows.filter(([, v]) => v !== "").flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]),
    ),
    r.metadata
      ? el("section", {}, el("h3", {}, "Metadata"), el("pre", {}, JSON.stringify(r.metadata, null, 2)))
      : null,
    el(
      "section",
      {},
      el("h3", {}, "Input"),
      el("pre", {}, pretty(r.input) ?? "Not logged (content logging is off for this request)."),
    ),
    el("section", {}, el("h3", {}, "Output"), el("pre", {}, pretty(r.output) ?? "Not logged.")),
  ].filter((node): node is HTMLElement => node !== null);
}

/** JSON shown indented; anything else as it is. */
function pretty(text: string | null | undefined): string | undefined {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
