import { describe, expect, it } from "vitest";
import { canonicalMembers, canonicalNumber } from "./canonical-json.js";

/** A JSON value's canonical text (as the member of an object), or why it has none. */
function canonicalJson(
  text: string,
  maxDepth: number,
): { ok: true; text: string } | { ok: false; reason: string } {
  const result = canonicalMembers(`{"v":${text}}`, maxDepth + 1);
  return result.ok ? { ok: true, text: result.members.get("v") as string } : result;
}

const canonical = (text: string): string => {
  const result = canonicalJson(text, 64);
  if (!result.ok) throw new Error(result.reason);
  return result.text;
};

describe("canonicalNumber", () => {
  it("spells equal values alike", () => {
    for (const spelling of ["1", "1.0", "1.000", "10e-1", "1E0", "0.1e1", "100E-2", "1e+0"])
      expect(canonicalNumber(spelling)).toBe("1e0");
    for (const spelling of ["0.7", "0.70", "7e-1", "70E-2", "0.07e1"])
      expect(canonicalNumber(spelling)).toBe("7e-1");
    for (const spelling of ["0", "-0", "0.0", "0e5", "-0.000e-3"])
      expect(canonicalNumber(spelling)).toBe("0");
    expect(canonicalNumber("-250")).toBe("-25e1");
  });

  it("keeps values apart that doubles would round together", () => {
    expect(canonicalNumber("12345678901234567891")).not.toBe(canonicalNumber("12345678901234567892"));
    expect(canonicalNumber("1e400")).not.toBe(canonicalNumber("1e401"));
    expect(canonicalNumber("0.1000000000000000000001")).not.toBe(canonicalNumber("0.1"));
  });
});

describe("a canonical value", () => {
  it("sorts members, drops whitespace and resolves escapes", () => {
    expect(canonical(' { "b" : [ 1.0 , "x" ] ,\n\t"a":{"d":null,"c":true} } ')).toBe(
      '{"a":{"c":true,"d":null},"b":[1e0,"x"]}',
    );
    expect(canonical('"\\u0041\\/\\n"')).toBe(canonical('"A/\\n"'));
  });

  it("keeps array order", () => {
    expect(canonical("[1,2]")).not.toBe(canonical("[2,1]"));
  });

  it("refuses text that is not one JSON value", () => {
    for (const text of [
      "",
      "{",
      '{"a":1,}',
      "[1 2]",
      "01",
      "1.",
      "+1",
      '"a\nb"',
      '"\\x"',
      "nul",
      "{} {}",
      "'a'",
    ])
      expect(canonicalJson(text, 64), text).toEqual({ ok: false, reason: "not_json" });
  });

  it("refuses repeated member names, which providers resolve differently", () => {
    expect(canonicalJson('{"a":1,"a":1}', 64)).toEqual({ ok: false, reason: "duplicate_member" });
    expect(canonicalJson('[{"x":{"a":1,"\\u0061":2}}]', 64)).toEqual({
      ok: false,
      reason: "duplicate_member",
    });
  });

  it("refuses nesting deeper than the limit without exhausting the stack", () => {
    expect(canonicalJson(`${"[".repeat(3)}${"]".repeat(3)}`, 3)).toEqual({ ok: true, text: "[[[]]]" });
    expect(canonicalJson(`${"[".repeat(4)}${"]".repeat(4)}`, 3)).toEqual({ ok: false, reason: "too_deep" });
    const deep = `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`;
    expect(canonicalJson(deep, 64)).toEqual({ ok: false, reason: "too_deep" });
  });

  it("reads long strings", () => {
    const long = "x".repeat(2_000_000);
    expect(canonical(`["${long}\\u0021"]`)).toBe(`["${long}!"]`);
  });
});

describe("canonicalMembers", () => {
  it("gives a top-level object's members by decoded name", () => {
    const result = canonicalMembers('{"\\u006dodel":"m","n":2.0}', 64);
    expect(result.ok && [...result.members]).toEqual([
      ["model", '"m"'],
      ["n", "2e0"],
    ]);
  });

  it("refuses JSON that is not an object", () => {
    expect(canonicalMembers("[1]", 64)).toEqual({ ok: false, reason: "not_object" });
    expect(canonicalMembers('{"a":1} x', 64)).toEqual({ ok: false, reason: "not_json" });
  });
});
