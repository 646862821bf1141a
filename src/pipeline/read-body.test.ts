import { afterEach, describe, expect, it, vi } from "vitest";
import type { Reply, RequestHead, ResponseHeaders } from "../http/exchange.js";
import { LaneMetrics } from "../observability/lane-metrics.js";
import { openAIGatewayError as errorBody } from "../upstream/byte-relay.js";
import { type Lane, readBody } from "./pipeline.js";

/** A reply whose body arrives as `received` says (the body, or null and whether it was over the limit). */
function replyReceiving(received: [Buffer | null, boolean]) {
  const reply = {
    aborted: false,
    committed: false,
    requestId: "req-1",
    corsOrigin: "",
    shutdownNotice: undefined,
    status: 0,
    body: "",
    bodyRead: false,
    onAborted() {},
    readBody(_limit: number, callback: (body: Buffer | null, tooLarge: boolean) => void) {
      reply.bodyRead = true;
      callback(...received);
    },
    start(status: number, _headers: ResponseHeaders) {
      reply.status = status;
    },
    write: () => true,
    onWritable() {},
    end(body?: Uint8Array | string) {
      reply.body = String(body ?? "");
    },
    destroy() {},
  } satisfies Reply & Record<string, unknown>;
  return reply;
}

const head = (contentLength: number) => ({ contentLength }) as RequestHead;
const laneWith = (metrics: LaneMetrics) => ({ metrics }) as Lane;
const errorOf = (body: string) => (JSON.parse(body) as { error: { code: string } }).error.code;

describe("readBody", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("hands the body on with the time it was complete", () => {
    const reply = replyReceiving([Buffer.from("{}"), false]);
    const bodies: string[] = [];
    readBody(laneWith(new LaneMetrics()), 10, head(2), reply, errorBody, (body, startedAt) => {
      bodies.push(body.toString());
      expect(startedAt).toBeGreaterThan(0);
    });
    expect(bodies).toEqual(["{}"]);
    expect(reply.status).toBe(0);
  });

  it("refuses a body over the limit by its Content-Length, without reading it, or as it arrives", () => {
    const announced = replyReceiving([Buffer.from("{}"), false]);
    readBody(laneWith(new LaneMetrics()), 10, head(11), announced, errorBody, () => {});
    expect(announced.bodyRead).toBe(false);
    expect([announced.status, errorOf(announced.body)]).toEqual([413, "request_too_large"]);
    const chunked = replyReceiving([null, true]);
    readBody(laneWith(new LaneMetrics()), 10, head(-1), chunked, errorBody, () => {});
    expect([chunked.status, errorOf(chunked.body)]).toEqual([413, "request_too_large"]);
  });

  it("answers a throw in the body's handler with a 500 instead of an uncaught exception", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const reply = replyReceiving([Buffer.from("{}"), false]);
    const metrics = new LaneMetrics();
    readBody(laneWith(metrics), 10, head(2), reply, errorBody, (body) => {
      (body as unknown as { missing: { field: number } }).missing.field;
    });
    expect([reply.status, errorOf(reply.body)]).toEqual([500, "internal_error"]);
    expect(metrics.internalErrors).toBe(1);
  });
});
