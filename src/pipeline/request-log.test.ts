import { describe, expect, it, vi } from "vitest";
import { DEFAULT_LOGS } from "../config/logs.js";
import type { RequestHead } from "../http/exchange.js";
import { scanRequest } from "../native/index.js";
import { decodeRecord } from "../observability/request-log/codec.js";
import type { LoggedContent, RecordToStore, RequestLogRecord } from "../observability/request-log/record.js";
import { createLogRings, LogRingReader, LogRingWriter } from "../shm/log-ring.js";
import { contentText } from "../store/logs/columns.js";
import { LaneRequestLog, LoggedRequest, type RequestParty } from "./request-log.js";
import { findRoute, type InferenceRoute } from "./routes.js";

const route = findRoute("/v1/chat/completions") as InferenceRoute;
const ANONYMOUS: RequestParty = { virtualKey: "", team: "", customer: "", logContent: true };

function head(metadata: readonly string[] = []): RequestHead {
  return { requestId: "req-1", metadata } as unknown as RequestHead;
}

/** A lane's log over a real ring, and what the log worker would read from it. */
function laneLog(settings: Partial<typeof DEFAULT_LOGS> = {}) {
  const rings = createLogRings(1, 64 * 1024);
  const log = new LaneRequestLog(new LogRingWriter(rings, 0), { ...DEFAULT_LOGS, ...settings }, undefined);
  const reader = new LogRingReader(rings, 0);
  const records = (): RequestLogRecord[] =>
    reader.read(100).records.map((bytes) => {
      const record = decodeRecord(bytes) as RecordToStore;
      const text = (content: LoggedContent | null) => (content === null ? null : contentText(content));
      return { ...record, input: text(record.input), output: text(record.output) };
    });
  return { log, records };
}

/** A request's record in the making, its body scanned as the pipeline scans it before the log sees it. */
function loggedRequest(
  log: LaneRequestLog,
  body: Buffer,
  request: { model?: string; stream?: boolean; party?: RequestParty; metadata?: readonly string[] } = {},
  startedAt = 0,
): LoggedRequest {
  const scan = scanRequest(body);
  return new LoggedRequest(
    log,
    head(request.metadata),
    route,
    request.model ?? "m",
    request.stream ?? false,
    request.party ?? ANONYMOUS,
    body,
    scan.ok ? scan : undefined,
    startedAt,
  );
}

const success = { status: 200, errorCode: "", errorClass: "" as const, errorMessage: "", usage: undefined };

