import type { RequestLogRecord } from "../observability/request-log/record.js";
import { LogQueryError } from "../store/logs/errors.js";
import type { LogFilter, LogGroup, LogSummary, StatsRow } from "../store/logs/types.js";
import { isoTime, toDollars, toTime } from "./convert.js";
import { AdminError, invalidField } from "./errors.js";
import { DOLLARS, ID, ISO_TIME, MODEL_PATTERN, nullable } from "./fields.js";
import type { AdminRoute } from "./route.js";
import type { RecordSchema, Schema, StringSchema } from "./schema.js";

// The request log under /api: records newest first with filters and a cursor (/api/logs), one record with
// its content (/api/logs/{id}), and counts, tokens, cost, latency and error rates over a range, grouped
// and bucketed (/api/logs/stats). The log worker answers them (src/control/request-log.ts).

const TIME_PARAM: StringSchema = {
  type: "string",
  maxLength: 40,
  description: "ISO 8601 or Unix milliseconds.",
};
const FILTERS: Readonly<Record<string, StringSchema>> = {
  from: { ...TIME_PARAM, description: "From this time on (ISO 8601 or Unix milliseconds)." },
  to: { ...TIME_PARAM, description: "Before this time (ISO 8601 or Unix milliseconds)." },
  provider: ID,
  model: MODEL_PATTERN,
  status: {
    type: "string",
    maxLength: 5,
    pattern: "^([1-5][0-9][0-9]|[1-5]xx|error)$",
    description: 'An exact status ("429"), a class ("4xx") or "error" (400 and above).',
  },
  virtual_key: ID,
  team: ID,
  customer: ID,
  q: {
    type: "string",
    maxLength: 200,
    description: "Text the input, output, error message or metadata contain (case-insensitive).",
  },
};
const GROUPS: readonly LogGroup[] = ["model", "provider", "key", "team", "customer"];
/** At most this many series buckets, whatever the range. */
const MAX_BUCKETS = 1000;

function filterOf(query: ReadonlyMap<string, string>): LogFilter {
  const out: { -readonly [K in keyof LogFilter]: LogFilter[K] } = {};
  const from = query.get("from");
  const to = query.get("to");
  if (from !== undefined) out.from = toTime(from, "from");
  if (to !== undefined) out.to = toTime(to, "to");
  if (out.from !== undefined && out.to !== undefined && out.from > out.to)
    throw invalidField("to", "is before from");
  const pairs: [keyof LogFilter, string][] = [
    ["provider", "provider"],
    ["model", "model"],
    ["status", "status"],
    ["virtualKey", "virtual_key"],
    ["team", "team"],
    ["customer", "customer"],
    ["text", "q"],
  ];
  for (const [field, param] of pairs) {
    const value = query.get(param);
    if (value !== undefined && value !== "") (out as Record<string, unknown>)[field] = value;
  }
  return out;
}

/** The log store's refusals (a malformed cursor, too many buckets) are the client's: a 400; its failures a 503. */
async function asked<T>(question: () => Promise<T>): Promise<T> {
  try {
    return await question();
  } catch (error) {
    if (error instanceof AdminError) throw error;
    if (error instanceof LogQueryError)
      throw new AdminError(400, "invalid_request_error", "invalid_query", error.message.slice(0, 300));
    const message = error instanceof Error ? error.message.slice(0, 300) : "unknown failure";
    throw new AdminError(
      503,
      "service_unavailable",
      "log_store_unavailable",
      `the request log did not answer: ${message}`,
    );
  }
}

const COUNT: Schema = { type: "integer", minimum: 0, maximum: 1e15 };
const MS: Schema = { type: "number", minimum: -1, maximum: 1e12 };
const TEXT: StringSchema = { type: "string", maxLength: 1024 };

