import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnthropicMockServer, startAnthropicMock } from "../../bench/mock/anthropic-mock.js";
import {
  type BedrockMock,
  MOCK_ACCESS_KEY,
  MOCK_SECRET_KEY,
  startBedrockMock,
} from "../../bench/mock/bedrock-mock.js";
import { type CohereMockServer, startCohereMock } from "../../bench/mock/cohere-mock.js";
import { type GeminiMockServer, startGeminiMock } from "../../bench/mock/gemini-mock.js";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { postOnOwnConnection } from "../helpers/own-connection.js";
import { seededRandom } from "../helpers/prng.js";

// Valid-JSON bodies of the wrong shape on every converting route, to every provider kind: random nulls,
// wrong types and deep nesting where the converters read. Every answer must be a whole reply (2xx, or an
// error in the client's own format), and no lane may die: a lane that dies takes its connections with it.

const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const { random, pick } = seededRandom(SEED);

/** Mutations per route and provider: about 1,000 requests in all with the deep-schema ones. */
const ROUNDS = Number(process.env.FUZZ_ROUNDS ?? 25);
/** Deeper than any converter may recurse; well inside the body limit. */
const DEEP = 20_000;
const DEEP_MARK = "__deep__";

type ErrorShape = "openai" | "anthropic" | "gemini";

interface RouteCase {
  readonly name: string;
  readonly path: (model: string) => string;
  readonly shape: ErrorShape;
  readonly body: (model: string) => Record<string, unknown>;
  /** The body's field that holds a JSON schema, for the deep-schema case. */
  readonly schemaPath: readonly (string | number)[];
  readonly embeddings?: boolean;
}

const SCHEMA = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

const ROUTES: readonly RouteCase[] = [
  {
    name: "openai chat",
    path: () => "/v1/chat/completions",
    shape: "openai",
    body: (model) => ({
      model,
      max_tokens: 16,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Weather?" }] },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "sunny" },
      ],
      tools: [{ type: "function", function: { name: "get_weather", parameters: SCHEMA } }],
      stream: random() < 0.5,
    }),
    schemaPath: ["tools", 0, "function", "parameters"],
  },
  {
    name: "responses",
    path: () => "/v1/responses",
    shape: "openai",
    body: (model) => ({
      model,
      instructions: "Be brief.",
      input: [
        { role: "user", content: [{ type: "input_text", text: "Weather?" }] },
        { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Oslo"}' },
        { type: "function_call_output", call_id: "call_1", output: "sunny" },
      ],
      tools: [{ type: "function", name: "get_weather", parameters: SCHEMA }],
      max_output_tokens: 16,
      stream: random() < 0.5,
    }),
    schemaPath: ["tools", 0, "parameters"],
  },
  {
    name: "embeddings",
    path: () => "/v1/embeddings",
    shape: "openai",
    body: (model) => ({ model, input: ["one", "two"] }),
    schemaPath: ["input"],
    embeddings: true,
  },
  {
    name: "anthropic messages",
    path: () => "/anthropic/v1/messages",
    shape: "anthropic",
    body: (model) => ({
      model,
      max_tokens: 16,
      system: [{ type: "text", text: "Be brief." }],
      messages: [
        { role: "user", content: [{ type: "text", text: "Weather?" }] },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } }],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "sunny" }] },
          ],
        },
      ],
      tools: [{ name: "get_weather", description: "Weather", input_schema: SCHEMA }],
      stream: random() < 0.5,
    }),
    schemaPath: ["tools", 0, "input_schema"],
  },
  ...[":generateContent", ":streamGenerateContent?alt=sse", ":streamGenerateContent"].map(
    (method): RouteCase => ({
      name: `genai ${method}`,
      path: (model) => `/genai/v1beta/models/${encodeURIComponent(model)}${method}`,
      shape: "gemini",
      body: () => ({
        systemInstruction: { parts: [{ text: "Be brief." }] },
        contents: [
          { role: "user", parts: [{ text: "Weather?" }] },
          { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Oslo" } } }] },
          {
            role: "user",
            parts: [{ functionResponse: { name: "get_weather", response: { text: "sunny" } } }],
          },
        ],
        tools: [{ functionDeclarations: [{ name: "get_weather", parameters: SCHEMA }] }],
        generationConfig: { maxOutputTokens: 16, temperature: 0.2 },
      }),
      schemaPath: ["tools", 0, "functionDeclarations", 0, "parameters"],
    }),
  ),
];

