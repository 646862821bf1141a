import { describe, expect, it } from "vitest";
import { RequestTrace } from "./request-trace.js";
import type { Span, SpanSink } from "./span.js";
import { parseTraceparent } from "./traceparent.js";

const CLIENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

function collecting(): { sink: SpanSink; spans: Span[] } {
  const spans: Span[] = [];
  return { sink: { add: (span) => spans.push(span) }, spans };
}

const openai = {
  providerKind: "openai",
  providerName: "primary",
  model: "gpt-4o",
  retries: 0,
  fallbackIndex: 0,
};
const usage = { prompt: 12, completion: 5, cachedRead: 0, cacheWrite: 0, reasoning: 0 };

describe("RequestTrace", () => {
  it("gives each attempt its own span, ends a retried one as such, and names the last on the request's", () => {
    const { sink, spans } = collecting();
    const trace = new RequestTrace(sink, CLIENT, "chat", "smart", "vk-1");
    trace.attempting(openai);
    const first = parseTraceparent(trace.traceparent);
    trace.attempting({
      providerKind: "bedrock",
      providerName: "backup",
      model: "claude",
      retries: 1,
      fallbackIndex: 1,
    });
    const second = parseTraceparent(trace.traceparent);
    expect(first?.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(second?.traceId).toBe(first?.traceId);
    expect(second?.spanId).not.toBe(first?.spanId);
    trace.end(200, usage, undefined);

    const [retried, last, request] = spans;
    expect(retried?.spanId).toBe(first?.spanId);
    expect(retried?.failed).toBe(true);
    expect(retried?.attributes.get("error.type")).toBe("retried");
    expect(retried?.attributes.get("gen_ai.provider.name")).toBe("openai");
    expect(last?.spanId).toBe(second?.spanId);
    expect(last?.parentSpanId).toBe(request?.spanId);
    expect(Object.fromEntries(last?.attributes ?? [])).toEqual({
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "smart",
      "gen_ai.response.model": "claude",
      "gen_ai.provider.name": "aws.bedrock",
      "gen_ai.system": "aws.bedrock",
      "gen_ai.usage.input_tokens": 12,
      "gen_ai.usage.output_tokens": 5,
      "http.response.status_code": 200,
      "switchyard.provider": "backup",
      "switchyard.retries": 1,
      "switchyard.fallback_index": 1,
      "switchyard.virtual_key_id": "vk-1",
    });
    expect(request?.name).toBe("chat smart");
    expect(request?.parentSpanId).toBe("00f067aa0ba902b7");
    expect(request?.attributes.get("switchyard.retries")).toBe(1);
    expect(request?.failed).toBe(false);
  });

  it("marks a failed request and its attempt with error.type, once", () => {
    const { sink, spans } = collecting();
    const trace = new RequestTrace(sink, "", "embeddings", "m", "");
    trace.attempting(openai);
    trace.end(429, undefined, "rate_limit_exceeded");
    trace.end(500, undefined, "later");
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.failed).toBe(true);
      expect(span.attributes.get("error.type")).toBe("rate_limit_exceeded");
      expect(span.attributes.get("http.response.status_code")).toBe(429);
      expect(span.attributes.get("gen_ai.operation.name")).toBe("embeddings");
      expect(span.attributes.has("switchyard.virtual_key_id")).toBe(false);
      expect(span.attributes.has("gen_ai.usage.input_tokens")).toBe(false);
    }
    expect(spans[1]?.parentSpanId).toBe("");
  });

  it("ends a request no attempt was sent for with its span alone", () => {
    const { sink, spans } = collecting();
    new RequestTrace(sink, "garbage", "completions", "m", "").end(403, undefined, "policy");
    expect(spans).toHaveLength(1);
    expect(spans[0]?.name).toBe("text_completion m");
    expect(spans[0]?.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
