/** A seeded random source (xorshift32), so a fuzz failure reproduces from the seed it prints. */
export function seededRandom(seed: number): { random(): number; pick<T>(items: readonly T[]): T } {
  let state = seed;
  const random = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  return { random, pick: <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T };
}
