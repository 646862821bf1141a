import { crc32 } from "node:zlib";
import { describe, expect, it, vi } from "vitest";
import { EventStreamDecoder, EventStreamError, encodeMessage } from "./eventstream.js";

// Encoded messages from AWS's event stream test vectors (the SDKs' eventstream codec suites), plus the
// headers ConverseStream sends.

const FOO_BAR = Buffer.from("{'foo':'bar'}");
const EMPTY_MESSAGE = Buffer.from([0, 0, 0, 16, 0, 0, 0, 0, 5, 194, 72, 235, 125, 152, 200, 255]);
const INT32_HEADER = Buffer.from([
  0, 0, 0, 45, 0, 0, 0, 16, 65, 196, 36, 184, 10, 101, 118, 101, 110, 116, 45, 116, 121, 112, 101, 4, 0, 0,
  160, 12, 123, 39, 102, 111, 111, 39, 58, 39, 98, 97, 114, 39, 125, 54, 244, 128, 160,
]);
const PAYLOAD_NO_HEADERS = Buffer.from([
  0, 0, 0, 29, 0, 0, 0, 0, 253, 82, 140, 90, 123, 39, 102, 111, 111, 39, 58, 39, 98, 97, 114, 39, 125, 195,
  101, 57, 54,
]);
const PAYLOAD_ONE_STR_HEADER = Buffer.from([
  0, 0, 0, 61, 0, 0, 0, 32, 7, 253, 131, 150, 12, 99, 111, 110, 116, 101, 110, 116, 45, 116, 121, 112, 101, 7,
  0, 16, 97, 112, 112, 108, 105, 99, 97, 116, 105, 111, 110, 47, 106, 115, 111, 110, 123, 39, 102, 111, 111,
  39, 58, 39, 98, 97, 114, 39, 125, 141, 156, 8, 177,
]);
const CORRUPTED_LENGTH = Buffer.from([
  1, 0, 0, 29, 0, 0, 0, 0, 253, 82, 140, 90, 123, 39, 102, 111, 111, 39, 58, 39, 98, 97, 114, 39, 125, 195,
  101, 57, 54,
]);
const CORRUPTED_PAYLOAD = Buffer.from([
  0, 0, 0, 29, 0, 0, 0, 0, 253, 82, 140, 90, 123, 39, 102, 111, 111, 39, 58, 39, 98, 97, 114, 39, 141, 195,
  101, 57, 54,
]);

const decodeAll = (bytes: Buffer) => new EventStreamDecoder().push(bytes);

describe("event stream decoding: AWS test vectors", () => {
  it("empty_message", () => {
    expect(decodeAll(EMPTY_MESSAGE)).toEqual([{ headers: {}, payload: Buffer.alloc(0) }]);
  });

  it("int32_header", () => {
    expect(decodeAll(INT32_HEADER)).toEqual([{ headers: { "event-type": 40972 }, payload: FOO_BAR }]);
  });

  it("payload_no_headers", () => {
    expect(decodeAll(PAYLOAD_NO_HEADERS)).toEqual([{ headers: {}, payload: FOO_BAR }]);
  });

  it("payload_one_str_header", () => {
    expect(decodeAll(PAYLOAD_ONE_STR_HEADER)).toEqual([
      { headers: { "content-type": "application/json" }, payload: FOO_BAR },
    ]);
  });

  it("corrupted_length fails the prelude CRC", () => {
    expect(() => decodeAll(CORRUPTED_LENGTH)).toThrow(/prelude CRC/);
  });

  it("corrupted_payload fails the message CRC", () => {
    expect(() => decodeAll(CORRUPTED_PAYLOAD)).toThrow(/message CRC/);
  });

  it("the encoder reproduces the vectors byte for byte", () => {
    expect(encodeMessage({}, "")).toEqual(EMPTY_MESSAGE);
    expect(encodeMessage({ "event-type": 40972 }, FOO_BAR)).toEqual(INT32_HEADER);
    expect(encodeMessage({}, FOO_BAR)).toEqual(PAYLOAD_NO_HEADERS);
    expect(encodeMessage({ "content-type": "application/json" }, FOO_BAR)).toEqual(PAYLOAD_ONE_STR_HEADER);
  });
});

