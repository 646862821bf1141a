import { createRequire } from "node:module";
import { Tiktoken, type TiktokenBPE } from "js-tiktoken/lite";
import type { Encoding } from "./types.js";

const require = createRequire(import.meta.url);

/**
 * js-tiktoken's patterns differ from tiktoken's (Rust regex) in two places, which changes counts:
 * JS `\s` includes U+FEFF and lacks U+0085 where Rust's Unicode `\s` is the reverse, and tiktoken's
 * case-insensitive contractions also match the long s (U+017F) through Unicode case folding.
 */
export function tiktokenPattern(patStr: string): string {
  return patStr
    .replaceAll("\\s", "\\p{White_Space}")
    .replaceAll("\\S", "\\P{White_Space}")
    .replaceAll("'s|'S|", "'s|'S|'\u017f|");
}

const loaded = new Map<Encoding, Tiktoken>();

function encoder(encoding: Encoding): Tiktoken {
  let enc = loaded.get(encoding);
  if (enc === undefined) {
    // Required on first use: each rank table is megabytes of JS to parse.
    let ranks: TiktokenBPE;
    if (encoding === "o200k_base") ranks = require("js-tiktoken/ranks/o200k_base") as TiktokenBPE;
    else if (encoding === "cl100k_base") ranks = require("js-tiktoken/ranks/cl100k_base") as TiktokenBPE;
    else throw new TypeError(`Unknown encoding: ${String(encoding)}`);
    enc = new Tiktoken({ ...ranks, pat_str: tiktokenPattern(ranks.pat_str) });
    loaded.set(encoding, enc);
  }
  return enc;
}

/** Exact tiktoken token count of `text` as ordinary text (special-token text is not special). */
export function countTokens(text: string, encoding: Encoding): number {
  return encoder(encoding).encode(text, [], []).length;
}
