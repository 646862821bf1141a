import { afterEach, describe, expect, it } from "vitest";
import type { RequestLogRecord } from "../../observability/request-log/record.js";
import { encodeCursor } from "./cursor.js";
import { LogQueryError } from "./errors.js";
import type { LogFilter, LogStore, StatsRow } from "./types.js";

// What every LogStore must do, as vitest tests: sqlite.test.ts and postgres.test.ts run it against their
// databases, so the two answer alike.

export interface LogStoreHarness {
  /** A migrated store on a database no other test uses. */
  open(): Promise<LogStore>;
}

/** A UTC midnight: the stores' days (PostgreSQL's partitions) start here. */
export const T0 = Date.UTC(2026, 2, 1);
export const DAY = 86_400_000;
const MINUTE = 60_000;

export function logRecord(id: string, fields: Partial<RequestLogRecord> = {}): RequestLogRecord {
  return {
    id,
    requestId: `req-${id}`,
    time: T0,
    route: "openai.chat",
    format: "openai",
    model: "gpt-4o",
    provider: "openai",
    providerModel: "gpt-4o-2024-08-06",
    providerKey: "primary",
    virtualKey: "",
    team: "",
    customer: "",
    status: 200,
    errorCode: "",
    errorClass: "",
    errorMessage: "",
    latencyMs: 120,
    ttftMs: -1,
    retries: 0,
    fallbackIndex: 0,
    cache: "",
    inputTokens: 10,
    outputTokens: 20,
    cachedTokens: 0,
    reasoningTokens: 0,
    costMicros: 300,
    cacheSavedMicros: 0,
    stream: false,
    metadata: null,
    input: null,
    output: null,
    ...fields,
  };
}

