import { describe, expect, it } from "vitest";
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
    for (const t of times) expect(t).toBeGreaterThanOrEqual(28);
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
    expect(waited).toBeGreaterThanOrEqual(28);
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
