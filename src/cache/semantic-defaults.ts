// Defaults of the semantic cache.

/**
 * Cosine similarity from which an earlier request may answer: with a model such as OpenAI's
 * text-embedding-3-small, rewordings of one short question mostly score 0.85-0.95 while questions on a
 * neighbouring topic stay below, and 0.88 leaves the close near-misses (numbers, names, negations) to the
 * salient signature rather than to a threshold no model can hold.
 */
export const DEFAULT_SIMILARITY_THRESHOLD = 0.88;
