// The request log's rings: one SharedArrayBuffer holding one byte ring per lane, each with a single writer
// (its lane) and a single reader (the log worker), so neither ever takes a lock.
//
// Layout: a header of Int32s (magic, ring count, ring capacity, the wake word), then per ring a control
// block of Int32s (write position, read position, records dropped, records pushed) and its data bytes.
// Positions run free modulo 2^32 and are read as unsigned; a ring's capacity is a power of two, so the
// byte at position p is data[p & (capacity - 1)]. A record is an 8-byte head (its length, little-endian,
// then four zero bytes) and its bytes, padded to a multiple of 8 and split across the ring's end when it
// falls there. Every record starts 8-aligned because V8 copies into and out of shared memory word by word
// only when both sides share their alignment: byte by byte, a 2 KB record took 0.55 µs instead of 0.09.
//
// The reader moves the read position only after the store has committed what it read: a log worker that
// dies between reading and writing leaves the records in the ring for the next one. A lane that dies
// between copying a record and publishing the write position leaves nothing half-written, since the
// position is what publishes it.

const MAGIC = 0x53594c32; // "SYL2"
const H_MAGIC = 0;
const H_RINGS = 1;
const H_CAPACITY = 2;
/** Bumped and notified when a ring passes half full, so the log worker drains before it overflows. */
const H_WAKE = 3;
const HEADER_BYTES = 64;

const C_WRITE = 0;
const C_READ = 1;
const C_DROPPED = 2;
const C_PUSHED = 3;
const CONTROL_BYTES = 64;

const HEAD_BYTES = 8;
const ALIGN = 8;
/** Bytes a record of `length` takes in a ring, head and padding included. */
const entryBytes = (length: number): number => (HEAD_BYTES + length + ALIGN - 1) & ~(ALIGN - 1);
export const MIN_RING_BYTES = 64 * 1024;
export const MAX_RING_BYTES = 256 * 1024 * 1024;

/** A power of two within the bounds, at least `bytes`. */
export function ringCapacity(bytes: number): number {
  let capacity = MIN_RING_BYTES;
  while (capacity < bytes && capacity < MAX_RING_BYTES) capacity *= 2;
  return capacity;
}

/** Rings for `rings` lanes of `bytes` each (rounded up to a power of two). */
export function createLogRings(rings: number, bytes: number): SharedArrayBuffer {
  const capacity = ringCapacity(bytes);
  const buffer = new SharedArrayBuffer(HEADER_BYTES + rings * (CONTROL_BYTES + capacity));
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  header[H_RINGS] = rings;
  header[H_CAPACITY] = capacity;
  Atomics.store(header, H_MAGIC, MAGIC);
  return buffer;
}

class RingView {
  protected readonly header: Int32Array;
  protected readonly control: Int32Array;
  protected readonly data: Uint8Array;
  /** The data bytes as words: a record's head is 8-aligned, so it never falls across the ring's end. */
  protected readonly heads: DataView;
  protected readonly mask: number;
  readonly capacity: number;

  constructor(buffer: SharedArrayBuffer, ring: number) {
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    if (Atomics.load(this.header, H_MAGIC) !== MAGIC) throw new Error("not a log ring buffer");
    const rings = this.header[H_RINGS] as number;
    if (!Number.isInteger(ring) || ring < 0 || ring >= rings)
      throw new Error(`log ring ${ring} does not exist (${rings} rings)`);
    this.capacity = this.header[H_CAPACITY] as number;
    this.mask = this.capacity - 1;
    const start = HEADER_BYTES + ring * (CONTROL_BYTES + this.capacity);
    this.control = new Int32Array(buffer, start, CONTROL_BYTES / 4);
    this.data = new Uint8Array(buffer, start + CONTROL_BYTES, this.capacity);
    this.heads = new DataView(buffer, start + CONTROL_BYTES, this.capacity);
  }

  /** Records the lane could not push because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.control, C_DROPPED) >>> 0;
  }

  /** Records pushed into the ring since it was made. */
  get pushed(): number {
    return Atomics.load(this.control, C_PUSHED) >>> 0;
  }

  /** Bytes waiting to be read. */
  get pending(): number {
    return (Atomics.load(this.control, C_WRITE) - Atomics.load(this.control, C_READ)) >>> 0;
  }
}

