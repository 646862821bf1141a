import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnthropicMockServer, startAnthropicMock } from "../../bench/mock/anthropic-mock.js";
import { type AzureMockServer, startAzureMock } from "../../bench/mock/azure-mock.js";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// The gateway started with `--config config.yaml`, a LiteLLM proxy configuration used as it is, in front of
// mocks of an OpenAI-compatible server, an Azure resource and Anthropic, driven with the OpenAI SDK.

const CONFIG = fileURLToPath(new URL("../fixtures/litellm/e2e-config.yaml", import.meta.url));

const KEYS = {
  OPENAI_MOCK_KEY: "sk-openai-mock-SECRET",
  AZURE_MOCK_KEY: "azure-mock-SECRET",
  ANTHROPIC_MOCK_KEY: "sk-ant-mock-SECRET",
  LITELLM_MASTER_KEY: "sk-master-SECRET",
};

let openai: MockServer;
let flaky: MockServer;
let azure: AzureMockServer;
let anthropic: AnthropicMockServer;
let gateway: RunningGateway;
let client: OpenAI;

beforeAll(async () => {
  [openai, flaky, azure, anthropic] = await Promise.all([
    startOpenAIMock({ host: "127.0.0.1", requireKey: KEYS.OPENAI_MOCK_KEY }),
    startOpenAIMock({ host: "127.0.0.1", requireKey: KEYS.OPENAI_MOCK_KEY }),
    startAzureMock({ host: "127.0.0.1", apiKey: KEYS.AZURE_MOCK_KEY }),
    startAnthropicMock({ host: "127.0.0.1", requireKey: KEYS.ANTHROPIC_MOCK_KEY }),
  ]);
  gateway = await startGateway({
    args: ["--config", CONFIG, "--lanes", "2"],
    env: {
      ...KEYS,
      OPENAI_MOCK_BASE: `${openai.url}/v1`,
      FLAKY_MOCK_BASE: `${flaky.url}/v1`,
      AZURE_MOCK_BASE: azure.url,
      ANTHROPIC_MOCK_BASE: anthropic.url,
    },
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: KEYS.LITELLM_MASTER_KEY, maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([openai?.close(), flaky?.close(), azure?.close(), anthropic?.close()]);
});

const ask = (model: string) =>
  client.chat.completions
    .create({ model, messages: [{ role: "user", content: "Say hello" }] })
    .withResponse();

describe("a LiteLLM config.yaml", () => {
  it("describes its model groups at start-up and names what it ignores, never a secret", () => {
    const out = gateway.output();
    expect(out).toContain("model group gpt-4o: 2 deployments (custom, azure)");
    expect(out).toContain("model group claude-sonnet: 1 deployment (anthropic)");
    expect(out).toContain("model group flaky: 1 deployment (custom-2)");
    expect(out).toContain("aliases: gpt-4 → gpt-4o");
    expect(out).toContain("warning: router_settings.redis_host: not supported yet; ignored");
    expect(out).toContain("warning: litellm_settings.success_callback: not supported yet; ignored");
    for (const secret of Object.values(KEYS)) expect(out).not.toContain(secret);
  });

  it("spreads a model group's requests over both deployments", async () => {
    const before = { openai: openai.stats.requests, azure: azure.stats.requests };
    const answered = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const { data, response } = await ask("gpt-4o");
      expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
      const provider = response.headers.get("x-switchyard-provider") ?? "(none)";
      answered.set(provider, (answered.get(provider) ?? 0) + 1);
    }
    const toOpenAI = openai.stats.requests - before.openai;
    const toAzure = azure.stats.requests - before.azure;
    // Equal weights: each side gets some of 40 requests unless the coin is unfair beyond 1 in 10^11.
    expect(toOpenAI).toBeGreaterThan(0);
    expect(toAzure).toBeGreaterThan(0);
    expect(toOpenAI + toAzure).toBe(40);
    expect(Object.fromEntries(answered)).toEqual({ custom: toOpenAI, azure: toAzure });
    expect(azure.stats.lastRequest?.path).toBe(
      "/openai/deployments/gpt-4o-eastus/chat/completions?api-version=2024-10-21",
    );
    expect(azure.stats.lastRequest?.headers["api-key"]).toBe(KEYS.AZURE_MOCK_KEY);
  });

  it("serves an alias from its model group", async () => {
    const before = openai.stats.requests + azure.stats.requests;
    const { data, response } = await ask("gpt-4");
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(["custom", "azure"]).toContain(response.headers.get("x-switchyard-provider"));
    expect(openai.stats.requests + azure.stats.requests).toBe(before + 1);
  });

  it("serves a group on another wire format (Anthropic), converted", async () => {
    const before = anthropic.stats.requests;
    const { data } = await ask("claude-sonnet");
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(anthropic.stats.requests).toBe(before + 1);
    expect(anthropic.stats.lastRequest?.headers["x-api-key"]).toBe(KEYS.ANTHROPIC_MOCK_KEY);
  });

  it("falls back to the configured group when the first deployment fails, sending each upstream the request once", async () => {
    const before = { flaky: flaky.stats.requests, anthropic: anthropic.stats.requests };
    const { data, response } = await ask("flaky");
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(response.headers.get("x-switchyard-provider")).toBe("anthropic");
    expect(response.headers.get("x-switchyard-fallback-index")).toBe("1");
    // num_retries: 0, so the failing deployment is tried once before the fallback.
    expect(flaky.stats.requests - before.flaky).toBe(1);
    expect(anthropic.stats.requests - before.anthropic).toBe(1);
  });

  it("answers an unknown model name with 404", async () => {
    const err = await ask("no-such-group").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
  });
});
