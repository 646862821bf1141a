// The one import the gateway uses for the native hot path. Loads the Rust addon built by
// scripts/build-native.mjs unless SWITCHYARD_NATIVE=0, else runs the TypeScript twins.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { rewriteModel as rewriteModelTs } from "./rewrite.js";
import { scanRequest as scanRequestTs } from "./scan.js";
import { countTokens as countTokensTs } from "./tokens.js";
import { type Encoding, MAX_DEPTH, SCAN_SLOTS, type ScanResult } from "./types.js";
import {
  checkId,
  checkThreshold,
  checkVector,
  checkVectorOptions,
  SHARED_VECTORS_SCOPE_OVERHEAD,
  VECTOR_ENTRY_OVERHEAD,
  type VectorHit,
  type VectorIndex,
  type VectorIndexOptions,
  VectorIndexTs,
} from "./vector.js";

export type { Encoding, ScanFail, ScanOk, ScanResult } from "./types.js";
export { MAX_BODY, MAX_DEPTH } from "./types.js";
export type { VectorHit, VectorIndex, VectorIndexOptions } from "./vector.js";
export {
  SHARED_VECTORS_SCOPE_OVERHEAD,
  VECTOR_ENTRY_OVERHEAD,
  VECTOR_MAX_DIMENSION,
  VECTOR_MIN_DIMENSION,
} from "./vector.js";

/** The addon's VectorIndex class (native/src/lib.rs). */
interface NativeVectorIndexClass {
  new (
    dimension: number,
    maxBytes: number,
    approximateFrom?: number,
  ): {
    add(id: number, vector: Float32Array): number[];
    remove(id: number): boolean;
    searchInto(query: Float32Array, threshold: number, out: Float64Array, exact?: boolean): boolean;
    readonly size: number;
    readonly bytes: number;
    readonly approximate: boolean;
  };
}

export interface NativeBinding {
  scanRequest(body: Uint8Array): ScanResult;
  scanRequestInto(body: Uint8Array, out: Int32Array): string | null;
  rewriteModel(body: Uint8Array, modelStart: number, modelEnd: number, newModel: string): Buffer;
  countTokens(text: string, encoding: string): number;
  /** Absent from addons built before it; the loader accepts those. */
  listenReusePort?: (host: string, port: number, backlog: number) => number;
  lowerThreadPriority?: (nice: number) => boolean;
  VectorIndex?: NativeVectorIndexClass;
  VECTOR_ENTRY_OVERHEAD?: number;
  VECTOR_APPROXIMATE_FROM?: number;
  sharedCacheConfigure?: (maxBytes: number, now: number) => void;
  sharedCacheGet?: (key: string, now: number) => Buffer | null;
  sharedCacheSet?: (key: string, value: Uint8Array, ttlMs: number, now: number) => number | null;
  sharedCacheDelete?: (key: string) => boolean;
  sharedCacheStats?: (now: number) => SharedCacheStats;
  sharedCacheClear?: () => void;
  sharedVectorsConfigure?: (maxBytes: number) => void;
  sharedVectorsAdd?: (scope: string, vector: Float32Array, payload: Uint8Array) => number | null;
  sharedVectorsSearch?: (
    scope: string,
    query: Float32Array,
    threshold: number,
    out: Float64Array,
  ) => Buffer | null;
  sharedVectorsRemove?: (scope: string, id: number) => boolean;
  sharedVectorsScopeSize?: (scope: string) => number;
  sharedVectorsStats?: () => SharedVectorsStats;
  sharedVectorsClear?: () => void;
  SHARED_VECTORS_SCOPE_OVERHEAD?: number;
  MAX_DEPTH: number;
  SCAN_SLOTS: number;
}

export interface Implementation {
  scanRequest(body: Buffer): ScanResult;
  rewriteModel(body: Buffer, modelStart: number, modelEnd: number, newModel: string): Buffer;
  countTokens(text: string, encoding: Encoding): number;
}

export const fallback: Implementation = {
  scanRequest: scanRequestTs,
  rewriteModel: rewriteModelTs,
  countTokens: countTokensTs,
};

