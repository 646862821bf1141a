// Defaults of the semantic cache.

/**
 * Cosine similarity from which an earlier request may answer. 0.88: with a model such as OpenAI's
 * text-embedding-3-small, rewordings of a short question mostly score above it and other questions below;
 * near-misses that score higher (numbers, names, negations) are the salient signature's to refuse.
 */
export const DEFAULT_SIMILARITY_THRESHOLD = 0.88;
