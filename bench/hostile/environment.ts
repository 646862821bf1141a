/**
 * The gateway that hostile clients are let loose on: the uWS front with two lanes (one per core here), in
 * front of three mock providers that speak OpenAI's, Anthropic's and Gemini's wire formats, so that every
 * inbound route meets both legs (bytes and conversion).
 */

import { rssKb } from "../load/proc.js";
import { type AnthropicMockServer, startAnthropicMock } from "../mock/anthropic-mock.js";
import { type GeminiMockServer, startGeminiMock } from "../mock/gemini-mock.js";
import { type MockServer, startOpenAIMock } from "../mock/openai-mock.js";
import { type Child, startSwitchyardEnv } from "../targets.js";
import { BODY_LIMIT_MB } from "./cases.js";

export interface HostileEnvironment {
  readonly origin: string;
  readonly gateway: Child;
  readonly openai: MockServer;
  readonly anthropic: AnthropicMockServer;
  readonly gemini: GeminiMockServer;
  /** Resident memory of the gateway process (all lanes), in KiB, from /proc. */
  rssKb(): number;
  stop(): Promise<void>;
}

export async function startHostileEnvironment(lanes = 2): Promise<HostileEnvironment> {
  const [openai, anthropic, gemini] = await Promise.all([
    startOpenAIMock({ latencyMs: 0 }),
    startAnthropicMock({}),
    startGeminiMock({}),
  ]);
  const { child, origin } = await startSwitchyardEnv(
    {
      OPENAI_API_KEY: "sk-hostile-openai",
      OPENAI_BASE_URL: `${openai.url}/v1`,
      ANTHROPIC_API_KEY: "sk-ant-hostile",
      ANTHROPIC_BASE_URL: anthropic.url,
      GEMINI_API_KEY: "AIza-hostile-gemini",
      GEMINI_BASE_URL: gemini.url,
      SWITCHYARD_MAX_BODY_MB: String(BODY_LIMIT_MB),
    },
    ["--lanes", String(lanes)],
  );
  return {
    origin,
    gateway: child,
    openai,
    anthropic,
    gemini,
    rssKb: () => rssKb(child.pid),
    async stop() {
      await child.stop();
      await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
    },
  };
}
