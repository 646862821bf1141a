// Takes the usage event back out of an OpenAI stream the gateway asked usage for on the client's behalf
// (governance charges from it; the client did not ask for it). The event is the one whose `choices` is
// empty and whose `usage` is an object. Events are cut at their blank line; a chunk that ends inside an
// event holds that event back until the rest of it arrives, which is no delay to a client that could not
// parse half an event anyway. The usage is read from the whole event, which a chunk boundary cannot split.

import { readUsage, type Usage } from "../observability/usage.js";

const EVENT_END = Buffer.from("\n\n");
const EMPTY_CHOICES = Buffer.from('"choices":[]');
const USAGE_OBJECT = Buffer.from('"usage":{');

export class UsageEventStrip {
  private held: Buffer | undefined;

  /** What of `chunk` the client gets: every whole event but the usage event (read into `usage`), in order. */
  filter(chunk: Buffer, usage: Usage): Buffer {
    const data = this.held === undefined ? chunk : Buffer.concat([this.held, chunk]);
    this.held = undefined;
    const lastEnd = data.lastIndexOf(EVENT_END);
    if (lastEnd < 0) {
      this.held = data;
      return EMPTY;
    }
    const whole = lastEnd + EVENT_END.length;
    if (whole < data.length) this.held = data.subarray(whole);
    const events = data.subarray(0, whole);
    if (events.indexOf(EMPTY_CHOICES) < 0) return events;
    const kept: Buffer[] = [];
    let start = 0;
    while (start < events.length) {
      const end = events.indexOf(EVENT_END, start) + EVENT_END.length;
      const event = events.subarray(start, end);
      if (event.indexOf(EMPTY_CHOICES) >= 0 && event.indexOf(USAGE_OBJECT) >= 0) readUsage(event, usage);
      else kept.push(event);
      start = end;
    }
    return kept.length === 1 ? (kept[0] as Buffer) : Buffer.concat(kept);
  }

  /** Whatever is held back when the stream ends (an unterminated last event goes out as it came). */
  rest(): string {
    const held = this.held;
    this.held = undefined;
    return held === undefined ? "" : held.toString("utf8");
  }
}

const EMPTY = Buffer.alloc(0);
