import { afterEach, describe, expect, it, vi } from "vitest";
import { recordingReply } from "../../test/helpers/recording-reply.js";
import { anthropicFormat } from "../formats/anthropic/format.js";
import { ExchangeAccount } from "../observability/account.js";
import { LaneMetrics } from "../observability/lane-metrics.js";
import type { ProviderAdapter, Target } from "../providers/adapter.js";
import { ByteRelay, OPENAI_ERRORS } from "./byte-relay.js";
import { ConvertRelay } from "./convert-relay.js";
import type { UpstreamController } from "./h1/exchange.js";
import type { ExchangeReport } from "./report.js";

// A bug met inside the upstream client's callbacks (here: a reply or an adapter that throws) ends the one
// request with a 500 in the client's format and never escapes to the client or the event loop.

function fakeReply(failWrites = false) {
  return recordingReply({ requestId: "req-7", failWrites });
}

function fakeController() {
  const controller = {
    aborted: null as Error | null,
    abort(reason: Error) {
      controller.aborted = reason;
    },
    pause() {},
    resume() {},
  };
  return controller satisfies UpstreamController;
}

/** The sender of a request with one attempt: a failure is answered at once. */
const direct: ExchangeReport = {
  headers: [],
  attach() {},
  failed: (failure) => failure.deliver([]),
  settled() {},
};

const internalErrors = (metrics: LaneMetrics) =>
  metrics.snapshot().find((metric) => metric.name === "switchyard_internal_errors_total")?.values[0]?.value;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("relay handlers", () => {
  it("the byte relay answers 500 and aborts the upstream when relaying throws", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const metrics = new LaneMetrics();
    const reply = fakeReply(true);
    const handler = new ByteRelay(
      reply,
      "p",
      "",
      new ExchangeAccount(metrics, "p", "m", performance.now()),
      OPENAI_ERRORS,
      direct,
      undefined,
      undefined,
    );
    const controller = fakeController();
    handler.onRequestStart(controller);
    handler.onResponseStart(controller, 200, { "content-type": "text/event-stream" });
    expect(() => handler.onResponseData(controller, Buffer.from("data: {}\n\n"))).not.toThrow();
    expect(controller.aborted).not.toBeNull();
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body).error.message).toContain("req-7");
    expect(metrics.inFlight).toBe(0);
    expect(internalErrors(metrics)).toBe(1);
  });

  it("the convert relay answers 500 in the client's format when the adapter throws", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const metrics = new LaneMetrics();
    const reply = fakeReply();
    const adapter = {
      chatStream() {
        throw new TypeError("decoder exploded");
      },
    } as unknown as ProviderAdapter;
    const target = { stream: true, provider: { name: "p" } } as unknown as Target;
    const handler = new ConvertRelay(
      reply,
      anthropicFormat,
      adapter,
      target,
      "chat",
      "m",
      new ExchangeAccount(metrics, "p", "m", performance.now()),
      { includeUsage: false },
      direct,
      undefined,
    );
    const controller = fakeController();
    handler.onRequestStart(controller);
    expect(() => handler.onResponseStart(controller, 200, {})).not.toThrow();
    expect(controller.aborted).not.toBeNull();
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body)).toMatchObject({ type: "error", error: { type: "api_error" } });
    expect(metrics.inFlight).toBe(0);
    expect(internalErrors(metrics)).toBe(1);
  });
});
