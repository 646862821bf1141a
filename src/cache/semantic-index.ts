import {
  SHARED_VECTORS_SCOPE_OVERHEAD,
  type SharedVectors,
  type SharedVectorsStats,
  sharedVectors,
} from "../native/index.js";
import { checkThreshold, VectorIndexTs, vectorEntryBytes } from "../native/vector.js";

// The semantic cache's vectors: per scope (one tenant, model and parameters, whose answers may stand in for
// each other) an index of prompt embeddings, each with a payload naming the answer. With the addon, one
// registry for the whole process (native/src/shared_vectors.rs), so every lane finds what any lane added;
// without it, this thread's own, by the same rules. Either way all scopes share one byte bound (vectors,
// payloads, overhead) that evicts the globally oldest entry first and drops a scope once empty.

export interface SemanticHit {
  /** Cosine similarity of the query to the entry, at least the threshold searched with. */
  readonly similarity: number;
  /** The payload added with the entry: a copy, the caller's to keep. */
  readonly payload: Uint8Array;
}

export type SemanticIndexStats = SharedVectorsStats;

export interface SemanticIndex {
  /** Whether every thread of the process sees this index (the addon's registry). */
  readonly shared: boolean;
  /**
   * Adds `vector` (normalised) with a copy of `payload` to `scope`. Not stored when
   * the entry and its scope's overhead are over the whole bound. TypeError for a vector whose dimension
   * is not the scope's (the first vector's) or out of 8 to 4096, or with a non-finite value or all zeros.
   */
  add(scope: string, vector: Float32Array, payload: Uint8Array): void;
  /** The entry of `scope` most similar to `vector` with similarity >= `threshold` (-1 to 1), if any. */
  search(scope: string, vector: Float32Array, threshold: number): SemanticHit | undefined;
  /** Entries `scope` holds: with the dimension, what searching it costs. */
  scopeSize(scope: string): number;
  stats(): SemanticIndexStats;
}

export interface SemanticIndexOptions {
  /** The most bytes all scopes may take together (for the addon's registry, the whole process's). */
  readonly maxBytes: number;
}

function checkOptions(options: SemanticIndexOptions): void {
  if (!Number.isInteger(options.maxBytes) || options.maxBytes < 0) {
    throw new TypeError("maxBytes must be a non-negative integer");
  }
}

function checkArguments(scope: string, vector: Float32Array): void {
  if (typeof scope !== "string") throw new TypeError("scope must be a string");
  if (!(vector instanceof Float32Array)) throw new TypeError("vector must be a Float32Array");
}

const entryBytes = (dimension: number, payload: Uint8Array): number =>
  vectorEntryBytes(dimension) + payload.length;
const scopeBytes = (scope: string): number => Buffer.byteLength(scope) + SHARED_VECTORS_SCOPE_OVERHEAD;

/** The addon's process-wide registry; creating one sets the bound for every thread. */
class NativeSemanticIndex implements SemanticIndex {
  readonly shared = true;
  // The hit's similarity and id come back through this array.
  private readonly out = new Float64Array(2);

  constructor(
    private readonly vectors: SharedVectors,
    options: SemanticIndexOptions,
  ) {
    checkOptions(options);
    vectors.configure(options.maxBytes);
  }

  add(scope: string, vector: Float32Array, payload: Uint8Array): void {
    checkArguments(scope, vector);
    this.vectors.add(scope, vector, payload);
  }

  search(scope: string, vector: Float32Array, threshold: number): SemanticHit | undefined {
    checkArguments(scope, vector);
    checkThreshold(threshold);
    const payload = this.vectors.search(scope, vector, threshold, this.out);
    return payload === null ? undefined : { similarity: this.out[0] as number, payload };
  }

  scopeSize(scope: string): number {
    return this.vectors.scopeSize(scope);
  }

  stats(): SemanticIndexStats {
    return this.vectors.stats();
  }
}

interface Scope {
  readonly index: VectorIndexTs;
  readonly payloads: Map<number, Uint8Array>;
}

/** Each scope's index is bounded by the registry, never by itself. */
const UNBOUNDED = 2 ** 52;