/** Where the addon lands: `native/switchyard.<platform>-<arch>[-<abi>].node` in the package root. */
function candidates(): string[] {
  const override = process.env.SWITCHYARD_NATIVE_PATH;
  if (override) return [override];
  let dir = dirname(fileURLToPath(import.meta.url));
  // From src/native/ or dist/src/native/ up to the directory holding native/package.json.
  for (let i = 0; i < 5 && !existsSync(join(dir, "native", "package.json")); i++) dir = dirname(dir);
  const base = `switchyard.${process.platform}-${process.arch}`;
  const abis =
    process.platform === "linux"
      ? ["-gnu", "-musl"]
      : process.platform === "win32"
        ? ["-msvc", "-gnu"]
        : [""];
  return abis.map((abi) => join(dir, "native", `${base}${abi}.node`));
}

function load(): { binding: NativeBinding | undefined; detail: string } {
  if (process.env.SWITCHYARD_NATIVE === "0") return { binding: undefined, detail: "SWITCHYARD_NATIVE=0" };
  const require = createRequire(import.meta.url);
  const errors: string[] = [];
  for (const path of candidates()) {
    if (!existsSync(path)) {
      errors.push(`${path} not found`);
      continue;
    }
    try {
      const binding = require(path) as NativeBinding;
      // A stale build from another revision could disagree with the fallback; refuse it.
      if (binding.MAX_DEPTH !== MAX_DEPTH || binding.SCAN_SLOTS !== SCAN_SLOTS) {
        errors.push(`${path} is from another revision; rebuild with node scripts/build-native.mjs`);
        continue;
      }
      return { binding, detail: path };
    } catch (e) {
      errors.push(`${path}: ${(e as Error).message}`);
    }
  }
  return { binding: undefined, detail: errors.join("; ") };
}

const { binding, detail } = load();

export const nativeStatus: { readonly loaded: boolean; readonly detail: string } = Object.freeze({
  loaded: binding !== undefined,
  detail,
});

function wrap(b: NativeBinding): Implementation {
  // Results come back through this array so the addon creates at most one JS value per call.
  const out = new Int32Array(SCAN_SLOTS);
  return {
    scanRequest(body: Buffer): ScanResult {
      const s = b.scanRequestInto(body, out);
      if (out[0] !== 1) return { ok: false, error: s as string, offset: out[5] as number };
      const t = out[1];
      const st = out[4];
      return {
        ok: true,
        modelType: t === 1 ? "string" : t === 2 ? "other" : "missing",
        model: t === 1 ? (s as string) : undefined,
        modelStart: out[2] as number,
        modelEnd: out[3] as number,
        stream: st === 1 ? true : st === 2 ? false : undefined,
        gatewayFields: out[6] === 1,
        modelRepeated: out[7] === 1,
        metadataStart: out[8] as number,
        metadataEnd: out[9] as number,
      };
    },
    rewriteModel: (body, modelStart, modelEnd, newModel) =>
      b.rewriteModel(body, modelStart, modelEnd, newModel),
    countTokens: (text, encoding) => b.countTokens(text, encoding),
  };
}

/** The addon behind the same interface as `fallback`; undefined when it is not loaded. */
export const native: Implementation | undefined = binding === undefined ? undefined : wrap(binding);

const impl: Implementation = native ?? fallback;

/** Validates the whole body as JSON (object at the top) and locates the top-level model and stream. */
export const scanRequest: (body: Buffer) => ScanResult = impl.scanRequest;

/**
 * Returns a new body with the model string token replaced by the JSON encoding of `newModel`.
 * Always the TypeScript path: bench/results/native-micro.json has the addon 2-3x slower here
 * (1.6 µs vs 4.0 µs at 0.13 KB, 42 µs vs 115 µs at 100 KB), since the copy is cheap and the
 * boundary crossing and external buffer are not.
 */
export const rewriteModel: (body: Buffer, modelStart: number, modelEnd: number, newModel: string) => Buffer =
  fallback.rewriteModel;

/** Exact tiktoken count of `text` as ordinary text. */
export const countTokens: (text: string, encoding: Encoding) => number = impl.countTokens;

/**
 * Opens a listening TCP socket on `host:port` (an IP literal) in the port's SO_REUSEPORT group and returns
 * its descriptor, which the caller owns; the node:http front listens on it from every lane. Undefined
 * without the addon, and off Linux, whose kernel alone spreads connections across such sockets. It has no
 * TypeScript twin: Node 20 cannot set SO_REUSEPORT.
 */
export const listenReusePort: ((host: string, port: number, backlog: number) => number) | undefined =
  process.platform === "linux" ? binding?.listenReusePort : undefined;

