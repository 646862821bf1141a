import type { AttributeValue, Span } from "./span.js";

// ExportTraceServiceRequest in OTLP/JSON: lower camel case field names, trace and span ids as hex strings,
// enums as integers, 64-bit integers (times, int attributes) as decimal strings.

const STATUS_CODE_ERROR = 2;

interface JsonKeyValue {
  key: string;
  value: { stringValue: string } | { intValue: string } | { doubleValue: number };
}

export function encodeTraceRequest(serviceName: string, spans: readonly Span[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [keyValue("service.name", serviceName)] },
        scopeSpans: [{ scope: { name: "switchyard" }, spans: spans.map(spanJson) }],
      },
    ],
  });
}

function spanJson(span: Span): Record<string, unknown> {
  const attributes: JsonKeyValue[] = [];
  for (const [key, value] of span.attributes) attributes.push(keyValue(key, value));
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId === "" ? {} : { parentSpanId: span.parentSpanId }),
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: unixNano(span.startMs),
    endTimeUnixNano: unixNano(span.endMs),
    attributes,
    ...(span.failed ? { status: { code: STATUS_CODE_ERROR } } : {}),
  };
}

function keyValue(key: string, value: AttributeValue): JsonKeyValue {
  if (typeof value === "string") return { key, value: { stringValue: value } };
  if (Number.isSafeInteger(value)) return { key, value: { intValue: String(value) } };
  return { key, value: { doubleValue: value } };
}

/** Microsecond precision: a double holds no more of an epoch time in nanoseconds. */
export function unixNano(ms: number): string {
  return (BigInt(Math.round(ms * 1000)) * 1000n).toString();
}
