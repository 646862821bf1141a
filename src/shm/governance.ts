// The counters governance enforces from, shared by every lane: one slot per budget, request or token
// limit, or parallel-request limit. A slot holds the start of its current window, what was used in it,
// and what requests under way have reserved. Admission is check-and-reserve under the slot's lock, so no
// two lanes can both take the last of a budget; the lock guards a handful of loads and stores, so lanes
// spin on it rather than sleep.
//
// Each slot also keeps what each lane has reserved, so that a lane that dies with requests under way gives
// their reservations back (reclaimLane) instead of holding them until the process restarts.
//
// In cluster mode a slot is also "shared": what this instance may use of its window is what the cluster's
// leases granted it (src/cluster/lease-governance.ts sets it), and a reservation past that allowance is
// refused as short of lease (`short`), for the lane to ask for more, rather than over the limit. A slot
// keeps its previous window's use too, so that the spend of a window that just ended is still reported.
//
// Money is integer micro-dollars held in Float64 (exact below 2^53, about nine billion dollars): a
// BigInt64Array would allocate a BigInt for every read and write on the hot path.

/** Float64 fields of a slot before its per-lane reservations. */
const FIELDS = 8;
const WINDOW_START = 0;
const USED = 1;
const RESERVED = 2;
const PREVIOUS_START = 3;
const PREVIOUS_USED = 4;
/** 1 when the slot is shared with other instances: the allowance below applies. */
const SHARED = 5;
/** What of the window starting at ALLOWANCE_WINDOW this instance may have used and reserved together. */
const ALLOWANCE = 6;
const ALLOWANCE_WINDOW = 7;
const MAGIC = 0x53594733; // "SYG3"
/** Int32s before the locks: magic, capacity and lanes. */
const HEADER = 4;

export interface SlotState {
  readonly windowStart: number;
  readonly used: number;
  readonly reserved: number;
  /** The window before `windowStart` as it ended, while the slot remembers it. */
  readonly previousStart: number;
  readonly previousUsed: number;
}

export function createGovernanceBuffer(capacity: number, lanes: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(fieldsAt(capacity) + capacity * (FIELDS + lanes) * 8);
  const header = new Int32Array(buffer, 0, HEADER);
  header[0] = MAGIC;
  header[1] = capacity;
  header[2] = lanes;
  return buffer;
}

const fieldsAt = (capacity: number): number => Math.ceil(((HEADER + capacity) * 4) / 8) * 8;

export class GovernanceCounters {
  readonly capacity: number;
  private readonly stride: number;
  private readonly locks: Int32Array;
  private readonly fields: Float64Array;
  /** Where this lane's reservation sits within a slot; -1 on the control plane, which reserves nothing. */
  private readonly laneField: number;
  /** The last refusal was a shared slot's allowance, not its limit: more lease may admit the request. */
  short = false;

  constructor(
    readonly buffer: SharedArrayBuffer,
    lane = -1,
  ) {
    const header = new Int32Array(buffer, 0, HEADER);
    if (header[0] !== MAGIC) throw new Error("not a governance counter buffer");
    this.capacity = header[1] as number;
    const lanes = header[2] as number;
    if (lane >= lanes) throw new RangeError(`lane ${lane} is beyond the buffer's ${lanes} lanes`);
    this.stride = FIELDS + lanes;
    this.laneField = lane < 0 ? -1 : FIELDS + lane;
    this.locks = new Int32Array(buffer, HEADER * 4, this.capacity);
    this.fields = new Float64Array(buffer, fieldsAt(this.capacity), this.capacity * this.stride);
  }

  /**
   * Takes `amount` from the slot when what is used in the window starting at `windowStart` plus what is
   * reserved plus `amount` stays within `max`; a later window than the slot's empties what was used.
   */
  reserve(slot: number, windowStart: number, max: number, amount: number): boolean {
    const at = slot * this.stride;
    const fields = this.fields;
    this.lock(slot);
    this.roll(at, windowStart);
    const wanted = (fields[at + USED] as number) + (fields[at + RESERVED] as number) + amount;
    let admitted = wanted <= max;
    this.short = false;
    if (admitted && fields[at + SHARED] === 1) {
      const allowance =
        fields[at + ALLOWANCE_WINDOW] === windowStart ? (fields[at + ALLOWANCE] as number) : 0;
      if (wanted > allowance) {
        admitted = false;
        this.short = true;
      }
    }
    if (admitted) {
      fields[at + RESERVED] = (fields[at + RESERVED] as number) + amount;
      if (this.laneField >= 0) fields[at + this.laneField] = (fields[at + this.laneField] as number) + amount;
    }
    this.unlock(slot);
    return admitted;
  }