const BEDROCK_CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0";
const PROVIDERS: readonly { kind: string; chat: string; embeddings: string }[] = [
  { kind: "openai-compatible", chat: "openai/gpt-4o-mini", embeddings: "openai/text-embedding-3-small" },
  { kind: "anthropic", chat: "anthropic/claude-sonnet-4-5", embeddings: "anthropic/claude-sonnet-4-5" },
  { kind: "gemini", chat: "gemini/gemini-2.5-flash", embeddings: "gemini/gemini-embedding-001" },
  { kind: "bedrock", chat: `bedrock/${BEDROCK_CLAUDE}`, embeddings: "bedrock/amazon.titan-embed-text-v2:0" },
  { kind: "cohere", chat: "cohere/command-a-03-2025", embeddings: "cohere/embed-v4.0" },
];

const WRONG: readonly unknown[] = [null, 42, -1.5, "x", "", true, [], {}, [null], { type: null }, [[[]]]];

type Path = (string | number)[];

/** Every path into `value` (the root excluded). */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      out.push([...prefix, i]);
      pathsOf(item, [...prefix, i], out);
    });
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.push([...prefix, key]);
      pathsOf(item, [...prefix, key], out);
    }
  }
  return out;
}

/** Sets the value at `path`, unless an earlier mutation replaced a node on the way. */
function setAt(root: unknown, path: Path, value: unknown): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (typeof node !== "object" || node === null) return;
    node = (node as Record<string | number, unknown>)[key];
  }
  if (typeof node === "object" && node !== null)
    (node as Record<string | number, unknown>)[path[path.length - 1] as string | number] = value;
}

/** A deeply nested value as JSON text: arrays, objects, or a JSON schema of nested objects. */
function deepJson(kind: number): string {
  if (kind === 0) return `${"[".repeat(DEEP)}${"]".repeat(DEEP)}`;
  if (kind === 1) return `${'{"a":'.repeat(DEEP)}1${"}".repeat(DEEP)}`;
  const open = '{"type":"object","properties":{"a":';
  return `${open.repeat(DEEP)}{"type":"string"}${"}}".repeat(DEEP)}`;
}

/** The valid body with one to three fields replaced by a wrong type, a null or a deep value. */
function mutated(route: RouteCase, model: string): string {
  const body = structuredClone(route.body(model));
  const paths = pathsOf(body).filter((path) => !(route.path(model).startsWith("/v1") && path[0] === "model"));
  let deep: string | undefined;
  const count = 1 + Math.floor(random() * 3);
  for (let i = 0; i < count; i++) {
    const path = pick(paths);
    if (random() < 0.1) {
      deep = deepJson(Math.floor(random() * 3));
      setAt(body, path, DEEP_MARK);
    } else setAt(body, path, structuredClone(pick(WRONG)));
  }
  const text = JSON.stringify(body);
  return deep === undefined ? text : text.replace(JSON.stringify(DEEP_MARK), deep);
}

function deepSchema(route: RouteCase, model: string): string {
  const body = structuredClone(route.body(model));
  setAt(body, [...route.schemaPath], DEEP_MARK);
  return JSON.stringify(body).replace(JSON.stringify(DEEP_MARK), deepJson(2));
}

/** Whether an error answer is in the client's own format. */
function errorInShape(shape: ErrorShape, text: string): boolean {
  let parsed: { type?: unknown; error?: { message?: unknown; type?: unknown; code?: unknown } };
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  const message = parsed.error?.message;
  if (typeof message !== "string" || message === "") return false;
  if (shape === "anthropic") return parsed.type === "error" && typeof parsed.error?.type === "string";
  if (shape === "gemini") return typeof parsed.error?.code === "number";
  return typeof parsed.error?.type === "string";
}

