// A toy sentence embedding for offline tests: deterministic, pure TypeScript and fast, with enough of a real
// model's behaviour that paraphrases score high and unrelated texts low. It is a bag of words with signed
// feature hashing, not a language model: it knows only the few synonyms listed below, and it cannot see
// that "bake bread" and "make a loaf" mean the same thing.

/** Words that carry little of a question's meaning; politeness and auxiliaries vary between paraphrases. */
const STOPWORDS = new Set(
  (
    "a an the is are was were be been am do does did can could would should will shall may might must " +
    "i me my mine we us our you your yours it its this that these those there here of in on at for " +
    "by with about as please kindly hi hey hello thanks thank so just some any really very " +
    "quick quickly tell explain describe know want like need help let lets going gonna wanna"
  ).split(" "),
);

/** Words that say which way something goes: "from A to B", "convert A into B". */
const DIRECTIONS = new Set(["to", "from", "into", "than"]);

/** "How to bake" has no direction: "to" after a question word introduces the verb. */
const QUESTION_WORDS = new Set(["how", "what", "where", "when", "why", "which", "who", "whether"]);

/** A short list of common synonyms mapped to one word; a real model learns thousands of these. */
const SYNONYMS: ReadonlyMap<string, string> = new Map([
  ["automobile", "car"],
  ["vehicle", "car"],
  ["purchase", "buy"],
  ["acquire", "buy"],
  ["begin", "start"],
  ["commence", "start"],
  ["finish", "end"],
  ["big", "large"],
  ["huge", "large"],
  ["little", "small"],
  ["tiny", "small"],
  ["rapid", "fast"],
  ["speedy", "fast"],
  ["fix", "repair"],
  ["mend", "repair"],
  ["mistake", "error"],
  ["bug", "error"],
  ["cost", "price"],
  ["doctor", "physician"],
  ["film", "movie"],
  ["picture", "photo"],
  ["photograph", "photo"],
  ["simple", "easy"],
  ["method", "way"],
  ["approach", "way"],
  ["optimal", "best"],
  ["ideal", "best"],
  ["utilize", "use"],
  ["utilise", "use"],
  ["shut", "close"],
  ["reply", "answer"],
  ["respond", "answer"],
  ["correct", "right"],
  ["difference", "differ"],
  ["different", "differ"],
  ["journey", "trip"],
  ["travel", "trip"],
  ["create", "make"],
  ["build", "make"],
  ["receive", "get"],
  ["obtain", "get"],
]);

/** Contractions opened up, so that "don't" and "do not" give the same words. */
const CONTRACTIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bcan't\b|\bcannot\b/g, "can not"],
  [/\bwon't\b/g, "will not"],
  [/n't\b/g, " not"],
  [/'(s|re|ll|ve|d|m)\b/g, ""],
];

const UNIGRAM_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.5;
const TRIGRAM_WEIGHT = 0.3;
const LINK_WEIGHT = 1;

/** A unit-length embedding of `text` in `dimension` buckets; equal texts give equal vectors. */
export function toyEmbedding(text: string, dimension = 384): Float32Array {
  const v = new Float32Array(dimension);
  const { words, links } = normalisedWords(text);
  for (const link of links) add(v, `d:${link}`, LINK_WEIGHT);
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    add(v, `w:${word}`, UNIGRAM_WEIGHT);
    if (i > 0) add(v, `b:${words[i - 1]} ${word}`, BIGRAM_WEIGHT);
    // Character trigrams let a typo or an unlisted inflection keep most of its word's features.
    const padded = `^${word}$`;
    for (let j = 0; j + 3 <= padded.length; j++) add(v, `t:${padded.slice(j, j + 3)}`, TRIGRAM_WEIGHT);
  }
  let norm = 0;
  for (let i = 0; i < dimension; i++) norm += (v[i] as number) ** 2;
  // An empty or all-stopword text still gets a unit vector, of its raw lowercase form.
  if (norm === 0) {
    add(v, `r:${text.toLowerCase()}`, 1);
    norm = 1;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dimension; i++) v[i] = (v[i] as number) * scale;
  return v;
}

/**
 * Lowercased content words, contractions opened, stopwords dropped, stemmed and mapped to a synonym; and
 * the direction links that a bag of words would lose.
 */
function normalisedWords(text: string): { words: string[]; links: string[] } {
  let lower = text.toLowerCase().replace(/[’‘]/g, "'");
  for (const [pattern, replacement] of CONTRACTIONS) lower = lower.replace(pattern, replacement);
  const words: string[] = [];
  const links: string[] = [];
  let direction: string | undefined;
  for (const match of lower.matchAll(/[\p{L}\p{N}]+/gu)) {
    const raw = match[0];
    if (DIRECTIONS.has(raw)) {
      // "USD to EUR" and "EUR to USD" share every word; only a link from its word to the next tells them apart.
      const previous = words.at(-1);
      direction = previous !== undefined && !QUESTION_WORDS.has(previous) ? raw : undefined;
      continue;
    }
    if (STOPWORDS.has(raw)) continue;
    const stemmed = stem(raw);
    const word = SYNONYMS.get(raw) ?? SYNONYMS.get(stemmed) ?? stemmed;
    if (direction !== undefined) links.push(`${direction} ${word}`);
    direction = undefined;
    words.push(word);
  }
  return { words, links };
}

/** Light suffix stripping: plural s and -ies, -ing, -ed; short words are left alone so "is" and "red" survive. */
function stem(word: string): string {
  if (word.length > 5 && word.endsWith("ing")) return word.slice(0, -3);
  if (word.length > 4 && word.endsWith("ed")) return word.slice(0, -2);
  if (word.length > 4 && word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith("s") && !word.endsWith("ss") && !word.endsWith("us"))
    return word.slice(0, -1);
  return word;
}

/** Signed feature hashing: the hash picks the bucket and its top bit the sign, so collisions cancel out. */
function add(v: Float32Array, feature: string, weight: number): void {
  let h = 0x811c9dc5;
  for (let i = 0; i < feature.length; i++) h = Math.imul(h ^ feature.charCodeAt(i), 0x01000193);
  // FNV-1a's low bits mix poorly on short keys; a murmur3 finaliser spreads them before the modulo.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  const bucket = (h & 0x7fffffff) % v.length;
  v[bucket] = (v[bucket] as number) + (h < 0 ? -weight : weight);
}
