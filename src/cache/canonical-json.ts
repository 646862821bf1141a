// A JSON text in one canonical spelling, for cache keys: object members sorted by name, no whitespace,
// strings with their escapes resolved, and numbers as exact decimals (1, 1.0, 10e-1 and 1E0 are one spelling;
// 12345678901234567891 is not rounded to its neighbour as JSON.parse would). Object member names that
// repeat make the text uncanonical: providers differ on which copy wins, so two such bodies could mean
// different requests.

/** A top-level object's members, each value canonical, by name; or why the text has none. */
export type CanonicalMembers =
  | { readonly ok: true; readonly members: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly reason: "not_json" | "not_object" | "too_deep" | "duplicate_member" };

class Uncanonical extends Error {
  constructor(readonly reason: "not_json" | "too_deep" | "duplicate_member") {
    super(reason);
  }
}

/** The members of a top-level JSON object, each value canonical, keyed by the member's (decoded) name. */
export function canonicalMembers(text: string, maxDepth: number): CanonicalMembers {
  try {
    const parser = new Parser(text, maxDepth);
    parser.skipSpace();
    if (text[parser.at] !== "{") {
      parser.value(0);
      parser.end();
      return { ok: false, reason: "not_object" };
    }
    const members = parser.members(0);
    parser.end();
    return { ok: true, members };
  } catch (error) {
    if (error instanceof Uncanonical) return { ok: false, reason: error.reason };
    throw error;
  }
}

/**
 * An object's canonical text from its members' names and canonical values: sorted by name (by UTF-16 code
 * units; any fixed order would do). Built by concatenation, which V8 keeps as a rope until the text is read
 * whole, where join would copy every nested value once per level.
 */
export function canonicalObject(members: Iterable<readonly [string, string]>): string {
  const sorted = [...members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let text = "{";
  for (const [i, [name, value]] of sorted.entries())
    text += `${i === 0 ? "" : ","}${JSON.stringify(name)}:${value}`;
  return `${text}}`;
}

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
/** What makes a string literal other than its plain characters: escapes, and control characters (invalid). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for.
const SPECIAL = /[\u0000-\u001f\\]/;

class Parser {
  at = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  skipSpace(): void {
    let at = this.at;
    for (;;) {
      const code = this.text.charCodeAt(at);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) break;
      at += 1;
    }
    this.at = at;
  }

  end(): void {
    this.skipSpace();
    if (this.at !== this.text.length) throw new Uncanonical("not_json");
  }

  value(depth: number): string {
    this.skipSpace();
    const char = this.text[this.at];
    if (char === "{") return this.object(depth);
    if (char === "[") return this.array(depth);
    if (char === '"') {
      const literal = this.stringLiteral();
      return literal.plain ? literal.text : JSON.stringify(JSON.parse(literal.text));
    }
    for (const literal of ["true", "false", "null"]) {
      if (this.text.startsWith(literal, this.at)) {
        this.at += literal.length;
        return literal;
      }
    }
    return this.number();
  }

  /** The object's members by name (the parser is at its `{`). */
  members(depth: number): Map<string, string> {
    if (depth >= this.maxDepth) throw new Uncanonical("too_deep");
    this.at += 1;
    const members = new Map<string, string>();
    this.skipSpace();
    if (this.text[this.at] === "}") {
      this.at += 1;
      return members;
    }
    for (;;) {
      this.skipSpace();
      const name = this.string();
      this.skipSpace();
      this.expect(":");
      const value = this.value(depth + 1);
      if (members.has(name)) throw new Uncanonical("duplicate_member");
      members.set(name, value);
      this.skipSpace();
      if (this.text[this.at] === "}") {
        this.at += 1;
        return members;
      }
      this.expect(",");
    }
  }

  private object(depth: number): string {
    return canonicalObject(this.members(depth));
  }

  private array(depth: number): string {
    if (depth >= this.maxDepth) throw new Uncanonical("too_deep");
    this.at += 1;
    this.skipSpace();
    if (this.text[this.at] === "]") {
      this.at += 1;
      return "[]";
    }
    let text = "[";
    for (;;) {
      text += this.value(depth + 1);
      this.skipSpace();
      if (this.text[this.at] === "]") {
        this.at += 1;
        return `${text}]`;
      }
      this.expect(",");
      text += ",";
    }
  }

  /** A string's decoded value. */
  private string(): string {
    const literal = this.stringLiteral();
    return literal.plain ? literal.text.slice(1, -1) : (JSON.parse(literal.text) as string);
  }

  /**
   * A string's text, quotes included; `plain` when it has no escapes (and is then canonical already: a
   * valid UTF-8 text has no lone surrogates for JSON.stringify to escape).
   */
  private stringLiteral(): { text: string; plain: boolean } {
    const text = this.text;
    const start = this.at;
    if (text[start] !== '"') throw new Uncanonical("not_json");
    let end = text.indexOf('"', start + 1);
    for (;;) {
      if (end < 0) throw new Uncanonical("not_json");
      let backslashes = 0;
      while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes += 1;
      if (backslashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    this.at = end + 1;
    const literal = text.slice(start, end + 1);
    if (!SPECIAL.test(literal)) return { text: literal, plain: true };
    // JSON.parse refuses raw control characters and bad escapes.
    try {
      JSON.parse(literal);
    } catch {
      throw new Uncanonical("not_json");
    }
    return { text: literal, plain: false };
  }

  private number(): string {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (match === null) throw new Uncanonical("not_json");
    this.at = NUMBER.lastIndex;
    return canonicalNumber(match[0]);
  }

  private expect(char: string): void {
    if (this.text[this.at] !== char) throw new Uncanonical("not_json");
    this.at += 1;
  }
}

/**
 * A JSON number literal as `<digits>e<exponent>` with no leading or trailing zeros in the digits (or "0"):
 * equal values, equal text, whatever the spelling, and no rounding.
 */
export function canonicalNumber(literal: string): string {
  const negative = literal.startsWith("-");
  const unsigned = negative ? literal.slice(1) : literal;
  const e = unsigned.search(/[eE]/);
  const mantissa = e < 0 ? unsigned : unsigned.slice(0, e);
  const point = mantissa.indexOf(".");
  const whole = point < 0 ? mantissa : mantissa.slice(0, point);
  const fraction = point < 0 ? "" : mantissa.slice(point + 1);
  let digits = (whole + fraction).replace(/^0+/, "");
  if (digits === "") return "0";
  const trimmed = digits.replace(/0+$/, "");
  // The exponent may be any length in JSON: BigInt keeps it exact.
  const exponent =
    (e < 0 ? 0n : BigInt(unsigned.slice(e + 1))) -
    BigInt(fraction.length) +
    BigInt(digits.length - trimmed.length);
  digits = trimmed;
  return `${negative ? "-" : ""}${digits}e${exponent}`;
}
