// A JSON text in one canonical spelling, for cache keys: object members sorted by name, no whitespace,
// strings with their escapes resolved, and numbers as exact decimals (1, 1.0, 10e-1 and 1E0 are one spelling;
// 12345678901234567891 is not rounded to its neighbour as JSON.parse would). Object member names that
// repeat make the text uncanonical: providers differ on which copy wins, so two such bodies could mean
// different requests.

export type CanonicalJson =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly reason: "not_json" | "too_deep" | "duplicate_member" };

/** A top-level object's members, canonical, by name; `undefined` when the text is not an object. */
export type CanonicalMembers =
  | { readonly ok: true; readonly members: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly reason: "not_json" | "not_object" | "too_deep" | "duplicate_member" };

class Uncanonical extends Error {
  constructor(readonly reason: "not_json" | "too_deep" | "duplicate_member") {
    super(reason);
  }
}

/** The canonical text of a JSON value. */
export function canonicalJson(text: string, maxDepth: number): CanonicalJson {
  try {
    const parser = new Parser(text, maxDepth);
    const value = parser.value(0);
    parser.end();
    return { ok: true, text: value };
  } catch (error) {
    if (error instanceof Uncanonical) return { ok: false, reason: error.reason };
    throw error;
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

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const SPACE = /[ \t\n\r]*/y;

class Parser {
  at = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  skipSpace(): void {
    SPACE.lastIndex = this.at;
    SPACE.test(this.text);
    this.at = SPACE.lastIndex;
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
    if (char === '"') return JSON.stringify(this.string());
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
    const members = [...this.members(depth)];
    // Sorted by UTF-16 code units, like any fixed order it only has to be the same every time.
    members.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${members.map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(",")}}`;
  }

  private array(depth: number): string {
    if (depth >= this.maxDepth) throw new Uncanonical("too_deep");
    this.at += 1;
    const items: string[] = [];
    this.skipSpace();
    if (this.text[this.at] === "]") {
      this.at += 1;
      return "[]";
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.skipSpace();
      if (this.text[this.at] === "]") {
        this.at += 1;
        return `[${items.join(",")}]`;
      }
      this.expect(",");
    }
  }

  /** A string's decoded value (JSON.parse checks and resolves its escapes). */
  private string(): string {
    const text = this.text;
    if (text[this.at] !== '"') throw new Uncanonical("not_json");
    let escaped = false;
    for (let i = this.at + 1; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        const literal = text.slice(this.at, i + 1);
        this.at = i + 1;
        if (!escaped) return literal.slice(1, -1);
        try {
          return JSON.parse(literal) as string;
        } catch {
          throw new Uncanonical("not_json");
        }
      }
      if (code < 0x20) throw new Uncanonical("not_json");
      if (code === 0x5c) {
        escaped = true;
        i += 1;
      }
    }
    throw new Uncanonical("not_json");
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
