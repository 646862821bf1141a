import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createUpstreamBuffer,
  D,
  deploymentSlot,
  deploymentTag,
  laneShare,
  MAX_PROBES,
  OPEN,
  openUpstreamBuffer,
  P,
  providerSlot,
  providerTag,
  reclaimLane,
  SHARE_IN_FLIGHT,
  SHARE_QUEUED,
  sinceBase,
} from "./upstream.js";

describe("layout", () => {
  it("gives one slot per identity and the same slot on every lookup", () => {
    const layout = openUpstreamBuffer(createUpstreamBuffer({ providers: 16, deployments: 256 }));
    const seen = new Set<number>();
    for (let k = 0; k < 3; k++) {
      for (let m = 0; m < 20; m++) {
        const slot = deploymentSlot(layout, deploymentTag("openai", k, `model-${m}`));
        expect(deploymentSlot(layout, deploymentTag("openai", k, `model-${m}`))).toBe(slot);
        seen.add(slot);
      }
    }
    expect(seen.size).toBe(60);
    expect(deploymentTag("ab", 0, "c")).not.toBe(deploymentTag("a", 0, "bc"));
  });

  it("sends identities past a full probe sequence to the overflow slot, without growing", () => {
    const layout = openUpstreamBuffer(createUpstreamBuffer({ providers: 2, deployments: 4 }));
    const slots = new Set<number>();
    for (let m = 0; m < 50; m++) slots.add(deploymentSlot(layout, deploymentTag("p", 0, `m${m}`)));
    // Slots 1..3 taken, everything else in slot 0.
    expect(slots.size).toBe(4);
    expect(slots.has(layout.deploymentBase)).toBe(true);
    expect(layout.buffer.byteLength).toBe(createUpstreamBuffer({ providers: 2, deployments: 4 }).byteLength);
    expect(MAX_PROBES).toBeGreaterThan(1);
  });

  it("reclaims what a lane held", () => {
    const layout = openUpstreamBuffer(createUpstreamBuffer({ providers: 16, deployments: 64 }));
    const slot = providerSlot(layout, providerTag("p"));
    Atomics.store(layout.i32, slot + P.IN_FLIGHT, 5);
    Atomics.store(layout.i32, slot + P.QUEUED, 2);
    const share = laneShare(layout, slot, 1);
    expect(share).not.toBe(laneShare(layout, slot, 0));
    Atomics.store(layout.i32, share + SHARE_IN_FLIGHT, 3);
    Atomics.store(layout.i32, share + SHARE_QUEUED, 1);
    expect(reclaimLane(layout, 1)).toBe(3);
    expect(Atomics.load(layout.i32, slot + P.IN_FLIGHT)).toBe(2);
    expect(Atomics.load(layout.i32, slot + P.QUEUED)).toBe(1);
    expect(reclaimLane(layout, 1)).toBe(0);
  });
});

