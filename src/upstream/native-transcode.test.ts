import { describe, expect, it } from "vitest";
import { openAIFormat } from "../formats/openai/format.js";
import { nativeStatus } from "../native/index.js";
import { emptyUsage } from "../observability/usage.js";
import { anthropicAdapter } from "../providers/anthropic/adapter.js";
import { chatResponse } from "../providers/anthropic/response.js";
import { openAICompatibleAdapter } from "../providers/openai/adapter.js";
import {
  type AnthropicToOpenAI,
  anthropicToOpenAIAddon,
  anthropicToOpenAIAddonBytes,
  anthropicToOpenAINative,
  anthropicToOpenAITs,
  nativeChatReply,
} from "./native-transcode.js";

const CREATED = 1_763_000_000;
const MODEL = "claude-sonnet-4-5";

const message = (content: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content,
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5 },
    ...extra,
  });

/** Realistic replies (the shapes of the Anthropic converter's own vectors); the addon must take them all. */
const VECTORS: [string, string][] = [
  ["text", message([{ type: "text", text: "Hello from the Anthropic mock." }])],
  [
    "thinking, redacted thinking, text and a tool call, with cache usage",
    message(
      [
        { type: "thinking", thinking: "hmm", signature: "sig" },
        { type: "redacted_thinking", data: "opaque" },
        { type: "text", text: "Calling." },
        { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
      ],
      {
        stop_reason: "tool_use",
        usage: {
          input_tokens: 10,
          output_tokens: 5,
          cache_read_input_tokens: 100,
          cache_creation_input_tokens: 20,
        },
      },
    ),
  ],
  [
    "parallel tool calls with nested inputs and numbers",
    message(
      [
        {
          type: "tool_use",
          id: "toolu_1",
          name: "a",
          input: { n: [1, -2, 0.5, 1e-7, 1.5e300, true, null], s: "x" },
        },
        { type: "tool_use", id: "toolu_2", name: "b", input: {} },
      ],
      { stop_reason: "tool_use" },
    ),
  ],
  [
    "forced JSON tool becomes text",
    message([{ type: "tool_use", id: "t", name: "json_output", input: { a: 1, b: "ü\n" } }], {
      stop_reason: "tool_use",
    }),
  ],
  [
    "escapes and non-BMP text",
    message([{ type: "text", text: 'q " b \\ \u0000\u001f\u007f é 中 😀 \u2028' }]),
  ],
  ...[
    "end_turn",
    "stop_sequence",
    "pause_turn",
    "max_tokens",
    "refusal",
    "model_context_window_exceeded",
  ].map((r): [string, string] => [
    `stop_reason ${r}`,
    message([{ type: "text", text: "x" }], { stop_reason: r }),
  ]),
  ["no content", message([], { stop_reason: null })],
  [
    "thinking token details and null cache counts",
    message([{ type: "text", text: "x" }], {
      usage: {
        input_tokens: 3,
        output_tokens: 9,
        cache_read_input_tokens: null,
        cache_creation_input_tokens: null,
        output_tokens_details: { thinking_tokens: 4 },
      },
    }),
  ],
  [
    "server tool blocks are skipped",
    message([
      { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "q" } },
      { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [] },
      { type: "text", text: "Found it." },
    ]),
  ],
  [
    "whitespace, escapes and number spellings in the body",
    '{ "id" : "msg_\\u0031", "type":"message", "content" : [ {"type":"tool_use","id":"t","name":"f","input":{ "x" : 1.0 , "y": 1E2, "z":-0, "s":"\\u00e9\\/\\ud83d\\ude00" } } ],\n"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2} }',
  ],
];

const paths: [string, AnthropicToOpenAI][] = [["typescript", anthropicToOpenAITs]];
if (anthropicToOpenAINative !== undefined) paths.push(["native", anthropicToOpenAINative]);

/** What the gateway's adapter and format write for the body, independently of this module. */
function reference(body: string): string {
  const response = chatResponse(Buffer.from(body));
  response.created = CREATED;
  return openAIFormat.fromCanonical(response, MODEL);
}

