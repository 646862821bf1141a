import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type AnthropicMockServer,
  anthropicErrorReply,
  startAnthropicMock,
} from "../../bench/mock/anthropic-mock.js";
import { type AzureMockServer, azureErrorReply, startAzureMock } from "../../bench/mock/azure-mock.js";
import {
  type BedrockMock,
  bedrockErrorReply,
  MOCK_ACCESS_KEY,
  MOCK_SECRET_KEY,
  startBedrockMock,
} from "../../bench/mock/bedrock-mock.js";
import { type CohereMockServer, cohereErrorReply, startCohereMock } from "../../bench/mock/cohere-mock.js";
import type { MockErrorReply } from "../../bench/mock/error-reply.js";
import { type GeminiMockServer, googleErrorReply, startGeminiMock } from "../../bench/mock/gemini-mock.js";
import { type MockServer, openAIErrorReply, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type FaultGate, type GatedRequest, startFaultGate } from "../helpers/fault-gate.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import {
  KINDS,
  type KindId,
  type Leg,
  MATRIX,
  MIXED_GROUPS,
  type Pair,
  ROUTES,
  type RouteId,
  type RouteSpec,
  type Wire,
} from "./route-matrix.js";

// Every inbound route × provider kind through the real gateway (route-matrix.ts holds the pairs and the leg
// each takes). Each kind has two providers, each behind its own fault gate in front of the kind's mock:
// the gates make the first fail (retries, fallback) or stall (the concurrency limit) and record what
// reached the provider (the leg). One Bifrost config.json gateway serves all kinds: max_retries 1,
// concurrency 1 with drop_excess_requests, fallbacks from the request's own `fallbacks` field. A second
// gateway with a LiteLLM config.yaml serves the mixed model groups.

const AZURE_KEY = "azure-secret";
const AZURE_API_VERSION = "2024-10-21";
const VERTEX_PATH = "/v1/projects/proj-1/locations/europe-west4/publishers/google/models/";

type Json = Record<string, unknown>;

/** How one kind is mocked, configured and recognised upstream. */
interface KindFixture {
  /** The mock the kind's gates stand in front of. */
  readonly mockUrl: () => string;
  readonly errorReply: (status: number) => MockErrorReply;
  /** The Bifrost provider entry for a provider of this kind whose upstream is `gate`. */
  readonly provider: (gate: string) => Json;
  readonly chatModel: string;
  readonly embeddingModel?: string;
  /** Asserts that a converted request is in the provider's own shape (the path and a field only it has). */
  readonly expectShape: (request: GatedRequest, operation: "chat" | "embeddings") => void;
}

let openai: MockServer;
let azure: AzureMockServer;
let anthropic: AnthropicMockServer;
let google: GeminiMockServer;
let bedrock: BedrockMock;
let cohere: CohereMockServer;

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const serviceAccount = () =>
  JSON.stringify({
    type: "service_account",
    project_id: "proj-1",
    private_key_id: "kid-1",
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
    client_email: "gateway@proj-1.iam.gserviceaccount.com",
    token_uri: google.tokenUri,
  });

const network = (baseUrl?: string): Json => ({
  ...(baseUrl === undefined ? {} : { base_url: baseUrl }),
  max_retries: 1,
  retry_backoff_initial: 100,
  retry_backoff_max: 100,
});
const limited = { concurrency_and_buffer_size: { concurrency: 1, buffer_size: 1 } };
const key = (value: string, extra: Json = {}) => [{ name: "k", value, models: ["*"], weight: 1, ...extra }];
const parse = (request: GatedRequest | undefined) => JSON.parse(request?.body ?? "{}") as Json;

/** The OpenAI chat shape: a system message in `messages` (Anthropic, Gemini and Bedrock put it elsewhere). */
function expectOpenAIShape(request: GatedRequest, operation: "chat" | "embeddings", pathEnd: string): void {
  const body = parse(request);
  if (operation === "embeddings") {
    expect(request.path).toContain(`${pathEnd.replace("chat/completions", "embeddings")}`);
    expect(body.input).toBeDefined();
    return;
  }
  expect(request.path).toContain(pathEnd);
  expect(body.messages).toContainEqual(expect.objectContaining({ role: "system" }));
  expect(body.top_p).toBe(0.5);
}

