import { describe, expect, it } from "vitest";
import { DelayQueue, DelayScheduler } from "./delay-queue.js";

describe("DelayQueue", () => {
  it("runs callbacks in order, no earlier than the delay", async () => {
    const q = new DelayQueue(30);
    const started = performance.now();
    const order: number[] = [];
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      q.push(() => {
        order.push(i);
        times.push(performance.now() - started);
      });
    }
    await new Promise((r) => setTimeout(r, 80));
    expect(order).toEqual([0, 1, 2, 3, 4]);
    for (const t of times) expect(t).toBeGreaterThanOrEqual(28);
    expect(q.size).toBe(0);
  });

  it("keeps later pushes waiting for their own deadline", async () => {
    const q = new DelayQueue(40);
    const fired: string[] = [];
    q.push(() => fired.push("a"));
    await new Promise((r) => setTimeout(r, 25));
    q.push(() => fired.push("b"));
    await new Promise((r) => setTimeout(r, 25));
    expect(fired).toEqual(["a"]);
    await new Promise((r) => setTimeout(r, 40));
    expect(fired).toEqual(["a", "b"]);
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
