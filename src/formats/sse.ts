// Server-sent events as the HTML standard defines them: lines ending in \n, \r\n or \r; `event:` and `data:`
// fields; a blank line ends an event; lines starting with ":" are comments. Bytes may arrive split anywhere,
// including inside a multi-byte character, so decoding waits for whole lines.

export interface SseEvent {
  /** "message" when the event has no `event:` field. */
  event: string;
  data: string;
}

/**
 * The longest line, and the most data one event may gather, in characters. Past it `push` throws: the
 * stream is broken, and the relay answers 502 (or ends a started stream with an error event).
 */
export const SSE_MAX_LINE = 16 << 20;

export class SseParser {
  /** Pieces of a line not yet ended, kept apart so that each character is scanned only once. */
  private pending: string[] = [];
  private pendingLength = 0;
  /** The last text ended with \r: a \n at the start of the next is the other half of a \r\n. */
  private afterCr = false;
  private readonly decoder = new TextDecoder("utf-8");
  private event = "";
  private data: string[] = [];
  private dataLength = 0;
  /** Characters examined so far; each one is examined once (tests check the parser stays linear). */
  scanned = 0;

  constructor(private readonly maxLine = SSE_MAX_LINE) {}

  push(bytes: Uint8Array): SseEvent[] {
    return this.feed(this.decoder.decode(bytes, { stream: true }));
  }

  /** Flushes a last event that was not followed by a blank line. */
  end(): SseEvent[] {
    return this.feed(`${this.decoder.decode()}\n\n`);
  }

  private feed(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    let start = 0;
    if (this.afterCr) {
      this.afterCr = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    this.scanned += text.length - start;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      let line = text.slice(start, i);
      if (this.pendingLength > 0) {
        this.pending.push(line);
        line = this.pending.join("");
        this.pending = [];
        this.pendingLength = 0;
      }
      this.line(line, out);
      if (c === 13) {
        if (i + 1 === text.length) this.afterCr = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    if (start < text.length) {
      this.pendingLength += text.length - start;
      if (this.pendingLength > this.maxLine)
        throw new Error(`an event stream line is longer than ${this.maxLine} characters`);
      this.pending.push(text.slice(start));
    }
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === "") {
      if (this.data.length > 0) out.push({ event: this.event || "message", data: this.data.join("\n") });
      this.event = "";
      this.data = [];
      this.dataLength = 0;
      return;
    }
    if (line.charCodeAt(0) === 58) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "data") {
      this.dataLength += value.length;
      if (this.dataLength > this.maxLine)
        throw new Error(`an event stream event carries more than ${this.maxLine} characters of data`);
      this.data.push(value);
    } else if (field === "event") this.event = value;
  }
}

/** One SSE event as text. */
export function sseEvent(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}