const FIXTURES: Record<KindId, KindFixture> = {
  openai: {
    mockUrl: () => openai.url,
    errorReply: (status) => openAIErrorReply(status, "gpt-4o-mini"),
    provider: (gate) => ({ keys: key("sk-openai"), network_config: network(`${gate}/v1`), ...limited }),
    chatModel: "gpt-4o-mini",
    embeddingModel: "text-embedding-3-small",
    expectShape: (request, operation) => expectOpenAIShape(request, operation, "/v1/chat/completions"),
  },
  mistral: {
    mockUrl: () => openai.url,
    errorReply: (status) => openAIErrorReply(status, "mistral-small-latest"),
    provider: (gate) => ({ keys: key("sk-mistral"), network_config: network(`${gate}/v1`), ...limited }),
    chatModel: "mistral-small-latest",
    embeddingModel: "mistral-embed",
    expectShape: (request, operation) => expectOpenAIShape(request, operation, "/v1/chat/completions"),
  },
  azure: {
    mockUrl: () => azure.url,
    errorReply: (status) => azureErrorReply(status, "gpt-4o-mini", AZURE_API_VERSION),
    provider: (gate) => ({
      keys: key(AZURE_KEY, { azure_key_config: { endpoint: gate, api_version: AZURE_API_VERSION } }),
      network_config: network(),
      ...limited,
    }),
    chatModel: "gpt-4o-mini",
    embeddingModel: "text-embedding-3-small",
    expectShape: (request, operation) =>
      expectOpenAIShape(request, operation, "/openai/deployments/gpt-4o-mini/chat/completions"),
  },
  anthropic: {
    mockUrl: () => anthropic.url,
    errorReply: anthropicErrorReply,
    provider: (gate) => ({ keys: key("sk-ant"), network_config: network(gate), ...limited }),
    chatModel: "claude-sonnet-4-5",
    expectShape: (request) => {
      expect(request.path).toBe("/v1/messages");
      const body = parse(request);
      expect(body.max_tokens).toBe(16);
      expect(JSON.stringify(body.system)).toContain("Be brief.");
    },
  },
  gemini: {
    mockUrl: () => google.url,
    errorReply: (status) => googleErrorReply(status, "gemini-2.5-flash"),
    provider: (gate) => ({ keys: key("gm-key"), network_config: network(gate), ...limited }),
    chatModel: "gemini-2.5-flash",
    embeddingModel: "gemini-embedding-001",
    expectShape: (request, operation) => {
      const body = parse(request);
      if (operation === "embeddings") {
        expect(request.path).toMatch(
          /^\/v1beta\/models\/gemini-embedding-001:(batchEmbedContents|embedContent)$/,
        );
        expect(JSON.stringify(body)).toContain('"parts"');
        return;
      }
      expect(request.path).toMatch(
        /^\/v1beta\/models\/gemini-2\.5-flash:(generateContent|streamGenerateContent)/,
      );
      expect(body.systemInstruction).toEqual({ parts: [{ text: "Be brief." }] });
      expect(body.generationConfig).toMatchObject({ maxOutputTokens: 16, topP: 0.5 });
    },
  },
  vertex: {
    mockUrl: () => google.url,
    errorReply: (status) => googleErrorReply(status, "gemini-2.5-flash"),
    provider: (gate) => ({
      keys: key("", {
        vertex_key_config: {
          project_id: "proj-1",
          region: "europe-west4",
          auth_credentials: serviceAccount(),
        },
      }),
      network_config: network(gate),
      ...limited,
    }),
    chatModel: "gemini-2.5-flash",
    embeddingModel: "text-embedding-005",
    expectShape: (request, operation) => {
      const body = parse(request);
      if (operation === "embeddings") {
        expect(request.path).toBe(`${VERTEX_PATH}text-embedding-005:predict`);
        expect(body.instances).toEqual([expect.objectContaining({ content: "Hi" })]);
        return;
      }
      expect(request.path).toMatch(/:(generateContent|streamGenerateContent)/);
      expect(request.path.startsWith(`${VERTEX_PATH}gemini-2.5-flash:`)).toBe(true);
      expect(body.systemInstruction).toEqual({ parts: [{ text: "Be brief." }] });
      expect(body.generationConfig).toMatchObject({ maxOutputTokens: 16, topP: 0.5 });
    },
  },
  bedrock: {
    mockUrl: () => bedrock.url,
    errorReply: bedrockErrorReply,
    provider: (gate) => ({
      keys: key("", {
        bedrock_key_config: { access_key: MOCK_ACCESS_KEY, secret_key: MOCK_SECRET_KEY, region: "us-west-2" },
      }),
      network_config: network(gate),
      ...limited,
    }),
    chatModel: "anthropic.claude-3-5-sonnet-20240620-v1:0",
    embeddingModel: "amazon.titan-embed-text-v2:0",
    expectShape: (request, operation) => {
      const body = parse(request);
      if (operation === "embeddings") {
        expect(request.path).toBe(`/model/${encodeURIComponent("amazon.titan-embed-text-v2:0")}/invoke`);
        expect(body.inputText).toBe("Hi");
        return;
      }
      expect(request.path).toMatch(/\/converse(-stream)?$/);
      expect(body.system).toEqual([{ text: "Be brief." }]);
      expect(body.inferenceConfig).toMatchObject({ maxTokens: 16, topP: 0.5 });
    },
  },
  cohere: {
    mockUrl: () => cohere.url,
    errorReply: cohereErrorReply,
    provider: (gate) => ({ keys: key("co-key"), network_config: network(gate), ...limited }),
    chatModel: "command-a-03-2025",
    embeddingModel: "embed-v4.0",
    expectShape: (request, operation) => {
      const body = parse(request);
      if (operation === "embeddings") {
        expect(request.path).toBe("/v2/embed");
        expect(body).toMatchObject({ texts: ["Hi"], input_type: expect.any(String) });
        return;
      }
      expect(request.path).toBe("/v2/chat");
      // Cohere names top_p `p`.
      expect(body).toMatchObject({ p: 0.5, max_tokens: 16 });
      expect(body.top_p).toBeUndefined();
    },
  },
};