// Workers load the real modules, transpiled to plain JavaScript in a temporary directory.
const here = dirname(fileURLToPath(import.meta.url));
const MODULES = ["shm/upstream.ts", "routing/upstream-health.ts", "routing/strategies.ts"];
let dir = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "switchyard-shm-"));
  for (const module of MODULES) {
    const source = readFileSync(join(here, "..", module), "utf8");
    const out = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    }).outputText;
    const target = join(dir, module.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `body` (an async function body with `health`, `data`, `candidate`) in a worker thread. */
function runWorker(body: string, data: Record<string, unknown>): Promise<unknown> {
  const url = pathToFileURL(join(dir, "routing/upstream-health.js")).href;
  const code = `
    const { parentPort, workerData: data } = require("node:worker_threads");
    (async () => {
      const { SharedUpstreamHealth } = await import(${JSON.stringify(url)});
      const provider = { name: "p", config: { concurrency: { concurrency: data.limit ?? 0, bufferSize: 1000 } } };
      const candidate = (keyIndex, model) => ({ provider, keyIndex, model, weight: 1, order: 0 });
      const health = new SharedUpstreamHealth(data.buffer, data.routing, { lane: data.lane });
      ${body}
    })().then((result) => parentPort.postMessage(result), (error) => { throw error; });
  `;
  const worker = new Worker(code, { eval: true, workerData: data });
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

const routing = {
  strategy: "weighted",
  numRetries: 0,
  retryBackoffInitialMs: 0,
  retryBackoffMaxMs: 0,
  timeoutMs: 0,
  allowedFails: 3,
  cooldownMs: 1000,
  fallbacks: {},
  contextWindowFallbacks: {},
  contentPolicyFallbacks: {},
  retryPolicy: {},
};

describe("two threads on the same slots", () => {
  it("see consistent in-flight counts, samples, round-robin turns and slot claims", async () => {
    const buffer = createUpstreamBuffer({ providers: 16, deployments: 4096 });
    const barrier = new SharedArrayBuffer(8);
    const N = 20_000;
    const body = `
      const b = new Int32Array(data.barrier);
      const list = [candidate(0, "shared"), candidate(1, "shared")];
      const slots = [];
      for (let m = 0; m < 300; m++) slots.push(health.slotOf(candidate(2, "claim-" + m)));
      for (let i = 0; i < data.n; i++) { health.started(list[0]); health.choose("round-robin", list, new Set()); }
      Atomics.add(b, 0, 1); Atomics.notify(b, 0);
      while (Atomics.load(b, 1) === 0) Atomics.wait(b, 1, 0, 50);
      for (let i = 0; i < data.n; i++) health.finished(list[0], i % 2 ? "ok" : "client-error", 3);
      return slots;
    `;
    const runs = [0, 1].map((lane) => runWorker(body, { buffer, barrier, n: N, lane, routing }));
    const b = new Int32Array(barrier);
    while (Atomics.load(b, 0) < 2) await new Promise((r) => setTimeout(r, 5));
    const layout = openUpstreamBuffer(buffer);
    const slot = deploymentSlot(layout, deploymentTag("p", 0, "shared"));
    expect(Atomics.load(layout.i32, slot + D.IN_FLIGHT)).toBe(2 * N);
    expect(Atomics.load(layout.i32, slot + D.ROUND_ROBIN)).toBe(2 * N);
    Atomics.store(b, 1, 1);
    Atomics.notify(b, 1);
    const [a, c] = (await Promise.all(runs)) as [number[], number[]];
    expect(Atomics.load(layout.i32, slot + D.IN_FLIGHT)).toBe(0);
    expect(Atomics.load(layout.i32, slot + D.SAMPLES)).toBe(N);
    expect(a).toEqual(c);
    expect(new Set(a).size).toBe(300);
  });

  it("let exactly one thread probe a half-open circuit, round after round", async () => {
    const buffer = createUpstreamBuffer({ providers: 16, deployments: 4096 });
    const layout = openUpstreamBuffer(buffer);
    const slot = deploymentSlot(layout, deploymentTag("p", 0, "probe"));
    const sync = new SharedArrayBuffer(16);
    const s = new Int32Array(sync);
    const ROUNDS = 200;
    // s[0]: round number to play; s[1]: threads done with it; s[2]: probes won in total.
    const body = `
      const s = new Int32Array(data.sync);
      const list = [candidate(0, "probe")];
      const none = new Set();
      for (let round = 1; round <= data.rounds; round++) {
        while (Atomics.load(s, 0) < round) Atomics.wait(s, 0, round - 1, 50);
        if (health.choose("weighted", list, none) === 0) Atomics.add(s, 2, 1);
        Atomics.add(s, 1, 1); Atomics.notify(s, 1);
      }
      return "done";
    `;
    const runs = [0, 1].map((lane) => runWorker(body, { buffer, sync, rounds: ROUNDS, lane, routing }));
    for (let round = 1; round <= ROUNDS; round++) {
      // Open, with the cooldown long over: the next choose may take the probe.
      Atomics.store(layout.i32, slot + D.OPENED_AT, sinceBase(layout, Date.now()) - 5000);
      Atomics.store(layout.i32, slot + D.STATE, OPEN);
      Atomics.store(s, 0, round);
      Atomics.notify(s, 0);
      while (Atomics.load(s, 1) < round * 2) await new Promise((r) => setTimeout(r, 0));
      expect(Atomics.load(s, 2)).toBe(round);
    }
    await Promise.all(runs);
  });
});
