import { afterEach, describe, expect, it, vi } from "vitest";
import { createReadinessBuffer, Readiness } from "../shm/readiness.js";
import type { GovernanceStore } from "../store/types.js";
import { watchStore } from "./store-watch.js";

afterEach(() => {
  vi.useRealTimers();
});

/** A store whose ping answers, fails, or never answers, as the test says. */
function fakeStore() {
  let mode: "up" | "down" | "hung" = "up";
  const store = {
    ping: () =>
      mode === "up"
        ? Promise.resolve()
        : mode === "down"
          ? Promise.reject(new Error("connection refused"))
          : new Promise<void>(() => {}),
  } as unknown as GovernanceStore;
  return { store, set: (next: typeof mode) => (mode = next) };
}

describe("the store's watch for /ready", () => {
  it("says whether the store answers, within its timeout, and logs each change once", async () => {
    vi.useFakeTimers();
    const { store, set } = fakeStore();
    const readiness = new Readiness(createReadinessBuffer());
    const lines: string[] = [];
    const watch = watchStore(store, readiness, (line) => lines.push(line), 1_000, 200);
    expect(readiness.store).toBe(true);

    set("down");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readiness.store).toBe(false);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(lines).toEqual(["store: unreachable (connection refused); /ready says so"]);

    set("up");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readiness.store).toBe(true);

    set("hung");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readiness.store).toBe(true);
    await vi.advanceTimersByTimeAsync(200);
    expect(readiness.store).toBe(false);
    expect(lines.at(-1)).toBe("store: unreachable (no answer within 200 ms); /ready says so");
    expect(lines).toContain("store: reachable again");

    watch.stop();
    set("up");
    await vi.advanceTimersByTimeAsync(5_000);
    expect(readiness.store).toBe(false);
  });

  it("is one flag every thread reads", () => {
    const buffer = createReadinessBuffer();
    const mine = new Readiness(buffer);
    const theirs = new Readiness(buffer);
    mine.store = false;
    expect(theirs.store).toBe(false);
  });
});