/**
 * Lowers the calling thread's scheduling priority (nice 0 to 19): the log worker's, so that lanes run first
 * on a busy machine. Undefined without the addon; it has no TypeScript twin, since Node cannot do it.
 */
export const lowerThreadPriority: ((nice: number) => boolean) | undefined = binding?.lowerThreadPriority;

/**
 * Bodies at least this long go to the addon in scanRequestBest. Measured (native-micro, one run,
 * 2 shared cores): TypeScript/native 1.33/0.84 µs at 0.13 KB, 4.88/2.51 µs at 1 KB, 523/210 µs at
 * 100 KB; the addon never lost, so every size goes native. Raise this if a rerun shows otherwise.
 */
export const SCAN_NATIVE_MIN_BYTES = 0;

/** scanRequest on whichever path the micro-benchmark found faster for this body size. */
export function scanRequestBest(body: Buffer): ScanResult {
  return native !== undefined && body.length >= SCAN_NATIVE_MIN_BYTES
    ? native.scanRequest(body)
    : fallback.scanRequest(body);
}

/** The addon refuses a vector's values with a plain Error; the twin throws a TypeError, as for every argument. */
const asTypeError = (e: unknown): unknown => (e instanceof Error ? new TypeError(e.message) : e);

/** The addon's index behind the VectorIndex interface; arguments are checked here as the twin checks them. */
export class NativeVectorIndex implements VectorIndex {
  readonly dimension: number;
  readonly maxBytes: number;
  private readonly index: InstanceType<NativeVectorIndexClass>;
  // The hit comes back through this array, so a search creates no JS value but its result.
  private readonly out = new Float64Array(2);

  constructor(Class: NativeVectorIndexClass, options: VectorIndexOptions) {
    checkVectorOptions(options);
    this.dimension = options.dimension;
    this.maxBytes = options.maxBytes;
    this.index = new Class(options.dimension, options.maxBytes, options.approximateFrom);
  }

  get size(): number {
    return this.index.size;
  }

  get bytes(): number {
    return this.index.bytes;
  }

  get approximate(): boolean {
    return this.index.approximate;
  }

  add(id: number, vector: Float32Array): number[] {
    checkId(id);
    checkVector(vector, this.dimension);
    try {
      return this.index.add(id, vector);
    } catch (e) {
      throw asTypeError(e);
    }
  }

  remove(id: number): boolean {
    checkId(id);
    return this.index.remove(id);
  }

  search(vector: Float32Array, threshold: number): VectorHit | undefined {
    return this.find(vector, threshold, false);
  }

  /** Brute force whatever the size: the reference an approximate search's recall is measured against. */
  searchExact(vector: Float32Array, threshold: number): VectorHit | undefined {
    return this.find(vector, threshold, true);
  }

  private find(vector: Float32Array, threshold: number, exact: boolean): VectorHit | undefined {
    checkThreshold(threshold);
    checkVector(vector, this.dimension);
    let found: boolean;
    try {
      found = this.index.searchInto(vector, threshold, this.out, exact);
    } catch (e) {
      throw asTypeError(e);
    }
    if (!found) return undefined;
    return { id: this.out[0] as number, similarity: this.out[1] as number };
  }
}

const NativeVectorClass =
  binding?.VectorIndex !== undefined && binding.VECTOR_ENTRY_OVERHEAD === VECTOR_ENTRY_OVERHEAD
    ? binding.VectorIndex
    : undefined;

/** A VectorIndex on the addon; undefined when it is not loaded (or predates the vector index). */
export const createNativeVectorIndex: ((options: VectorIndexOptions) => NativeVectorIndex) | undefined =
  NativeVectorClass === undefined
    ? undefined
    : (options) => new NativeVectorIndex(NativeVectorClass, options);

/** The TypeScript twin: brute force at every size. */
export const createFallbackVectorIndex = (options: VectorIndexOptions): VectorIndex =>
  new VectorIndexTs(options);

/**
 * The semantic cache's similarity index: the addon's (brute force below `VECTOR_APPROXIMATE_FROM` entries,
 * an inverted file from there) when loaded, else the TypeScript twin.
 */
export const createVectorIndex: (options: VectorIndexOptions) => VectorIndex =
  createNativeVectorIndex ?? createFallbackVectorIndex;

/** Entries from which the addon's index searches approximately; undefined without it. */
export const VECTOR_APPROXIMATE_FROM: number | undefined =
  NativeVectorClass === undefined ? undefined : binding?.VECTOR_APPROXIMATE_FROM;

