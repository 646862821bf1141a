import { describe, expect, it } from "vitest";
import { seededRandom } from "../../test/helpers/prng.js";
import { type CacheKeyRequest, type CacheOperation, cacheKey, cacheNamespace } from "./key.js";

type Json = null | boolean | number | string | Json[] | { [name: string]: Json };

const base = { namespace: cacheNamespace({ virtualKeyId: "vk_1" }), model: "gpt-4o", stream: false };

function keyOf(
  format: string,
  operation: CacheOperation,
  body: Json | string,
  request: Partial<CacheKeyRequest> = {},
) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const result = cacheKey({ ...base, format, operation, stream: false, body: Buffer.from(text), ...request });
  if (!result.cacheable) throw new Error(`not cacheable: ${result.reason}`);
  return result.key;
}

/** One request of each keyed format and operation, with its answer-changing parameters. */
const FORMATS: ReadonlyArray<{
  name: string;
  format: string;
  operation: CacheOperation;
  body: { [name: string]: Json };
  /** Path to a parameter (a nested one as a.b) and a value other than the body's (or absent in it). */
  changes: ReadonlyArray<readonly [string, Json]>;
}> = [
  {
    name: "OpenAI chat",
    format: "openai",
    operation: "chat",
    body: {
      model: "gpt-4o",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
      temperature: 0.2,
    },
    changes: [
      ["messages", [{ role: "user", content: "Hello" }]],
      ["temperature", 0.3],
      ["top_p", 0.9],
      ["max_tokens", 100],
      ["max_completion_tokens", 100],
      ["stop", ["\n"]],
      ["seed", 7],
      ["n", 2],
      ["presence_penalty", 0.5],
      ["frequency_penalty", 0.5],
      ["logit_bias", { "50256": -100 }],
      ["response_format", { type: "json_object" }],
      ["reasoning_effort", "high"],
      ["tools", [{ type: "function", function: { name: "f", parameters: { type: "object" } } }]],
      ["tool_choice", "required"],
      ["parallel_tool_calls", false],
      ["logprobs", true],
      ["top_logprobs", 3],
      ["modalities", ["text"]],
      ["a_field_the_gateway_does_not_know", 1],
    ],
  },
  {
    name: "OpenAI completions",
    format: "openai",
    operation: "completions",
    body: { model: "gpt-3.5-turbo-instruct", prompt: "Say hi", max_tokens: 16 },
    changes: [
      ["prompt", "Say hello"],
      ["max_tokens", 17],
      ["temperature", 1],
      ["top_p", 0.5],
      ["stop", "."],
      ["seed", 1],
      ["n", 3],
      ["best_of", 3],
      ["echo", true],
      ["suffix", "!"],
      ["logprobs", 2],
      ["presence_penalty", -1],
      ["frequency_penalty", 1],
      ["logit_bias", { "1": 5 }],
    ],
  },
  {
    name: "OpenAI embeddings",
    format: "openai",
    operation: "embeddings",
    body: { model: "text-embedding-3-small", input: ["a", "b"] },
    changes: [
      ["input", ["b", "a"]],
      ["dimensions", 256],
      ["encoding_format", "base64"],
    ],
  },
  {
    name: "OpenAI Responses",
    format: "responses",
    operation: "chat",
    body: { model: "gpt-4o", input: "Hi", instructions: "Be brief." },
    changes: [
      ["input", [{ role: "user", content: "Hi" }]],
      ["instructions", "Be long."],
      ["max_output_tokens", 50],
      ["temperature", 0.1],
      ["top_p", 0.1],
      ["text.format", { type: "json_object" }],
      ["reasoning.effort", "low"],
      ["tools", [{ type: "web_search" }]],
      ["tool_choice", "none"],
      ["previous_response_id", "resp_1"],
      ["truncation", "auto"],
    ],
  },
  {
    name: "Anthropic messages",
    format: "anthropic",
    operation: "chat",
    body: {
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    },
    changes: [
      ["messages", [{ role: "user", content: "Hi" }]],
      ["system", "Be brief."],
      ["max_tokens", 1023],
      ["temperature", 0.5],
      ["top_p", 0.5],
      ["top_k", 40],
      ["stop_sequences", ["END"]],
      ["tools", [{ name: "f", input_schema: { type: "object" } }]],
      ["tool_choice", { type: "any" }],
      ["thinking", { type: "enabled", budget_tokens: 1024 }],
    ],
  },
  {
    name: "Gemini generateContent",
    format: "gemini",
    operation: "chat",
    body: { contents: [{ role: "user", parts: [{ text: "Hi" }] }], generationConfig: { temperature: 1 } },
    changes: [
      ["contents", [{ role: "user", parts: [{ text: "Hello" }] }]],
      ["systemInstruction", { parts: [{ text: "Be brief." }] }],
      ["generationConfig.temperature", 0.5],
      ["generationConfig.topP", 0.5],
      ["generationConfig.topK", 20],
      ["generationConfig.maxOutputTokens", 64],
      ["generationConfig.stopSequences", ["END"]],
      ["generationConfig.seed", 3],
      ["generationConfig.candidateCount", 2],
      ["generationConfig.presencePenalty", 0.5],
      ["generationConfig.frequencyPenalty", 0.5],
      ["generationConfig.responseMimeType", "application/json"],
      ["generationConfig.responseSchema", { type: "OBJECT" }],
      ["generationConfig.thinkingConfig", { thinkingBudget: 0 }],
      ["tools", [{ functionDeclarations: [{ name: "f" }] }]],
      ["toolConfig", { functionCallingConfig: { mode: "ANY" } }],
      ["safetySettings", [{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" }]],
    ],
  },
];

function withValue(body: { [name: string]: Json }, path: string, value: Json): { [name: string]: Json } {
  const copy = structuredClone(body);
  const names = path.split(".");
  let at: { [name: string]: Json } = copy;
  for (const name of names.slice(0, -1)) {
    const next = at[name];
    at[name] = typeof next === "object" && next !== null && !Array.isArray(next) ? next : {};
    at = at[name] as { [name: string]: Json };
  }
  at[names.at(-1) as string] = value;
  return copy;
}

/** The same JSON value written another way: members shuffled, whitespace sprinkled, numbers respelled. */
function respell(value: Json, rng: ReturnType<typeof seededRandom>): string {
  const space = () => rng.pick(["", " ", "\n", "\t  ", "\r\n "]);
  if (typeof value === "number") {
    if (Number.isInteger(value))
      return rng.pick([`${value}`, `${value}.0`, `${value}e0`, `${value * 10}E-1`]);
    return rng.pick([`${value}`, `${value}0`, `${value * 10}e-1`]);
  }
  if (typeof value === "string")
    // \u0041 and A are one string.
    return rng.random() < 0.5 ? JSON.stringify(value) : JSON.stringify(value).replaceAll("a", "\\u0061");
  if (Array.isArray(value))
    return `[${space()}${value.map((item) => respell(item, rng)).join(`${space()},${space()}`)}${space()}]`;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const members = Object.entries(value);
  for (let i = members.length - 1; i > 0; i--) {
    const j = Math.floor(rng.random() * (i + 1));
    [members[i], members[j]] = [members[j] as [string, Json], members[i] as [string, Json]];
  }
  const written = members.map(
    ([name, item]) => `${space()}${JSON.stringify(name)}${space()}:${space()}${respell(item, rng)}`,
  );
  return `{${written.join(",")}${space()}}`;
}

/** A random body of nested objects, arrays, strings and numbers (exact in decimal and binary). */
function randomBody(rng: ReturnType<typeof seededRandom>, depth = 0): { [name: string]: Json } {
  const body: { [name: string]: Json } = {};
  const count = 1 + Math.floor(rng.random() * 6);
  for (let i = 0; i < count; i++) {
    const name =
      rng.pick(["messages", "temperature", "tools", "a", "b", "content", "role", "x_y", "zeta"]) + i;
    const kind =
      depth > 3
        ? rng.pick(["number", "string"])
        : rng.pick(["number", "string", "object", "array", "literal"]);
    body[name] =
      kind === "number"
        ? rng.pick([0, 1, 7, 0.5, 0.25, -3, 1024, 0.125])
        : kind === "string"
          ? rng.pick(["Hi", "a banana", "", "naïve ☃", "line\nbreak"])
          : kind === "object"
            ? randomBody(rng, depth + 1)
            : kind === "array"
              ? [randomBody(rng, depth + 1), rng.pick([1, "a", null])]
              : rng.pick([true, false, null]);
  }
  return body;
}

describe("cacheKey", () => {
  it("is a SHA-256 in hex", () => {
    expect(keyOf("openai", "chat", { messages: [] })).toMatch(/^[0-9a-f]{64}$/);
  });

  it("is the same across member order, whitespace, number spellings and string escapes (seeded)", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rng = seededRandom(seed);
      const body = randomBody(rng);
      const expected = keyOf("openai", "chat", body);
      for (let variant = 0; variant < 3; variant++)
        expect(keyOf("openai", "chat", respell(body, rng)), `seed ${seed}`).toBe(expected);
    }
  });

  for (const { name, format, operation, body, changes } of FORMATS) {
    describe(name, () => {
      const original = keyOf(format, operation, body);
      for (const [path, value] of changes) {
        it(`differs when ${path} changes`, () => {
          expect(keyOf(format, operation, withValue(body, path, value))).not.toBe(original);
        });
      }
    });
  }

  it("differs when one of a message's parts changes, however deep", () => {
    const body = { messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }] };
    const changed = { messages: [{ role: "user", content: [{ type: "text", text: "Hi " }] }] };
    expect(keyOf("openai", "chat", changed)).not.toBe(keyOf("openai", "chat", body));
  });

  it("differs by model, format and operation", () => {
    const body = { input: "Hi" };
    const key = keyOf("openai", "embeddings", body);
    expect(keyOf("openai", "embeddings", body, { model: "gpt-4o-mini" })).not.toBe(key);
    expect(keyOf("responses", "embeddings", body)).not.toBe(key);
    expect(keyOf("openai", "chat", body)).not.toBe(key);
  });

  it("keys the resolved model, not the alias the body names", () => {
    const key = keyOf("openai", "chat", { model: "fast", messages: [] }, { model: "gpt-4o-mini" });
    expect(keyOf("openai", "chat", { model: "quick", messages: [] }, { model: "gpt-4o-mini" })).toBe(key);
  });

  it("keys a stream apart from a whole answer, and each stream framing and stream_options apart", () => {
    const body = { messages: [{ role: "user", content: "Hi" }] };
    const whole = keyOf("openai", "chat", body);
    expect(keyOf("openai", "chat", { ...body, stream: false })).toBe(whole);
    const streamed = keyOf("openai", "chat", body, { stream: true });
    expect(streamed).not.toBe(whole);
    expect(keyOf("openai", "chat", { ...body, stream: true }, { stream: true })).toBe(streamed);
    expect(
      keyOf("openai", "chat", { ...body, stream_options: { include_usage: true } }, { stream: true }),
    ).not.toBe(streamed);
    expect(keyOf("openai", "chat", { ...body, stream_options: { include_usage: true } })).toBe(whole);
    const gemini = { contents: [{ parts: [{ text: "Hi" }] }] };
    expect(keyOf("gemini-array", "chat", gemini)).toBe(keyOf("gemini", "chat", gemini));
    expect(keyOf("gemini-array", "chat", gemini, { stream: true })).not.toBe(
      keyOf("gemini", "chat", gemini, { stream: true }),
    );
  });

  it("ignores the gateway's fields and who is asking", () => {
    const body = { messages: [{ role: "user", content: "Hi" }] };
    const key = keyOf("openai", "chat", body);
    const extras: Json = {
      user: "u1",
      metadata: { user_id: "u1" },
      cache: { "no-cache": false, ttl: 60 },
      fallbacks: ["openai/gpt-4o-mini"],
      timeout: 30,
    };
    expect(keyOf("openai", "chat", { ...body, ...(extras as object) })).toBe(key);
  });

  it("ignores those fields only at the top level", () => {
    const body = { messages: [{ role: "user", content: "Hi" }] };
    const nested = { messages: [{ role: "user", content: "Hi", metadata: { user: "u1" } }] };
    expect(keyOf("openai", "chat", nested)).not.toBe(keyOf("openai", "chat", body));
  });

  it("never gives two namespaces the same key", () => {
    const body = { messages: [{ role: "user", content: "Hi" }] };
    const namespaces = [
      cacheNamespace({}),
      cacheNamespace({ virtualKeyId: "vk_1" }),
      cacheNamespace({ virtualKeyId: "vk_2" }),
      cacheNamespace({ configured: "vk_1" }),
      cacheNamespace({ configured: "team-a" }),
      cacheNamespace({ virtualKeyId: "vk_1", requested: "x" }),
      cacheNamespace({ virtualKeyId: "vk_2", requested: "x" }),
      cacheNamespace({ configured: "team-a", requested: "x" }),
      // A namespace that spells out another's scope must not reach it.
      '["gpt-4o"',
      "key:vk_1\nopenai",
    ];
    expect(new Set(namespaces).size).toBe(namespaces.length);
    const keys = namespaces.map((namespace) => keyOf("openai", "chat", body, { namespace }));
    expect(new Set(keys).size).toBe(namespaces.length);
  });

  it("scopes by the configured namespace over the virtual key, and nests a client's namespace in its own", () => {
    expect(cacheNamespace({ configured: "team-a", virtualKeyId: "vk_1" })).toBe(
      cacheNamespace({ configured: "team-a" }),
    );
    expect(cacheNamespace({ virtualKeyId: "vk_1", requested: "vk_2" })).not.toBe(
      cacheNamespace({ virtualKeyId: "vk_2" }),
    );
    expect(cacheNamespace({ virtualKeyId: "vk_1", configured: "" })).toBe(
      cacheNamespace({ virtualKeyId: "vk_1" }),
    );
  });

  it("does not key a body over the size limit", () => {
    const body = Buffer.from(JSON.stringify({ messages: [{ role: "user", content: "x".repeat(100) }] }));
    const limits = { maxBodyBytes: body.length - 1, maxDepth: 64 };
    expect(cacheKey({ ...base, format: "openai", operation: "chat", body }, limits)).toEqual({
      cacheable: false,
      reason: "too_large",
    });
    expect(
      cacheKey(
        { ...base, format: "openai", operation: "chat", body },
        { ...limits, maxBodyBytes: body.length },
      ),
    ).toMatchObject({ cacheable: true });
  });

  it("does not key bodies it cannot read exactly", () => {
    const reasonFor = (body: Buffer) => {
      const result = cacheKey({ ...base, format: "openai", operation: "chat", body });
      return result.cacheable ? "cacheable" : result.reason;
    };
    expect(reasonFor(Buffer.from("{not json"))).toBe("not_json");
    expect(reasonFor(Buffer.from("[1,2]"))).toBe("not_object");
    expect(reasonFor(Buffer.from('{"temperature":0,"temperature":1}'))).toBe("duplicate_member");
    expect(reasonFor(Buffer.from(`{"a":${"[".repeat(100)}${"]".repeat(100)}}`))).toBe("too_deep");
    // Two different invalid byte sequences would both decode to U+FFFD.
    expect(reasonFor(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))).toBe("not_json");
  });

  it("reads a body that is a view into a larger buffer", () => {
    const text = '{"messages":[]}';
    const larger = Buffer.from(`xx${text}yy`);
    const view = new Uint8Array(larger.buffer, larger.byteOffset + 2, text.length);
    expect(keyOf("openai", "chat", text)).toBe(
      (cacheKey({ ...base, format: "openai", operation: "chat", body: view }) as { key: string }).key,
    );
  });
});
