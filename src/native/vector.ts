// The TypeScript twin of the addon's VectorIndex (native/src/vector.rs): the same entries, byte count,
// eviction order, errors and results, by brute force only (it has no inverted file).

export const VECTOR_MIN_DIMENSION = 8;
export const VECTOR_MAX_DIMENSION = 4096;
/** Bytes counted per entry besides its vector; the loader refuses an addon that counts otherwise. */
export const VECTOR_ENTRY_OVERHEAD = 64;
/** Bytes the shared vector registry (src/cache/semantic-index.ts) counts per scope besides its name. */
export const SHARED_VECTORS_SCOPE_OVERHEAD = 256;
const MAX_U32 = 0xffff_ffff;

export type VectorHit = { id: number; similarity: number };

export type VectorIndexOptions = {
  /** Values per vector, 8 to 4096. */
  dimension: number;
  /** Upper bound of `bytes`; adding to a full index evicts the oldest entries first. */
  maxBytes: number;
  /** Entries from which the addon searches an approximate index (the twin always uses brute force). */
  approximateFrom?: number;
};

/**
 * Unit-length f32 vectors under caller-chosen u32 ids, searched by cosine similarity. Bounded by
 * `maxBytes`: `add` evicts the oldest entries (by insertion; re-adding an id makes it the newest) and
 * answers their ids, so the caller can drop whatever it keeps under them.
 */
export interface VectorIndex {
  readonly dimension: number;
  readonly maxBytes: number;
  /** Entries held. */
  readonly size: number;
  /** size × (4 × dimension + VECTOR_ENTRY_OVERHEAD). */
  readonly bytes: number;
  /** Whether searches currently go through an approximate index rather than brute force. */
  readonly approximate: boolean;
  /** Stores `vector` normalised under `id`, replacing that id's entry; answers the ids evicted, oldest first. */
  add(id: number, vector: Float32Array): number[];
  /** Drops the entry under `id`; answers whether there was one. */
  remove(id: number): boolean;
  /** The entry most similar to `vector` with cosine similarity ≥ `threshold`, or undefined. */
  search(vector: Float32Array, threshold: number): VectorHit | undefined;
}

export const vectorEntryBytes = (dimension: number): number => dimension * 4 + VECTOR_ENTRY_OVERHEAD;

/** Checks creation options the same way for both implementations; throws a TypeError naming the problem. */
export function checkVectorOptions(o: VectorIndexOptions): void {
  const d = o.dimension;
  if (!Number.isInteger(d) || d < VECTOR_MIN_DIMENSION || d > VECTOR_MAX_DIMENSION) {
    throw new TypeError(
      `dimension must be an integer from ${VECTOR_MIN_DIMENSION} to ${VECTOR_MAX_DIMENSION}`,
    );
  }
  const one = vectorEntryBytes(d);
  if (!Number.isInteger(o.maxBytes) || o.maxBytes < one) {
    throw new TypeError(`maxBytes must be an integer of at least one entry's size (${one} bytes)`);
  }
  const a = o.approximateFrom;
  if (a !== undefined && (!Number.isInteger(a) || a < 0 || a > MAX_U32)) {
    throw new TypeError("approximateFrom must be an integer from 0 to 4294967295");
  }
}

export function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_U32) {
    throw new TypeError("id must be an integer from 0 to 4294967295");
  }
}

export function checkThreshold(threshold: number): void {
  if (typeof threshold !== "number" || !(threshold >= -1 && threshold <= 1)) {
    throw new TypeError("threshold must be a number from -1 to 1");
  }
}

export function checkVector(v: Float32Array, dimension: number): void {
  if (!(v instanceof Float32Array)) throw new TypeError("vector must be a Float32Array");
  if (v.length !== dimension) throw new TypeError(`vector must have ${dimension} values, got ${v.length}`);
}

/** `v` scaled to unit length into `out`, rounded to f32 exactly as the addon does. */
function normaliseInto(v: Float32Array, out: Float32Array, at: number): void {
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    if (!Number.isFinite(x)) throw new TypeError(`vector[${i}] is not a finite number`);
    sum += x * x;
  }
  if (sum === 0) throw new TypeError("vector must not be all zeros");
  const norm = Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) out[at + i] = (v[i] as number) / norm;
}

/** q · data[at, at + d), in four partial sums (1.5× faster in V8 than one, by vector-micro). */
function dot(q: Float32Array, data: Float32Array, at: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    const j = at + i;
    s0 += (q[i] as number) * (data[j] as number);
    s1 += (q[i + 1] as number) * (data[j + 1] as number);
    s2 += (q[i + 2] as number) * (data[j + 2] as number);
    s3 += (q[i + 3] as number) * (data[j + 3] as number);
  }
  for (; i < d; i++) s0 += (q[i] as number) * (data[at + i] as number);
  return s0 + s1 + (s2 + s3);
}

