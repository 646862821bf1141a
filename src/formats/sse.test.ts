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
