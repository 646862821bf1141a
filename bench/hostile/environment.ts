/**
 * The gateway that hostile clients are let loose on: two lanes (one per core here) on the uWS front or the
 * node:http one, in front of three mock providers that speak OpenAI's, Anthropic's and Gemini's wire
 * formats, so that every inbound route meets both legs (bytes and conversion).
 */

import { rssKb } from "../load/proc.js";
import { type AnthropicMockServer, startAnthropicMock } from "../mock/anthropic-mock.js";
import { type GeminiMockServer, startGeminiMock } from "../mock/gemini-mock.js";
import { type MockServer, startOpenAIMock } from "../mock/openai-mock.js";
import { type Child, startSwitchyardEnv } from "../targets.js";
import { BODY_LIMIT_MB } from "./cases.js";
import { rawExchange, requestBytes } from "./raw-http.js";

export type Front = "uws" | "node";

export interface HostileEnvironment {
  readonly origin: string;
  readonly front: Front;
  /** How many lanes serve, as the gateway says on /health (node:http may run fewer than asked). */
  readonly lanes: number;
  readonly gateway: Child;
  readonly openai: MockServer;
  readonly anthropic: AnthropicMockServer;
  readonly gemini: GeminiMockServer;
  /** Resident memory of the gateway process (all lanes), in KiB, from /proc. */
  rssKb(): number;
  stop(): Promise<void>;
}

export async function startHostileEnvironment(front: Front, lanes = 2): Promise<HostileEnvironment> {
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
      // Every hostile request passes the cache's controls, key and semantic lookup too.
      SWITCHYARD_CACHE: "memory",
      SWITCHYARD_CACHE_MAX_MB: "16",
      SWITCHYARD_CACHE_EMBEDDING_MODEL: "openai/text-embedding-3-small",
      ...(front === "node" ? { SWITCHYARD_HTTP: "node" } : {}),
    },
    ["--lanes", String(lanes)],
  );
  const serving = (await healthOf(origin)).lanes;
  // /health answers once one lane listens; the cases want every lane up.
  const deadline = Date.now() + 15_000;
  while ((await lanesSeen(origin, serving)).size < serving && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  return {
    origin,
    front,
    lanes: serving,
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

async function healthOf(origin: string): Promise<{ lane: number; lanes: number }> {
  const exchange = await rawExchange(origin, requestBytes("GET", "/health", []));
  const body = exchange.responses[0]?.body.toString("utf8") ?? "{}";
  return JSON.parse(body) as { lane: number; lanes: number };
}

/** The lanes that answer `/health` over fresh connections (the kernel spreads connections over lanes). */
export async function lanesSeen(origin: string, lanes: number, tries = 60): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < tries && seen.size < lanes; i++) {
    const health = await healthOf(origin).catch(() => undefined);
    if (health !== undefined) seen.add(health.lane);
  }
  return seen;
}
