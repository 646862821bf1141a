import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostileCases, normalProblems } from "../../bench/hostile/cases.js";
import {
  type HostileEnvironment,
  lanesSeen,
  startHostileEnvironment,
} from "../../bench/hostile/environment.js";
import { rawExchange, requestBytes } from "../../bench/hostile/raw-http.js";

// A hostile client against both HTTP fronts with two lanes: every case gets an answer in its own wire
// format (or a clean refusal), forges nothing, and leaves every lane serving normal requests. The uWS
// binary drops a few kinds of valid HTTP/1.x in its own parser (see each case's `uwsDrops`); on that
// front those cases prove only that nothing else suffers, and test/e2e/http-framing.test.ts pins down
// what the binary does with them.

describe.each(["uws", "node"] as const)("hostile input on the %s front", (front) => {
  let env: HostileEnvironment;

  beforeAll(async () => {
    env = await startHostileEnvironment(front, 2);
  });

  afterAll(async () => {
    await env?.stop();
  });

  function gatewayAlive(): string[] {
    const problems: string[] = [];
    if (env.gateway.proc.exitCode !== null)
      problems.push(`the gateway exited with ${env.gateway.proc.exitCode}`);
    if (/lane \d+ (exited|failed)/.test(env.gateway.log()))
      problems.push(`a lane died:\n${env.gateway.log()}`);
    return problems;
  }

  for (const hostile of hostileCases()) {
    const dropped = front === "uws" ? hostile.uwsDrops : undefined;
    const title =
      dropped === undefined
        ? `${hostile.name}: answered as it should, and every lane still serves`
        : `${hostile.name}: dropped by the uWS binary (${dropped}); every lane still serves`;
    it(title, async () => {
      const problems = await hostile.run(env.origin, dropped === undefined ? 10_000 : 1_500);
      if (dropped === undefined) expect(problems).toEqual([]);
      expect(gatewayAlive()).toEqual([]);
      expect(await normalProblems(env.origin)).toEqual([]);
      expect((await lanesSeen(env.origin, env.lanes)).size).toBe(env.lanes);
    });
  }

  it("never lets a model name steer the provider's URL path", async () => {
    const before = env.gemini.stats.requests;
    for (const model of [
      "gemini/../../v1beta/files",
      "gemini/..%2F..%2Fv1beta%2Ffiles",
      "gemini/x?alt=json#",
    ]) {
      const body = JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }] });
      await rawExchange(
        env.origin,
        requestBytes("POST", "/v1/chat/completions", [["content-type", "application/json"]], body),
      );
    }
    if (env.gemini.stats.requests > before) {
      const path = env.gemini.stats.lastRequest?.path ?? "";
      expect(path.startsWith("/v1beta/models/")).toBe(true);
      expect(decodeURIComponent(path.split("?")[0] as string)).not.toMatch(/\/\.\.?\//);
    }
    expect(await normalProblems(env.origin)).toEqual([]);
  });

  it("keeps memory and the metrics bounded under thousands of distinct and megabyte model names", async () => {
    const metricsBytes = async () => {
      const exchange = await rawExchange(env.origin, requestBytes("GET", "/metrics", []), {
        timeoutMs: 10_000,
      });
      return exchange.responses[0]?.body.length ?? 0;
    };
    // Warm every path first, so the figure below is growth, not start-up.
    for (let i = 0; i < 20; i++) await normalProblems(env.origin);
    const rssBefore = env.rssKb();
    const metricsBefore = await metricsBytes();
    const send = (model: string) =>
      rawExchange(
        env.origin,
        requestBytes(
          "POST",
          "/v1/chat/completions",
          [["content-type", "application/json"]],
          JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }] }),
        ),
        { timeoutMs: 15_000 },
      );
    const big = "m".repeat(1 << 20);
    const round = async (tag: string) => {
      for (let batch = 0; batch < 15; batch++)
        await Promise.all(Array.from({ length: 20 }, (_, i) => send(`openai/${big}${tag}${batch}-${i}`)));
      for (let batch = 0; batch < 100; batch++)
        await Promise.all(
          Array.from({ length: 50 }, (_, i) => send(`unknown-${tag}${batch}-${i}/model-${batch * 50 + i}`)),
        );
    };
    // The first round fills what is bounded by design (the log rings, the log store's page cache, the
    // heaps' working size); a second round of as many new names must add little (a leak of the names
    // alone would be 300 MB).
    await round("a");
    const rssAfterFirst = env.rssKb();
    await round("b");
    const firstMb = (rssAfterFirst - rssBefore) / 1024;
    const secondMb = (env.rssKb() - rssAfterFirst) / 1024;
    expect(firstMb).toBeLessThan(250);
    expect(secondMb).toBeLessThan(80);
    expect(await metricsBytes()).toBeLessThan(metricsBefore + 16_384);
    expect(gatewayAlive()).toEqual([]);
    expect(await normalProblems(env.origin)).toEqual([]);
  }, 180_000);

  it("serves every wire format's normal request after it all", async () => {
    expect(await normalProblems(env.origin)).toEqual([]);
    expect((await lanesSeen(env.origin, env.lanes)).size).toBe(env.lanes);
  });
});
