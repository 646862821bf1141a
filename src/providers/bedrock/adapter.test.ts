import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BedrockMock,
  MOCK_ACCESS_KEY,
  MOCK_SECRET_KEY,
  startBedrockMock,
} from "../../../bench/mock/bedrock-mock.js";
import { HOSTILE_NAMES, resolvedUrl } from "../../../test/helpers/hostile-names.js";
import { DEFAULT_CLIENT, DEFAULT_CONCURRENCY, defaultNetwork } from "../../config/defaults.js";
import type { BedrockKeyConfig, GatewayConfig, ProviderKey } from "../../config/types.js";
import { compileRoutingTable } from "../../routing/table.js";
import { closeAllPools, sendUpstream } from "../../upstream/pools.js";
import { ProviderStreamError, type Target, UnsupportedRequest, type UpstreamRequest } from "../adapter.js";
import { adapterFor } from "../registry.js";
import { BEDROCK_DEFAULT_BASE_URL, bedrockAdapter } from "./adapter.js";
import { parseAuthorization, verify } from "./sigv4.js";

const CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0";

function targetFor(
  baseUrl: string,
  bedrock: BedrockKeyConfig | undefined,
  model = CLAUDE,
  stream = false,
  value = "",
): Target {
  const key: ProviderKey = { name: "aws", value, models: [], weight: 1, ...(bedrock ? { bedrock } : {}) };
  const config: GatewayConfig = {
    providers: {
      bedrock: {
        name: "bedrock",
        kind: "bedrock",
        keys: [key],
        network: defaultNetwork(baseUrl),
        concurrency: DEFAULT_CONCURRENCY,
      },
    },
    client: { ...DEFAULT_CLIENT, maxRequestBodyBytes: 1 << 20 },
    source: "test",
  };
  const provider = compileRoutingTable(config).providers.get("bedrock");
  if (provider === undefined) throw new Error("bedrock provider did not compile");
  return { provider, key: provider.keys[0] as ProviderKey, keyIndex: 0, model, stream };
}

const creds = (region = "us-east-1", extra: Partial<BedrockKeyConfig> = {}): BedrockKeyConfig => ({
  accessKey: MOCK_ACCESS_KEY,
  secretKey: MOCK_SECRET_KEY,
  region,
  deployments: {},
  ...extra,
});

const headerMap = (request: UpstreamRequest) => {
  const out: Record<string, string> = {};
  for (let i = 0; i < request.headers.length; i += 2)
    out[request.headers[i] as string] = request.headers[i + 1] as string;
  return out;
};

const chat = { model: "bedrock/x", messages: [{ role: "user" as const, content: "Hi" }] };

