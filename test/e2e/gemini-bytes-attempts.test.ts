import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeminiMockServer, startGeminiMock } from "../../bench/mock/gemini-mock.js";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// A Google GenAI client calling a Gemini provider: the body goes through as bytes, and the attempt loop
// runs as on every other route: retries across the group's deployments, fallbacks to another provider
// (converted), the concurrency limit and the x-switchyard-* headers.

let gemini: GeminiMockServer;
let openai: MockServer;
let gateway: RunningGateway;
let genai: GoogleGenAI;

beforeAll(async () => {
  [gemini, openai] = await Promise.all([startGeminiMock({}), startOpenAIMock()]);
  const config = join(mkdtempSync(join(tmpdir(), "switchyard-gemini-bytes-")), "config.yaml");
  const deployment = (model: string, order: number) =>
    `    litellm_params: { model: gemini/${model}, api_base: os.environ/GEMINI_BASE, api_key: gm-key, order: ${order} }`;
  writeFileSync(
    config,
    [
      "model_list:",
      "  - model_name: flaky-then-fine",
      deployment("mock-error-503", 1),
      "  - model_name: flaky-then-fine",
      deployment("gemini-2.5-flash", 2),
      "  - model_name: always-down",
      deployment("mock-error-500", 1),
      "  - model_name: openai-backup",
      "    litellm_params: { model: openai/gpt-4o-mini, api_base: os.environ/OPENAI_BASE, api_key: sk-o }",
      "router_settings:",
      "  num_retries: 1",
      "  fallbacks: [{ always-down: [openai-backup] }]",
      "",
    ].join("\n"),
  );
  gateway = await startGateway({
    args: ["--config", config, "--lanes", "1"],
    env: { GEMINI_BASE: gemini.url, OPENAI_BASE: `${openai.url}/v1` },
  });
  genai = new GoogleGenAI({ apiKey: "client", httpOptions: { baseUrl: `${gateway.url}/genai` } });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([gemini?.close(), openai?.close()]);
});

async function generate(model: string) {
  return fetch(`${gateway.url}/genai/v1beta/models/${model}:generateContent`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"contents": [{"role": "user", "parts": [{"text": "Hi"}]}],  "x_marker": 1}',
  });
}

describe("Gemini bytes through the attempt loop", () => {
  it("retries on the group's next deployment, still as the client's bytes, and says so in its headers", async () => {
    const response = await generate("flaky-then-fine");
    expect(response.status).toBe(200);
    expect(response.headers.get("x-switchyard-retries")).toBe("1");
    expect(gemini.stats.lastRequest?.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(gemini.stats.lastRequest?.body).toBe(
      '{"contents": [{"role": "user", "parts": [{"text": "Hi"}]}],  "x_marker": 1}',
    );
    await response.arrayBuffer();
  });

  it("falls back to another provider, converted, when the Gemini deployment keeps failing", async () => {
    const before = openai.stats.requests;
    const answer = await genai.models.generateContent({ model: "always-down", contents: "Hi" });
    expect(answer.text).toBeTruthy();
    expect(openai.stats.requests).toBe(before + 1);
  });

  it("streams as bytes with the same loop", async () => {
    let text = "";
    for await (const chunk of await genai.models.generateContentStream({
      model: "flaky-then-fine",
      contents: "Hi",
    }))
      text += chunk.text ?? "";
    expect(text.length).toBeGreaterThan(0);
  });
});
