import { describe, expect, it } from "vitest";
import { decodeRecord, RecordEncoder, type RecordInTransit } from "./codec.js";
import type { RecordToStore } from "./record.js";

const ID = "0b8f5d1e-6c1a-7d51-9d7e-2f0a8f9b1c33";

const SAMPLE: RecordInTransit = {
  id: Buffer.from(ID.replaceAll("-", ""), "hex"),
  requestId: "req-1",
  time: 1_780_000_000_123,
  route: "openai.chat",
  format: "openai",
  model: "gpt-4o-mini",
  provider: "openai",
  providerModel: "gpt-4o-mini-2024-07-18",
  providerKey: "primary",
  virtualKey: "vk-1",
  team: "team-1",
  customer: "",
  status: 200,
  errorCode: "",
  errorClass: "",
  errorMessage: "",
  latencyMs: 12.5,
  ttftMs: -1,
  retries: 1,
  fallbackIndex: 0,
  cache: "",
  inputTokens: 10,
  outputTokens: 20,
  cachedTokens: 2,
  reasoningTokens: 0,
  costMicros: 345,
  cacheSavedMicros: 6789,
  stream: false,
  metadata: { user: "ann", trace: "t-1" },
  input: new TextEncoder().encode('{"model":"gpt-4o-mini","messages":[]}'),
  output: '{"choices":[]}',
};

describe("request log records in transit", () => {
  it("come out as they went in, the id as text and the content as the bytes the lane saw", () => {
    const decoded = decodeRecord(new RecordEncoder().encode(SAMPLE)) as RecordToStore;
    const { input, ...rest } = decoded;
    expect(rest).toEqual({ ...SAMPLE, id: ID, input: undefined });
    expect(Buffer.from(input as Uint8Array).toString()).toBe('{"model":"gpt-4o-mini","messages":[]}');
  });

  it("keep content that is not logged as null, and a cut character's bytes as they were", () => {
    const euro = new TextEncoder().encode("€");
    const decoded = decodeRecord(
      new RecordEncoder().encode({ ...SAMPLE, input: null, output: euro.subarray(0, 2), metadata: null }),
    ) as RecordToStore;
    expect(decoded).toMatchObject({ input: null, metadata: null });
    expect([...(decoded.output as Uint8Array)]).toEqual([...euro.subarray(0, 2)]);
  });

  it("reuses one buffer per encoder, from its 8-aligned start: an encoding is read before the next is made", () => {
    const encoder = new RecordEncoder();
    const encoded = encoder.encode(SAMPLE);
    const first = Uint8Array.from(encoded);
    const second = encoder.encode({ ...SAMPLE, requestId: "req-2" });
    expect(second.buffer).toBe(encoded.buffer);
    expect(second.byteOffset).toBe(encoded.byteOffset);
    // The ring copies a record aligned like this word by word.
    expect(second.byteOffset % 8).toBe(0);
    expect(decodeRecord(first)).toMatchObject({ requestId: "req-1" });
  });

  it("answers an Error, never throws, for bytes that are not a record", () => {
    expect(decodeRecord(new Uint8Array([0xc1]))).toBeInstanceOf(Error);
    expect(decodeRecord(new RecordEncoder().encode({ ...SAMPLE }).subarray(0, 3))).toBeInstanceOf(Error);
    expect(decodeRecord(Uint8Array.of(0x93, 1, 2, 3))).toBeInstanceOf(Error);
    const shortId = new RecordEncoder().encode({ ...SAMPLE, id: new Uint8Array(15) });
    expect(decodeRecord(shortId)).toEqual(new Error("a request log record's id is not a UUID"));
  });

  it("never lets a field of the wrong type through", () => {
    const encoder = new RecordEncoder();
    const hostile = {
      ...SAMPLE,
      errorClass: "weird",
      cache: "maybe",
      metadata: { a: 1, b: "ok" },
    } as unknown as RecordInTransit;
    expect(decodeRecord(encoder.encode(hostile))).toMatchObject({
      errorClass: "",
      cache: "",
      metadata: { b: "ok" },
    });
  });
});
