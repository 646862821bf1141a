import { describe, expect, it } from "vitest";
import { SPAN_KIND_SERVER, type Span } from "./span.js";
import { type PostBatch, SpanExporter, TraceCounts } from "./span-exporter.js";

const CONFIG = { endpoint: "http://127.0.0.1:1/v1/traces", headers: {}, serviceName: "switchyard" };

function span(i: number): Span {
  return {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: i.toString(16).padStart(16, "0"),
    parentSpanId: "",
    name: "chat m",
    kind: SPAN_KIND_SERVER,
    startMs: 1,
    endMs: 2,
    attributes: new Map(),
    failed: false,
  };
}

/** A collector that holds every export until released, recording the span count of each. */
function heldCollector(): { post: PostBatch; batches: number[]; release(): Promise<void> } {
  const batches: number[] = [];
  const pending: (() => void)[] = [];
  return {
    batches,
    post: (body) => {
      batches.push(JSON.parse(body).resourceSpans[0].scopeSpans[0].spans.length);
      return new Promise((resolve) => pending.push(resolve));
    },
    async release() {
      for (const resolve of pending.splice(0)) resolve();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe("SpanExporter", () => {
  it("sends a full batch of 512 at once and the rest on flush", async () => {
    const collector = heldCollector();
    const exporter = new SpanExporter(CONFIG, new TraceCounts(), collector.post);
    for (let i = 0; i < 600; i++) exporter.add(span(i + 1));
    expect(collector.batches).toEqual([512]);
    await collector.release();
    exporter.flush();
    expect(collector.batches).toEqual([512, 88]);
    await collector.release();
    expect(exporter.counts.dropped).toBe(0);
  });

  it("keeps one export in flight and drops, counting, what a stalled collector leaves past the bound", async () => {
    const collector = heldCollector();
    const exporter = new SpanExporter(CONFIG, new TraceCounts(), collector.post);
    for (let i = 0; i < 512 + 2048 + 10; i++) exporter.add(span(i + 1));
    expect(collector.batches).toEqual([512]);
    expect(exporter.counts.dropped).toBe(10);
    await collector.release();
    expect(collector.batches).toEqual([512, 512]);
    await collector.release();
    expect(exporter.counts.metrics().map((m) => [m.name, m.values[0]?.value])).toEqual([
      ["switchyard_trace_spans_dropped_total", 10],
      ["switchyard_trace_exports_failed_total", 0],
    ]);
  });

  it("drains what is queued after the export under way, and sends nothing more on its timer", async () => {
    const collector = heldCollector();
    const exporter = new SpanExporter(CONFIG, new TraceCounts(), collector.post);
    for (let i = 0; i < 600; i++) exporter.add(span(i + 1));
    const drained = exporter.drain();
    expect(collector.batches).toEqual([512]);
    await collector.release();
    expect(collector.batches).toEqual([512, 88]);
    await collector.release();
    await drained;
    exporter.flush();
    expect(collector.batches).toEqual([512, 88]);
  });

  it("stops draining at the first failed export", async () => {
    const counts = new TraceCounts();
    const batches: number[] = [];
    const exporter = new SpanExporter(CONFIG, counts, async (body) => {
      batches.push(JSON.parse(body).resourceSpans[0].scopeSpans[0].spans.length);
      await Promise.resolve();
      counts.failedExports++;
    });
    for (let i = 0; i < 1100; i++) exporter.add(span(i + 1));
    await exporter.drain();
    expect(batches).toEqual([512]);
  });

  it("counts an export the collector refuses and goes on", async () => {
    const exporter = new SpanExporter(
      { ...CONFIG, endpoint: "http://127.0.0.1:9/v1/traces" },
      new TraceCounts(),
    );
    exporter.add(span(1));
    exporter.flush();
    await expect.poll(() => exporter.counts.failedExports).toBe(1);
    exporter.add(span(2));
    exporter.flush();
    await expect.poll(() => exporter.counts.failedExports).toBe(2);
  });
});