/** Every record the filter finds, newest first, by id (walking all pages). */
async function idsOf(store: LogStore, filter: LogFilter): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.query({ ...filter, limit: 1_000, ...(cursor === undefined ? {} : { cursor }) });
    ids.push(...page.logs.map((log) => log.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return ids;
}

const filterRecords = [
  logRecord("f-1", {
    time: T0 + 1_000,
    model: "gpt-4o",
    virtualKey: "vk-a",
    team: "team-x",
    customer: "cust-1",
    input: "Hello World",
    output: "hi there",
    metadata: { env: "prod" },
  }),
  logRecord("f-2", {
    time: T0 + 2_000,
    provider: "anthropic",
    model: "claude-3",
    status: 429,
    virtualKey: "vk-b",
    team: "team-y",
    customer: "cust-2",
    errorCode: "rate_limited",
    errorClass: "provider",
    errorMessage: "Rate limited by upstream",
  }),
  logRecord("f-3", {
    time: T0 + 3_000,
    model: "gpt-4o-mini",
    status: 500,
    virtualKey: "vk-a",
    team: "team-y",
    errorMessage: "upstream exploded",
    input: "100% sure",
    metadata: { ticket: "ABC_123" },
  }),
  logRecord("f-4", {
    time: T0 + 4_000,
    status: 201,
    virtualKey: "vk-c",
    customer: "cust-1",
    input: "100 sure",
    metadata: { note: "a_b" },
  }),
  logRecord("f-5", { time: T0 + 5_000, provider: "gemini", model: "gemini-pro", status: 404 }),
  logRecord("f-6", {
    time: T0 + 6_000,
    status: 503,
    virtualKey: "vk-a",
    team: "team-x",
    customer: "cust-1",
    output: "aXb, the answer is 42",
  }),
];

/** Latencies of model m-a (ten records a minute apart) and m-b (three, twenty minutes in). */
const statsRecords = [
  ...[5, 1, 9, 3, 7, 2, 8, 4, 10, 6].map((latencyMs, index) =>
    logRecord(`a-${index}`, {
      time: T0 + index * MINUTE,
      model: "m-a",
      provider: "p1",
      latencyMs,
      status: index === 2 ? 500 : index === 7 ? 429 : 200,
      inputTokens: 10,
      outputTokens: 20,
      costMicros: 100,
    }),
  ),
  ...[100, 300, 200].map((latencyMs, index) =>
    logRecord(`b-${index}`, {
      time: T0 + (20 + index) * MINUTE,
      model: "m-b",
      provider: "p2",
      latencyMs,
      status: index === 2 ? 503 : 200,
      inputTokens: index + 1,
      outputTokens: 0,
      costMicros: (index + 1) * 1_000,
    }),
  ),
];

function row(fields: Omit<StatsRow, "errorRate">): StatsRow {
  return { ...fields, errorRate: fields.requests === 0 ? 0 : fields.errors / fields.requests };
}

const EMPTY = row({
  requests: 0,
  errors: 0,
  inputTokens: 0,
  outputTokens: 0,
  costMicros: 0,
  latency: { p50: 0, p90: 0, p99: 0, mean: 0 },
});

export function defineLogStoreConformance(name: string, harness: LogStoreHarness): void {
  describe(`LogStore conformance: ${name}`, () => {
    const opened: LogStore[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });
    async function open(records: readonly RequestLogRecord[] = []): Promise<LogStore> {
      const store = await harness.open();
      opened.push(store);
      await store.insert(records);
      return store;
    }

    it("gives a record back whole by id, and nothing for an unknown id", async () => {
      const record = logRecord("whole", {
        time: T0 + 1_234,
        route: "anthropic.messages",
        format: "anthropic",
        virtualKey: "vk-1",
        team: "team-1",
        customer: "cust-1",
        status: 502,
        errorCode: "upstream_error",
        errorClass: "provider",
        errorMessage: "bad gateway",
        latencyMs: 12.75,
        ttftMs: 3.5,
        retries: 2,
        fallbackIndex: 1,
        cache: "miss",
        cachedTokens: 4,
        reasoningTokens: 7,
        costMicros: 9_007_199_254,
        stream: true,
        metadata: { env: "prod", "x-team": "payments" },
        input: '{"messages":[{"role":"user","content":"héllo"}]}',
        output: "",
      });
      const store = await open([record, logRecord("other")]);
      expect(await store.get("whole")).toEqual(record);
      expect(await store.get("missing")).toBeUndefined();
    });

    it("lists summaries newest first, without the content but with its size in bytes", async () => {
      const store = await open([
        logRecord("old", { time: T0, input: "héllo", output: null }),
        logRecord("new", { time: T0 + 1, input: null, output: "ok" }),
      ]);
      const page = await store.query({});
      expect(page.nextCursor).toBeNull();
      expect(page.logs.map((log) => [log.id, log.inputBytes, log.outputBytes])).toEqual([
        ["new", 0, 2],
        ["old", 6, 0],
      ]);
      expect(page.logs[0]).not.toHaveProperty("input");
      expect(page.logs[0]).not.toHaveProperty("output");
      const { input: _input, output: _output, ...summary } = logRecord("new", { time: T0 + 1 });
      expect(page.logs[0]).toEqual({ ...summary, inputBytes: 0, outputBytes: 2 });
    });

    it("skips a record whose id is already stored, keeping the first", async () => {
      const first = logRecord("dup", { time: T0 + 5, model: "first" });
      const store = await open([first]);
      await store.insert([{ ...first, model: "second" }, logRecord("fresh", { time: T0 + 6 })]);
      await store.insert([first, first]);
      await store.insert([]);
      expect(await store.get("dup")).toEqual(first);
      expect(await idsOf(store, {})).toEqual(["fresh", "dup"]);
    });

    it("filters by each field alone", async () => {
      const store = await open(filterRecords);
      const cases: [LogFilter, string[]][] = [
        [{}, ["f-6", "f-5", "f-4", "f-3", "f-2", "f-1"]],
        [{ from: T0 + 2_000, to: T0 + 5_000 }, ["f-4", "f-3", "f-2"]],
        [{ from: T0 + 5_000 }, ["f-6", "f-5"]],
        [{ to: T0 + 2_000 }, ["f-1"]],
        [{ provider: "openai" }, ["f-6", "f-4", "f-3", "f-1"]],
        [{ model: "gpt-4o" }, ["f-6", "f-4", "f-1"]],
        [{ model: "gpt" }, []],
        [{ status: "429" }, ["f-2"]],
        [{ status: "2xx" }, ["f-4", "f-1"]],
        [{ status: "4xx" }, ["f-5", "f-2"]],
        [{ status: "5xx" }, ["f-6", "f-3"]],
        [{ status: "error" }, ["f-6", "f-5", "f-3", "f-2"]],
        [{ virtualKey: "vk-a" }, ["f-6", "f-3", "f-1"]],
        [{ team: "team-y" }, ["f-3", "f-2"]],
        [{ customer: "cust-1" }, ["f-6", "f-4", "f-1"]],
      ];
      for (const [filter, ids] of cases)
        expect(await idsOf(store, filter), JSON.stringify(filter)).toEqual(ids);
    });

    it("searches input, output, error message and metadata values, ignoring case", async () => {
      const store = await open(filterRecords);
      const cases: [string, string[]][] = [
        ["hello world", ["f-1"]],
        ["THERE", ["f-1"]],
        ["rate LIMITED", ["f-2"]],
        ["upstream", ["f-3", "f-2"]],
        ["PROD", ["f-1"]],
        // A metadata key is not a value.
        ["env", []],
        ["answer is 42", ["f-6"]],
      ];
      for (const [text, ids] of cases) expect(await idsOf(store, { text }), text).toEqual(ids);
    });

    it("takes % and _ in the search text literally", async () => {
      const store = await open(filterRecords);
      expect(await idsOf(store, { text: "100%" })).toEqual(["f-3"]);
      expect(await idsOf(store, { text: "100" })).toEqual(["f-4", "f-3"]);
      expect(await idsOf(store, { text: "a_b" })).toEqual(["f-4"]);
      expect(await idsOf(store, { text: "_" })).toEqual(["f-4", "f-3"]);
      expect(await idsOf(store, { text: "%" })).toEqual(["f-3"]);
    });

    it("combines filters", async () => {
      const store = await open(filterRecords);
      expect(await idsOf(store, { provider: "openai", status: "error", team: "team-x" })).toEqual(["f-6"]);
      expect(await idsOf(store, { provider: "openai", text: "SURE" })).toEqual(["f-4", "f-3"]);
      expect(await idsOf(store, { from: T0 + 3_000, virtualKey: "vk-a" })).toEqual(["f-6", "f-3"]);
      expect(await idsOf(store, { customer: "cust-1", status: "2xx", text: "100" })).toEqual(["f-4"]);
      expect(await idsOf(store, { model: "claude-3", status: "5xx" })).toEqual([]);
    });

    it("walks every page without gaps or repeats, equal times included", async () => {
      // 120 records, seven to a millisecond, stored in no particular order.
      const records = Array.from({ length: 120 }, (_, index) =>
        logRecord(`p-${String((index * 37) % 120).padStart(3, "0")}`, {
          time: T0 + Math.floor(((index * 37) % 120) / 7),
          provider: index % 3 === 0 ? "odd" : "openai",
        }),
      );
      const store = await open(records);
      const expected = records
        .map((record) => ({ id: record.id, time: record.time, provider: record.provider }))
        .sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1));
      for (const filter of [{}, { provider: "openai" }]) {
        const want = expected.filter(
          (record) => filter.provider === undefined || record.provider === filter.provider,
        );
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page = await store.query({ ...filter, limit: 9, ...(cursor === null ? {} : { cursor }) });
          expect(page.logs.length).toBeLessThanOrEqual(9);
          seen.push(...page.logs.map((log) => log.id));
          cursor = page.nextCursor;
          pages++;
        } while (cursor !== null);
        expect(seen).toEqual(want.map((record) => record.id));
        expect(pages).toBe(Math.ceil(want.length / 9));
      }
      const [only] = (await store.query({ limit: 1 })).logs;
      expect(only?.id).toBe(expected[0]?.id);
      expect((await store.query({})).logs).toHaveLength(50);
    });

    it("refuses a bad cursor, status, limit, group or over-long text with a LogQueryError", async () => {
      const store = await open(filterRecords);
      const bad: Parameters<LogStore["query"]>[0][] = [
        { cursor: "not a cursor!" },
        { cursor: "" },
        { cursor: "abc" },
        { cursor: Buffer.from("soon:f-1").toString("base64url") },
        { cursor: `${encodeCursor({ time: T0, id: "f-1" })}=` },
        { status: "200x" },
        { status: "6xx" },
        { status: "errors" },
        { status: "' OR 1=1 --" },
        { limit: 0 },
        { limit: 1_001 },
        { limit: 2.5 },
        { text: "x".repeat(201) },
        { model: "m".repeat(1_001) },
        { from: Number.NaN },
      ];
      for (const query of bad) {
        await expect(store.query(query), JSON.stringify(query)).rejects.toBeInstanceOf(LogQueryError);
      }
      await expect(store.stats({ status: "bad" })).rejects.toBeInstanceOf(LogQueryError);
      await expect(store.stats({ groupBy: "nothing" as "model" })).rejects.toBeInstanceOf(LogQueryError);
      expect((await store.query({ text: "y".repeat(200) })).logs).toEqual([]);
      // A cursor this log made for another position is fine: it pages from there.
      const after = await store.query({ cursor: encodeCursor({ time: T0 + 3_000, id: "f-3" }) });
      expect(after.logs.map((log) => log.id)).toEqual(["f-2", "f-1"]);
    });

    it("stores and finds hostile strings as they are (NUL as U+FFFD)", async () => {
      const injection = `'; DROP TABLE request_logs; -- "quoted" \\ back\\slash`;
      const long = `${"x".repeat(200_000)}needle-at-the-end`;
      const records = [
        logRecord("h-1", {
          time: T0 + 1,
          input: injection,
          model: `o'brien"model`,
          metadata: { "k'ey": `v"al` },
        }),
        logRecord("h-2", { time: T0 + 2, input: "before\u0000after", errorMessage: "nul\u0000here" }),
        logRecord("h-3", { time: T0 + 3, input: long, output: "ünïcödé 🙂" }),
        logRecord("h-'4\"", { time: T0 + 4 }),
      ];
      const store = await open(records);
      expect(await store.get("h-1")).toEqual(records[0]);
      expect(await store.get("h-3")).toEqual(records[2]);
      expect(await store.get("h-'4\"")).toEqual(records[3]);
      expect(await store.get("h-2")).toEqual({
        ...records[1],
        input: "before\uFFFDafter",
        errorMessage: "nul\uFFFDhere",
      });
      expect(await idsOf(store, { text: "DROP TABLE request_logs;" })).toEqual(["h-1"]);
      expect(await idsOf(store, { text: "back\\slash" })).toEqual(["h-1"]);
      expect(await idsOf(store, { text: `"QUOTED"` })).toEqual(["h-1"]);
      expect(await idsOf(store, { text: `v"al` })).toEqual(["h-1"]);
      expect(await idsOf(store, { model: `o'brien"model` })).toEqual(["h-1"]);
      expect(await idsOf(store, { text: "before\u0000after" })).toEqual(["h-2"]);
      expect(await idsOf(store, { text: "needle-at-the-end" })).toEqual(["h-3"]);
      expect(await idsOf(store, { text: "🙂" })).toEqual(["h-3"]);
      const [summary] = (await store.query({ text: "needle" })).logs;
      expect(summary?.inputBytes).toBe(long.length);
      expect(summary?.outputBytes).toBe(Buffer.byteLength("ünïcödé 🙂"));
    });

    it("takes content as a lane's UTF-8 bytes: gives it back as text, finds it, counts its bytes", async () => {
      const text = "Grüße, 世界 🙂 and a needle";
      const bytes = new TextEncoder().encode(text);
      // A cut that split a character, as the lane's content bound can.
      const cut = new TextEncoder().encode("a€").subarray(0, 3);
      const store = await open();
      await store.insert([
        { ...logRecord("b-1", { time: T0 + 1 }), input: bytes, output: cut },
        { ...logRecord("b-2", { time: T0 + 2 }), input: new TextEncoder().encode("before\u0000after") },
      ]);
      expect(await store.get("b-1")).toMatchObject({ input: text, output: "a\uFFFD" });
      expect(await store.get("b-2")).toMatchObject({ input: "before\uFFFDafter" });
      expect(await idsOf(store, { text: "NEEDLE" })).toEqual(["b-1"]);
      expect(await idsOf(store, { text: "世界 🙂" })).toEqual(["b-1"]);
      expect(await idsOf(store, { text: "before\u0000after" })).toEqual(["b-2"]);
      const [summary] = (await store.query({ text: "needle" })).logs;
      expect(summary?.inputBytes).toBe(bytes.length);
      expect(summary?.outputBytes).toBe(3);
    });

    it("counts requests, errors, tokens, cost and nearest-rank latency percentiles", async () => {
      const store = await open(statsRecords);
      // All 13 latencies sorted: 1..10, 100, 200, 300. Rank ceil(p × 13): 7, 12, 13.
      const total = row({
        requests: 13,
        errors: 3,
        inputTokens: 106,
        outputTokens: 200,
        costMicros: 7_000,
        latency: { p50: 7, p90: 200, p99: 300, mean: 655 / 13 },
      });
      // m-a: 1..10, ranks 5, 9, 10. m-b: 100, 200, 300, ranks 2, 3, 3.
      const ma = row({
        requests: 10,
        errors: 2,
        inputTokens: 100,
        outputTokens: 200,
        costMicros: 1_000,
        latency: { p50: 5, p90: 9, p99: 10, mean: 5.5 },
      });
      const mb = row({
        requests: 3,
        errors: 1,
        inputTokens: 6,
        outputTokens: 0,
        costMicros: 6_000,
        latency: { p50: 200, p90: 300, p99: 300, mean: 200 },
      });
      const stats = await store.stats({ groupBy: "model" });
      expect(stats.total.latency.mean).toBeCloseTo(655 / 13, 9);
      expect({ ...stats.total, latency: { ...stats.total.latency, mean: 0 } }).toEqual({
        ...total,
        latency: { ...total.latency, mean: 0 },
      });
      expect(stats.groups).toEqual([
        { group: "m-a", ...ma },
        { group: "m-b", ...mb },
      ]);
      expect(stats.series).toEqual([]);
      expect((await store.stats({ groupBy: "provider" })).groups.map((group) => group.group)).toEqual([
        "p1",
        "p2",
      ]);
      expect((await store.stats({ provider: "p2" })).total).toEqual(mb);
      expect(
        (await store.stats({ status: "error", groupBy: "model" })).groups.map((g) => [g.group, g.requests]),
      ).toEqual([
        ["m-a", 2],
        ["m-b", 1],
      ]);
      expect(await store.stats({ model: "none", groupBy: "team" })).toEqual({
        total: EMPTY,
        groups: [],
        series: [],
      });
    });

    it("groups by virtual key, team and customer, most requests first, at most 100", async () => {
      const records = Array.from({ length: 105 }, (_, index) =>
        logRecord(`g-${index}`, {
          time: T0 + index,
          virtualKey: `vk-${String(index).padStart(3, "0")}`,
          team: index < 100 ? "busy" : "quiet",
          customer: "",
        }),
      );
      records.push(logRecord("g-extra-1", { time: T0 + 500, virtualKey: "vk-104" }));
      records.push(logRecord("g-extra-2", { time: T0 + 501, virtualKey: "vk-104" }));
      const store = await open(records);
      const byKey = (await store.stats({ groupBy: "key" })).groups;
      expect(byKey).toHaveLength(100);
      expect(byKey[0]).toMatchObject({ group: "vk-104", requests: 3 });
      expect(byKey.slice(1).map((group) => group.group)).toEqual(
        Array.from({ length: 99 }, (_, index) => `vk-${String(index).padStart(3, "0")}`),
      );
      const byTeam = (await store.stats({ groupBy: "team" })).groups.map((group) => [
        group.group,
        group.requests,
      ]);
      expect(byTeam).toEqual([
        ["busy", 100],
        ["quiet", 5],
        ["", 2],
      ]);
      expect((await store.stats({ groupBy: "customer" })).groups.map((group) => group.requests)).toEqual([
        107,
      ]);
    });

    it("gives a series of every bucket in the range, empty ones included", async () => {
      const store = await open(statsRecords);
      const stats = await store.stats({ from: T0, to: T0 + 30 * MINUTE, interval: 5 * MINUTE });
      expect(stats.series.map((bucket) => bucket.time)).toEqual(
        [0, 5, 10, 15, 20, 25].map((m) => T0 + m * MINUTE),
      );
      // Minutes 0-4: latencies 5, 1, 9, 3, 7 (one 500); 5-9: 2, 8, 4, 10, 6 (one 429); 20-24: m-b.
      expect(stats.series[0]).toEqual({
        time: T0,
        ...row({
          requests: 5,
          errors: 1,
          inputTokens: 50,
          outputTokens: 100,
          costMicros: 500,
          latency: { p50: 5, p90: 9, p99: 9, mean: 5 },
        }),
      });
      expect(stats.series[1]?.latency).toEqual({ p50: 6, p90: 10, p99: 10, mean: 6 });
      expect(stats.series.map((bucket) => bucket.requests)).toEqual([5, 5, 0, 0, 3, 0]);
      expect(stats.series[2]).toEqual({ time: T0 + 10 * MINUTE, ...EMPTY });
      expect(stats.total.requests).toBe(13);

      // A range that is not a whole number of buckets ends with a part bucket; the range bounds the rows.
      const part = await store.stats({ from: T0 + 3 * MINUTE, to: T0 + 21 * MINUTE, interval: 7 * MINUTE });
      expect(part.series.map((bucket) => [bucket.time - T0, bucket.requests])).toEqual([
        [3 * MINUTE, 7],
        [10 * MINUTE, 0],
        [17 * MINUTE, 1],
      ]);

      // Without `to`, the range ends now.
      const from = Date.now() - 10 * MINUTE;
      const recent = await store.stats({ from, interval: MINUTE });
      expect([10, 11]).toContain(recent.series.length);
      expect(recent.series[1]?.time).toBe(from + MINUTE);
    });

    it("refuses a series it cannot give with a LogQueryError", async () => {
      const store = await open(statsRecords);
      const bad = [
        { interval: MINUTE },
        { from: T0, to: T0 + DAY, interval: 999 },
        { from: T0, to: T0 + DAY, interval: 60_000.5 },
        { from: T0, to: T0 + 1_001 * 1_000, interval: 1_000 },
        { from: T0, to: T0, interval: 1_000 },
      ];
      for (const query of bad) {
        await expect(store.stats(query), JSON.stringify(query)).rejects.toBeInstanceOf(LogQueryError);
      }
      expect((await store.stats({ from: T0, to: T0 + 1_000 * 1_000, interval: 1_000 })).series).toHaveLength(
        1_000,
      );
    });

    it("prunes records older than the age bound, and nothing without a bound", async () => {
      const records = [0, 1, 2, 3, 4].flatMap((day) =>
        [1, 2, 3].map((hour) => logRecord(`d${day}-${hour}`, { time: T0 + day * DAY + hour * 3_600_000 })),
      );
      const store = await open(records);
      expect(await store.sizeBytes()).toBeGreaterThan(0);
      expect((await store.prune({ maxAgeMs: 0, maxBytes: 0 }, T0 + 5 * DAY)).deletedRecords).toBe(0);
      // The bound falls on a midnight, where both stores cut alike (PostgreSQL works in whole days).
      const result = await store.prune({ maxAgeMs: 3.5 * DAY, maxBytes: 0 }, T0 + 5.5 * DAY);
      expect(result.deletedRecords).toBe(6);
      expect(result.sizeBytes).toBe(await store.sizeBytes());
      const left = await idsOf(store, {});
      expect(left).toHaveLength(9);
      expect(left.every((id) => /^d[234]-/.test(id))).toBe(true);
      expect(await store.get("d1-3")).toBeUndefined();
      // Records keep coming after a prune.
      await store.insert([logRecord("after", { time: T0 + 5 * DAY })]);
      expect(await store.get("after")).toBeDefined();
    });
  });
}