  /**
   * Ends a reservation of `reserved`, charging `used` to the window starting at `windowStart` (the window the
   * request ended in: a request that crosses a boundary counts in the later window).
   */
  settle(slot: number, windowStart: number, reserved: number, used: number): void {
    const at = slot * this.stride;
    const fields = this.fields;
    this.lock(slot);
    this.roll(at, windowStart);
    fields[at + RESERVED] = Math.max(0, (fields[at + RESERVED] as number) - reserved);
    if (this.laneField >= 0)
      fields[at + this.laneField] = Math.max(0, (fields[at + this.laneField] as number) - reserved);
    fields[at + USED] = (fields[at + USED] as number) + used;
    this.unlock(slot);
  }

  read(slot: number): SlotState {
    return this.account(slot);
  }

  /**
   * The slot's state for a report to the cluster. When the slot is in the window starting at `freeze`, its
   * allowance is also lowered to what is used and reserved now, atomically with the read, so that nothing
   * is admitted past what the report keeps.
   */
  account(slot: number, freeze?: number): SlotState {
    const at = slot * this.stride;
    const fields = this.fields;
    this.lock(slot);
    const state = {
      windowStart: fields[at + WINDOW_START] as number,
      used: fields[at + USED] as number,
      reserved: fields[at + RESERVED] as number,
      previousStart: fields[at + PREVIOUS_START] as number,
      previousUsed: fields[at + PREVIOUS_USED] as number,
    };
    if (state.windowStart === freeze && fields[at + ALLOWANCE_WINDOW] === freeze)
      fields[at + ALLOWANCE] = Math.min(fields[at + ALLOWANCE] as number, state.used + state.reserved);
    this.unlock(slot);
    return state;
  }

  /** Sets a slot's window and use (the control plane, from the store at start), keeping its reservations. */
  seed(slot: number, windowStart: number, used: number): void {
    const at = slot * this.stride;
    this.lock(slot);
    this.fields[at + WINDOW_START] = windowStart;
    this.fields[at + USED] = used;
    this.unlock(slot);
  }

  /**
   * Shares the slot with other instances (cluster mode): from now on what it admits in a window is bounded
   * by the allowance set for that window, none until one is.
   */
  share(slot: number): void {
    const at = slot * this.stride;
    this.lock(slot);
    if (this.fields[at + SHARED] !== 1) {
      this.fields[at + SHARED] = 1;
      this.fields[at + ALLOWANCE] = 0;
    }
    this.unlock(slot);
  }

  /**
   * What a reservation in the window starting at `windowStart` could take now before its allowance stops
   * it; Infinity for a slot that is not shared. The limit itself is not counted.
   */
  room(slot: number, windowStart: number): number {
    const at = slot * this.stride;
    const fields = this.fields;
    this.lock(slot);
    let room = Number.POSITIVE_INFINITY;
    if (fields[at + SHARED] === 1) {
      const allowance =
        fields[at + ALLOWANCE_WINDOW] === windowStart ? (fields[at + ALLOWANCE] as number) : 0;
      const used = fields[at + WINDOW_START] === windowStart ? (fields[at + USED] as number) : 0;
      room = allowance - used - (fields[at + RESERVED] as number);
    }
    this.unlock(slot);
    return room;
  }

  /** What this instance may have used and reserved together in the window starting at `windowStart`. */
  allow(slot: number, windowStart: number, allowance: number): void {
    const at = slot * this.stride;
    this.lock(slot);
    this.fields[at + ALLOWANCE_WINDOW] = windowStart;
    this.fields[at + ALLOWANCE] = allowance;
    this.unlock(slot);
  }

  /** Empties a slot for reuse by another budget or limit. */
  clear(slot: number): void {
    const at = slot * this.stride;
    this.lock(slot);
    this.fields.fill(0, at, at + this.stride);
    this.unlock(slot);
  }

  /** A lane ended: what it still had reserved (requests it will never settle) is given back in every slot. */
  reclaimLane(lane: number): void {
    const field = FIELDS + lane;
    if (field >= this.stride) return;
    const fields = this.fields;
    for (let slot = 0; slot < this.capacity; slot++) {
      const at = slot * this.stride;
      if (fields[at + field] === 0) continue;
      this.lock(slot);
      fields[at + RESERVED] = Math.max(0, (fields[at + RESERVED] as number) - (fields[at + field] as number));
      fields[at + field] = 0;
      this.unlock(slot);
    }
  }

  private roll(at: number, windowStart: number): void {
    const fields = this.fields;
    if (windowStart > (fields[at + WINDOW_START] as number)) {
      fields[at + PREVIOUS_START] = fields[at + WINDOW_START] as number;
      fields[at + PREVIOUS_USED] = fields[at + USED] as number;
      fields[at + WINDOW_START] = windowStart;
      fields[at + USED] = 0;
    }
  }

  private lock(slot: number): void {
    while (Atomics.compareExchange(this.locks, slot, 0, 1) !== 0) {
      // Another lane is inside a few loads and stores; the main thread may not Atomics.wait, so spin.
    }
  }

  private unlock(slot: number): void {
    Atomics.store(this.locks, slot, 0);
  }
}
