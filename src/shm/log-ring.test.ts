import { describe, expect, it } from "vitest";
import {
  createLogRings,
  LogRingReader,
  LogRingWriter,
  MIN_RING_BYTES,
  ringCapacity,
  ringCount,
} from "./log-ring.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (record: Uint8Array) => new TextDecoder().decode(record);

describe("log rings", () => {
  it("rounds capacities up to a power of two within the bounds", () => {
    expect(ringCapacity(1)).toBe(MIN_RING_BYTES);
    expect(ringCapacity(MIN_RING_BYTES + 1)).toBe(MIN_RING_BYTES * 2);
    expect(ringCount(createLogRings(3, 1))).toBe(3);
  });

  it("hands a lane's records to the reader in order, and keeps them until committed", () => {
    const buffer = createLogRings(2, MIN_RING_BYTES);
    const lane = new LogRingWriter(buffer, 1);
    const reader = new LogRingReader(buffer, 1);
    for (const record of ["one", "two", "three"]) expect(lane.push(bytes(record))).toBe(true);

    const first = reader.read(2);
    expect(first.records.map(text)).toEqual(["one", "two"]);
    // Not committed: a reader that starts over (a restarted log worker) reads them again.
    expect(new LogRingReader(buffer, 1).read(10).records.map(text)).toEqual(["one", "two", "three"]);
    reader.commit(first.end);
    expect(reader.read(10).records.map(text)).toEqual(["three"]);
    // The other lane's ring is apart.
    expect(new LogRingReader(buffer, 0).read(10).records).toEqual([]);
  });

  it("counts exactly the records that did not fit, and never blocks", () => {
    const buffer = createLogRings(1, MIN_RING_BYTES);
    const lane = new LogRingWriter(buffer, 0);
    // 1,000 bytes in the ring with its 8-byte head.
    const record = new Uint8Array(1000 - 8).fill(7);
    let accepted = 0;
    for (let i = 0; i < 100; i++) if (lane.push(record)) accepted++;
    expect(accepted).toBe(Math.floor(MIN_RING_BYTES / 1000));
    expect(lane.dropped).toBe(100 - accepted);
    expect(lane.pushed).toBe(accepted);

    const reader = new LogRingReader(buffer, 0);
    const batch = reader.read(1000);
    expect(batch.records).toHaveLength(accepted);
    reader.commit(batch.end);
    expect(lane.pending).toBe(0);
    expect(lane.push(record)).toBe(true);
  });

  it("carries records across the ring's end, round the ring many times", () => {
    const buffer = createLogRings(1, MIN_RING_BYTES);
    const lane = new LogRingWriter(buffer, 0);
    const reader = new LogRingReader(buffer, 0);
    // Sizes that do not divide the capacity, so records and lengths fall across the end.
    for (let round = 0; round < 3000; round++) {
      const sent = Array.from(
        { length: 5 },
        (_, i) => `${round}:${i}:${"x".repeat((round * 7 + i * 13) % 901)}`,
      );
      for (const record of sent) expect(lane.push(bytes(record))).toBe(true);
      const batch = reader.read(100);
      expect(batch.records.map(text)).toEqual(sent);
      // Word-aligned, as the lanes' encoders' records are: V8 copies such bytes word by word.
      for (const record of batch.records) expect(record.byteOffset % 8).toBe(0);
      reader.commit(batch.end);
    }
    expect(lane.dropped).toBe(0);
  });

  it("refuses a buffer that is not a log ring, and rings that do not exist", () => {
    expect(() => new LogRingReader(new SharedArrayBuffer(1024), 0)).toThrow(/not a log ring/);
    expect(() => new LogRingWriter(createLogRings(1, 1), 1)).toThrow(/does not exist/);
  });
});