describe("Bedrock adapter: endpoint and signing", () => {
  it("is registered for kind bedrock", () => {
    expect(adapterFor("bedrock")).toBe(bedrockAdapter);
  });

  it("goes to the key's region by default, with the model id encoded in the path", async () => {
    const target = targetFor(BEDROCK_DEFAULT_BASE_URL, creds("eu-west-3"));
    const request = await bedrockAdapter.chatRequest(chat, target);
    expect(request.origin).toBe("https://bedrock-runtime.eu-west-3.amazonaws.com");
    expect(request.path).toBe("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse");
    const headers = headerMap(request);
    const auth = parseAuthorization(headers.authorization as string);
    expect(auth?.scope).toMatchObject({ region: "eu-west-3", service: "bedrock" });
    expect(auth?.signedHeaders).toEqual(["content-type", "host", "x-amz-date"]);
    expect(
      verify({
        method: "POST",
        path: request.path,
        headers: { ...headers, host: "bedrock-runtime.eu-west-3.amazonaws.com" },
        body: Buffer.from(request.body),
        lookupSecret: () => MOCK_SECRET_KEY,
        service: "bedrock",
      }),
    ).toBeUndefined();
  });

  it("streams through converse-stream, and signs the session token", async () => {
    const target = targetFor(
      BEDROCK_DEFAULT_BASE_URL,
      creds("us-west-2", { sessionToken: "FwoGZX" }),
      CLAUDE,
      true,
    );
    const request = await bedrockAdapter.chatRequest({ ...chat, stream: true }, target);
    expect(request.path).toMatch(/\/converse-stream$/);
    const headers = headerMap(request);
    expect(headers["x-amz-security-token"]).toBe("FwoGZX");
    expect(parseAuthorization(headers.authorization as string)?.signedHeaders).toContain(
      "x-amz-security-token",
    );
  });

  it("uses the inference profile the key maps the model to", async () => {
    const arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc";
    const target = targetFor(
      BEDROCK_DEFAULT_BASE_URL,
      creds("us-east-1", { deployments: { claude: arn } }),
      "claude",
    );
    const request = await bedrockAdapter.chatRequest(chat, target);
    expect(request.path).toBe(`/model/${encodeURIComponent(arn)}/converse`);
  });

  it("a configured base URL overrides the regional origin", async () => {
    const target = targetFor("http://127.0.0.1:4566/bedrock", creds());
    const request = await bedrockAdapter.chatRequest(chat, target);
    expect(request.origin).toBe("http://127.0.0.1:4566");
    expect(request.path).toBe("/bedrock/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse");
  });

  it("sends a Bedrock API key as a bearer token when there are no AWS credentials", async () => {
    const target = targetFor(
      BEDROCK_DEFAULT_BASE_URL,
      { accessKey: "", secretKey: "", region: "us-east-1", deployments: {} },
      CLAUDE,
      false,
      "bedrock-api-key-1",
    );
    const headers = headerMap(await bedrockAdapter.chatRequest(chat, target));
    expect(headers.authorization).toBe("Bearer bedrock-api-key-1");
    expect(headers["x-amz-date"]).toBeUndefined();
  });

  it("refuses to build a request for a key without any credentials", () => {
    const target = targetFor(BEDROCK_DEFAULT_BASE_URL, undefined);
    expect(() => bedrockAdapter.chatRequest(chat, target)).toThrow(
      /neither AWS credentials nor a Bedrock API key/,
    );
  });

  it("reads the error type from x-amzn-errortype", () => {
    const target = targetFor(BEDROCK_DEFAULT_BASE_URL, creds());
    expect(
      bedrockAdapter.error(429, Buffer.from('{"message":"Too many requests"}'), target, {
        "x-amzn-errortype": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
      }),
    ).toEqual({
      status: 429,
      message: "bedrock: Too many requests",
      type: "rate_limit_error",
      code: "ThrottlingException",
      param: null,
    });
  });
});