const SUMMARY_PROPERTIES: RecordSchema["properties"] = {
  id: { type: "string", maxLength: 64 },
  request_id: { type: "string", maxLength: 128 },
  time: ISO_TIME,
  route: TEXT,
  format: TEXT,
  model: TEXT,
  provider: TEXT,
  provider_model: TEXT,
  provider_key: TEXT,
  virtual_key: TEXT,
  team: TEXT,
  customer: TEXT,
  status: { type: "integer", minimum: 0, maximum: 999 },
  error_code: TEXT,
  error_class: { type: "string", maxLength: 16, enum: ["", "client", "policy", "provider", "gateway"] },
  error_message: { type: "string", maxLength: 1000 },
  latency_ms: MS,
  ttft_ms: nullable(MS),
  retries: COUNT,
  fallback_index: COUNT,
  cache: { type: "string", maxLength: 8, enum: ["", "hit", "semantic", "miss"] },
  input_tokens: COUNT,
  output_tokens: COUNT,
  cached_tokens: COUNT,
  reasoning_tokens: COUNT,
  cost: DOLLARS,
  cache_saved: DOLLARS,
  stream: { type: "boolean" },
  metadata: nullable({ type: "object", "x-maxJsonBytes": 16384 }),
  input_bytes: COUNT,
  output_bytes: COUNT,
};
const SUMMARY_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: SUMMARY_PROPERTIES,
};
const CONTENT: Schema = nullable({ type: "string", maxLength: 8 * 1024 * 1024 });
const RECORD_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: { ...SUMMARY_PROPERTIES, input: CONTENT, output: CONTENT },
};

function summaryView(record: Omit<RequestLogRecord, "input" | "output">): Record<string, unknown> {
  return {
    id: record.id,
    request_id: record.requestId,
    time: isoTime(record.time),
    route: record.route,
    format: record.format,
    model: record.model,
    provider: record.provider,
    provider_model: record.providerModel,
    provider_key: record.providerKey,
    virtual_key: record.virtualKey,
    team: record.team,
    customer: record.customer,
    status: record.status,
    error_code: record.errorCode,
    error_class: record.errorClass,
    error_message: record.errorMessage,
    latency_ms: record.latencyMs,
    ttft_ms: record.ttftMs < 0 ? null : record.ttftMs,
    retries: record.retries,
    fallback_index: record.fallbackIndex,
    cache: record.cache,
    input_tokens: record.inputTokens,
    output_tokens: record.outputTokens,
    cached_tokens: record.cachedTokens,
    reasoning_tokens: record.reasoningTokens,
    cost: toDollars(record.costMicros),
    cache_saved: toDollars(record.cacheSavedMicros),
    stream: record.stream,
    metadata: record.metadata,
  };
}

function listView(summary: LogSummary): Record<string, unknown> {
  return { ...summaryView(summary), input_bytes: summary.inputBytes, output_bytes: summary.outputBytes };
}

/** The live tail's message for records just stored: their summaries as /api/logs lists them. */
export function liveTailMessage(summaries: readonly LogSummary[]): string {
  return JSON.stringify({ type: "logs", logs: summaries.map(listView) });
}

const encoder = new TextEncoder();

function recordView(record: RequestLogRecord): Record<string, unknown> {
  return {
    ...summaryView(record),
    input_bytes: record.input === null ? 0 : encoder.encode(record.input).length,
    output_bytes: record.output === null ? 0 : encoder.encode(record.output).length,
    input: record.input,
    output: record.output,
  };
}

const LATENCY_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: { p50: MS, p90: MS, p99: MS, mean: MS },
};
const STATS_PROPERTIES: RecordSchema["properties"] = {
  requests: COUNT,
  errors: COUNT,
  error_rate: { type: "number", minimum: 0, maximum: 1 },
  input_tokens: COUNT,
  output_tokens: COUNT,
  cost: DOLLARS,
  latency_ms: LATENCY_VIEW,
};

function statsView(row: StatsRow): Record<string, unknown> {
  return {
    requests: row.requests,
    errors: row.errors,
    error_rate: row.errorRate,
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cost: toDollars(row.costMicros),
    latency_ms: row.latency,
  };
}

/** A bucket width: whole seconds, or a count and a unit ("30s", "5m", "1h", "1d"). */
function intervalMs(text: string): number {
  const match = /^(\d{1,7})(s|m|h|d)?$/.exec(text.trim());
  if (match === null)
    throw invalidField("interval", 'must be seconds or a count and a unit ("30s", "5m", "1h", "1d")');
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    (match[2] ?? "s") as "s" | "m" | "h" | "d"
  ];
  const ms = Number(match[1]) * unit;
  if (ms < 1000) throw invalidField("interval", "must be at least one second");
  return ms;
}

