// A string-keyed cache bounded by entry count and by the total length of its keys. Past either bound the
// oldest entries go first: a flood of one-off keys (random model names) costs re-computation, never memory.
// Insertion order rather than recency keeps `get` a plain lookup on the hot path.

export class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  private keyChars = 0;

  constructor(
    readonly maxEntries: number,
    /** Bound on the summed length of the keys, in UTF-16 units. */
    readonly maxKeyChars: number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** Summed length of the keys held. */
  get keyLength(): number {
    return this.keyChars;
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  /** Adds or replaces an entry; a key longer than the byte bound on its own is not kept. */
  set(key: string, value: V): void {
    if (key.length > this.maxKeyChars) return;
    if (this.map.has(key)) {
      this.map.set(key, value);
      return;
    }
    while (this.map.size >= this.maxEntries || this.keyChars + key.length > this.maxKeyChars) {
      const oldest = this.map.keys().next();
      if (oldest.done === true) break;
      this.map.delete(oldest.value);
      this.keyChars -= oldest.value.length;
    }
    this.map.set(key, value);
    this.keyChars += key.length;
  }
}