describe.each(paths)("Anthropic reply → OpenAI text (%s)", (_name, convert) => {
  it.each(VECTORS)("%s", (_n, body) => {
    const usage = new Float64Array(2);
    const out = convert(Buffer.from(body), MODEL, CREATED, usage);
    expect(out).toBe(reference(body));
    const parsed = JSON.parse(out);
    expect([usage[0], usage[1]]).toEqual([parsed.usage.prompt_tokens, parsed.usage.completion_tokens]);
  });

  it("writes the documented shape for a tool call reply", () => {
    const body = VECTORS[1]?.[1] as string;
    expect(convert(Buffer.from(body), "my-model\ud800", CREATED, new Float64Array(2))).toBe(
      '{"id":"msg_1","object":"chat.completion","created":1763000000,"model":"my-model\\ud800","choices":[{"index":0,' +
        '"message":{"role":"assistant","content":"Calling.","tool_calls":[{"id":"toolu_1","type":"function",' +
        '"function":{"name":"weather","arguments":"{\\"city\\":\\"Paris\\"}"}}],"reasoning_content":"hmm",' +
        '"thinking_blocks":[{"type":"thinking","thinking":"hmm","signature":"sig"},' +
        '{"type":"redacted_thinking","data":"opaque"}]},"finish_reason":"tool_calls"}],' +
        '"usage":{"prompt_tokens":130,"completion_tokens":5,"total_tokens":135,' +
        '"prompt_tokens_details":{"cached_tokens":100},"cache_creation_input_tokens":20}}',
    );
  });

  it("throws what the TypeScript converter throws for a body that is not a message", () => {
    expect(() => convert(Buffer.from('{"foo":1}'), MODEL, CREATED, new Float64Array(2))).toThrow(
      /not an Anthropic message/,
    );
    expect(() => convert(Buffer.from("not json"), MODEL, CREATED, new Float64Array(2))).toThrow(SyntaxError);
  });
});

// ---- random replies, written as raw JSON text so spellings, duplicates and bad types occur ----

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

type R = () => number;
const pick = <T>(r: R, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const ws = (r: R) => (r() < 0.8 ? "" : pick(r, [" ", "\n", "\t ", "\r\n  "]));

const STRING_PIECES = [
  "a",
  "Hello",
  " ",
  '\\"',
  "\\\\",
  "\\/",
  "\\n",
  "\\t",
  "\\u0000",
  "\\u001f",
  "\\u00e9",
  "\\u2028",
  "\\ud83d\\ude00",
  "é",
  "中",
  "😀",
  "\u007f",
  "\\b\\f\\r",
];
const RARE_PIECES = ["\\ud800", "\\udc00x"];

function rawString(r: R): string {
  let s = "";
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) s += r() < 0.02 ? pick(r, RARE_PIECES) : pick(r, STRING_PIECES);
  return `"${s}"`;
}

const NUMBERS = [
  "0",
  "-0",
  "7",
  "-12",
  "123456789012345",
  "1234567890123456",
  "9007199254740993",
  "1.0",
  "0.10",
  "-0.0",
  "1.5",
  "3.14159",
  "1e2",
  "1E-7",
  "2.5e-6",
  "1e21",
  "1e400",
  "-1e-400",
  "5e-324",
  "1.7976931348623157e308",
  "0.1e1",
  "100000000000000000000",
];
const KEYS = [
  '"a"',
  '"b"',
  '"city"',
  '"0"',
  '"10"',
  '"01"',
  '"4294967295"',
  '"__proto__"',
  '"\\u0061"',
  '"é"',
];

function rawValue(r: R, depth: number): string {
  const k = r();
  if (depth > 3 || k < 0.3) return pick(r, [...NUMBERS, "true", "false", "null"]);
  if (k < 0.55) return rawString(r);
  if (k < 0.75) {
    const n = Math.floor(r() * 4);
    const items: string[] = [];
    for (let i = 0; i < n; i++) items.push(ws(r) + rawValue(r, depth + 1) + ws(r));
    return `[${items.join(",")}]`;
  }
  const n = Math.floor(r() * 4);
  const members: string[] = [];
  for (let i = 0; i < n; i++) {
    members.push(
      `${ws(r)}${r() < 0.85 ? `"k${Math.floor(r() * 50)}"` : pick(r, KEYS)}${ws(r)}:${ws(r)}${rawValue(r, depth + 1)}`,
    );
  }
  return `{${members.join(",")}}`;
}

const maybe = (r: R, p: number, good: () => string, bad: () => string) => (r() < p ? good() : bad());
const weird = (r: R) => pick(r, ["1", "null", "true", "[]", "{}", '"x"']);

