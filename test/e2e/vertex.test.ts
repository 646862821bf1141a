import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeminiMockServer, startGeminiMock } from "../../bench/mock/gemini-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// The OpenAI SDK to Vertex AI (Gemini and Anthropic models) through the real gateway. The mock's token
// endpoint verifies each JWT with the public half of a key pair made here; the service account holds the
// private half.

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
let mock: GeminiMockServer;
let gateway: RunningGateway;
let client: OpenAI;
let dir: string;

beforeAll(async () => {
  mock = await startGeminiMock({ verifyKey: publicKey, streamChunks: 3 });
  dir = mkdtempSync(join(tmpdir(), "switchyard-vertex-"));
  const credentials = join(dir, "sa.json");
  writeFileSync(
    credentials,
    JSON.stringify({
      type: "service_account",
      project_id: "proj-from-file",
      private_key_id: "kid-1",
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
      client_email: "gateway@proj-1.iam.gserviceaccount.com",
      token_uri: mock.tokenUri,
    }),
  );
  gateway = await startGateway({
    env: {
      GOOGLE_APPLICATION_CREDENTIALS: credentials,
      VERTEX_PROJECT: "proj-1",
      VERTEX_LOCATION: "europe-west4",
      VERTEX_BASE_URL: mock.url,
    },
    args: ["--lanes", "1"],
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "client-key", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const GEMINI_PATH = "/v1/projects/proj-1/locations/europe-west4/publishers/google/models/gemini-2.5-flash";

describe("OpenAI SDK → Vertex AI", () => {
  it("calls a Gemini model with a token from the service account, fetched once for many requests [vertex: chat]", async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        client.chat.completions.create({
          model: "vertex/gemini-2.5-flash",
          messages: [{ role: "user", content: "Say hello" }],
        }),
      ),
    );
    for (const answer of answers) expect(answer.choices[0]?.message.content).toContain("Mock Gemini reply.");
    await client.chat.completions.create({
      model: "vertex/gemini-2.5-flash",
      messages: [{ role: "user", content: "again" }],
    });
    expect(mock.stats.tokenRequests).toBe(1);
    expect(mock.stats.lastRequest?.path).toBe(`${GEMINI_PATH}:generateContent`);
    expect(mock.stats.lastRequest?.headers.authorization).toMatch(/^Bearer ya29\.mock-/);
    expect(mock.stats.lastClaims).toMatchObject({
      aud: mock.tokenUri,
      scope: "https://www.googleapis.com/auth/cloud-platform",
    });
  });

  it("streams a Gemini model with usage [vertex: stream]", async () => {
    const stream = await client.chat.completions.create({
      model: "vertex/gemini-2.5-flash",
      messages: [{ role: "user", content: "Count" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let total = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      total = chunk.usage?.total_tokens ?? total;
    }
    expect(text).toBe("Mock Gemini reply. Hello there!");
    expect(total).toBeGreaterThan(0);
    expect(mock.stats.lastRequest?.path).toBe(`${GEMINI_PATH}:streamGenerateContent?alt=sse`);
  });

  it("calls Claude on Vertex through rawPredict and streamRawPredict [vertex: chat, stream]", async () => {
    const completion = await client.chat.completions.create({
      model: "vertex/claude-sonnet-4@20250514",
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 100,
    });
    expect(completion.choices[0]?.message.content).toBe("Mock Claude on Vertex reply.");
    expect(mock.stats.lastRequest?.path).toBe(
      "/v1/projects/proj-1/locations/europe-west4/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict",
    );
    const body = JSON.parse(mock.stats.lastRequest?.body ?? "{}");
    expect(body.anthropic_version).toBe("vertex-2023-10-16");
    expect(body.model).toBeUndefined();
    expect(body.max_tokens).toBe(100);

    const stream = await client.chat.completions.create({
      model: "vertex/claude-sonnet-4@20250514",
      messages: [{ role: "user", content: "Hello" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("Mock Claude on Vertex reply.");
    expect(mock.stats.lastRequest?.path).toMatch(/:streamRawPredict$/);
  });

  it("creates embeddings through predict [vertex: embeddings]", async () => {
    const result = await client.embeddings.create({
      model: "vertex/text-embedding-005",
      input: ["a", "b"],
      encoding_format: "float",
      dimensions: 4,
    });
    expect(result.data.map((d) => d.embedding.length)).toEqual([4, 4]);
    expect(result.usage.prompt_tokens).toBe(2);
    expect(mock.stats.lastRequest?.path).toMatch(/publishers\/google\/models\/text-embedding-005:predict$/);
  });

  it("returns Vertex errors with their status", async () => {
    const failure = await client.chat.completions
      .create({ model: "vertex/mock-error-503", messages: [{ role: "user", content: "hi" }] })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.InternalServerError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe("UNAVAILABLE");
  });
});