/** A lane's end of its ring. */
export class LogRingWriter extends RingView {
  /**
   * Copies the record in; false (and the drop counted) when it does not fit. Never waits: a full ring means
   * the store is behind, and a request must not pay for that.
   */
  push(record: Uint8Array): boolean {
    const control = this.control;
    const write = Atomics.load(control, C_WRITE) >>> 0;
    const read = Atomics.load(control, C_READ) >>> 0;
    const used = (write - read) >>> 0;
    const size = entryBytes(record.length);
    if (size > this.capacity - used) {
      Atomics.add(control, C_DROPPED, 1);
      return false;
    }
    const head = write & this.mask;
    this.heads.setUint32(head, record.length, true);
    this.heads.setUint32(head + 4, 0, true);
    this.copyIn(record, (write + HEAD_BYTES) >>> 0);
    Atomics.store(control, C_WRITE, (write + size) | 0);
    Atomics.add(control, C_PUSHED, 1);
    const half = this.capacity >>> 1;
    if (used < half && used + size >= half) {
      Atomics.add(this.header, H_WAKE, 1);
      Atomics.notify(this.header, H_WAKE);
    }
    return true;
  }

  private copyIn(bytes: Uint8Array, position: number): void {
    const offset = position & this.mask;
    const first = Math.min(bytes.length, this.capacity - offset);
    this.data.set(first === bytes.length ? bytes : bytes.subarray(0, first), offset);
    if (first < bytes.length) this.data.set(bytes.subarray(first), 0);
  }
}

/** What one read took from a ring: its records and the position to commit once they are stored. */
export interface RingBatch {
  /** Views of the reader's copy of the batch's bytes, valid until its next read. */
  readonly records: Uint8Array[];
  readonly end: number;
}

/** The log worker's end of a ring. */
export class LogRingReader extends RingView {
  /** Reused: a fresh megabytes-large buffer per read costs a page fault per 4 KiB. */
  private copy = new Uint8Array(0);

  /**
   * Up to `maxRecords` records from the read position, copied out in one piece; the ring keeps them until
   * `commit(end)`. Reading again before a commit reads the same records. The records are views of a buffer
   * the next read overwrites.
   */
  read(maxRecords: number): RingBatch {
    const control = this.control;
    const write = Atomics.load(control, C_WRITE) >>> 0;
    const start = Atomics.load(control, C_READ) >>> 0;
    // First the records' bounds (only their heads are read), then their bytes in one copy.
    const bounds: number[] = [];
    let position = start;
    while (bounds.length < maxRecords && (write - position) >>> 0 >= HEAD_BYTES) {
      const length = this.heads.getUint32(position & this.mask, true);
      if (length > this.capacity - HEAD_BYTES)
        throw new Error("log ring is corrupt: a record is longer than it");
      bounds.push(length);
      position = (position + entryBytes(length)) >>> 0;
    }
    const size = (position - start) >>> 0;
    if (this.copy.length < size) this.copy = new Uint8Array(ringCapacity(size));
    const bytes = this.copy.subarray(0, size);
    this.copyOut(start, bytes);
    const records: Uint8Array[] = new Array(bounds.length);
    let at = 0;
    for (let i = 0; i < bounds.length; i++) {
      const length = bounds[i] as number;
      records[i] = bytes.subarray(at + HEAD_BYTES, at + HEAD_BYTES + length);
      at += entryBytes(length);
    }
    return { records, end: position };
  }

  /** The records up to `end` are stored: their room goes back to the lane. */
  commit(end: number): void {
    Atomics.store(this.control, C_READ, end | 0);
  }

  private copyOut(position: number, into: Uint8Array): void {
    const offset = position & this.mask;
    const first = Math.min(into.length, this.capacity - offset);
    into.set(this.data.subarray(offset, offset + first), 0);
    if (first < into.length) into.set(this.data.subarray(0, into.length - first), first);
  }
}

/** How many rings a buffer holds. */
export function ringCount(buffer: SharedArrayBuffer): number {
  return new Int32Array(buffer, 0, HEADER_BYTES / 4)[H_RINGS] as number;
}

/** Node 20 has Atomics.waitAsync; its typings (lib es2022) do not. */
interface AtomicsWaitAsync {
  waitAsync(
    array: Int32Array,
    index: number,
    value: number,
    timeoutMs: number,
  ): { async: false; value: string } | { async: true; value: Promise<string> };
}

/**
 * Resolves when some lane's ring passes half full or after `timeoutMs`, whichever comes first; the log
 * worker waits on it between drains.
 */
export async function waitForRecords(buffer: SharedArrayBuffer, timeoutMs: number): Promise<void> {
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  const seen = Atomics.load(header, H_WAKE);
  const waited = (Atomics as unknown as AtomicsWaitAsync).waitAsync(header, H_WAKE, seen, timeoutMs);
  if (waited.async) await waited.value;
}

/** Wakes the log worker at once (a stop or a test that wants its records now). */
export function wakeLogWorker(buffer: SharedArrayBuffer): void {
  const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  Atomics.add(header, H_WAKE, 1);
  Atomics.notify(header, H_WAKE);
}