describe("a lane's request log", () => {
  it("records a request's stream: the first byte's time and the relayed bytes, cut at the content bound", () => {
    const { log, records } = laneLog({ maxContentBytes: 10 });
    const body = Buffer.from('{"model":"m","messages":[]}');
    const request = loggedRequest(log, body, { stream: true }, performance.now());
    request.chunk("data: 1234\n\n");
    request.chunk(Buffer.from("data: 5678\n\n"));
    request.end(undefined, success);
    request.end(undefined, { ...success, status: 499 });
    const [record, twice] = records();
    expect(twice).toBeUndefined();
    expect(record).toMatchObject({ requestId: "req-1", status: 200, stream: true, model: "m" });
    expect(record?.ttftMs).toBeGreaterThanOrEqual(0);
    expect(record?.input).toBe('{"model":"');
    expect(record?.output).toBe("data: 1234");
  });

  it("writes a whole reply's record after the reply has gone: in a microtask, all that ended in one turn", async () => {
    const { log, records } = laneLog();
    const first = loggedRequest(log, Buffer.from("{}"));
    const second = loggedRequest(log, Buffer.from("{}"), { model: "n" });
    first.reply('{"id":"one"}');
    first.endAfterReply(undefined, success);
    second.reply('{"id":"two"}');
    second.endAfterReply(undefined, success);
    second.end(undefined, { ...success, status: 499 });
    // The reply is sent here, synchronously: nothing is in the ring yet.
    expect(records()).toEqual([]);
    await Promise.resolve();
    const written = records();
    expect(written.map((record) => [record.model, record.status, record.output])).toEqual([
      ["m", 200, '{"id":"one"}'],
      ["n", 200, '{"id":"two"}'],
    ]);
  });

  it("still writes the other records of a turn when one cannot be written, and says so", async () => {
    const rings = createLogRings(1, 64 * 1024);
    const ring = new LogRingWriter(rings, 0);
    const push = ring.push.bind(ring);
    let pushes = 0;
    ring.push = (record) => {
      if (pushes++ === 0) throw new Error("ring broken");
      return push(record);
    };
    const log = new LaneRequestLog(ring, DEFAULT_LOGS, undefined);
    const said = vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (const model of ["lost", "kept"]) {
      const request = loggedRequest(log, Buffer.from("{}"), { model });
      request.endAfterReply(undefined, success);
    }
    await Promise.resolve();
    const kept = new LogRingReader(rings, 0).read(10).records.map((bytes) => decodeRecord(bytes));
    expect(kept.map((record) => (record as RecordToStore).model)).toEqual(["kept"]);
    expect(said).toHaveBeenCalledOnce();
    expect(String(said.mock.calls[0]?.[0])).toContain("request req-1");
    said.mockRestore();
  });

  it("cuts a client's megabyte model name and error message before the ring", () => {
    const { log, records } = laneLog();
    const model = `openai/${"m".repeat(1 << 20)}`;
    loggedRequest(log, Buffer.alloc(0), { model }).end(undefined, {
      ...success,
      status: 404,
      errorMessage: `unknown model ${model}`,
    });
    const [record] = records();
    expect(record?.model).toBe(model.slice(0, 256));
    expect(record?.errorMessage.length).toBe(1000);
  });

  it("keeps no content when the log or the key says so", () => {
    const body = Buffer.from('{"model":"m"}');
    const off = laneLog({ content: false });
    loggedRequest(off.log, body).end(undefined, success);
    expect(off.records()[0]).toMatchObject({ input: null, output: null });

    const keyed = laneLog();
    const quiet: RequestParty = { virtualKey: "vk", team: "t", customer: "c", logContent: false };
    const request = loggedRequest(keyed.log, body, { party: quiet });
    request.reply('{"choices":[]}');
    request.end(undefined, success);
    expect(keyed.records()[0]).toMatchObject({
      virtualKey: "vk",
      team: "t",
      customer: "c",
      input: null,
      output: null,
    });
  });

  it("takes the client's metadata from its headers and its body, bounded, headers first", () => {
    const { log, records } = laneLog();
    // A "__proto__" member, as JSON.parse makes it: an own property like any other.
    const entries: Record<string, unknown> = JSON.parse('{"__proto__": "p"}');
    Object.assign(entries, { user: "from-body", run: "r-1", n: 3, long: "v".repeat(1000) });
    for (let i = 0; i < 40; i++) entries[`k${i}`] = String(i);
    const body = Buffer.from(JSON.stringify({ model: "m", metadata: entries }));
    loggedRequest(log, body, { metadata: ["user", "ann"] }).end(undefined, success);
    const metadata = records()[0]?.metadata ?? {};
    expect(metadata.user).toBe("ann");
    expect(metadata.run).toBe("r-1");
    expect(metadata.n).toBeUndefined();
    expect(metadata.long).toHaveLength(256);
    expect(Object.keys(metadata)).toHaveLength(16);
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
  });

  it("reads no metadata from a body that does not name it, and survives one that is not JSON", () => {
    const { log, records } = laneLog();
    loggedRequest(log, Buffer.from('{"model":"m"}')).end(undefined, success);
    loggedRequest(log, Buffer.from('{"metadata": {')).end(undefined, success);
    expect(records().map((record) => record.metadata)).toEqual([null, null]);
  });

  it("parses only the body's metadata object, found by the scan: never a whole body that merely mentions it", () => {
    const { log, records } = laneLog();
    const parse = vi.spyOn(JSON, "parse");
    // A message's own "metadata" member: not the client's metadata, and no reason to parse the body.
    const mentions = Buffer.from(
      JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi", metadata: { x: "y" } }] }),
    );
    loggedRequest(log, mentions).end(undefined, success);
    const tagged = Buffer.from(`{"messages":[],"metadata":{"run":"r-2"},"model":"m"}`);
    loggedRequest(log, tagged).end(undefined, success);
    expect(parse.mock.calls.map(([text]) => text)).toEqual(['{"run":"r-2"}']);
    parse.mockRestore();
    expect(records().map((record) => record.metadata)).toEqual([null, { run: "r-2" }]);
  });

  it("leaves out a metadata object past 64 KiB rather than parse it on the lane", () => {
    const { log, records } = laneLog();
    const huge = Buffer.from(
      JSON.stringify({ model: "m", metadata: { run: "r-3", pad: "p".repeat(64 * 1024) } }),
    );
    loggedRequest(log, huge, { metadata: ["user", "ann"] }).end(undefined, success);
    expect(records()[0]?.metadata).toEqual({ user: "ann" });
  });

  it("drops a record the ring has no room for, and says so", () => {
    const rings = createLogRings(1, 64 * 1024);
    const ring = new LogRingWriter(rings, 0);
    const log = new LaneRequestLog(ring, { ...DEFAULT_LOGS, maxContentBytes: 40_000 }, undefined);
    const body = Buffer.alloc(30_000, 0x61);
    const written = Array.from({ length: 3 }, () =>
      log.write(
        {
          head: head(),
          route,
          time: 0,
          model: "m",
          stream: false,
          party: ANONYMOUS,
          body,
          scan: undefined,
          cache: "",
          cacheSavedMicros: 0,
        },
        undefined,
        success,
        1,
        -1,
        undefined,
      ),
    );
    expect(written).toEqual([true, true, false]);
    expect(ring.dropped).toBe(1);
  });
});
