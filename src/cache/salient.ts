// What an embedding hardly sees but an answer depends on: the numbers, the names and the negations of a
// question. "What is 17% of 240?" and "What is 18% of 240?" embed almost alike; a semantic hit between them
// would be a wrong answer. The semantic cache answers from an earlier request only when both texts have
// the same salient signature, whatever their similarity.

const NUMBER_WORDS: ReadonlyMap<string, string> = new Map(
  [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
  ].map((word, value) => [word, String(value)]),
);

const TENS_WORDS: ReadonlyMap<string, number> = new Map(
  ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"].map((word, index) => [
    word,
    (index + 2) * 10,
  ]),
);

/** Ordinals count as their numbers, so "the 1st" and "the first" are one question. */
const ORDINAL_WORDS: ReadonlyMap<string, string> = new Map(
  ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"].map(
    (word, index) => [word, String(index + 1)],
  ),
);

const NEGATIONS = new Set([
  "not",
  "no",
  "never",
  "none",
  "nobody",
  "nothing",
  "nowhere",
  "neither",
  "nor",
  "without",
  "cannot",
  "non",
]);

/**
 * Capitalised words that open a sentence without being a name. A capitalised word elsewhere in a sentence
 * counts as a name; at a sentence's start it counts unless it is one of these.
 */
const SENTENCE_OPENERS = new Set(
  (
    "a an the and or but so if when what whats which who whom whose why where how is are was were am be " +
    "can could would should will shall may might must do does did done have has had please tell give " +
    "show explain describe write list name find make create help summarize summarise translate compare " +
    "define i im ive id my me we our you your it its this that these those there here in on at for to " +
    "from of by with about as hey hi hello thanks thank okay ok yes also then now just let lets any some " +
    "all each every one quick briefly simply again recommend suggest rewrite rephrase paraphrase convert " +
    "calculate compute book recipe best need want fix generate draft outline plan check review edit improve " +
    "correct proofread analyze analyse solve simplify shorten expand brainstorm teach tips ideas steps ways " +
    "good top send reply answer order get set use run build add remove delete update change"
  ).split(" "),
);

/**
 * A token: a number (with its separators and decimals, and an ordinal's suffix), or a word (with inner
 * apostrophes and hyphens).
 */
const TOKEN = /\d+(?:[.,:/]\d+)*(?:st|nd|rd|th)?|[\p{L}][\p{L}\p{M}'’-]*/gu;
const SENTENCE_END = /[.!?\n]\s*$/;

/** The text's numbers, names and negation count, as one comparable string. */
export function salientSignature(text: string): string {
  const numbers: string[] = [];
  const names = new Set<string>();
  let negations = 0;
  let sentenceStart = true;
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    const at = match.index;
    if (at > last && SENTENCE_END.test(text.slice(last, at))) sentenceStart = true;
    last = at + token.length;
    const first = token.charCodeAt(0);
    if (first >= 48 && first <= 57) {
      numbers.push(token.replace(/(?:st|nd|rd|th)$/, "").replace(/,(?=\d{3}\b)/g, ""));
      sentenceStart = false;
      continue;
    }
    const word = token.replace(/[’]/g, "'").replace(/'s$/i, "");
    const lower = word.toLowerCase();
    const number = numberWord(lower);
    if (number !== undefined) numbers.push(number);
    else if (NEGATIONS.has(lower) || lower.endsWith("n't")) negations++;
    else if (isCapitalised(word) && !(sentenceStart && SENTENCE_OPENERS.has(lower.replace(/'/g, ""))))
      names.add(lower);
    sentenceStart = false;
  }
  numbers.sort();
  return `${numbers.join(",")}|${[...names].sort().join(",")}|${negations}`;
}

/** "seven", "forty", "twenty-five", "third" as digits; undefined for any other word. */
function numberWord(word: string): string | undefined {
  const simple = NUMBER_WORDS.get(word) ?? ORDINAL_WORDS.get(word);
  if (simple !== undefined) return simple;
  const tens = TENS_WORDS.get(word);
  if (tens !== undefined) return String(tens);
  const dash = word.indexOf("-");
  if (dash < 0) return undefined;
  const high = TENS_WORDS.get(word.slice(0, dash));
  const low = Number(NUMBER_WORDS.get(word.slice(dash + 1)) ?? Number.NaN);
  return high !== undefined && low >= 1 && low <= 9 ? String(high + low) : undefined;
}

function isCapitalised(word: string): boolean {
  const first = word.charAt(0);
  return first !== first.toLowerCase() && word !== "I";
}