/** Each kind's two providers: `<kind>` (primary) and `<kind>-backup`, each behind its own gate. */
const gates = {} as Record<KindId, { primary: FaultGate; backup: FaultGate }>;
let gateway: RunningGateway;
let mixedGateway: RunningGateway;
let dir: string;

beforeAll(async () => {
  [openai, azure, anthropic, google, bedrock, cohere] = await Promise.all([
    startOpenAIMock(),
    startAzureMock({ apiKey: AZURE_KEY }),
    startAnthropicMock(),
    startGeminiMock({ verifyKey: publicKey }),
    startBedrockMock({ region: "us-west-2" }),
    startCohereMock(),
  ]);
  await Promise.all(
    KINDS.map(async ({ id }) => {
      const fixture = FIXTURES[id];
      const [primary, backup] = await Promise.all([
        startFaultGate(fixture.mockUrl(), fixture.errorReply),
        startFaultGate(fixture.mockUrl(), fixture.errorReply),
      ]);
      gates[id] = { primary, backup };
    }),
  );
  const providers: Json = {};
  for (const { id } of KINDS) {
    providers[id] = FIXTURES[id].provider(gates[id].primary.url);
    providers[`${id}-backup`] = {
      ...FIXTURES[id].provider(gates[id].backup.url),
      custom_provider_config: { base_provider_type: id },
    };
  }
  dir = mkdtempSync(join(tmpdir(), "switchyard-route-matrix-"));
  const bifrost = join(dir, "config.json");
  writeFileSync(bifrost, JSON.stringify({ client: { drop_excess_requests: true }, providers }));
  const litellm = join(dir, "config.yaml");
  writeFileSync(litellm, mixedGroupsConfig());
  [gateway, mixedGateway] = await Promise.all([
    startGateway({ args: ["--config", bifrost, "--lanes", "1"] }),
    startGateway({ args: ["--config", litellm, "--lanes", "1"] }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([gateway?.stop(), mixedGateway?.stop()]);
  await Promise.all(Object.values(gates).flatMap(({ primary, backup }) => [primary.close(), backup.close()]));
  await Promise.all([openai, azure, anthropic, google, bedrock, cohere].map((mock) => mock?.close()));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// Clients

interface Sent {
  readonly response: Response;
  /** The body as sent. */
  readonly body: string;
}

/** The model as the client names it (`provider/model`), and as the provider knows it. */
function modelsOf(pair: Pair, provider: string = pair.kind.id): { client: string; upstream: string } {
  const fixture = FIXTURES[pair.kind.id];
  const upstream =
    pair.route.id === "openai.embeddings" ? (fixture.embeddingModel ?? fixture.chatModel) : fixture.chatModel;
  return { client: `${provider}/${upstream}`, upstream };
}

interface BodyOptions {
  /** Adds `x_probe`, a member no converter writes back: sent on the bytes leg only, as converters refuse it. */
  readonly probe: boolean;
  /** The request's own fallbacks (Bifrost's `fallbacks` body field). */
  readonly fallbacks?: readonly string[];
}

/** A request in the route's own format, with a double space no serializer writes, which only bytes keep. */
function requestBody(route: RouteSpec, model: string, options: BodyOptions): string {
  const fields: Json = {
    ...contentOf(route),
    ...(options.fallbacks === undefined ? {} : { fallbacks: options.fallbacks }),
    ...(options.probe ? { x_probe: 7 } : {}),
  };
  // Gemini's clients name the model in the path.
  const head = route.wire === "gemini" ? "" : `"model":  ${JSON.stringify(model)},`;
  return `{${head}  ${JSON.stringify(fields).slice(1)}`;
}

/** The request's content: a system prompt, a user turn, 16 tokens at most and top_p 0.5, as the format writes them. */
function contentOf(route: RouteSpec): Json {
  const stream = route.stream ? { stream: true } : {};
  switch (route.id) {
    case "openai.chat":
    case "openai.chat+stream":
      return {
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi" },
        ],
        max_tokens: 16,
        top_p: 0.5,
        ...stream,
      };
    case "openai.completions":
      return { prompt: "Hi", max_tokens: 16, top_p: 0.5 };
    case "openai.responses":
      return { instructions: "Be brief.", input: "Hi", max_output_tokens: 16, top_p: 0.5 };
    case "openai.embeddings":
      return { input: ["Hi"] };
    case "anthropic.messages":
    case "anthropic.messages+stream":
      return {
        max_tokens: 16,
        system: "Be brief.",
        messages: [{ role: "user", content: "Hi" }],
        top_p: 0.5,
        ...stream,
      };
    default:
      return {
        systemInstruction: { parts: [{ text: "Be brief." }] },
        contents: [{ role: "user", parts: [{ text: "Hi" }] }],
        generationConfig: { maxOutputTokens: 16, topP: 0.5 },
      };
  }
}

function urlOf(base: string, route: RouteSpec, model: string): string {
  return `${base}${route.path.replace("{model}", encodeURIComponent(model))}`;
}

async function send(base: string, route: RouteSpec, model: string, options: BodyOptions): Promise<Sent> {
  const body = requestBody(route, model, options);
  const response = await fetch(urlOf(base, route, model), {
    method: route.method,
    headers: { "content-type": "application/json" },
    body,
  });
  return { response, body };
}

const routeOf = (id: RouteId) => ROUTES.find((route) => route.id === id) as RouteSpec;

/** Reads a 200 answer and checks it is a reply in the route's own format. */
async function expectAnswer(route: RouteSpec, response: Response): Promise<void> {
  const text = await response.text();
  expect(response.status, text).toBe(200);
  if (route.stream) {
    expect(text).toMatch(/^(event|data): /);
    if (route.wire === "openai") expect(text).toContain('"chat.completion.chunk"');
    if (route.wire === "anthropic") expect(text).toContain("event: message_stop");
    if (route.wire === "gemini") expect(text).toContain('"candidates"');
    return;
  }
  const body = JSON.parse(text) as Json;
  if (route.id === "openai.chat") expect(body.object).toBe("chat.completion");
  if (route.id === "openai.completions") expect(body.object).toBe("text_completion");
  if (route.id === "openai.responses") expect(body.object).toBe("response");
  if (route.id === "openai.embeddings") expect(body.object).toBe("list");
  if (route.wire === "anthropic") expect(body.type).toBe("message");
  if (route.wire === "gemini") expect(Array.isArray(body.candidates)).toBe(true);
}

/** A refusal in the client's own error format: OpenAI's, Anthropic's or Google's envelope. */
async function expectError(wire: Wire, response: Response, status: number): Promise<void> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const body = JSON.parse(text) as { type?: string; error?: Json };
  if (wire === "openai") {
    expect(body.error).toMatchObject({ message: expect.any(String), type: expect.any(String) });
  } else if (wire === "anthropic") {
    expect(body.type).toBe("error");
    expect(body.error).toMatchObject({ type: expect.any(String), message: expect.any(String) });
  } else {
    expect(body.error).toMatchObject({
      code: status,
      message: expect.any(String),
      status: expect.any(String),
    });
  }
}

/** Requests each gate received while `run` ran. */
async function counted<T>(
  kind: KindId,
  run: () => Promise<T>,
): Promise<[T, { primary: number; backup: number }]> {
  const { primary, backup } = gates[kind];
  const before = [primary.requests.length, backup.requests.length];
  const result = await run();
  return [
    result,
    {
      primary: primary.requests.length - (before[0] ?? 0),
      backup: backup.requests.length - (before[1] ?? 0),
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------
// The matrix

const label = (pair: Pair) => `${pair.route.id} → ${pair.kind.id} (${pair.leg})`;

afterEach(() => {
  for (const { primary, backup } of Object.values(gates)) {
    primary.reset();
    backup.reset();
  }
});

describe.each(MATRIX.map((pair) => [label(pair), pair] as const))("%s", (_, pair) => {
  const { route, kind, proofs } = pair;
  const operation = route.id === "openai.embeddings" ? "embeddings" : "chat";
  const probe = pair.leg === "bytes";
  const model = modelsOf(pair).client;

  if ("refusal" in proofs) {
    it(proofs.refusal, async () => {
      const [sent, counts] = await counted(kind.id, () => send(gateway.url, route, model, { probe }));
      await expectError(route.wire, sent.response, 400);
      expect(counts).toEqual({ primary: 0, backup: 0 });
    });
    return;
  }

  it(proofs.retries, async () => {
    gates[kind.id].primary.failNext(1, 500);
    const [sent, counts] = await counted(kind.id, () => send(gateway.url, route, model, { probe }));
    expect(sent.response.headers.get("x-switchyard-retries")).toBe("1");
    expect(sent.response.headers.get("x-switchyard-provider")).toBe(kind.id);
    await expectAnswer(route, sent.response);
    expect(counts).toEqual({ primary: 2, backup: 0 });
  });

  it(proofs.fallback, async () => {
    gates[kind.id].primary.failNext(2, 503);
    const fallbacks = [modelsOf(pair, `${kind.id}-backup`).client];
    const [sent, counts] = await counted(kind.id, () =>
      send(gateway.url, route, model, { probe, fallbacks }),
    );
    expect(sent.response.headers.get("x-switchyard-fallback-index")).toBe("1");
    expect(sent.response.headers.get("x-switchyard-provider")).toBe(`${kind.id}-backup`);
    await expectAnswer(route, sent.response);
    expect(counts).toEqual({ primary: 2, backup: 1 });
    // The gateway's own field never reaches a provider.
    expect(gates[kind.id].primary.requests.at(-1)?.body).not.toContain('"fallbacks"');
    expect(gates[kind.id].backup.requests.at(-1)?.body).not.toContain('"fallbacks"');
  });

  it(proofs.limit, async () => {
    const held = gates[kind.id].primary.holdNext();
    const first = send(gateway.url, route, model, { probe });
    const early = await Promise.race([held.arrived.then(() => undefined), first]);
    if (early !== undefined)
      throw new Error(
        `answered ${early.response.status} before reaching the provider: ${await early.response.text()}`,
      );
    const second = await send(gateway.url, route, model, { probe });
    held.release();
    expect(Number(second.response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await expectError(route.wire, second.response, 429);
    await expectAnswer(route, (await first).response);
  });

  it(proofs.leg, async () => {
    const sent = await send(gateway.url, route, model, { probe });
    await expectAnswer(route, sent.response);
    const upstream = gates[kind.id].primary.requests.at(-1) as GatedRequest;
    expectLeg(pair.leg, route, upstream, sent.body, modelsOf(pair));
    if (pair.leg === "convert") FIXTURES[kind.id].expectShape(upstream, operation);
  });
});

function expectLeg(
  leg: Leg,
  route: RouteSpec,
  upstream: GatedRequest,
  sent: string,
  models: { client: string; upstream: string },
): void {
  if (leg !== "bytes") return;
  if (route.wire === "gemini") {
    expect(upstream.body).toBe(sent);
    expect(upstream.path).toContain(`/models/${models.upstream}:`);
    return;
  }
  expect(upstream.body).toBe(sent.replace(JSON.stringify(models.client), JSON.stringify(models.upstream)));
}

// ---------------------------------------------------------------------------------------------------------
// Mixed model groups

/** Each mixed group: its first member on the `first` kind's primary gate, its native member on the native's. */
function mixedGroupsConfig(): string {
  const litellmModel: Record<KindId, string> = {
    openai: "openai/gpt-4o-mini",
    mistral: "mistral/mistral-small-latest",
    azure: "azure/gpt-4o-mini",
    anthropic: "anthropic/claude-sonnet-4-5",
    gemini: "gemini/gemini-2.5-flash",
    vertex: "vertex_ai/gemini-2.5-flash",
    bedrock: "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
    cohere: "cohere/command-a-03-2025",
  };
  const apiBase = (kind: KindId) => {
    const url = gates[kind].primary.url;
    return kind === "openai" || kind === "mistral" ? `${url}/v1` : url;
  };
  const member = (group: string, kind: KindId, order: number) => [
    `  - model_name: ${group}`,
    `    litellm_params: { model: ${litellmModel[kind]}, api_base: "${apiBase(kind)}", api_key: k-${kind}, order: ${order} }`,
  ];
  const groups = new Map(MIXED_GROUPS.map((group) => [`mixed-${group.native}`, group]));
  return [
    "model_list:",
    ...[...groups].flatMap(([name, group]) => [
      ...member(name, group.first, 1),
      ...member(name, group.native, 2),
    ]),
    "router_settings:",
    "  num_retries: 1",
    "  allowed_fails: 100000",
    "",
  ].join("\n");
}

describe.each(MIXED_GROUPS)("a mixed model group on $route: $first first, then $native", (group) => {
  it(`the ${group.native} member receives the client's bytes after the ${group.first} member failed`, async () => {
    const route = routeOf(group.route);
    const name = `mixed-${group.native}`;
    const first = gates[group.first].primary;
    const native = gates[group.native].primary;
    first.failNext(1, 503);
    const firstBefore = first.requests.length;
    const sent = await send(mixedGateway.url, route, name, { probe: true });
    expect(sent.response.headers.get("x-switchyard-retries")).toBe("1");
    await expectAnswer(route, sent.response);
    expect(first.requests.length).toBe(firstBefore + 1);
    const upstream = native.requests.at(-1) as GatedRequest;
    expectLeg("bytes", route, upstream, sent.body, {
      client: name,
      upstream: FIXTURES[group.native].chatModel,
    });
  });
});
