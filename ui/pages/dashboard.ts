import { type Answer, call } from "../api.js";
import { el, replace, table } from "../dom.js";
import { money, ms, number, percent } from "../format.js";
import { type LogRecord, openLiveTail } from "../live.js";
import uPlot from "../vendor/uPlot.esm.js";

// Traffic over a range from /api/logs/stats (series, and totals by provider and by model) as uPlot charts,
// and counters fed by the live tail since the page opened; new traffic redraws the charts, at most every few
// seconds.

type Stats = Answer<"GET /api/logs/stats">;
type Group = NonNullable<Stats["groups"]>[number];

const RANGES: ReadonlyArray<readonly [label: string, spanMs: number, interval: string]> = [
  ["Last hour", 3_600_000, "1m"],
  ["Last 24 hours", 86_400_000, "30m"],
  ["Last 7 days", 7 * 86_400_000, "6h"],
];
const REFRESH_MS = 5000;

interface ChartSpec {
  readonly title: string;
  readonly series: ReadonlyArray<
    readonly [label: string, color: string, value: (p: NonNullable<Stats["series"]>[number]) => number | null]
  >;
  readonly axis: (value: number) => string;
  /** Latency has no value in an empty bucket: points show a bucket with traffic between empty ones. */
  readonly points?: boolean;
}

const CHARTS: readonly ChartSpec[] = [
  {
    title: "Requests and errors",
    series: [
      ["requests", "#2563eb", (p) => p.requests ?? 0],
      ["errors", "#dc2626", (p) => p.errors ?? 0],
    ],
    axis: (v) => number(v),
  },
  {
    title: "Latency",
    series: [
      ["p50", "#0d9488", (p) => (p.requests ? (p.latency_ms?.p50 ?? null) : null)],
      ["p99", "#9333ea", (p) => (p.requests ? (p.latency_ms?.p99 ?? null) : null)],
    ],
    axis: (v) => ms(v),
    points: true,
  },
  {
    title: "Tokens",
    series: [
      ["input", "#ca8a04", (p) => p.input_tokens ?? 0],
      ["output", "#16a34a", (p) => p.output_tokens ?? 0],
    ],
    axis: (v) => number(v),
  },
  { title: "Cost", series: [["cost", "#475569", (p) => p.cost ?? 0]], axis: (v) => money(v) },
];

