import { describe, expect, it, vi } from "vitest";
import { DelayQueue, DelayScheduler } from "./delay-queue.js";

// Only lower bounds and order are asserted: a loaded machine may fire timers late, never early.
describe("DelayQueue", () => {
  it("runs callbacks in order, no earlier than the delay", async () => {
    const q = new DelayQueue(30);
    const started = performance.now();
    const order: number[] = [];
    const times: number[] = [];
    await new Promise<void>((resolve) => {
      for (let i = 0; i < 5; i++) {
        q.push(() => {
          order.push(i);
          times.push(performance.now() - started);
          if (i === 4) resolve();
        });
      }
    });
    expect(order).toEqual([0, 1, 2, 3, 4]);
    for (const t of times) expect(t).toBeGreaterThanOrEqual(30);
    expect(q.size).toBe(0);
  });

  it("gives a later push its own full delay", async () => {
    const q = new DelayQueue(30);
    const waited = await new Promise<number>((resolve) => {
      q.push(() => {
        const pushed = performance.now();
        q.push(() => resolve(performance.now() - pushed));
      });
    });
    expect(waited).toBeGreaterThanOrEqual(30);
  });

  it("spaces a chain of 1 ms steps (a stream's chunks) at least 1 ms apart", async () => {
    const s = new DelayScheduler();
    const gaps = await new Promise<number[]>((resolve) => {
      const gaps: number[] = [];
      let last = performance.now();
      const step = (): void => {
        const now = performance.now();
        gaps.push(now - last);
        last = now;
        if (gaps.length === 50) resolve(gaps);
        else s.schedule(1, step);
      };
      s.schedule(1, step);
    });
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1);
  });

  it("keeps one timer armed while its callbacks push more", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const q = new DelayQueue(1);
      let steps = 0;
      const step = (): void => {
        if (++steps < 60) q.push(step);
      };
      for (let stream = 0; stream < 3; stream++) q.push(step);
      const armed: number[] = [];
      for (let ms = 0; ms < 30; ms++) {
        vi.advanceTimersByTime(1);
        armed.push(vi.getTimerCount());
      }
      expect(steps).toBeGreaterThan(30);
      expect(Math.max(...armed)).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("clear drops pending callbacks", async () => {
    const s = new DelayScheduler();
    let ran = false;
    s.schedule(10, () => {
      ran = true;
    });
    s.clear();
    await new Promise((r) => setTimeout(r, 30));
    expect(ran).toBe(false);
  });
});
