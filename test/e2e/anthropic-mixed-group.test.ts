import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnthropicMockServer, startAnthropicMock } from "../../bench/mock/anthropic-mock.js";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// A model group whose first deployment is not Anthropic: an Anthropic client's request is converted for
// that deployment, and still reaches the group's Anthropic deployment as the bytes the client sent.

let openai: MockServer;
let anthropic: AnthropicMockServer;
let gateway: RunningGateway;

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startOpenAIMock(), startAnthropicMock()]);
  const config = join(mkdtempSync(join(tmpdir(), "switchyard-mixed-")), "config.yaml");
  writeFileSync(
    config,
    [
      "model_list:",
      "  - model_name: mixed",
      "    litellm_params: { model: openai/mock-error-503, api_base: os.environ/OPENAI_BASE, api_key: sk-o, order: 1 }",
      "  - model_name: mixed",
      "    litellm_params: { model: anthropic/claude-sonnet-4-5, api_base: os.environ/ANTHROPIC_BASE, api_key: sk-a, order: 2 }",
      "router_settings:",
      "  num_retries: 1",
      "",
    ].join("\n"),
  );
  gateway = await startGateway({
    args: ["--config", config, "--lanes", "1"],
    env: { OPENAI_BASE: `${openai.url}/v1`, ANTHROPIC_BASE: anthropic.url },
  });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([openai?.close(), anthropic?.close()]);
});

describe("an Anthropic request to a mixed model group", () => {
  it("is converted for the OpenAI deployment and passed as bytes to the Anthropic one", async () => {
    // Spacing and a member no converter writes back show whether the bytes went through untouched.
    const sent =
      '{"model": "mixed",   "max_tokens": 16, "messages": [{"role": "user", "content": "Hi"}], "x_marker": 1}';
    const openaiBefore = openai.stats.requests;
    const response = await fetch(`${gateway.url}/anthropic/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: sent,
    });
    const answer = (await response.json()) as { type: string };
    expect(response.status).toBe(200);
    expect(answer.type).toBe("message");
    // The first attempt went to the OpenAI deployment, converted (OpenAI's shape, model rewritten).
    expect(openai.stats.requests).toBe(openaiBefore + 1);
    expect(JSON.parse(openai.stats.lastRequest?.body ?? "{}")).toMatchObject({ model: "mock-error-503" });
    // The retry reached Anthropic with the client's own bytes, only the model rewritten.
    expect(anthropic.stats.lastRequest?.body).toBe(sent.replace('"mixed"', '"claude-sonnet-4-5"'));
  });

  it("counts tokens at the group's Anthropic member (a group name is not an unknown model)", async () => {
    const response = await fetch(`${gateway.url}/anthropic/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "mixed", messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
    expect(anthropic.stats.lastRequest?.path).toBe("/v1/messages/count_tokens");
    expect(JSON.parse(anthropic.stats.lastRequest?.body ?? "{}")).toMatchObject({
      model: "claude-sonnet-4-5",
    });
  });
});
