// Server-sent events as the HTML standard defines them: lines ending in \n, \r\n or \r; `event:` and `data:`
// fields; a blank line ends an event; lines starting with ":" are comments. Bytes may arrive split anywhere,
// including inside a multi-byte character, so decoding waits for whole lines.

export interface SseEvent {
  /** "message" when the event has no `event:` field. */
  event: string;
  data: string;
}

export class SseParser {
  private pending = "";
  private readonly decoder = new TextDecoder("utf-8");
  private event = "";
  private data: string[] = [];

  push(bytes: Uint8Array): SseEvent[] {
    return this.feed(this.decoder.decode(bytes, { stream: true }), false);
  }

  /** Flushes a last event that was not followed by a blank line. */
  end(): SseEvent[] {
    return this.feed(`${this.decoder.decode()}\n\n`, true);
  }

  private feed(text: string, final: boolean): SseEvent[] {
    const out: SseEvent[] = [];
    const buffer = this.pending + text;
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A \r at the very end may be the first half of \r\n; wait for the next bytes unless this is the end.
      if (c === 13 && i === buffer.length - 1 && !final) break;
      this.line(buffer.slice(start, i), out);
      if (c === 13 && buffer.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.pending = buffer.slice(start);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === "") {
      if (this.data.length > 0) out.push({ event: this.event || "message", data: this.data.join("\n") });
      this.event = "";
      this.data = [];
      return;
    }
    if (line.charCodeAt(0) === 58) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
  }
}

/** One SSE event as text. */
export function sseEvent(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}