export class VectorIndexTs implements VectorIndex {
  readonly dimension: number;
  readonly maxBytes: number;
  readonly approximate = false;
  /** Slot-major vectors, dense: a removal moves the last slot into the hole (as the addon does). */
  private data: Float32Array;
  private ids: number[] = [];
  private seqs: number[] = [];
  private readonly slotOf = new Map<number, number>();
  /** Insertion order from `head`; stale (id, seq) pairs are skipped lazily. */
  private orderIds: number[] = [];
  private orderSeqs: number[] = [];
  private head = 0;
  private nextSeq = 0;
  private readonly query: Float32Array;

  constructor(options: VectorIndexOptions) {
    checkVectorOptions(options);
    this.dimension = options.dimension;
    this.maxBytes = options.maxBytes;
    this.data = new Float32Array(
      this.dimension * Math.min(16, Math.floor(this.maxBytes / vectorEntryBytes(this.dimension))),
    );
    this.query = new Float32Array(this.dimension);
  }

  get size(): number {
    return this.ids.length;
  }

  get bytes(): number {
    return this.ids.length * vectorEntryBytes(this.dimension);
  }

  add(id: number, vector: Float32Array): number[] {
    checkId(id);
    checkVector(vector, this.dimension);
    normaliseInto(vector, this.query, 0);
    this.remove(id);
    const evicted: number[] = [];
    const one = vectorEntryBytes(this.dimension);
    while (this.bytes + one > this.maxBytes && this.head < this.orderIds.length) {
      const old = this.orderIds[this.head] as number;
      const seq = this.orderSeqs[this.head] as number;
      this.head++;
      const slot = this.slotOf.get(old);
      if (slot !== undefined && this.seqs[slot] === seq) {
        this.remove(old);
        evicted.push(old);
      }
    }
    const d = this.dimension;
    const slot = this.ids.length;
    if ((slot + 1) * d > this.data.length) {
      // Doubling, but never past the bound, so the vectors' allocation stays within maxBytes.
      const most = Math.floor(this.maxBytes / one);
      const grown = new Float32Array(Math.min(slot * 2, most) * d);
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(this.query, slot * d);
    this.ids.push(id);
    this.seqs.push(this.nextSeq);
    this.orderIds.push(id);
    this.orderSeqs.push(this.nextSeq);
    this.nextSeq++;
    this.slotOf.set(id, slot);
    if (this.orderIds.length - this.head > 2 * this.ids.length + 1024) this.compactOrder();
    return evicted;
  }

  remove(id: number): boolean {
    checkId(id);
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    this.slotOf.delete(id);
    const last = this.ids.length - 1;
    const d = this.dimension;
    if (slot !== last) {
      this.data.copyWithin(slot * d, last * d, (last + 1) * d);
      const moved = this.ids[last] as number;
      this.ids[slot] = moved;
      this.seqs[slot] = this.seqs[last] as number;
      this.slotOf.set(moved, slot);
    }
    this.ids.pop();
    this.seqs.pop();
    return true;
  }

  search(vector: Float32Array, threshold: number): VectorHit | undefined {
    checkThreshold(threshold);
    checkVector(vector, this.dimension);
    const q = this.query;
    normaliseInto(vector, q, 0);
    const d = this.dimension;
    const data = this.data;
    let bestSlot = -1;
    let best = 0;
    for (let slot = 0, at = 0; slot < this.ids.length; slot++, at += d) {
      // Rounded to f32 as the addon's similarity is, so both compare against the threshold alike.
      const sim = Math.fround(dot(q, data, at, d));
      if (sim >= threshold && (bestSlot < 0 || sim > best)) {
        bestSlot = slot;
        best = sim;
      }
    }
    return bestSlot < 0 ? undefined : { id: this.ids[bestSlot] as number, similarity: best };
  }

  private compactOrder(): void {
    const ids: number[] = [];
    const seqs: number[] = [];
    for (let i = this.head; i < this.orderIds.length; i++) {
      const id = this.orderIds[i] as number;
      const seq = this.orderSeqs[i] as number;
      const slot = this.slotOf.get(id);
      if (slot !== undefined && this.seqs[slot] === seq) {
        ids.push(id);
        seqs.push(seq);
      }
    }
    this.orderIds = ids;
    this.orderSeqs = seqs;
    this.head = 0;
  }
}
