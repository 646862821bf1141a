import { describe, expect, it } from "vitest";
import { randomUuid, uuidText, writeTimeOrderedUuid } from "./random-id.js";

describe("randomUuid", () => {
  it("makes version 4 UUIDs, all different, across refills of its random batch", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = randomUuid();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(1000);
  });

  it("uses every hex digit in every random position", () => {
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) {
      const id = randomUuid();
      for (let at = 0; at < 36; at++) digits[at]?.add(id.charAt(at));
    }
    const fixed = new Set([8, 13, 14, 18, 19, 23]);
    for (let at = 0; at < 36; at++) if (!fixed.has(at)) expect(digits[at]?.size).toBe(16);
    expect(digits[14]).toEqual(new Set(["4"]));
    expect(digits[19]).toEqual(new Set(["8", "9", "a", "b"]));
  });
});

describe("writeTimeOrderedUuid", () => {
  const bytes = new Uint8Array(16);
  const timeOrderedUuid = (now: number): string => {
    writeTimeOrderedUuid(now, bytes);
    return uuidText(bytes);
  };

  it("makes version 7 UUIDs that carry the time and sort by it, even when the clock steps back", () => {
    const t = Date.parse("2026-12-04T18:00:00.123Z");
    const first = timeOrderedUuid(t);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(first.replace("-", "").slice(0, 12), 16)).toBe(t);
    const later = timeOrderedUuid(t + 1);
    const stepped = timeOrderedUuid(t - 5_000);
    expect(first < later).toBe(true);
    // The clock stepped back: the id keeps the latest time it has seen.
    expect(stepped.slice(0, 13)).toBe(later.slice(0, 13));
    const same = new Set(Array.from({ length: 1000 }, () => timeOrderedUuid(t + 1)));
    expect(same.size).toBe(1000);
  });
});
