import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeminiMockServer, startGeminiMock } from "../../../bench/mock/gemini-mock.js";
import { HOSTILE_NAMES, resolvedUrl } from "../../../test/helpers/hostile-names.js";
import { DEFAULT_CLIENT } from "../../config/defaults.js";
import type { GatewayConfig, ProviderKey } from "../../config/types.js";
import { compileRoutingTable } from "../../routing/table.js";
import { type Target, UnsupportedRequest, type UpstreamRequest } from "../adapter.js";
import { vertexAdapter } from "./adapter.js";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
let mock: GeminiMockServer;

beforeAll(async () => {
  mock = await startGeminiMock({ verifyKey: publicKey });
});

afterAll(async () => {
  await mock?.close();
});

function target(model: string, region: string, baseUrl = "", stream = false): Target {
  const key: ProviderKey = {
    name: "sa",
    value: "",
    models: [],
    weight: 1,
    vertex: {
      projectId: "",
      region,
      serviceAccountJson: JSON.stringify({
        client_email: "svc@p.iam.gserviceaccount.com",
        private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
        project_id: "proj-sa",
        token_uri: mock.tokenUri,
      }),
    },
  };
  const config = {
    providers: {
      vertex: {
        name: "vertex",
        kind: "vertex",
        keys: [key],
        network: {
          baseUrl,
          extraHeaders: { "x-team": "a" },
          requestTimeoutMs: 1000,
          maxRetries: 0,
          retryBackoffInitialMs: 0,
          retryBackoffMaxMs: 0,
        },
        concurrency: { concurrency: 10, bufferSize: 10 },
      },
    },
    client: { ...DEFAULT_CLIENT, maxRequestBodyBytes: 1 << 20 },
    source: "test",
  } as unknown as GatewayConfig;
  const provider = compileRoutingTable(config).providers.get("vertex");
  if (provider === undefined) throw new Error("vertex provider not compiled");
  return { provider, key, keyIndex: 0, model, stream };
}

const chat = { model: "x", messages: [{ role: "user" as const, content: "hi" }], max_tokens: 10 };

describe("Vertex AI requests", () => {
  it("go to the key's region with the project from the service account and a bearer token", async () => {
    const upstream = (await vertexAdapter.chatRequest(
      chat,
      target("gemini-2.5-pro", "us-east5"),
    )) as UpstreamRequest;
    expect(upstream.origin).toBe("https://us-east5-aiplatform.googleapis.com");
    expect(upstream.path).toBe(
      "/v1/projects/proj-sa/locations/us-east5/publishers/google/models/gemini-2.5-pro:generateContent",
    );
    expect(upstream.headers.slice(0, 3)).toEqual(["content-type", "application/json", "authorization"]);
    expect(upstream.headers[3]).toMatch(/^Bearer ya29\.mock-/);
    expect(upstream.headers.slice(4)).toEqual(["x-team", "a"]);
    expect(JSON.parse(String(upstream.body))).toEqual({
      contents: [{ role: "user", parts: [{ text: "hi" }] }],
      generationConfig: { maxOutputTokens: 10 },
    });
  });

  it("use the global endpoint, a configured base URL, and the streaming methods", async () => {
    const global = (await vertexAdapter.chatRequest(
      chat,
      target("gemini-2.5-pro", "global", "", true),
    )) as UpstreamRequest;
    expect(global.origin).toBe("https://aiplatform.googleapis.com");
    expect(global.path).toMatch(/locations\/global\/.*:streamGenerateContent\?alt=sse$/);
    const proxied = (await vertexAdapter.chatRequest(
      chat,
      target("claude-opus-4@20250514", "europe-west1", "http://proxy.test:8080/vertex/v1", true),
    )) as UpstreamRequest;
    expect(proxied.origin).toBe("http://proxy.test:8080");
    expect(proxied.path).toBe(
      "/vertex/v1/projects/proj-sa/locations/europe-west1/publishers/anthropic/models/claude-opus-4@20250514:streamRawPredict",
    );
    const body = JSON.parse(String(proxied.body));
    expect(body).toMatchObject({ anthropic_version: "vertex-2023-10-16", max_tokens: 10, stream: true });
    expect(body.model).toBeUndefined();
  });

  it("read Google's errors for Gemini and Anthropic models, and Anthropic's own errors", () => {
    const google = Buffer.from(
      '{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}',
    );
    const anthropic = Buffer.from(
      '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    );
    expect(vertexAdapter.error(403, google, target("claude-x", "r"))).toMatchObject({
      code: "PERMISSION_DENIED",
      type: "permission_error",
    });
    expect(vertexAdapter.error(529, anthropic, target("claude-x", "r"))).toMatchObject({
      message: "Overloaded",
    });
    expect(vertexAdapter.error(403, google, target("gemini-x", "r")).message).toBe("Permission denied");
  });

  it("fail clearly without a service account", async () => {
    const t = target("gemini-x", "r");
    const bare = { ...t, key: { ...t.key, vertex: undefined } };
    await expect(vertexAdapter.chatRequest(chat, bare)).rejects.toThrow(/no Vertex service account/);
  });
});

describe("Vertex AI model paths", () => {
  it.each(HOSTILE_NAMES.flatMap((name) => [name, `claude-${name}`]))(
    "keep %s inside the model segment",
    async (model) => {
      const upstream = await vertexAdapter.chatRequest(chat, target(model, "us-east5"));
      const url = resolvedUrl(upstream.path);
      expect(url.pathname).toMatch(
        /^\/v1\/projects\/proj-sa\/locations\/us-east5\/publishers\/(google|anthropic)\/models\/[^/]+:(generateContent|rawPredict)$/,
      );
      expect(url.search).toBe("");
      expect(url.hash).toBe("");
    },
  );

  it.each([".", "..", "gemini-pro:countTokens"])("refuse the model %j", async (model) => {
    await expect(async () => vertexAdapter.chatRequest(chat, target(model, "us-east5"))).rejects.toThrow(
      UnsupportedRequest,
    );
  });
});
