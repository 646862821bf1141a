import { randomFillSync } from "node:crypto";

// The gateway's UUIDs: a random one (version 4) for each request the client sent no id with, and a
// time-ordered one (version 7) for each request log record. Node's randomUUID builds its string from twenty
// concatenated pieces, about 600 bytes of heap per id; here the text is written into a scratch buffer and
// read out as one string. The random bytes come from the same source, in batches. A layer of its own at
// the top of src/: the front (http), the lanes (pipeline) and the log's codec (observability) all use it.

const BATCH = 128;
const random = Buffer.alloc(16 * BATCH);
let next = BATCH;
const text = Buffer.alloc(36);
const HEX = Buffer.from("0123456789abcdef", "latin1");
const DASH = 0x2d;

export function randomUuid(): string {
  if (next === BATCH) {
    randomFillSync(random);
    next = 0;
  }
  const offset = 16 * next++;
  let at = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = DASH;
    let byte = random[offset + i] as number;
    // The version (4) and the variant (10xx) bits, as RFC 9562 sets them.
    if (i === 6) byte = (byte & 0x0f) | 0x40;
    else if (i === 8) byte = (byte & 0x3f) | 0x80;
    text[at++] = HEX[byte >> 4] as number;
    text[at++] = HEX[byte & 0x0f] as number;
  }
  return text.toString("latin1");
}

let lastMs = 0;

/**
 * Writes a version 7 UUID (RFC 9562) into `into`'s first 16 bytes: the time in ms, then random bits. Ids made
 * one after another sort by time, so an index on them grows at its end rather than at random places (the
 * request log's inserts). A lane writes the bytes; the log worker makes the text (uuidText), off the lane.
 */
export function writeTimeOrderedUuid(now: number, into: Uint8Array): void {
  if (next === BATCH) {
    randomFillSync(random);
    next = 0;
  }
  const offset = 16 * next++;
  // A clock that steps back must not send ids back with it.
  const ms = Math.max(now, lastMs);
  lastMs = ms;
  const high = Math.floor(ms / 2 ** 32);
  const low = ms >>> 0;
  into[0] = (high >>> 8) & 0xff;
  into[1] = high & 0xff;
  into[2] = low >>> 24;
  into[3] = (low >>> 16) & 0xff;
  into[4] = (low >>> 8) & 0xff;
  into[5] = low & 0xff;
  into[6] = ((random[offset + 6] as number) & 0x0f) | 0x70;
  into[7] = random[offset + 7] as number;
  into[8] = ((random[offset + 8] as number) & 0x3f) | 0x80;
  for (let i = 9; i < 16; i++) into[i] = random[offset + i] as number;
}

/** A UUID's 16 bytes as its text, lowercase with dashes. */
export function uuidText(bytes: Uint8Array): string {
  let at = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = DASH;
    const byte = bytes[i] as number;
    text[at++] = HEX[byte >> 4] as number;
    text[at++] = HEX[byte & 0x0f] as number;
  }
  return text.toString("latin1");
}