export async function dashboardPage(main: HTMLElement): Promise<() => void> {
  let range = RANGES[0] as (typeof RANGES)[number];
  const select = el(
    "select",
    {
      "aria-label": "Time range",
      on: {
        change: () => {
          range = RANGES[select.selectedIndex] ?? range;
          void refresh();
        },
      },
    },
    RANGES.map(([label]) => el("option", {}, label)),
  );
  const totals = el("div", { class: "tiles" });
  const live = el("div", { class: "tiles live" });
  const liveState = el("span", { class: "badge" }, "connecting");
  const chartBox = el("div", { class: "charts" });
  const groups = el("div", { class: "groups" });
  replace(
    main,
    el("div", { class: "page-head" }, el("h1", {}, "Dashboard"), select),
    totals,
    el("h2", {}, "Live ", liveState),
    live,
    chartBox,
    groups,
  );

  const counters = { requests: 0, errors: 0, tokens: 0, cost: 0, last: "" };
  const drawLive = () =>
    replace(
      live,
      tile("Requests since opened", number(counters.requests)),
      tile("Errors since opened", number(counters.errors)),
      tile("Tokens since opened", number(counters.tokens)),
      tile("Cost since opened", money(counters.cost)),
      tile("Last request", counters.last || "–"),
    );
  drawLive();

  const charts: uPlot[] = [];
  const resize = () => {
    for (const chart of charts) chart.setSize({ width: chartWidth(chart.root.parentElement), height: 180 });
  };
  window.addEventListener("resize", resize);

  async function refresh(): Promise<void> {
    const from = new Date(Date.now() - range[1]).toISOString();
    const [stats, byProvider, byModel] = await Promise.all([
      call("GET /api/logs/stats", { query: { from, interval: range[2] } }),
      call("GET /api/logs/stats", { query: { from, group_by: "provider" } }),
      call("GET /api/logs/stats", { query: { from, group_by: "model" } }),
    ]);
    const total = stats.total ?? {};
    replace(
      totals,
      tile("Requests", number(total.requests)),
      tile("Errors", `${number(total.errors)} (${percent(total.error_rate)})`),
      tile("Latency p50", ms(total.latency_ms?.p50)),
      tile("Latency p99", ms(total.latency_ms?.p99)),
      tile("Tokens", number((total.input_tokens ?? 0) + (total.output_tokens ?? 0))),
      tile("Cost", money(total.cost)),
    );
    for (const chart of charts.splice(0)) chart.destroy();
    chartBox.replaceChildren();
    const series = stats.series ?? [];
    const xs = series.map((p) => Date.parse(p.time ?? "") / 1000);
    for (const spec of CHARTS) {
      const holder = el("figure", { class: "chart card" }, el("figcaption", {}, spec.title));
      chartBox.append(holder);
      const data: uPlot.AlignedData = [xs, ...spec.series.map(([, , value]) => series.map(value))];
      charts.push(
        new uPlot(
          {
            width: chartWidth(holder),
            height: 180,
            series: [
              {},
              ...spec.series.map(([label, stroke]) => ({
                label,
                stroke,
                width: 2,
                points: { show: spec.points === true, size: 5 },
              })),
            ],
            axes: [{}, { values: (_u: uPlot, ticks: number[]) => ticks.map(spec.axis), size: 84 }],
            legend: { show: true },
          },
          data,
          holder,
        ),
      );
    }
    replace(
      groups,
      groupTable("By provider", byProvider.groups ?? []),
      groupTable("By model", byModel.groups ?? []),
    );
  }

  let pending: ReturnType<typeof setTimeout> | undefined;
  const tail = openLiveTail(
    (logs: readonly LogRecord[]) => {
      for (const log of logs) {
        counters.requests++;
        if ((log.status ?? 0) >= 400) counters.errors++;
        counters.tokens += (log.input_tokens ?? 0) + (log.output_tokens ?? 0);
        counters.cost += log.cost ?? 0;
        counters.last = `${log.model ?? "?"} · ${log.status ?? "?"} · ${ms(log.latency_ms)}`;
      }
      drawLive();
      pending ??= setTimeout(() => {
        pending = undefined;
        void refresh().catch(() => {});
      }, REFRESH_MS);
    },
    (state, detail) => {
      liveState.textContent = detail ? `${state}: ${detail}` : state;
      liveState.className = `badge ${state}`;
    },
  );
  await refresh();
  return () => {
    tail.close();
    clearTimeout(pending);
    window.removeEventListener("resize", resize);
    for (const chart of charts) chart.destroy();
  };
}

function chartWidth(holder: Element | null): number {
  return Math.max(240, (holder?.clientWidth ?? 600) - 24);
}

function tile(label: string, value: string): HTMLElement {
  return el("div", { class: "tile card" }, el("span", { class: "label" }, label), el("strong", {}, value));
}

function groupTable(title: string, rows: readonly Group[]): HTMLElement {
  return el(
    "section",
    {},
    el("h2", {}, title),
    table(
      [
        {
          title: "Name",
          // Requests refused before routing have no provider or model.
          cell: (g) => el("span", { class: "name", title: g.group ?? "" }, g.group || "(none)"),
        },
        { title: "Requests", cell: (g) => number(g.requests), class: "num" },
        { title: "Errors", cell: (g) => `${number(g.errors)} (${percent(g.error_rate)})`, class: "num" },
        { title: "p50", cell: (g) => ms(g.latency_ms?.p50), class: "num" },
        { title: "p99", cell: (g) => ms(g.latency_ms?.p99), class: "num" },
        {
          title: "Tokens",
          cell: (g) => number((g.input_tokens ?? 0) + (g.output_tokens ?? 0)),
          class: "num",
        },
        { title: "Cost", cell: (g) => money(g.cost), class: "num" },
      ],
      rows,
      "No requests in this range.",
    ),
  );
}