function rawBlock(r: R): string {
  const kind = pick(r, ["text", "text", "thinking", "redacted_thinking", "tool_use", "json", "other", "bad"]);
  const s = () => rawString(r);
  switch (kind) {
    case "text":
      return `{"type":"text","text":${maybe(r, 0.95, s, () => weird(r))}}`;
    case "thinking":
      return `{"type":"thinking","thinking":${maybe(r, 0.95, s, () => weird(r))},"signature":${maybe(r, 0.95, s, () => weird(r))}}`;
    case "redacted_thinking":
      return `{"type":"redacted_thinking","data":${maybe(r, 0.95, s, () => weird(r))}}`;
    case "tool_use":
    case "json": {
      const name = kind === "json" ? '"json_output"' : rawString(r);
      const input = r() < 0.95 ? `,"input":${rawValue(r, 0)}` : "";
      return `{"type":"tool_use","id":${maybe(r, 0.95, s, () => weird(r))},"name":${name}${input}}`;
    }
    case "other":
      return `{"type":${maybe(
        r,
        0.7,
        () => '"web_search_tool_result"',
        () => weird(r),
      )},"content":${rawValue(r, 1)}}`;
    default:
      return pick(r, ["null", "1", '"text"', "[]", '{"text":"no type"}']);
  }
}

function rawUsage(r: R): string {
  const count = () =>
    pick(r, ["0", "1", "17", "4096", "123456", "1.5", "-1", "null", '"3"', "9007199254740993"]);
  const good = () => String(Math.floor(r() * 5000));
  const parts = [
    `"input_tokens":${maybe(r, 0.95, good, count)}`,
    `"output_tokens":${maybe(r, 0.95, good, count)}`,
  ];
  if (r() < 0.5) parts.push(`"cache_read_input_tokens":${maybe(r, 0.8, good, count)}`);
  if (r() < 0.5) parts.push(`"cache_creation_input_tokens":${maybe(r, 0.8, good, count)}`);
  if (r() < 0.3) {
    parts.push(
      `"output_tokens_details":${pick(r, ["null", "{}", `{"thinking_tokens":${count()}}`, `{"thinking_tokens":${good()}}`, '"x"'])}`,
    );
  }
  if (r() < 0.05) parts.push(parts[0] as string);
  return `{${parts.join(",")}}`;
}

function rawMessage(r: R): string {
  const blocks: string[] = [];
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) blocks.push(rawBlock(r));
  const members = [
    `"id":${maybe(
      r,
      0.97,
      () => rawString(r),
      () => weird(r),
    )}`,
    `"type":${maybe(
      r,
      0.97,
      () => '"message"',
      () => pick(r, ['"error"', "null", "1"]),
    )}`,
    '"role":"assistant"',
    `"model":${rawString(r)}`,
    `"content":${maybe(
      r,
      0.97,
      () => `[${blocks.join(",")}]`,
      () => weird(r),
    )}`,
    `"stop_reason":${pick(r, ['"end_turn"', '"tool_use"', '"max_tokens"', '"refusal"', '"other"', "null", "1"])}`,
    `"usage":${maybe(
      r,
      0.97,
      () => rawUsage(r),
      () => weird(r),
    )}`,
  ];
  if (r() < 0.1) members.splice(Math.floor(r() * members.length), 1);
  if (r() < 0.03) members.push(members[0] as string);
  return `${ws(r)}{${members.map((m) => ws(r) + m).join(",")}}${ws(r)}`;
}

