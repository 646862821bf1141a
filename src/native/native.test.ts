import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  countTokens,
  type Encoding,
  fallback,
  type Implementation,
  MAX_DEPTH,
  native,
  nativeStatus,
  rewriteModel,
  type ScanResult,
  scanRequest,
  scanRequestBest,
} from "./index.js";
import { tiktokenPattern } from "./tokens.js";

type ScanCase = { name: string; body?: string; bodyBase64?: string; expect: ScanResult };
type TokenCase = { name: string; text: string; o200k_base: number; cl100k_base: number };

const readVectors = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../../test/vectors/${name}`, import.meta.url), "utf8")) as T;

const scanCases = readVectors<{ maxDepth: number; cases: ScanCase[] }>("scan.json").cases;
const tokenCases = readVectors<{ cases: TokenCase[] }>("tokens.json").cases;

const bodyOf = (c: ScanCase): Buffer =>
  c.body !== undefined ? Buffer.from(c.body, "utf8") : Buffer.from(c.bodyBase64 ?? "", "base64");

const impls: [string, Implementation][] = [["fallback", fallback]];
if (native !== undefined) impls.push(["native", native]);

function depthOf(v: unknown): number {
  if (typeof v !== "object" || v === null) return 0;
  let d = 0;
  for (const x of Object.values(v)) d = Math.max(d, depthOf(x));
  return d + 1;
}

// What JSON.parse says about a body, for the properties the scanner reports.
function oracle(body: Buffer): {
  ok: boolean;
  model?: unknown;
  hasModel?: boolean;
  stream?: unknown;
  gatewayFields?: boolean;
  metadata?: unknown;
} {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body));
  } catch {
    return { ok: false };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false };
  if (depthOf(value) > MAX_DEPTH) return { ok: false };
  const o = value as Record<string, unknown>;
  return {
    ok: true,
    hasModel: Object.hasOwn(o, "model"),
    model: o.model,
    stream: o.stream,
    gatewayFields: Object.hasOwn(o, "fallbacks") || Object.hasOwn(o, "timeout") || Object.hasOwn(o, "cache"),
    metadata: o.metadata,
  };
}

function checkAgainstOracle(body: Buffer, r: ScanResult): void {
  const o = oracle(body);
  expect(r.ok, body.toString("latin1")).toBe(o.ok);
  if (!r.ok || !o.ok) return;
  if (typeof o.model === "string") {
    expect(r.modelType).toBe("string");
    expect(r.model).toBe(o.model);
    expect(JSON.parse(body.toString("utf8", r.modelStart, r.modelEnd))).toBe(o.model);
  } else {
    expect(r.modelType).toBe(o.hasModel ? "other" : "missing");
    expect(r.model).toBeUndefined();
    expect([r.modelStart, r.modelEnd]).toEqual([-1, -1]);
  }
  expect(r.stream).toBe(typeof o.stream === "boolean" ? o.stream : undefined);
  expect(r.gatewayFields).toBe(o.gatewayFields);
  if (typeof o.metadata === "object" && o.metadata !== null && !Array.isArray(o.metadata))
    expect(JSON.parse(body.toString("utf8", r.metadataStart, r.metadataEnd))).toEqual(o.metadata);
  else expect([r.metadataStart, r.metadataEnd]).toEqual([-1, -1]);
}

describe("native addon", () => {
  it("reports why it is or is not loaded", () => {
    expect(nativeStatus.detail.length).toBeGreaterThan(0);
    if (process.env.SWITCHYARD_NATIVE === "0") {
      expect(nativeStatus).toEqual({ loaded: false, detail: "SWITCHYARD_NATIVE=0" });
    } else if (nativeStatus.loaded) {
      expect(nativeStatus.detail).toMatch(/\.node$/);
    }
  });

  it("is loaded when CI expects it (SWITCHYARD_EXPECT_NATIVE=1)", () => {
    if (process.env.SWITCHYARD_EXPECT_NATIVE === "1")
      expect(nativeStatus.loaded, nativeStatus.detail).toBe(true);
    expect(native !== undefined).toBe(nativeStatus.loaded);
  });

  it("routes the public exports to the loaded implementation", () => {
    const impl = native ?? fallback;
    expect(scanRequest).toBe(impl.scanRequest);
    // The TypeScript rewrite measured faster than the addon at every size.
    expect(rewriteModel).toBe(fallback.rewriteModel);
    expect(countTokens).toBe(impl.countTokens);
  });
});

describe.each(impls)("scanRequest vectors (%s)", (_name, impl) => {
  it.each(scanCases.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const body = bodyOf(c);
    const r = impl.scanRequest(body);
    expect(r).toEqual(c.expect);
    checkAgainstOracle(body, r);
  });
});

describe.each(impls)("rewriteModel (%s)", (_name, impl) => {
  const cases = [
    "gpt-4o",
    "",
    'quote " backslash \\ slash /',
    "controls \b\f\n\r\t \u0000 \u001f \u007f",
    "unicode é 中 😀 \u2028",
    "lone \ud800 high and \udc00 low",
  ];
  it.each(cases)("writes %j exactly as JSON.stringify does", (newModel) => {
    const body = Buffer.from('{"a":[{"model":"inner"}],"model" : "old-model","stream":true}');
    const r = scanRequest(body);
    if (!r.ok) throw new Error(r.error);
    const out = impl.rewriteModel(body, r.modelStart, r.modelEnd, newModel);
    const expected = Buffer.concat([
      body.subarray(0, r.modelStart),
      Buffer.from(JSON.stringify(newModel)),
      body.subarray(r.modelEnd),
    ]);
    expect(out.equals(expected)).toBe(true);
    const again = impl.scanRequest(out);
    expect(again).toMatchObject({ ok: true, model: newModel, stream: true });
    // The input is never modified in place.
    expect(body.toString()).toContain('"old-model"');
  });

  it("rejects offsets that do not delimit a string token", () => {
    const body = Buffer.from('{"model":"x"}');
    expect(() => impl.rewriteModel(body, 8, 12, "y")).toThrow();
    expect(() => impl.rewriteModel(body, 9, 14, "y")).toThrow();
    expect(() => impl.rewriteModel(body, -1, 12, "y")).toThrow();
    expect(() => impl.rewriteModel(body, 9.5, 12, "y")).toThrow();
    expect(() => impl.rewriteModel(body, 9, 10, "y")).toThrow();
  });
});

describe.each(impls)("countTokens vectors (%s)", (_name, impl) => {
  it.each(tokenCases.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    expect(impl.countTokens(c.text, "o200k_base")).toBe(c.o200k_base);
    expect(impl.countTokens(c.text, "cl100k_base")).toBe(c.cl100k_base);
  });

  it("rejects an unknown encoding", () => {
    expect(() => impl.countTokens("x", "p50k_base" as Encoding)).toThrow(/Unknown encoding/);
  });
});

describe("tiktoken pattern", () => {
  it("uses Unicode White_Space and folds the long s like tiktoken's Rust regex", () => {
    const p = tiktokenPattern("'s|'S|'t|[^\\s\\p{L}]+|\\s+(?!\\S)");
    expect(p).toBe("'s|'S|'\u017f|'t|[^\\p{White_Space}\\p{L}]+|\\p{White_Space}+(?!\\P{White_Space})");
    expect(new RegExp(p, "u").test("\u0085")).toBe(true);
  });
});

// Deterministic PRNG so a failure reproduces from its seed.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRING_POOL = [
  "gpt-4o",
  "",
  'a"b',
  "\\",
  "é中😀",
  "\u2028",
  "\ud800",
  "line\nbreak",
  "model",
  "stream",
  "\u0000",
];
const KEY_POOL = [
  "model",
  "stream",
  "messages",
  "role",
  "content",
  "metadata",
  "mod\u00e9l",
  "",
  "a",
  "timeout",
  "fallbacks",
  "fallback",
];

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 4 ? 5 : 8));
  switch (k) {
    case 0:
      return STRING_POOL[Math.floor(r() * STRING_POOL.length)];
    case 1:
      return r() < 0.5 ? Math.floor(r() * 1e6) - 5e5 : (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
    case 2:
      return r() < 0.5;
    case 3:
      return null;
    case 4:
      return `s${Math.floor(r() * 1000)}`;
    case 5:
    case 6:
      return randomObject(r, depth + 1);
    default:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  }
}

function randomObject(r: () => number, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++)
    o[KEY_POOL[Math.floor(r() * KEY_POOL.length)] as string] = randomValue(r, depth);
  return o;
}

const WS = [" ", "\t", "\n", "\r", "  "];

// Adds random JSON whitespace between tokens (outside strings) and sometimes escapes a key.
function sprinkle(json: string, r: () => number): string {
  let out = "";
  let inStr = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i] as string;
    if (inStr) {
      out += c;
      if (c === "\\") out += json[++i];
      else if (c === '"') inStr = false;
      continue;
    }
    // Only beside structural characters: whitespace inside a number or literal would break it.
    if ('{}[],:"'.includes(c) && r() < 0.3) out += WS[Math.floor(r() * WS.length)];
    if (c === '"') {
      inStr = true;
      if (json.startsWith('"model"', i) && r() < 0.2) {
        out += '"mo\\u0064el"';
        i += 6;
        inStr = false;
        continue;
      }
    }
    out += c;
    if ("{}[],:".includes(c) && r() < 0.3) out += WS[Math.floor(r() * WS.length)];
  }
  return out;
}

function mutate(b: Buffer, r: () => number): Buffer {
  const m = Buffer.from(b);
  const kind = Math.floor(r() * 4);
  if (kind === 0 || m.length === 0) return m.subarray(0, Math.floor(r() * m.length));
  const at = Math.floor(r() * m.length);
  if (kind === 1) m[at] = Math.floor(r() * 256);
  else if (kind === 2) m[at] = (m[at] as number) ^ (1 << Math.floor(r() * 8));
  else {
    const specials = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x30, 0x2d, 0x65, 0x20];
    m[at] = specials[Math.floor(r() * specials.length)] as number;
  }
  return m;
}

describe("scanRequest property tests", () => {
  const N = 3000;

  it.each(impls)("agrees with JSON.parse on generated bodies (%s)", (_name, impl) => {
    const r = rng(0x5eed);
    let okCount = 0;
    for (let i = 0; i < N; i++) {
      const v = r() < 0.85 ? randomObject(r, 1) : randomValue(r, 1);
      if (r() < 0.5 && typeof v === "object" && v !== null && !Array.isArray(v)) {
        (v as Record<string, unknown>).model = randomValue(r, 3);
      }
      const body = Buffer.from(sprinkle(JSON.stringify(v), r));
      const res = impl.scanRequest(body);
      checkAgainstOracle(body, res);
      if (res.ok) okCount++;
      const mutated = mutate(body, r);
      checkAgainstOracle(mutated, impl.scanRequest(mutated));
    }
    // Guards against a generator that silently produces only failures.
    expect(okCount).toBeGreaterThan(N / 2);
  });

  it("gives the same result natively and in TypeScript, errors included", () => {
    if (native === undefined) {
      expect(nativeStatus.loaded).toBe(false);
      return;
    }
    const r = rng(0xc0ffee);
    for (let i = 0; i < N; i++) {
      const body = Buffer.from(sprinkle(JSON.stringify(randomObject(r, 1)), r));
      for (const b of [body, mutate(body, r), mutate(mutate(body, r), r)]) {
        expect(native.scanRequest(b), b.toString("latin1")).toEqual(fallback.scanRequest(b));
      }
    }
  });

  it("gives the same token counts natively and in TypeScript on random text", () => {
    if (native === undefined) {
      expect(nativeStatus.loaded).toBe(false);
      return;
    }
    const r = rng(7);
    const alphabet = [
      "a",
      "Z",
      " ",
      "\n",
      "\r",
      "\t",
      "\u0085",
      "\ufeff",
      "'",
      "s",
      "\u017f",
      "1",
      "!",
      "é",
      "中",
      "😀",
      "\u0301",
    ];
    for (let i = 0; i < 400; i++) {
      let t = "";
      const len = 1 + Math.floor(r() * 24);
      for (let k = 0; k < len; k++) t += alphabet[Math.floor(r() * alphabet.length)];
      for (const enc of ["o200k_base", "cl100k_base"] as const) {
        expect(native.countTokens(t, enc), JSON.stringify(t)).toBe(fallback.countTokens(t, enc));
      }
    }
  });
});

describe("scanRequestBest", () => {
  it("returns what scanRequest returns for small and large bodies", () => {
    const small = Buffer.from('{"model":"m","stream":true}');
    const large = Buffer.from(JSON.stringify({ model: "big", messages: [{ content: "x".repeat(200_000) }] }));
    expect(scanRequestBest(small)).toEqual(scanRequest(small));
    expect(scanRequestBest(large)).toEqual(scanRequest(large));
  });
});
