import { LogQueryError } from "./errors.js";

// A page's cursor: the last row's (time, id) as base64url text. Opaque to clients, checked when it comes
// back, since it does (from a query string).

const MAX_CURSOR_LENGTH = 2_048;
const BAD = "the cursor is not one this log gave (ask again without it for the first page)";

export interface CursorPosition {
  readonly time: number;
  readonly id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(`${position.time}:${position.id}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): CursorPosition {
  if (typeof cursor !== "string" || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new LogQueryError(BAD);
  }
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  // Buffer decoding is lenient: only a cursor that encodes back to itself is one encodeCursor made.
  if (Buffer.from(text, "utf8").toString("base64url") !== cursor) throw new LogQueryError(BAD);
  const match = /^(\d{1,16}):(.+)$/s.exec(text);
  const time = Number(match?.[1]);
  if (match?.[2] === undefined || !Number.isSafeInteger(time)) throw new LogQueryError(BAD);
  return { time, id: match[2] };
}
