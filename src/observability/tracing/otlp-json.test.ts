import { describe, expect, it } from "vitest";
import { encodeTraceRequest, unixNano } from "./otlp-json.js";
import { SPAN_KIND_CLIENT, SPAN_KIND_SERVER, type Span } from "./span.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

function span(overrides: Partial<Span>): Span {
  return {
    traceId: TRACE,
    spanId: "00f067aa0ba902b7",
    parentSpanId: "",
    name: "chat gpt-4o",
    kind: SPAN_KIND_SERVER,
    startMs: 1_700_000_000_000.5,
    endMs: 1_700_000_000_250,
    attributes: new Map(),
    failed: false,
    ...overrides,
  };
}

describe("encodeTraceRequest", () => {
  it("writes an ExportTraceServiceRequest with the service name, hex ids and integer enums", () => {
    const request = JSON.parse(
      encodeTraceRequest("gateway-a", [
        span({}),
        span({ spanId: "1111111111111111", parentSpanId: "00f067aa0ba902b7", kind: SPAN_KIND_CLIENT }),
      ]),
    );
    const [resourceSpans] = request.resourceSpans;
    expect(resourceSpans.resource.attributes).toEqual([
      { key: "service.name", value: { stringValue: "gateway-a" } },
    ]);
    const [scope] = resourceSpans.scopeSpans;
    expect(scope.scope).toEqual({ name: "switchyard" });
    const [server, client] = scope.spans;
    expect(server).toEqual({
      traceId: TRACE,
      spanId: "00f067aa0ba902b7",
      name: "chat gpt-4o",
      kind: 2,
      startTimeUnixNano: "1700000000000500000",
      endTimeUnixNano: "1700000000250000000",
      attributes: [],
    });
    expect(client.parentSpanId).toBe("00f067aa0ba902b7");
    expect(client.kind).toBe(3);
  });

  it("types attributes: strings, whole numbers as int64 strings, fractions as doubles", () => {
    const attributes = new Map<string, string | number>([
      ["gen_ai.request.model", "gpt-4o"],
      ["gen_ai.usage.input_tokens", 12],
      ["ratio", 0.5],
    ]);
    const [encoded] = JSON.parse(encodeTraceRequest("s", [span({ attributes })])).resourceSpans[0]
      .scopeSpans[0].spans;
    expect(encoded.attributes).toEqual([
      { key: "gen_ai.request.model", value: { stringValue: "gpt-4o" } },
      { key: "gen_ai.usage.input_tokens", value: { intValue: "12" } },
      { key: "ratio", value: { doubleValue: 0.5 } },
    ]);
  });

  it("marks a failed span with status ERROR", () => {
    const [encoded] = JSON.parse(encodeTraceRequest("s", [span({ failed: true })])).resourceSpans[0]
      .scopeSpans[0].spans;
    expect(encoded.status).toEqual({ code: 2 });
  });
});

describe("unixNano", () => {
  it("keeps microseconds of an epoch time in milliseconds", () => {
    expect(unixNano(1_700_000_000_123.456)).toBe("1700000000123456000");
  });
});
