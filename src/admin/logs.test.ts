import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AdminHarness, adminHarness } from "../../test/helpers/admin-harness.js";
import type { RequestLogRecord } from "../observability/request-log/record.js";

const T0 = Date.parse("2026-03-01T12:00:00Z");

function record(id: string, fields: Partial<RequestLogRecord> = {}): RequestLogRecord {
  return {
    id,
    requestId: `req-${id}`,
    time: T0,
    route: "openai.chat.completions",
    format: "openai",
    model: "gpt-4o-mini",
    provider: "openai",
    providerModel: "gpt-4o-mini",
    providerKey: "primary",
    virtualKey: "",
    team: "",
    customer: "",
    status: 200,
    errorCode: "",
    errorClass: "",
    errorMessage: "",
    latencyMs: 10,
    ttftMs: -1,
    retries: 0,
    fallbackIndex: 0,
    cache: "",
    inputTokens: 5,
    outputTokens: 7,
    cachedTokens: 0,
    reasoningTokens: 0,
    costMicros: 1_500,
    cacheSavedMicros: 0,
    stream: false,
    metadata: null,
    input: '{"model":"gpt-4o-mini"}',
    output: '{"choices":[]}',
    ...fields,
  };
}

describe("/api/logs", () => {
  let admin: AdminHarness;

  beforeEach(async () => {
    admin = await adminHarness();
    await admin.logs.insert([
      record("a", { time: T0 }),
      record("b", {
        time: T0 + 1000,
        status: 429,
        errorCode: "rate_limited",
        errorClass: "provider",
        latencyMs: 30,
      }),
      record("c", { time: T0 + 2000, model: "claude", provider: "anthropic", ttftMs: 4, stream: true }),
    ]);
  });

  afterEach(async () => {
    await admin.close();
  });

  it("lists summaries newest first in the API's names, content left out and money in dollars", async () => {
    const { status, json } = await admin.call("GET", "/api/logs");
    expect(status).toBe(200);
    expect(json.data.map((log: { id: string }) => log.id)).toEqual(["c", "b", "a"]);
    expect(json.data[0]).toMatchObject({
      request_id: "req-c",
      time: "2026-03-01T12:00:02.000Z",
      ttft_ms: 4,
      stream: true,
      cost: 0.0015,
      input_bytes: 23,
    });
    expect(json.data[0]).not.toHaveProperty("input");
    expect(json.data[2].ttft_ms).toBeNull();
    expect(json.next_cursor).toBeNull();
  });

  it("filters by the query's fields and pages with the cursor", async () => {
    const errors = await admin.call("GET", "/api/logs", undefined, "status=4xx");
    expect(errors.json.data.map((log: { id: string }) => log.id)).toEqual(["b"]);
    const claude = await admin.call("GET", "/api/logs", undefined, `model=claude&from=${T0}`);
    expect(claude.json.data.map((log: { id: string }) => log.id)).toEqual(["c"]);
    const first = await admin.call("GET", "/api/logs", undefined, "limit=2");
    const second = await admin.call(
      "GET",
      "/api/logs",
      undefined,
      `limit=2&cursor=${first.json.next_cursor}`,
    );
    expect(second.json.data.map((log: { id: string }) => log.id)).toEqual(["a"]);
  });

  it("gives one record with its content, and 404 for an unknown id", async () => {
    const found = await admin.call("GET", "/api/logs/a");
    expect(found.json).toMatchObject({ id: "a", input: '{"model":"gpt-4o-mini"}', output: '{"choices":[]}' });
    const missing = await admin.call("GET", "/api/logs/zzz");
    expect([missing.status, missing.json.error.code]).toEqual([404, "not_found"]);
  });

  it("sums stats by group and bucket", async () => {
    const { json } = await admin.call(
      "GET",
      "/api/logs/stats",
      undefined,
      `group_by=provider&from=${T0}&to=${T0 + 3000}&interval=1s`,
    );
    expect(json.total).toMatchObject({
      requests: 3,
      errors: 1,
      input_tokens: 15,
      output_tokens: 21,
      cost: 0.0045,
    });
    expect(json.total.error_rate).toBeCloseTo(1 / 3);
    expect(json.total.latency_ms).toMatchObject({ p50: 10, p99: 30 });
    expect(json.groups.map((g: { group: string; requests: number }) => [g.group, g.requests])).toEqual([
      ["openai", 2],
      ["anthropic", 1],
    ]);
    expect(json.series.map((b: { requests: number }) => b.requests)).toEqual([1, 1, 1]);
  });

  it("answers a malformed question with a 400 naming it", async () => {
    for (const query of [
      "cursor=garbage",
      "status=700",
      "limit=0",
      "to=2020-01-01&from=2026-01-01",
      "interval=0",
    ]) {
      const path = query.startsWith("interval") ? "/api/logs/stats" : "/api/logs";
      const { status, json } = await admin.call("GET", path, undefined, query);
      expect([query, status]).toEqual([query, 400]);
      expect(json.error.type).toBe("invalid_request_error");
    }
  });
});