describe("Anthropic reply → OpenAI text: addon against TypeScript", () => {
  it("is loaded with the transcoder whenever the addon is", () => {
    expect(anthropicToOpenAIAddon !== undefined).toBe(nativeStatus.loaded);
  });

  it("takes every realistic vector without declining", () => {
    if (anthropicToOpenAIAddon === undefined) {
      expect(nativeStatus.loaded).toBe(false);
      return;
    }
    for (const [name, body] of VECTORS) {
      expect(
        anthropicToOpenAIAddon(Buffer.from(body), JSON.stringify(MODEL), CREATED, new Float64Array(2)),
        name,
      ).toBe(reference(body));
    }
  });

  it("answers byte for byte like TypeScript, or declines, on random replies", () => {
    if (anthropicToOpenAIAddon === undefined) {
      expect(nativeStatus.loaded).toBe(false);
      return;
    }
    const r = rng(0x5eed);
    const N = 3000;
    let taken = 0;
    let invalid = 0;
    for (let i = 0; i < N; i++) {
      const text = rawMessage(r);
      // Some random replies are cut short or carry a stray byte, as broken upstreams send.
      let body = Buffer.from(text);
      if (r() < 0.05) body = body.subarray(0, Math.floor(r() * body.length));
      else if (r() < 0.03) body = Buffer.concat([body, Buffer.from([0xff])]);
      const model = pick(r, [MODEL, "", 'q"uote', "lone\ud800"]);
      let expected: string | Error;
      const tsUsage = new Float64Array(2);
      try {
        expected = anthropicToOpenAITs(body, model, CREATED, tsUsage);
      } catch (e) {
        expected = e as Error;
        invalid++;
      }
      const usage = new Float64Array(2);
      const got = anthropicToOpenAIAddon(body, JSON.stringify(model), CREATED, usage);
      // The bytes variant runs the same converter: the same answer, as UTF-8.
      const bytes = anthropicToOpenAIAddonBytes?.(body, JSON.stringify(model), CREATED, new Float64Array(2));
      expect(bytes?.toString("utf8") ?? null).toBe(got);
      if (got === null) continue;
      taken++;
      expect(got, body.toString("latin1")).toBe(expected);
      expect(usage).toEqual(tsUsage);
    }
    // Guards against a generator that yields only broken replies, and an addon that declines everything
    // (the generator is harsh: about a third of its replies have nothing the addon declines).
    expect(invalid).toBeGreaterThan(N / 50);
    expect(taken).toBeGreaterThan(N / 4);
  });

  it("declines what it cannot write exactly instead of guessing", () => {
    if (anthropicToOpenAIAddon === undefined) {
      expect(nativeStatus.loaded).toBe(false);
      return;
    }
    const declined = [
      // JavaScript moves array-index keys first and keeps a repeated key at its first place.
      message([{ type: "tool_use", id: "t", name: "f", input: { b: 1, "0": 2 } }]),
      '{"id":"m","type":"message","content":[{"type":"tool_use","id":"t","name":"f","input":{"a":1,"b":2,"a":3}}],"stop_reason":null,"usage":{"input_tokens":1,"output_tokens":1}}',
      // Lone surrogates, invalid UTF-8, fractional counts.
      message([{ type: "text", text: "\ud800" }]),
      `{"id":"m","type":"message","content":[{"type":"text","text":"\xff"}],"usage":{"input_tokens":1,"output_tokens":1}}`,
      message([], { usage: { input_tokens: 1.5, output_tokens: 1 } }),
    ];
    for (const body of declined) {
      const buffer = body.startsWith('{"id":"m","type":"message","content":[{"type":"text"')
        ? Buffer.from(body, "latin1")
        : Buffer.from(body);
      expect(
        anthropicToOpenAIAddon(buffer, JSON.stringify(MODEL), CREATED, new Float64Array(2)),
        body,
      ).toBeNull();
      // The combined path still answers, through TypeScript.
      const viaNative = anthropicToOpenAINative as AnthropicToOpenAI;
      expect(viaNative(buffer, MODEL, CREATED, new Float64Array(2))).toBe(
        anthropicToOpenAITs(buffer, MODEL, CREATED, new Float64Array(2)),
      );
    }
  });
});

describe("nativeChatReply (the gateway's hook)", () => {
  const body = Buffer.from(VECTORS[1]?.[1] as string);

  it("answers an Anthropic reply for an OpenAI client from the addon, usage included", () => {
    const usage = emptyUsage();
    const bytes = nativeChatReply(anthropicAdapter, openAIFormat, body, MODEL, usage);
    if (anthropicToOpenAIAddonBytes === undefined) {
      expect(bytes).toBeUndefined();
      expect(usage).toEqual(emptyUsage());
      return;
    }
    const text = (bytes as Buffer).toString("utf8");
    const created = JSON.parse(text).created as number;
    expect(Math.abs(created - Date.now() / 1000)).toBeLessThan(5);
    const expected = chatResponse(body);
    expected.created = created;
    expect(text).toBe(openAIFormat.fromCanonical(expected, MODEL));
    expect(usage).toEqual({ prompt: 130, completion: 5, cachedRead: 100, cacheWrite: 20, reasoning: 0 });
  });

  it("leaves other pairs and declined replies to the TypeScript path", () => {
    const usage = emptyUsage();
    expect(nativeChatReply(openAICompatibleAdapter, openAIFormat, body, MODEL, usage)).toBeUndefined();
    const notOpenAI = { ...openAIFormat, name: "other" };
    expect(nativeChatReply(anthropicAdapter, notOpenAI, body, MODEL, usage)).toBeUndefined();
    const declined = Buffer.from(message([{ type: "text", text: "\ud800" }]));
    expect(nativeChatReply(anthropicAdapter, openAIFormat, declined, MODEL, usage)).toBeUndefined();
    expect(usage).toEqual(emptyUsage());
  });
});
