import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// What the micro-benchmarks (native, transcode, vector, semantic-search, lease) share: the timing loop (per
// case and round, a warm-up, then as many iterations as fit in the round; the median of the rounds is
// reported) and the writing of their figures.

export const smoke = process.argv.includes("--smoke");
export const ROUNDS = smoke ? 2 : 5;
/** Per implementation and round: stop after this long, or after the iteration cap. */
export const ROUND_MS = smoke ? 20 : 300;
const MAX_ITERS = smoke ? 300 : 5_000_000;
const WARMUP_ITERS = smoke ? 50 : 2_000;

/** Results flow here so the optimiser cannot drop the measured work; report it to keep it observable. */
let sinkTotal = 0;

export function sink(): number {
  return sinkTotal % 1000;
}

/** Nanoseconds per call of `fn`. */
export function measure(fn: () => number): number {
  const warmEnd = performance.now() + ROUND_MS / 3;
  for (let i = 0; i < WARMUP_ITERS && (i < 2 || performance.now() < warmEnd); i++) sinkTotal += fn();
  const deadline = performance.now() + ROUND_MS;
  let iters = 0;
  const t0 = process.hrtime.bigint();
  // At least 3 iterations so slow cases still give a figure; check the clock every 16.
  while (iters < MAX_ITERS && (iters < 3 || (iters & 15) !== 0 || performance.now() < deadline)) {
    sinkTotal += fn();
    iters++;
  }
  return Number(process.hrtime.bigint() - t0) / iters;
}

/** A per-call time for the tables: ns, µs or ms; "—" when there is none. */
export function formatNs(ns: number | null): string {
  if (ns === null || Number.isNaN(ns)) return "—";
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns} ns`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/**
 * Writes a micro-benchmark's figures to bench/results/<name>.json (<name>.smoke.json for a smoke run), with
 * when and where they were taken; answers the file's path.
 */
export function writeMicroResult(name: string, figures: Record<string, unknown>): string {
  const result = {
    benchmark: name,
    date: new Date().toISOString(),
    smoke,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model ?? "unknown",
    cpus: cpus().length,
    ...figures,
  };
  const outDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "results");
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, smoke ? `${name}.smoke.json` : `${name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
