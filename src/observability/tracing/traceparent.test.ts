import { describe, expect, it } from "vitest";
import { formatTraceparent, newSpanId, newTraceId, parseTraceparent } from "./traceparent.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

describe("parseTraceparent", () => {
  it("takes a version 00 header's trace and span ids", () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, spanId: SPAN });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)).toEqual({ traceId: TRACE, spanId: SPAN });
  });

  it.each([
    ["empty", ""],
    ["another version", `01-${TRACE}-${SPAN}-01`],
    ["version ff", `ff-${TRACE}-${SPAN}-01`],
    ["upper-case hex", `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ["a short trace id", `00-${TRACE.slice(1)}-${SPAN}-01`],
    ["a long span id", `00-${TRACE}-${SPAN}0-01`],
    ["an all-zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`],
    ["an all-zero span id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["trailing data", `00-${TRACE}-${SPAN}-01-extra`],
    ["non-hex", `00-${TRACE.slice(0, 31)}g-${SPAN}-01`],
    ["a line break", `00-${TRACE}-${SPAN}-0\n`],
  ])("refuses %s", (_what, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });
});

describe("formatTraceparent", () => {
  it("writes version 00, sampled, which parses back", () => {
    const header = formatTraceparent(TRACE, SPAN);
    expect(header).toBe(`00-${TRACE}-${SPAN}-01`);
    expect(parseTraceparent(header)).toEqual({ traceId: TRACE, spanId: SPAN });
  });

  it("makes ids a traceparent can carry", () => {
    const traceId = newTraceId();
    const spanId = newSpanId();
    expect(parseTraceparent(formatTraceparent(traceId, spanId))).toEqual({ traceId, spanId });
    expect(newTraceId()).not.toBe(traceId);
  });
});
