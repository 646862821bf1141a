/** An attribute value as OTLP carries it: whole numbers as integers, anything else as a string. */
export type AttributeValue = string | number;

/** OTLP's SpanKind values. */
export const SPAN_KIND_SERVER = 2;
export const SPAN_KIND_CLIENT = 3;

/** A finished span, ready to export. */
export interface Span {
  readonly traceId: string;
  readonly spanId: string;
  /** "" for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: typeof SPAN_KIND_SERVER | typeof SPAN_KIND_CLIENT;
  /** Milliseconds since the epoch, with the fraction performance.now() gives. */
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: ReadonlyMap<string, AttributeValue>;
  /** The span ended in an error (OTLP status ERROR); its error.type attribute says which. */
  readonly failed: boolean;
}

/** Milliseconds since the epoch, finer than Date.now(). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Where finished spans go: a lane's SpanExporter. */
export interface SpanSink {
  add(span: Span): void;
}