export const LOG_ROUTES: readonly AdminRoute[] = [
  {
    method: "GET",
    path: "/api/logs/stats",
    summary:
      "Counts, tokens, cost, latency percentiles and error rates over a range, in total, grouped, and as a time series.",
    query: {
      ...FILTERS,
      group_by: { type: "string", maxLength: 8, enum: GROUPS },
      interval: {
        type: "string",
        maxLength: 10,
        description: `The series' bucket width: seconds, or "30s", "5m", "1h", "1d"; needs a range of at most ${MAX_BUCKETS} buckets (from, and to or now).`,
      },
    },
    response: {
      type: "object",
      additionalProperties: false,
      properties: {
        from: nullable(ISO_TIME),
        to: nullable(ISO_TIME),
        group_by: nullable({ type: "string", maxLength: 8, enum: GROUPS }),
        total: { type: "object", additionalProperties: false, properties: STATS_PROPERTIES },
        groups: {
          type: "array",
          maxItems: 100,
          items: {
            type: "object",
            additionalProperties: false,
            properties: { group: TEXT, ...STATS_PROPERTIES },
          },
        },
        series: {
          type: "array",
          maxItems: MAX_BUCKETS,
          items: {
            type: "object",
            additionalProperties: false,
            properties: { time: ISO_TIME, ...STATS_PROPERTIES },
          },
        },
      },
    },
    async handle(context, { query }) {
      const logs = requireLogs(context.logs);
      const filter = filterOf(query);
      const groupBy = query.get("group_by") as LogGroup | undefined;
      const interval = query.get("interval");
      const stats = await asked(() =>
        logs.stats({
          ...filter,
          ...(groupBy === undefined ? {} : { groupBy }),
          ...(interval === undefined ? {} : { interval: intervalMs(interval) }),
        }),
      );
      return {
        status: 200,
        body: {
          from: filter.from === undefined ? null : isoTime(filter.from),
          to: filter.to === undefined ? null : isoTime(filter.to),
          group_by: groupBy ?? null,
          total: statsView(stats.total),
          groups: stats.groups.map((row) => ({ group: row.group, ...statsView(row) })),
          series: stats.series.map((row) => ({ time: isoTime(row.time), ...statsView(row) })),
        },
      };
    },
  },
  {
    method: "GET",
    path: "/api/logs/{id}",
    summary: "One request's record, with its input and output when content is logged.",
    response: RECORD_VIEW,
    async handle(context, { params }) {
      const logs = requireLogs(context.logs);
      const record = await asked(() => logs.get(params.id as string));
      if (record === null)
        throw new AdminError(404, "not_found_error", "not_found", "no request record with this id");
      return { status: 200, body: recordView(record) };
    },
  },
  {
    method: "GET",
    path: "/api/logs",
    summary: "Request records, newest first, filtered, a page at a time (follow next_cursor).",
    query: {
      ...FILTERS,
      limit: {
        type: "string",
        maxLength: 4,
        pattern: "^[0-9]+$",
        description: "At most this many (1 to 1000; 50).",
      },
      cursor: { type: "string", maxLength: 256, description: "next_cursor of the page before." },
    },
    response: {
      type: "object",
      additionalProperties: false,
      properties: {
        data: { type: "array", items: SUMMARY_VIEW, maxItems: 1000 },
        next_cursor: nullable({ type: "string", maxLength: 256 }),
      },
    },
    async handle(context, { query }) {
      const logs = requireLogs(context.logs);
      const limitText = query.get("limit");
      const limit = limitText === undefined ? 50 : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw invalidField("limit", "must be an integer from 1 to 1000");
      const cursor = query.get("cursor");
      const page = await asked(() =>
        logs.query({
          ...filterOf(query),
          limit,
          ...(cursor === undefined || cursor === "" ? {} : { cursor }),
        }),
      );
      return { status: 200, body: { data: page.logs.map(listView), next_cursor: page.nextCursor } };
    },
  },
];

function requireLogs<T>(logs: T | undefined): T {
  if (logs === undefined)
    throw new AdminError(
      404,
      "not_found_error",
      "logs_disabled",
      "the request log is off (SWITCHYARD_LOGS=false, or the configuration turns it off)",
    );
  return logs;
}
