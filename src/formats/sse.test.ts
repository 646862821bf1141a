import { describe, expect, it } from "vitest";
import { SseParser, sseEvent } from "./sse.js";

describe("SseParser", () => {
  it("parses named events and data lines", () => {
    const parser = new SseParser();
    const events = parser.push(
      Buffer.from('event: message_start\ndata: {"a":1}\n\n: keep-alive comment\n\ndata: one\ndata: two\n\n'),
    );
    expect(events).toEqual([
      { event: "message_start", data: '{"a":1}' },
      { event: "message", data: "one\ntwo" },
    ]);
  });

  it("gives the same events whatever the byte splits, CRLF and multi-byte characters included", () => {
    const text = 'event: x\r\ndata: {"t":"h\u00e9llo \u4e16\u754c \ud83d\ude00"}\r\n\r\ndata: [DONE]\r\n\r\n';
    const bytes = Buffer.from(text);
    const whole = new SseParser().push(bytes);
    for (let split = 1; split < bytes.length; split++) {
      const parser = new SseParser();
      const events = [
        ...parser.push(bytes.subarray(0, split)),
        ...parser.push(bytes.subarray(split)),
        ...parser.end(),
      ];
      expect(events, `split at ${split}`).toEqual(whole);
    }
    expect(whole).toHaveLength(2);
  });

  it("flushes an unterminated last event at the end", () => {
    const parser = new SseParser();
    expect(parser.push(Buffer.from("data: tail"))).toEqual([]);
    expect(parser.end()).toEqual([{ event: "message", data: "tail" }]);
  });

  it("writes events in the same syntax", () => {
    const parser = new SseParser();
    expect(parser.push(Buffer.from(sseEvent('{"x":1}', "ping") + sseEvent("[DONE]")))).toEqual([
      { event: "ping", data: '{"x":1}' },
      { event: "message", data: "[DONE]" },
    ]);
  });
});

describe("SseParser bounds", () => {
  it("examines each character once, however a long line is split", () => {
    const line = `data: ${"x".repeat(4 << 20)}\n\n`;
    const bytes = Buffer.from(line);
    const parser = new SseParser();
    const events = [];
    for (let at = 0; at < bytes.length; at += 16 << 10)
      events.push(...parser.push(bytes.subarray(at, at + (16 << 10))));
    expect(events).toHaveLength(1);
    expect(events[0]?.data.length).toBe(4 << 20);
    expect(parser.scanned).toBe(bytes.length);
  });

  it("keeps \\r\\n split across pushes as one line end", () => {
    const parser = new SseParser();
    expect(parser.push(Buffer.from("data: a\r"))).toEqual([]);
    expect(parser.push(Buffer.from("\n\r"))).toEqual([{ event: "message", data: "a" }]);
    expect(parser.push(Buffer.from("\ndata: b\r\r"))).toEqual([{ event: "message", data: "b" }]);
    // Every character but the \n halves of the split \r\n pairs.
    expect(parser.scanned).toBe(8 + 1 + 9);
  });

  it("refuses a line longer than its bound", () => {
    const parser = new SseParser(1024);
    parser.push(Buffer.from(`data: ${"x".repeat(1000)}`));
    expect(() => parser.push(Buffer.from("x".repeat(100)))).toThrow(/longer than 1024 characters/);
  });

  it("refuses an event whose data lines add up past the bound", () => {
    const parser = new SseParser(1024);
    const lines = `data: ${"x".repeat(500)}\n`;
    parser.push(Buffer.from(lines + lines));
    expect(() => parser.push(Buffer.from(lines))).toThrow(/more than 1024 characters of data/);
  });

  it("bounds each event, not the stream", () => {
    const parser = new SseParser(1024);
    const event = `data: ${"x".repeat(900)}\n\n`;
    let events = 0;
    for (let i = 0; i < 100; i++) events += parser.push(Buffer.from(event)).length;
    expect(events).toBe(100);
  });
});
