import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnthropicMockServer, startAnthropicMock } from "../../bench/mock/anthropic-mock.js";
import { type GeminiMockServer, startGeminiMock } from "../../bench/mock/gemini-mock.js";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type AdminHarness, adminHarness, testConfig } from "../../test/helpers/admin-harness.js";
import { DEFAULT_CONCURRENCY, defaultNetwork } from "../config/defaults.js";
import type { GatewayConfig, ProviderConfig, ProviderKey } from "../config/types.js";
import { testProviderKey } from "./provider-test.js";

// The key test against the mock providers, each requiring one key: the right key passes, a wrong one gets
// the provider's own error, and no key ever comes back in the answer.

const OPENAI_KEY = "sk-openai-right-key-0123456789";
const ANTHROPIC_KEY = "sk-ant-right-key-0123456789";
const GEMINI_KEY = "AIzaRightKey0123456789abcdefghij";
const WRONG = "sk-wrong-key-9876543210abcdef";

let openai: MockServer;
let anthropic: AnthropicMockServer;
let gemini: GeminiMockServer;
/** Answers 401 with the key it was sent in the message, as OpenAI's "Incorrect API key provided: sk-..." does. */
let echo: Server;
let echoUrl: string;
let admin: AdminHarness;

const key = (name: string, value: string): ProviderKey => ({ name, value, models: [], weight: 1 });

function provider(name: string, kind: string, baseUrl: string, keys: ProviderKey[]): ProviderConfig {
  return { name, kind, keys, network: defaultNetwork(baseUrl), concurrency: DEFAULT_CONCURRENCY };
}

function config(): GatewayConfig {
  const base = testConfig();
  return {
    ...base,
    providers: {
      ...base.providers,
      "mock-openai": provider("mock-openai", "openai", openai.url, [
        key("right", OPENAI_KEY),
        key("wrong", WRONG),
      ]),
      "mock-anthropic": provider("mock-anthropic", "anthropic", anthropic.url, [
        key("right", ANTHROPIC_KEY),
        key("wrong", WRONG),
      ]),
      "mock-gemini": provider("mock-gemini", "gemini", gemini.url, [
        key("right", GEMINI_KEY),
        key("wrong", "AIzaWrongKey0123456789abcdefghij"),
      ]),
      echo: provider("echo", "groq", echoUrl, [key("main", WRONG)]),
      closed: provider("closed", "openai", "http://127.0.0.1:9", [key("main", WRONG)]),
      bedrock: provider("bedrock", "bedrock", "https://bedrock-runtime.us-east-1.amazonaws.com", [
        {
          ...key("aws", ""),
          bedrock: { accessKey: "AKIA", secretKey: "s", region: "us-east-1", deployments: {} },
        },
      ]),
    },
  };
}

beforeAll(async () => {
  [openai, anthropic, gemini] = await Promise.all([
    startOpenAIMock({ requireKey: OPENAI_KEY }),
    startAnthropicMock({ requireKey: ANTHROPIC_KEY }),
    startGeminiMock({ requireKey: GEMINI_KEY }),
  ]);
  echo = createServer((req, res) => {
    res.writeHead(401, { "content-type": "application/json" });
    const sent = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${sent}.`, type: "auth" } }));
  });
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  admin = await adminHarness(config());
});

afterAll(async () => {
  await admin?.close();
  await Promise.all([openai?.close(), anthropic?.close(), gemini?.close()]);
  await new Promise((resolve) => echo?.close(resolve));
});

const test = (name: string, id: string) => admin.call("POST", `/api/providers/${name}/keys/${id}/test`);

describe("POST /api/providers/{name}/keys/{id}/test", () => {
  it.each([
    ["mock-openai", "/v1/models"],
    ["mock-anthropic", "/v1/models"],
  ])("passes %s's right key and refuses its wrong one", async (name, path) => {
    const right = await test(name, "right");
    expect(right.status).toBe(200);
    expect(right.json).toMatchObject({ ok: true, status: 200 });
    expect(right.json.latency_ms).toBeGreaterThanOrEqual(0);
    const mock = name === "mock-openai" ? openai : anthropic;
    expect(mock.stats.lastRequest?.path).toBe(path);
    const wrong = await test(name, "wrong");
    expect(wrong.status).toBe(200);
    expect(wrong.json).toMatchObject({ ok: false, status: 401 });
    expect(wrong.json.message).toMatch(/API key|x-api-key/);
  });

  it("passes Gemini's right key (as x-goog-api-key) and refuses its wrong one", async () => {
    expect((await test("mock-gemini", "right")).json).toMatchObject({ ok: true, status: 200 });
    const wrong = await test("mock-gemini", "wrong");
    expect(wrong.json).toMatchObject({ ok: false, status: 400 });
    expect(wrong.json.message).toContain("API key not valid");
  });

  it("takes a configuration file's key by its position too", async () => {
    expect((await test("mock-openai", "0")).json.ok).toBe(true);
    expect((await test("mock-openai", "1")).json.ok).toBe(false);
  });

  it("never answers with the key, even when the provider's message repeats it", async () => {
    const answer = await test("echo", "main");
    expect(answer.json).toMatchObject({ ok: false, status: 401 });
    expect(answer.json.message).toContain("[redacted]");
    expect(answer.text).not.toContain(WRONG);
    expect(answer.text).not.toContain("9876543210");
  });

  it("says the provider did not answer, with status 0", async () => {
    const answer = await test("closed", "main");
    expect(answer.json).toMatchObject({ ok: false, status: 0 });
    expect(answer.json.message).toMatch(/^No answer: /);
  });

  it("answers 422 for a kind without a cheap request, 404 for an unknown provider or key", async () => {
    const bedrock = await test("bedrock", "aws");
    expect(bedrock.status).toBe(422);
    expect(bedrock.json.error.message).toMatch(/bedrock key cannot be tested/);
    expect((await test("nothing", "main")).status).toBe(404);
    expect((await test("mock-openai", "nothing")).json.error.code).toBe("not_found");
  });

  it("tests a key added through the API by its id", async () => {
    const stored = await adminHarness();
    await stored.call("POST", "/api/providers", {
      name: "team",
      kind: "openai",
      base_url: `${openai.url}/v1`,
    });
    const created = await stored.call("POST", "/api/providers/team/keys", { name: "k", secret: OPENAI_KEY });
    // The control plane serves what the store holds; here the served configuration is built alongside.
    const served: GatewayConfig = {
      ...testConfig(),
      providers: {
        ...testConfig().providers,
        team: provider("team", "openai", `${openai.url}/v1`, [key("k", OPENAI_KEY)]),
      },
    };
    const context = { ...stored.context, config: () => served };
    expect(await testProviderKey(context, "team", created.json.id)).toMatchObject({ ok: true, status: 200 });
    await stored.call("PATCH", `/api/providers/team/keys/${created.json.id}`, { enabled: false });
    await expect(testProviderKey(context, "team", created.json.id)).rejects.toMatchObject({
      status: 422,
      message: "the key is disabled: enable it to test it",
    });
    await stored.close();
  });
});