describe("event stream decoding: incremental", () => {
  const stream = Buffer.concat([
    encodeMessage(
      { ":event-type": "messageStart", ":content-type": "application/json", ":message-type": "event" },
      '{"p":"abcd","role":"assistant"}',
    ),
    PAYLOAD_ONE_STR_HEADER,
    INT32_HEADER,
    encodeMessage(
      { ":event-type": "contentBlockDelta", ":content-type": "application/json", ":message-type": "event" },
      '{"contentBlockIndex":0,"delta":{"text":"h\u00e9llo \u{1F600}"}}',
    ),
  ]);
  const whole = decodeAll(stream);

  it("decodes several messages in one push", () => {
    expect(
      whole.map((m) => m.headers[":event-type"] ?? m.headers["content-type"] ?? m.headers["event-type"]),
    ).toEqual(["messageStart", "application/json", 40972, "contentBlockDelta"]);
    expect(JSON.parse((whole[3] as { payload: Buffer }).payload.toString()).delta.text).toBe(
      "h\u00e9llo \u{1F600}",
    );
  });

  it("gives the same messages for a split at every byte boundary", () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const decoder = new EventStreamDecoder();
      const got = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      expect(got).toEqual(whole);
      expect(decoder.buffered).toBe(0);
    }
  });

  it("gives the same messages when fed one byte at a time, each as soon as its last byte arrives", () => {
    const decoder = new EventStreamDecoder();
    const got = [];
    const completedAt: number[] = [];
    for (let i = 0; i < stream.length; i++) {
      const out = decoder.push(stream.subarray(i, i + 1));
      for (const m of out) {
        got.push(m);
        completedAt.push(i + 1);
      }
    }
    expect(got).toEqual(whole);
    let end = 0;
    const boundaries = whole.map(() => {
      end += stream.readUInt32BE(end);
      return end;
    });
    expect(completedAt).toEqual(boundaries);
  });

  it("keeps only the unfinished message's bytes", () => {
    const decoder = new EventStreamDecoder();
    const firstLength = stream.readUInt32BE(0);
    expect(decoder.push(stream.subarray(0, firstLength + 5))).toHaveLength(1);
    expect(decoder.buffered).toBe(5);
  });

  it("joins a long message's chunks once, not on every push", () => {
    const big = encodeMessage({ ":event-type": "contentBlockDelta" }, Buffer.alloc(4 << 20, 0x61));
    const concat = vi.spyOn(Buffer, "concat");
    try {
      const decoder = new EventStreamDecoder();
      const got = [];
      for (let at = 0; at < big.length; at += 16 << 10)
        got.push(...decoder.push(big.subarray(at, at + (16 << 10))));
      expect(got).toHaveLength(1);
      expect(got[0]?.payload.length).toBe(4 << 20);
      const joined = concat.mock.results.reduce((sum, result) => sum + (result.value as Buffer).length, 0);
      expect(joined).toBeLessThanOrEqual(big.length);
    } finally {
      concat.mockRestore();
    }
  });

  it("rejects a corrupted CRC wherever the frame is split", () => {
    const bad = Buffer.from(stream);
    bad.writeUInt8(bad.readUInt8(bad.length - 1) ^ 0xff, bad.length - 1);
    for (const cut of [1, 12, 40, bad.length - 1]) {
      const decoder = new EventStreamDecoder();
      expect(() => {
        decoder.push(bad.subarray(0, cut));
        decoder.push(bad.subarray(cut));
      }).toThrow(EventStreamError);
    }
  });

  it("rejects a flipped prelude byte before waiting for the rest of the message", () => {
    const bad = Buffer.from(stream);
    bad.writeUInt8(0x7f, 2);
    expect(() => new EventStreamDecoder().push(bad.subarray(0, 12))).toThrow(/prelude CRC/);
  });

  it("round-trips every header type", () => {
    const headers = {
      yes: true,
      no: false,
      int: -5,
      long: 1234567890123n,
      bytes: Buffer.from([1, 2, 3]),
      text: "value",
      when: new Date(1_700_000_000_000),
    };
    const [message] = decodeAll(encodeMessage(headers, "x"));
    expect(message?.headers).toEqual(headers);
  });

  it("decodes byte, short and uuid headers", () => {
    const headerBytes = Buffer.concat([
      Buffer.from([1, 0x62, 2, 0xfe]),
      Buffer.from([1, 0x73, 3, 0x01, 0x02]),
      Buffer.from([1, 0x75, 9]),
      Buffer.from("0123456789abcdef0123456789abcdef", "hex"),
    ]);
    const total = 12 + headerBytes.length + 4;
    const message = Buffer.alloc(total);
    message.writeUInt32BE(total, 0);
    message.writeUInt32BE(headerBytes.length, 4);
    message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
    headerBytes.copy(message, 12);
    message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
    expect(decodeAll(message)[0]?.headers).toEqual({
      b: -2,
      s: 258,
      u: "01234567-89ab-cdef-0123-456789abcdef",
    });
  });
});
