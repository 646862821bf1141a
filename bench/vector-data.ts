// Synthetic embedding-like vectors for the vector index's benchmark and recall test: points scattered
// around random cluster centres, and queries that are near copies of stored points (a paraphrase's
// embedding lies close to the original's).

/** `count` vectors of `dimension`, slot-major: cluster centre + `spread` × a random offset of the same scale. */
export function clusteredVectors(
  random: () => number,
  count: number,
  dimension: number,
  clusters: number,
  spread: number,
): Float32Array {
  const centres = new Float32Array(clusters * dimension);
  for (let i = 0; i < centres.length; i++) centres[i] = random() - 0.5;
  const out = new Float32Array(count * dimension);
  for (let n = 0; n < count; n++) {
    const c = Math.floor(random() * clusters) * dimension;
    const at = n * dimension;
    for (let i = 0; i < dimension; i++) out[at + i] = (centres[c + i] as number) + spread * (random() - 0.5);
  }
  return out;
}

/** `source` plus a random offset whose length is `noise` × the source's: cosine ≈ 1 / √(1 + noise²). */
export function nearCopy(random: () => number, source: Float32Array, noise: number): Float32Array {
  const offset = new Float32Array(source.length);
  let sourceNorm = 0;
  let offsetNorm = 0;
  for (let i = 0; i < source.length; i++) {
    offset[i] = random() - 0.5;
    sourceNorm += (source[i] as number) ** 2;
    offsetNorm += (offset[i] as number) ** 2;
  }
  const scale = (noise * Math.sqrt(sourceNorm)) / Math.sqrt(offsetNorm);
  const out = new Float32Array(source.length);
  for (let i = 0; i < source.length; i++) out[i] = (source[i] as number) + scale * (offset[i] as number);
  return out;
}