export interface SharedCacheStats {
  /** Entries not expired at the time asked. */
  readonly entries: number;
  /** Their keys' and values' bytes (UTF-8). */
  readonly bytes: number;
  /** Entries dropped to stay within the bound since the process started. */
  readonly evictions: number;
}

/**
 * The addon's process-wide byte cache (native/src/shared_cache.rs): one for every thread of the process,
 * where a JS Map is one per thread. Bounded by bytes (keys plus values), least recently used out first,
 * each entry gone at its expiry; `now` is the caller's clock in ms.
 */
export interface SharedCache {
  /** Sets the bound; a smaller one drops expired entries, then the least recently used. */
  configure(maxBytes: number, now: number): void;
  /** A copy of the value, or null when absent or expired (then removed); a hit refreshes its recency. */
  get(key: string, now: number): Buffer | null;
  /** Answers the entries evicted for it, or null when not stored (ttlMs <= 0, or over the whole bound). */
  set(key: string, value: Uint8Array, ttlMs: number, now: number): number | null;
  delete(key: string): boolean;
  /** Figures after dropping what has expired at `now`. */
  stats(now: number): SharedCacheStats;
  clear(): void;
}

/** The process-wide byte cache; undefined without the addon (or with one that predates it). */
export const sharedCache: SharedCache | undefined =
  binding?.sharedCacheConfigure === undefined ||
  binding.sharedCacheGet === undefined ||
  binding.sharedCacheSet === undefined ||
  binding.sharedCacheDelete === undefined ||
  binding.sharedCacheStats === undefined ||
  binding.sharedCacheClear === undefined
    ? undefined
    : {
        configure: binding.sharedCacheConfigure,
        get: binding.sharedCacheGet,
        set: binding.sharedCacheSet,
        delete: binding.sharedCacheDelete,
        stats: binding.sharedCacheStats,
        clear: binding.sharedCacheClear,
      };

export interface SharedVectorsStats {
  readonly scopes: number;
  readonly entries: number;
  /** Vectors, payloads and overhead, as the bound counts them. */
  readonly bytes: number;
}

/**
 * The addon's process-wide vector registry (native/src/shared_vectors.rs): a VectorIndex per scope, each
 * entry with a payload, under ids the registry assigns, all scopes within one byte bound that evicts the
 * globally oldest entry first. Errors (bad vector, another dimension than the scope's) are TypeErrors.
 */
export interface SharedVectors {
  configure(maxBytes: number): void;
  /** Answers the entry's id, or null when the entry (with its scope's overhead) is over the whole bound. */
  add(scope: string, vector: Float32Array, payload: Uint8Array): number | null;
  /** The best payload with similarity >= threshold; writes [similarity, id] into `out` (2 slots). */
  search(scope: string, query: Float32Array, threshold: number, out: Float64Array): Buffer | null;
  remove(scope: string, id: number): boolean;
  /** Entries `scope` holds (0 for none). */
  scopeSize(scope: string): number;
  stats(): SharedVectorsStats;
  clear(): void;
}

function typeErrors<A extends unknown[], R>(f: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    try {
      return f(...args);
    } catch (e) {
      throw asTypeError(e);
    }
  };
}

/** The process-wide vector registry; undefined without the addon (or one counting scopes otherwise). */
export const sharedVectors: SharedVectors | undefined =
  binding?.sharedVectorsConfigure === undefined ||
  binding.sharedVectorsAdd === undefined ||
  binding.sharedVectorsSearch === undefined ||
  binding.sharedVectorsRemove === undefined ||
  binding.sharedVectorsScopeSize === undefined ||
  binding.sharedVectorsStats === undefined ||
  binding.sharedVectorsClear === undefined ||
  binding.SHARED_VECTORS_SCOPE_OVERHEAD !== SHARED_VECTORS_SCOPE_OVERHEAD ||
  binding.VECTOR_ENTRY_OVERHEAD !== VECTOR_ENTRY_OVERHEAD
    ? undefined
    : {
        configure: typeErrors(binding.sharedVectorsConfigure),
        add: typeErrors(binding.sharedVectorsAdd),
        search: typeErrors(binding.sharedVectorsSearch),
        remove: binding.sharedVectorsRemove,
        scopeSize: binding.sharedVectorsScopeSize,
        stats: binding.sharedVectorsStats,
        clear: binding.sharedVectorsClear,
      };