let gateway: RunningGateway;
let openai: MockServer;
let anthropic: AnthropicMockServer;
let gemini: GeminiMockServer;
let bedrock: BedrockMock;
let cohere: CohereMockServer;

beforeAll(async () => {
  [openai, anthropic, gemini, bedrock, cohere] = await Promise.all([
    startOpenAIMock({ streamChunks: 2 }),
    startAnthropicMock({ streamChunks: 2 }),
    startGeminiMock({ streamChunks: 2 }),
    startBedrockMock({ region: "us-west-2", streamChunks: 2 }),
    startCohereMock({}),
  ]);
  gateway = await startGateway({
    env: {
      OPENAI_API_KEY: "sk-fuzz",
      OPENAI_BASE_URL: `${openai.url}/v1`,
      ANTHROPIC_API_KEY: "sk-ant-fuzz",
      ANTHROPIC_BASE_URL: anthropic.url,
      GEMINI_API_KEY: "gm-fuzz",
      GEMINI_BASE_URL: gemini.url,
      AWS_ACCESS_KEY_ID: MOCK_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: MOCK_SECRET_KEY,
      AWS_REGION: "us-west-2",
      BEDROCK_BASE_URL: bedrock.url,
      COHERE_API_KEY: "co-fuzz",
      COHERE_BASE_URL: cohere.url,
    },
    args: ["--lanes", "2"],
  });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([
    openai?.close(),
    anthropic?.close(),
    gemini?.close(),
    bedrock?.close(),
    cohere?.close(),
  ]);
});

describe(`converter fuzz (FUZZ_SEED=${SEED})`, () => {
  it("answers every malformed body with a whole reply in the client's format, and no lane dies", async () => {
    const cases: { label: string; url: string; shape: ErrorShape; body: string }[] = [];
    for (const route of ROUTES) {
      for (const provider of PROVIDERS) {
        const model = route.embeddings === true ? provider.embeddings : provider.chat;
        const url = `${gateway.url}${route.path(model)}`;
        const label = `${route.name} → ${provider.kind}`;
        if (!route.embeddings)
          cases.push({
            label: `${label} deep schema`,
            url,
            shape: route.shape,
            body: deepSchema(route, model),
          });
        for (let round = 0; round < ROUNDS; round++)
          cases.push({ label: `${label} #${round}`, url, shape: route.shape, body: mutated(route, model) });
      }
    }
    const problems: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const item = cases[next++] as (typeof cases)[number];
        try {
          const answer = await postOnOwnConnection(item.url, item.body);
          if (answer.status >= 200 && answer.status < 300) continue;
          if (answer.status < 400 || answer.status > 599)
            problems.push(`${item.label}: status ${answer.status}`);
          else if (!errorInShape(item.shape, answer.body))
            problems.push(
              `${item.label}: ${answer.status} not in ${item.shape} shape: ${answer.body.slice(0, 200)}`,
            );
          else if (/internal_error/.test(answer.body))
            problems.push(`${item.label}: internal error ${answer.body.slice(0, 300)}`);
        } catch (error) {
          problems.push(`${item.label}: connection dropped (${(error as Error).message})`);
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    expect(problems, `FUZZ_SEED=${SEED}`).toEqual([]);

    for (const route of ROUTES) {
      const model =
        route.embeddings === true ? "openai/text-embedding-3-small" : "anthropic/claude-sonnet-4-5";
      const answer = await postOnOwnConnection(
        `${gateway.url}${route.path(model)}`,
        JSON.stringify(route.body(model)),
      );
      expect(answer.status, `${route.name}: ${answer.body.slice(0, 200)}`).toBe(200);
    }
    expect(gateway.output()).not.toMatch(/lane \d+ (exited|crashed|failed)/);
    expect(gateway.process.exitCode).toBeNull();
  }, 60_000);
});