describe("Bedrock adapter against the mock", () => {
  let mock: BedrockMock;
  beforeAll(async () => {
    mock = await startBedrockMock();
  });
  afterAll(async () => {
    await closeAllPools();
    await mock.close();
  });

  const send = (request: UpstreamRequest) => sendUpstream(request, 10_000);

  it("a signed Converse call is accepted and converts back", async () => {
    const target = targetFor(mock.url, creds());
    const reply = await send(await bedrockAdapter.chatRequest(chat, target));
    expect(reply.status).toBe(200);
    const response = bedrockAdapter.chatResponse(reply.body, target);
    expect(response.choices[0]?.message.content).toBe(`Hello from Bedrock (${CLAUDE}).`);
  });

  it("a wrong secret is refused with 403 in Bedrock's shape", async () => {
    const target = targetFor(mock.url, creds("us-east-1", { secretKey: "wrong" }));
    const reply = await send(await bedrockAdapter.chatRequest(chat, target));
    expect(reply.status).toBe(403);
    expect(reply.headers["x-amzn-errortype"]).toMatch(/^InvalidSignatureException:/);
    const error = bedrockAdapter.error(reply.status, reply.body, target, reply.headers);
    expect(error).toMatchObject({ status: 403, code: "InvalidSignatureException", type: "permission_error" });
    expect(error.message).toMatch(/signature we calculated does not match/);
  });

  it("a request scoped to another region is refused", async () => {
    const target = targetFor(mock.url, creds("eu-central-1"));
    const reply = await send(await bedrockAdapter.chatRequest(chat, target));
    expect(reply.status).toBe(403);
  });

  it("Titan embeddings: one request per input, in order, as floats or base64", async () => {
    const target = targetFor(mock.url, creds(), "amazon.titan-embed-text-v2:0");
    const before = mock.stats.log.length;
    const last = await bedrockAdapter.embeddingsRequest?.(
      { model: "bedrock/amazon.titan-embed-text-v2:0", input: ["alpha", "beta", "gamma"], dimensions: 4 },
      target,
      sendUpstream,
    );
    const reply = await send(last as UpstreamRequest);
    const response = bedrockAdapter.embeddingsResponse?.(reply.body, target);
    const bodies = mock.stats.log.slice(before).map((entry) => JSON.parse(entry.body).inputText);
    expect(bodies.sort()).toEqual(["alpha", "beta", "gamma"]);
    expect(response?.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(response?.data.every((d) => Array.isArray(d.embedding) && d.embedding.length === 4)).toBe(true);
    // The mock counts ceil(length / 4) tokens per text: 2 + 1 + 2.
    expect(response?.usage.prompt_tokens).toBe(5);

    const single = await bedrockAdapter.embeddingsRequest?.(
      { model: "x", input: "alpha", dimensions: 4, encoding_format: "base64" },
      target,
      sendUpstream,
    );
    const b64 = bedrockAdapter.embeddingsResponse?.((await send(single as UpstreamRequest)).body, target);
    const encoded = b64?.data[0]?.embedding as string;
    const buffer = Buffer.from(encoded, "base64");
    const floats = Array.from(new Float32Array(buffer.buffer, buffer.byteOffset, buffer.length / 4));
    expect(floats).toEqual(response?.data[0]?.embedding);
  });

  it("Titan embeddings: more inputs than run at once keep their order", async () => {
    const target = targetFor(mock.url, creds(), "amazon.titan-embed-text-v2:0");
    const inputs = Array.from({ length: 20 }, (_, i) => `text number ${i}`);
    const before = mock.stats.log.length;
    const last = await bedrockAdapter.embeddingsRequest?.(
      { model: "x", input: inputs },
      target,
      sendUpstream,
    );
    const all = bedrockAdapter.embeddingsResponse?.((await send(last as UpstreamRequest)).body, target);
    expect(mock.stats.log.length - before).toBe(20);
    for (const i of [0, 7, 19]) {
      const one = await bedrockAdapter.embeddingsRequest?.(
        { model: "x", input: inputs[i] as string },
        target,
        sendUpstream,
      );
      const single = bedrockAdapter.embeddingsResponse?.((await send(one as UpstreamRequest)).body, target);
      expect(all?.data[i]?.embedding).toEqual(single?.data[0]?.embedding);
    }
  });

  it("an earlier Titan input that fails gives the provider's error", async () => {
    const target = targetFor(mock.url, creds(), "amazon.titan-embed-text-v2:0-mock-error-429");
    await expect(
      bedrockAdapter.embeddingsRequest?.(
        { model: "x", input: ["a", "b"] },
        target,
        sendUpstream,
      ) as Promise<UpstreamRequest>,
    ).rejects.toSatisfy(
      (error: unknown) =>
        error instanceof ProviderStreamError &&
        error.error.status === 429 &&
        error.error.code === "ThrottlingException",
    );
  });

  it("Cohere embeddings go as one request", async () => {
    const target = targetFor(mock.url, creds(), "cohere.embed-english-v3");
    const request = (await bedrockAdapter.embeddingsRequest?.(
      { model: "x", input: ["a", "b"] },
      target,
      sendUpstream,
    )) as UpstreamRequest;
    expect(JSON.parse(String(request.body))).toEqual({
      texts: ["a", "b"],
      input_type: "search_document",
      embedding_types: ["float"],
    });
    const response = bedrockAdapter.embeddingsResponse?.((await send(request)).body, target);
    expect(response?.data).toHaveLength(2);
  });

  it("refuses embeddings for other models and token-array input", () => {
    expect(() =>
      bedrockAdapter.embeddingsRequest?.(
        { model: "x", input: "a" },
        targetFor(mock.url, creds(), CLAUDE),
        sendUpstream,
      ),
    ).toThrow(/Titan text and Cohere/);
    expect(() =>
      bedrockAdapter.embeddingsRequest?.(
        { model: "x", input: [1, 2, 3] },
        targetFor(mock.url, creds(), "amazon.titan-embed-text-v2:0"),
        sendUpstream,
      ),
    ).toThrow(/token arrays/);
    expect(() =>
      bedrockAdapter.embeddingsRequest?.(
        { model: "x", input: "a", dimensions: 8 },
        targetFor(mock.url, creds(), "amazon.titan-embed-text-v1"),
        sendUpstream,
      ),
    ).toThrow(expect.objectContaining({ param: "dimensions" }));
  });
});

describe("Bedrock model paths", () => {
  it.each(HOSTILE_NAMES)("keep %s inside the model segment", async (model) => {
    const target = targetFor(BEDROCK_DEFAULT_BASE_URL, creds(), model);
    const request = await bedrockAdapter.chatRequest(chat, target);
    const url = resolvedUrl(request.path);
    expect(url.pathname).toMatch(/^\/model\/[^/]+\/converse$/);
    expect(url.search).toBe("");
    expect(url.hash).toBe("");
  });

  it.each([".", ".."])("refuse the model %j", async (model) => {
    const target = targetFor(BEDROCK_DEFAULT_BASE_URL, creds(), model);
    await expect(async () => bedrockAdapter.chatRequest(chat, target)).rejects.toThrow(UnsupportedRequest);
  });
});
