import { describe, expect, it } from "vitest";
import type { CompiledProvider } from "../providers/route.js";
import type { Candidate } from "./health.js";
import { ADAPTIVE_FLOOR, adaptiveWeight, type CandidateStats, pick } from "./strategies.js";

const route = { name: "p" } as CompiledProvider;
const candidate = (keyIndex: number, weight = 1, order = 0): Candidate => ({
  provider: route,
  keyIndex,
  model: "m",
  weight,
  order,
});

/** Stats from arrays, with a scripted random sequence and a round-robin counter. */
function stats(
  s: { inFlight?: number[]; latencyUs?: number[]; errorPpm?: number[]; randoms?: number[] } = {},
): CandidateStats & { rr: number } {
  const randoms = [...(s.randoms ?? [])];
  return {
    rr: 0,
    inFlight: (i) => s.inFlight?.[i] ?? 0,
    latencyUs: (i) => s.latencyUs?.[i] ?? 0,
    errorPpm: (i) => s.errorPpm?.[i] ?? 0,
    nextRoundRobin() {
      return this.rr++;
    },
    random: () => randoms.shift() ?? 0,
  };
}

const all = (n: number) => new Uint8Array(n).fill(1);

describe("weighted", () => {
  const list = [candidate(0, 1), candidate(1, 3)];
  it("splits the unit interval by weight", () => {
    expect(pick("weighted", list, all(2), stats({ randoms: [0.2] }))).toBe(0);
    expect(pick("weighted", list, all(2), stats({ randoms: [0.26] }))).toBe(1);
    expect(pick("weighted", list, all(2), stats({ randoms: [0.99] }))).toBe(1);
  });
  it("skips ineligible candidates and answers -1 when none is left", () => {
    expect(pick("weighted", list, Uint8Array.of(0, 1), stats({ randoms: [0] }))).toBe(1);
    expect(pick("weighted", list, Uint8Array.of(1, 0), stats({ randoms: [0.99] }))).toBe(0);
    expect(pick("weighted", list, Uint8Array.of(0, 0), stats())).toBe(-1);
  });
  it("chooses uniformly when every weight is zero", () => {
    const zero = [candidate(0, 0), candidate(1, 0), candidate(2, 0)];
    expect(pick("weighted", zero, all(3), stats({ randoms: [0.5] }))).toBe(1);
  });
});

describe("round robin", () => {
  it("follows the shared counter and skips ineligible candidates", () => {
    const list = [candidate(0), candidate(1), candidate(2)];
    const s = stats();
    expect([0, 1, 2, 3].map(() => pick("round-robin", list, all(3), s))).toEqual([0, 1, 2, 0]);
    s.rr = 1;
    expect(pick("round-robin", list, Uint8Array.of(1, 0, 1), s)).toBe(2);
    expect(pick("round-robin", list, Uint8Array.of(0, 0, 0), s)).toBe(-1);
  });
});

describe("least busy", () => {
  it("takes the fewest in flight across lanes", () => {
    const list = [candidate(0), candidate(1), candidate(2)];
    expect(pick("least-busy", list, all(3), stats({ inFlight: [5, 2, 7] }))).toBe(1);
    expect(pick("least-busy", list, Uint8Array.of(1, 0, 1), stats({ inFlight: [5, 2, 7] }))).toBe(0);
  });
  it("breaks ties at random", () => {
    const list = [candidate(0), candidate(1), candidate(2)];
    // Ties at 1 and 2: the reservoir replaces the first tie when random() * 2 < 1.
    expect(pick("least-busy", list, all(3), stats({ inFlight: [3, 1, 1], randoms: [0.4] }))).toBe(2);
    expect(pick("least-busy", list, all(3), stats({ inFlight: [3, 1, 1], randoms: [0.6] }))).toBe(1);
  });
});

describe("lowest latency", () => {
  it("takes the lowest average, unmeasured first", () => {
    const list = [candidate(0), candidate(1), candidate(2)];
    expect(pick("lowest-latency", list, all(3), stats({ latencyUs: [900, 300, 500] }))).toBe(1);
    expect(pick("lowest-latency", list, all(3), stats({ latencyUs: [900, 300, 0] }))).toBe(2);
  });
});

describe("adaptive", () => {
  it("weights by success rate squared and relative speed, with a floor", () => {
    expect(adaptiveWeight(2, 0, 100, 100)).toBe(2);
    expect(adaptiveWeight(2, 500_000, 100, 100)).toBe(0.5);
    expect(adaptiveWeight(2, 0, 200, 100)).toBe(1);
    expect(adaptiveWeight(2, 1_000_000, 100, 100)).toBe(2 * ADAPTIVE_FLOOR);
    expect(adaptiveWeight(1, 0, 0, 100)).toBe(1);
  });
  it("moves traffic away from the failing and the slow", () => {
    const list = [candidate(0), candidate(1)];
    // Weights 1 and 0.25 (half failing): total 1.25, the boundary at 0.8 of it.
    const failing = { errorPpm: [0, 500_000], latencyUs: [100, 100] };
    expect(pick("adaptive", list, all(2), stats({ ...failing, randoms: [0.79] }))).toBe(0);
    expect(pick("adaptive", list, all(2), stats({ ...failing, randoms: [0.81] }))).toBe(1);
    // Four times slower: weights 1 and 0.25 again.
    const slow = { latencyUs: [100, 400] };
    expect(pick("adaptive", list, all(2), stats({ ...slow, randoms: [0.79] }))).toBe(0);
    expect(pick("adaptive", list, all(2), stats({ ...slow, randoms: [0.81] }))).toBe(1);
  });
});

describe("priority", () => {
  it("takes the lowest order among the eligible, weighted within it", () => {
    const list = [candidate(0, 1, 2), candidate(1, 1, 1), candidate(2, 3, 1)];
    expect(pick("priority", list, all(3), stats({ randoms: [0.1] }))).toBe(1);
    expect(pick("priority", list, all(3), stats({ randoms: [0.9] }))).toBe(2);
    expect(pick("priority", list, Uint8Array.of(1, 0, 0), stats())).toBe(0);
  });
  it("handles negative orders", () => {
    const list = [candidate(0, 1, 0), candidate(1, 1, -1)];
    expect(pick("priority", list, all(2), stats())).toBe(1);
  });
});
