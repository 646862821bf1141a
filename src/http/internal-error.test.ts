import { afterEach, describe, expect, it, vi } from "vitest";
import { recordingReply } from "../../test/helpers/recording-reply.js";
import { anthropicErrorBody } from "../formats/anthropic/format.js";
import { LaneMetrics } from "../observability/lane-metrics.js";
import { openAIGatewayError as errorBody } from "../upstream/byte-relay.js";
import { internalFailure } from "./internal-error.js";

function fakeReply(state: { aborted?: boolean; committed?: boolean } = {}) {
  return recordingReply({ ...state, requestId: "req-42" });
}

const internalErrors = (metrics: LaneMetrics) =>
  metrics.snapshot().find((metric) => metric.name === "switchyard_internal_errors_total")?.values[0]?.value;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("internalFailure", () => {
  it("answers 500 in the client's format naming the request id, logs the stack once and counts it", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const reply = fakeReply();
    const metrics = new LaneMetrics();
    internalFailure(
      reply,
      metrics,
      (error) => anthropicErrorBody({ ...error, param: null }),
      new TypeError("boom"),
    );
    expect(reply.status).toBe(500);
    const body = JSON.parse(reply.body);
    expect(body).toMatchObject({ type: "error", error: { type: "api_error" } });
    expect(body.error.message).toContain("req-42");
    expect(body.error.message).not.toContain("boom");
    expect(log).toHaveBeenCalledTimes(1);
    expect(String(log.mock.calls[0]?.[1])).toContain("TypeError: boom");
    expect(internalErrors(metrics)).toBe(1);
  });

  it("cuts off a reply whose status has gone out, and leaves a gone client alone", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const metrics = new LaneMetrics();
    const streaming = fakeReply({ committed: true });
    internalFailure(streaming, metrics, errorBody, new Error("late"));
    expect(streaming.destroyed).toBe(true);
    expect(streaming.status).toBe(0);
    const gone = fakeReply({ aborted: true });
    internalFailure(gone, metrics, errorBody, new Error("gone"));
    expect(gone.destroyed).toBe(false);
    expect(gone.status).toBe(0);
    expect(internalErrors(metrics)).toBe(2);
  });
});

describe("internalFailure on a started event stream", () => {
  it("sends the stream's error event and ends it", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const reply = fakeReply({ committed: true });
    internalFailure(reply, new LaneMetrics(), errorBody, new Error("mid-stream"), false, (error) => {
      return `event: error\ndata: ${errorBody(error)}\n\n`;
    });
    expect(reply.destroyed).toBe(false);
    expect(reply.written).toHaveLength(1);
    expect(reply.written[0]).toMatch(
      /^event: error\ndata: \{"error":\{"message":"The gateway failed .*req-42/,
    );
    expect(reply.body).toBe("");
  });
});
