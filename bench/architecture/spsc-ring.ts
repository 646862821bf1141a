// A single-producer single-consumer byte ring over a SharedArrayBuffer, carrying framed messages:
// [i32 length][u32 id][i32 aux][payload, padded to 4 bytes]. A length of -1 marks "wrap to offset 0".
// Head (written by the producer) and tail (written by the consumer) are byte offsets published with
// Atomics; a message is never split across the end of the buffer. Wake-ups use a sequence word plus a
// "sleeping" flag so that the producer only calls Atomics.notify when the consumer is parked.

const HEAD = 0;
const TAIL = 1;
const SEQ = 2;
const SLEEPING = 3;
const HEADER_BYTES = 64;
const FRAME_BYTES = 12;
const WRAP = -1;

// Atomics.waitAsync ships in Node 20 (V8 11) but is typed only from lib es2024.
type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
) => { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export function createRingBuffer(capacityBytes: number): SharedArrayBuffer {
  const cap = Math.ceil(capacityBytes / 4) * 4;
  return new SharedArrayBuffer(HEADER_BYTES + cap);
}

export class SpscRing {
  private readonly ctl: Int32Array;
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly cap: number;

  constructor(sab: SharedArrayBuffer) {
    this.ctl = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.cap = sab.byteLength - HEADER_BYTES;
    this.words = new Int32Array(sab, HEADER_BYTES, this.cap / 4);
    this.bytes = new Uint8Array(sab, HEADER_BYTES, this.cap);
  }

  /** Producer side. Returns false when the ring has no room; the caller keeps the message and retries. */
  push(id: number, aux: number, payload: Uint8Array): boolean {
    const need = FRAME_BYTES + ((payload.byteLength + 3) & ~3);
    const cap = this.cap;
    let head = this.ctl[HEAD] as number; // only the producer writes HEAD
    const tail = Atomics.load(this.ctl, TAIL);
    if (head >= tail) {
      const toEnd = cap - head;
      if (need > toEnd || (need === toEnd && tail === 0)) {
        // Does not fit before the end: wrap, keeping at least one free word so head never meets tail.
        if (need >= tail) return false;
        this.words[head >> 2] = WRAP;
        head = 0;
      }
    } else if (need >= tail - head) {
      return false;
    }
    const w = head >> 2;
    this.words[w] = payload.byteLength;
    this.words[w + 1] = id;
    this.words[w + 2] = aux;
    this.bytes.set(payload, head + FRAME_BYTES);
    let next = head + need;
    if (next === cap) next = 0;
    Atomics.store(this.ctl, HEAD, next);
    Atomics.add(this.ctl, SEQ, 1);
    if (Atomics.compareExchange(this.ctl, SLEEPING, 1, 0) === 1) Atomics.notify(this.ctl, SEQ, 1);
    return true;
  }

  /** Consumer side: hands every queued message to `each` (payload is a copy) and returns how many. */
  drain(each: (id: number, aux: number, payload: Buffer) => void): number {
    let tail = this.ctl[TAIL] as number; // only the consumer writes TAIL
    let n = 0;
    for (;;) {
      const head = Atomics.load(this.ctl, HEAD);
      if (tail === head) break;
      const w = tail >> 2;
      const len = this.words[w] as number;
      if (len === WRAP) {
        tail = 0;
        Atomics.store(this.ctl, TAIL, 0);
        continue;
      }
      const id = this.words[w + 1] as number;
      const aux = this.words[w + 2] as number;
      const start = tail + FRAME_BYTES;
      const payload = Buffer.from(this.bytes.slice(start, start + len).buffer);
      tail += FRAME_BYTES + ((len + 3) & ~3);
      if (tail === this.cap) tail = 0;
      Atomics.store(this.ctl, TAIL, tail);
      n++;
      each(id, aux, payload);
    }
    return n;
  }

  /**
   * Consumer side: drains now and whenever the producer pushes, forever, without blocking the event loop
   * (Atomics.waitAsync). Call once.
   */
  consume(each: (id: number, aux: number, payload: Buffer) => void): void {
    const loop = (): void => {
      for (;;) {
        this.drain(each);
        const seq = Atomics.load(this.ctl, SEQ);
        Atomics.store(this.ctl, SLEEPING, 1);
        if (Atomics.load(this.ctl, HEAD) !== this.ctl[TAIL]) {
          Atomics.store(this.ctl, SLEEPING, 0);
          continue;
        }
        const wait = waitAsync(this.ctl, SEQ, seq);
        if (wait.async) {
          void wait.value.then(loop);
          return;
        }
        Atomics.store(this.ctl, SLEEPING, 0);
      }
    };
    loop();
  }
}
