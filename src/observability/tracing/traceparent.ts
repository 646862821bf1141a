import { randomBytes } from "node:crypto";

// W3C Trace Context (traceparent), version 00 only: a client's header is taken only when it is exactly
// well formed, since its trace id goes on to every provider the request reaches.

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

export interface ParentContext {
  readonly traceId: string;
  /** The client's span: the parent of the request's span. */
  readonly spanId: string;
}

/** The client's trace context, or undefined when the header is absent or not strictly valid. */
export function parseTraceparent(header: string): ParentContext | undefined {
  if (header.length !== 55) return undefined;
  const match = TRACEPARENT.exec(header);
  if (match === null) return undefined;
  const traceId = match[1] as string;
  const spanId = match[2] as string;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId };
}

/** The header an upstream attempt carries: its own span as the provider's parent, sampled. */
export function formatTraceparent(traceId: string, spanId: string): string {
  return `00-${traceId}-${spanId}-01`;
}

export function newTraceId(): string {
  return randomBytes(16).toString("hex");
}

export function newSpanId(): string {
  return randomBytes(8).toString("hex");
}
