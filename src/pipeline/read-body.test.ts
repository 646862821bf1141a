import { afterEach, describe, expect, it, vi } from "vitest";
import { recordingReply } from "../../test/helpers/recording-reply.js";
import type { RequestHead } from "../http/exchange.js";
import { LaneMetrics } from "../observability/lane-metrics.js";
import { openAIGatewayError as errorBody } from "../upstream/byte-relay.js";
import { type Lane, readBody } from "./pipeline.js";
import { findRoute, type InferenceRoute } from "./routes.js";

/** A reply whose body arrives as `received` says (the body, or null and whether it was over the limit). */
function replyReceiving(received: [Buffer | null, boolean]) {
  return recordingReply({ requestId: "req-1", received });
}

const route = findRoute("/v1/chat/completions") as InferenceRoute;
const head = (contentLength: number) => ({ contentLength }) as RequestHead;
const laneWith = (metrics: LaneMetrics) => ({ metrics }) as Lane;
const errorOf = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code;

describe("readBody", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("hands the body on with the request's parts and the time it was complete", () => {
    const reply = replyReceiving([Buffer.from("{}"), false]);
    const lane = laneWith(new LaneMetrics());
    const sent = head(2);
    const bodies: string[] = [];
    readBody(
      lane,
      route,
      sent,
      reply,
      errorBody,
      10,
      (...args) => {
        const [, , , , , body, startedAt, key] = args;
        expect(key).toBeNull();
        expect(args.slice(0, 5)).toEqual([lane, route, sent, reply, errorBody]);
        bodies.push(body.toString());
        expect(startedAt).toBeGreaterThan(0);
      },
      null,
      true,
    );
    expect(bodies).toEqual(["{}"]);
    expect(reply.status).toBe(0);
  });

  it("refuses a body over the limit by its Content-Length, without reading it, or as it arrives", () => {
    const announced = replyReceiving([Buffer.from("{}"), false]);
    readBody(laneWith(new LaneMetrics()), route, head(11), announced, errorBody, 10, () => {}, null, true);
    expect(announced.bodyRead).toBe(false);
    expect([announced.status, errorOf(announced.body)]).toEqual([413, "request_too_large"]);
    const chunked = replyReceiving([null, true]);
    readBody(laneWith(new LaneMetrics()), route, head(-1), chunked, errorBody, 10, () => {}, null, true);
    expect([chunked.status, errorOf(chunked.body)]).toEqual([413, "request_too_large"]);
  });

  it("answers a throw in the body's handler with a 500 instead of an uncaught exception", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const reply = replyReceiving([Buffer.from("{}"), false]);
    const metrics = new LaneMetrics();
    readBody(
      laneWith(metrics),
      route,
      head(2),
      reply,
      errorBody,
      10,
      (...args) => {
        (args[5] as unknown as { missing: { field: number } }).missing.field;
      },
      null,
      true,
    );
    expect([reply.status, errorOf(reply.body)]).toEqual([500, "internal_error"]);
    expect(metrics.internalErrors).toBe(1);
  });
});
