import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnthropicMockServer, startAnthropicMock } from "../../bench/mock/anthropic-mock.js";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// A body the gateway must parse whole (converted to another wire format, or stripped of the gateway's own
// fields) has a limit of its own, since parsing holds the lane's CPU; bytes relayed as they are do not.

let openai: MockServer;
let anthropic: AnthropicMockServer;
let gateway: RunningGateway;

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startOpenAIMock(), startAnthropicMock()]);
  gateway = await startGateway({
    env: {
      OPENAI_API_KEY: "sk-openai",
      OPENAI_BASE_URL: `${openai.url}/v1`,
      ANTHROPIC_API_KEY: "sk-ant",
      ANTHROPIC_BASE_URL: anthropic.url,
      SWITCHYARD_CONVERTED_MAX_BODY_MB: "1",
    },
    args: ["--lanes", "1"],
  });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([openai?.close(), anthropic?.close()]);
});

const TWO_MB = "word ".repeat((2 << 20) / 5);

async function post(path: string, body: Record<string, unknown>) {
  const response = await fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("the limit on bodies the gateway parses", () => {
  it("refuses a body converted for another provider past it, in the client's format, before any provider", async () => {
    const before = openai.stats.requests + anthropic.stats.requests;
    const fromAnthropic = await post("/anthropic/v1/messages", {
      model: "openai/gpt-4o-mini",
      max_tokens: 16,
      messages: [{ role: "user", content: TWO_MB }],
    });
    expect(fromAnthropic.status).toBe(413);
    expect(fromAnthropic.body.type).toBe("error");
    const fromOpenAI = await post("/v1/chat/completions", {
      model: "anthropic/claude-sonnet-4-5",
      messages: [{ role: "user", content: TWO_MB }],
    });
    expect(fromOpenAI.status).toBe(413);
    expect((fromOpenAI.body.error as { code: string }).code).toBe("request_too_large");
    expect(openai.stats.requests + anthropic.stats.requests).toBe(before);
  });

  it("refuses a relayed body past it when the gateway's own fields must be taken out", async () => {
    const withTimeout = await post("/v1/chat/completions", {
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: TWO_MB }],
      timeout: 30,
    });
    expect(withTimeout.status).toBe(413);
  });

  it("relays bytes past it in the same wire format, which are never parsed", async () => {
    const openaiBytes = await post("/v1/chat/completions", {
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: TWO_MB }],
    });
    expect(openaiBytes.status).toBe(200);
    const anthropicBytes = await post("/anthropic/v1/messages", {
      model: "anthropic/claude-sonnet-4-5",
      max_tokens: 16,
      messages: [{ role: "user", content: TWO_MB }],
    });
    expect(anthropicBytes.status).toBe(200);
  });
});