/** The TypeScript twin: this thread's own scopes, by brute force, with the addon's bytes and eviction order. */
export class SemanticIndexTs implements SemanticIndex {
  readonly shared = false;
  private readonly maxBytes: number;
  private readonly scopes = new Map<string, Scope>();
  /** (scope, id) in insertion order from `head`; pairs already removed are skipped when reached. */
  private orderScopes: string[] = [];
  private orderIds: number[] = [];
  private head = 0;
  private nextId = 0;
  private bytes = 0;
  private entries = 0;

  constructor(options: SemanticIndexOptions) {
    checkOptions(options);
    this.maxBytes = options.maxBytes;
  }

  add(scope: string, vector: Float32Array, payload: Uint8Array): void {
    checkArguments(scope, vector);
    const existing = this.scopes.get(scope);
    const dimension = existing?.index.dimension;
    if (dimension !== undefined && dimension !== vector.length) {
      throw new TypeError(
        `vector must have ${dimension} values, got ${vector.length} (the scope's dimension)`,
      );
    }
    const size = entryBytes(vector.length, payload);
    // The entry needs its scope, so both must fit even when the scope is there already.
    if (size + scopeBytes(scope) > this.maxBytes) return;
    const entry = existing ?? {
      index: new VectorIndexTs({ dimension: vector.length, maxBytes: UNBOUNDED }),
      payloads: new Map<number, Uint8Array>(),
    };
    const id = this.nextId;
    entry.index.add(id, vector);
    if (existing === undefined) {
      this.scopes.set(scope, entry);
      this.bytes += scopeBytes(scope);
    }
    entry.payloads.set(id, Uint8Array.from(payload));
    this.nextId = (this.nextId + 1) >>> 0;
    this.bytes += size;
    this.entries += 1;
    this.orderScopes.push(scope);
    this.orderIds.push(id);
    while (this.bytes > this.maxBytes && this.head < this.orderIds.length) {
      const oldScope = this.orderScopes[this.head] as string;
      const oldId = this.orderIds[this.head] as number;
      this.head += 1;
      this.remove(oldScope, oldId);
    }
    if (this.orderIds.length - this.head > 2 * this.entries + 1024) this.compactOrder();
  }

  /** Drops entry `id` of `scope`, and the scope once empty. */
  private remove(scope: string, id: number): void {
    const entry = this.scopes.get(scope);
    const payload = entry?.payloads.get(id);
    if (entry === undefined || payload === undefined) return;
    entry.payloads.delete(id);
    entry.index.remove(id);
    this.bytes -= entryBytes(entry.index.dimension, payload);
    this.entries -= 1;
    if (entry.payloads.size === 0) {
      this.scopes.delete(scope);
      this.bytes -= scopeBytes(scope);
    }
  }

  search(scope: string, vector: Float32Array, threshold: number): SemanticHit | undefined {
    checkArguments(scope, vector);
    checkThreshold(threshold);
    const entry = this.scopes.get(scope);
    const hit = entry?.index.search(vector, threshold);
    if (entry === undefined || hit === undefined) return undefined;
    return { similarity: hit.similarity, payload: Uint8Array.from(entry.payloads.get(hit.id) ?? []) };
  }

  scopeSize(scope: string): number {
    return this.scopes.get(scope)?.payloads.size ?? 0;
  }

  stats(): SemanticIndexStats {
    return { scopes: this.scopes.size, entries: this.entries, bytes: this.bytes };
  }

  private compactOrder(): void {
    const scopes: string[] = [];
    const ids: number[] = [];
    for (let i = this.head; i < this.orderIds.length; i++) {
      const scope = this.orderScopes[i] as string;
      const id = this.orderIds[i] as number;
      if (this.scopes.get(scope)?.payloads.has(id) === true) {
        scopes.push(scope);
        ids.push(id);
      }
    }
    this.orderScopes = scopes;
    this.orderIds = ids;
    this.head = 0;
  }
}

/** The addon's registry behind SemanticIndex; undefined without the addon. */
const vectors = sharedVectors;
export const createNativeSemanticIndex: ((options: SemanticIndexOptions) => SemanticIndex) | undefined =
  vectors === undefined ? undefined : (options) => new NativeSemanticIndex(vectors, options);

export const createFallbackSemanticIndex = (options: SemanticIndexOptions): SemanticIndex =>
  new SemanticIndexTs(options);

/** The process-wide registry when the addon is loaded, else this thread's own index. */
export const createSemanticIndex: (options: SemanticIndexOptions) => SemanticIndex =
  createNativeSemanticIndex ?? createFallbackSemanticIndex;
