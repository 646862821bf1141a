import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { LogQueryError } from "./errors.js";

describe("log page cursors", () => {
  it("carry a row's time and id, whatever the id holds", () => {
    for (const position of [
      { time: 0, id: "x" },
      { time: Date.UTC(2026, 2, 1), id: "req:with:colons/ünïcode 🙂" },
      { time: 253_402_300_799_999, id: "1:2" },
    ]) {
      const cursor = encodeCursor(position);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(cursor)).toEqual(position);
    }
  });

  it("refuse what encodeCursor never makes", () => {
    const made = encodeCursor({ time: 5, id: "a" });
    for (const bad of [
      "",
      `${made}=`,
      `${made}.`,
      Buffer.from("5:").toString("base64url"),
      Buffer.from(":a").toString("base64url"),
      Buffer.from("-5:a").toString("base64url"),
      Buffer.from("99999999999999999:a").toString("base64url"),
      "A".repeat(3_000),
    ]) {
      expect(() => decodeCursor(bad), bad).toThrow(LogQueryError);
    }
  });
});
