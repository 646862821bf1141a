import { afterEach, describe, expect, it, vi } from "vitest";
import { hookRequest } from "../../test/helpers/hook-request.js";
import type { MetricJson } from "../observability/metric-json.js";
import { PLUGIN_DURATION_BUCKETS, PluginChain, PluginFailed } from "./chain.js";
import type { HookOutcome, Plugin, RequestVerdict } from "./plugin.js";

const request = hookRequest;

const outcome: HookOutcome = {
  status: 200,
  provider: "openai",
  model: "gpt-4o-mini",
  retries: 0,
  fallbackIndex: 0,
  usage: {
    promptTokens: 9,
    completionTokens: 3,
    cachedReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  },
};
/** A hook that records `name` in `asked`, then returns `result`. */
const saying =
  <T>(asked: string[], name: string, result: T) =>
  (): T => {
    asked.push(name);
    return result;
  };
const refusal = (code: string) => ({ refuse: { status: 403, message: `refused by ${code}`, code } });

afterEach(() => {
  vi.restoreAllMocks();
});

describe("PluginChain.empty", () => {
  it("has no plugins, no headers, every flag false, and answers nothing", () => {
    const chain = PluginChain.empty;
    expect(chain.names).toEqual([]);
    expect(chain.requestHeaders).toEqual([]);
    expect([chain.authenticates, chain.hasRequestHooks, chain.observesReplies]).toEqual([
      false,
      false,
      false,
    ]);
    expect(chain.authenticate("", "openai.chat")).toBeUndefined();
    expect(chain.onRequest(request())).toBeUndefined();
    expect(chain.metrics()).toEqual([]);
  });
});

describe("construction", () => {
  it("refuses duplicate, empty, long and ill-formed names", () => {
    expect(() => new PluginChain([{ name: "a" }, { name: "a" }])).toThrow(/two plugins are named "a"/);
    expect(() => new PluginChain([{ name: "" }])).toThrow(/1 to 64 characters/);
    expect(() => new PluginChain([{ name: "x".repeat(65) }])).toThrow(/1 to 64 characters/);
    expect(() => new PluginChain([{ name: "has space" }])).toThrow(/1 to 64 characters/);
    expect(() => new PluginChain([{ name: "a/b" }])).toThrow(/1 to 64 characters/);
    expect(new PluginChain([{ name: "Ok_name-1.2" }, { name: "x".repeat(64) }]).names).toHaveLength(2);
  });

  it("refuses hooks that are not functions and a required flag that is not boolean", () => {
    expect(() => new PluginChain([{ name: "p", onRequest: "yes" } as unknown as Plugin])).toThrow(
      'plugin "p": onRequest must be a function',
    );
    expect(() => new PluginChain([{ name: "p", required: "true" } as unknown as Plugin])).toThrow(
      'plugin "p": required must be true or false',
    );
  });

  it("lower-cases and merges the plugins' request headers, each once", () => {
    const chain = new PluginChain([
      { name: "a", requestHeaders: ["X-Trace-Id", "x-tenant"] },
      { name: "b", requestHeaders: ["x-trace-id", "OpenAI-Organization"] },
    ]);
    expect(chain.requestHeaders).toEqual(["x-trace-id", "x-tenant", "openai-organization"]);
    expect(Object.isFrozen(chain.requestHeaders)).toBe(true);
  });

  it("refuses header names that are not tokens or are too long", () => {
    for (const bad of ["x trace", "x-trace:", "", "é", "x".repeat(65)])
      expect(() => new PluginChain([{ name: "p", requestHeaders: [bad] }])).toThrow(/requestHeaders\[0\]/);
    expect(() => new PluginChain([{ name: "p", requestHeaders: "x-a" } as unknown as Plugin])).toThrow(
      /must be an array/,
    );
  });

  it("refuses hop-by-hop and credential headers: the key is seen through authenticate only", () => {
    for (const name of [
      "Authorization",
      "x-api-key",
      "x-goog-api-key",
      "api-key",
      "x-litellm-api-key",
      "cookie",
    ])
      expect(() => new PluginChain([{ name: "p", requestHeaders: [name] }])).toThrow(/credentials/);
    for (const name of ["connection", "transfer-encoding", "upgrade", "te"])
      expect(() => new PluginChain([{ name: "p", requestHeaders: [name] }])).toThrow(/hop-by-hop/);
  });

  it("refuses more than 32 header names across the plugins", () => {
    const names = (from: number, count: number) => Array.from({ length: count }, (_, i) => `x-h${from + i}`);
    expect(new PluginChain([{ name: "a", requestHeaders: names(0, 32) }]).requestHeaders).toHaveLength(32);
    expect(
      () =>
        new PluginChain([
          { name: "a", requestHeaders: names(0, 20) },
          { name: "b", requestHeaders: names(20, 13) },
        ]),
    ).toThrow(/more than 32 request headers.*"b"/);
  });

  it("sets each flag from the hooks present", () => {
    const auth = new PluginChain([{ name: "a", authenticate: () => undefined }]);
    expect([auth.authenticates, auth.hasRequestHooks, auth.observesReplies]).toEqual([true, false, false]);
    const req = new PluginChain([{ name: "a", onRequest: () => undefined }]);
    expect([req.authenticates, req.hasRequestHooks, req.observesReplies]).toEqual([false, true, false]);
    for (const hook of ["onResponse", "onStreamChunk", "onStreamEnd", "onError"]) {
      const chain = new PluginChain([{ name: "a", [hook]: () => undefined }]);
      expect([chain.authenticates, chain.hasRequestHooks, chain.observesReplies]).toEqual([
        false,
        false,
        true,
      ]);
    }
  });
});

describe("authenticate", () => {
  it("asks in order and the first refusal wins; later plugins are not asked", () => {
    const asked: string[] = [];
    const chain = new PluginChain([
      {
        name: "a",
        authenticate: (key) => {
          asked.push(`a:${key}`);
          return undefined;
        },
      },
      { name: "b", authenticate: saying(asked, "b", refusal("b")) },
      { name: "c", authenticate: saying(asked, "c", refusal("c")) },
    ]);
    expect(chain.authenticate("sk-1", "openai.chat")).toMatchObject({ code: "b" });
    expect(asked).toEqual(["a:sk-1", "b"]);
  });

  it("passes the route and accepts when nobody refuses", () => {
    const routes: string[] = [];
    const chain = new PluginChain([
      {
        name: "a",
        authenticate: (_k, route) => {
          routes.push(route);
          return undefined;
        },
      },
    ]);
    expect(chain.authenticate("k", "anthropic.messages")).toBeUndefined();
    expect(routes).toEqual(["anthropic.messages"]);
  });
});

describe("onRequest", () => {
  it("stops at the first verdict, synchronously when every plugin answers synchronously", () => {
    const asked: string[] = [];
    const chain = new PluginChain([
      { name: "a", onRequest: saying(asked, "a", undefined) },
      { name: "b", onRequest: saying(asked, "b", refusal("b")) },
      { name: "c", onRequest: saying(asked, "c", undefined) },
    ]);
    const verdict = chain.onRequest(request());
    expect(verdict).not.toBeInstanceOf(Promise);
    expect(verdict).toMatchObject({ refuse: { code: "b" } });
    expect(asked).toEqual(["a", "b"]);
  });

  it("returns undefined, not a promise, when no synchronous plugin answers", () => {
    const chain = new PluginChain([
      { name: "a", onRequest: () => undefined },
      { name: "b", onRequest: () => undefined },
    ]);
    expect(chain.onRequest(request())).toBeUndefined();
  });

  it("awaits a plugin that returns a promise, then goes on with the next", async () => {
    const asked: string[] = [];
    const answer: RequestVerdict = {
      answer: { status: 200, headers: [["content-type", "application/json"]], body: "{}" },
    };
    const chain = new PluginChain([
      { name: "a", onRequest: saying(asked, "a", undefined) },
      {
        name: "b",
        onRequest: async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          asked.push("b");
          return undefined;
        },
      },
      { name: "c", onRequest: saying(asked, "c", answer) },
      { name: "d", onRequest: saying(asked, "d", undefined) },
    ]);
    const verdict = chain.onRequest(request());
    expect(verdict).toBeInstanceOf(Promise);
    expect(asked).toEqual(["a"]);
    expect(await verdict).toBe(answer);
    expect(asked).toEqual(["a", "b", "c"]);
  });

  it("takes an asynchronous plugin's verdict as final", async () => {
    const later = vi.fn(() => undefined);
    const chain = new PluginChain([
      { name: "a", onRequest: async () => refusal("a") },
      { name: "b", onRequest: later },
    ]);
    expect(await chain.onRequest(request())).toMatchObject({ refuse: { code: "a" } });
    expect(later).not.toHaveBeenCalled();
  });

  it("shares one request object, its state and upstream headers with every plugin", () => {
    const chain = new PluginChain([
      {
        name: "a",
        onRequest: (r) => {
          r.state.set("a", 1);
          r.setUpstreamHeader("x-a", "1");
          return undefined;
        },
      },
      { name: "b", onRequest: (r) => (r.state.get("a") === 1 ? refusal("saw-a") : undefined) },
    ]);
    const r = request();
    expect(chain.onRequest(r)).toMatchObject({ refuse: { code: "saw-a" } });
    expect(r.upstream).toEqual([["x-a", "1"]]);
  });
});

describe("reply hooks", () => {
  it("call every plugin that has the hook, in order", () => {
    const calls: string[] = [];
    const record =
      (name: string) =>
      (...args: unknown[]) => {
        calls.push(`${name}:${args.length}`);
      };
    const chain = new PluginChain([
      { name: "a", onResponse: record("a.response"), onStreamChunk: record("a.chunk") },
      { name: "b" },
      {
        name: "c",
        onResponse: record("c.response"),
        onStreamEnd: record("c.end"),
        onError: record("c.error"),
      },
    ]);
    const r = request();
    chain.onResponse(r, outcome, "{}");
    chain.onStreamChunk(r, "data: {}\n\n");
    chain.onStreamEnd(r, outcome);
    chain.onError(r, { ...outcome, status: 502, code: "bad", errorClass: "provider", message: "m" });
    expect(calls).toEqual(["a.response:3", "c.response:3", "a.chunk:2", "c.end:2", "c.error:2"]);
  });
});

describe("errors", () => {
  const boom = () => {
    throw new Error("boom");
  };

  it("isolate a plugin that is not required: counted, logged once a minute, the next plugin still runs", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const chain = new PluginChain([
      { name: "flaky", authenticate: boom, onRequest: boom, onResponse: boom, onStreamChunk: boom },
      { name: "next", onRequest: () => refusal("next") },
    ]);
    const r = request();
    expect(chain.authenticate("sk-secret", "openai.chat")).toBeUndefined();
    expect(chain.onRequest(r)).toMatchObject({ refuse: { code: "next" } });
    chain.onRequest(r);
    chain.onResponse(r, outcome, "body-secret");
    chain.onStreamChunk(r, "chunk");
    expect(log).toHaveBeenCalledTimes(1);
    const line = String(log.mock.calls[0]?.[0]);
    expect(line).toContain("plugin flaky failed in authenticate");
    expect(line).toContain("boom");
    expect(line).not.toContain("sk-secret");
    expect(errorsOf(chain.metrics())).toEqual({
      "flaky authenticate": 1,
      "flaky onRequest": 2,
      "flaky onResponse": 1,
      "flaky onStreamChunk": 1,
      "next onRequest": 0,
    });
  });

  it("log again after a minute, with the count of failures left unlogged", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
    let now = 1_000;
    vi.spyOn(performance, "now").mockImplementation(() => now);
    const chain = new PluginChain([{ name: "flaky", onStreamEnd: boom }]);
    for (let i = 0; i < 4; i++) chain.onStreamEnd(request(), outcome);
    now += 60_000;
    chain.onStreamEnd(request(), outcome);
    expect(log).toHaveBeenCalledTimes(2);
    expect(String(log.mock.calls[1]?.[0])).toContain("3 more failures in the last minute were not logged");
  });

  it("stop the request as PluginFailed when a required plugin fails in authenticate, onRequest or onResponse", async () => {
    const chain = new PluginChain([
      { name: "strict", required: true, authenticate: boom, onRequest: boom, onResponse: boom },
    ]);
    const r = request();
    for (const [call, hook] of [
      [() => chain.authenticate("k", "openai.chat"), "authenticate"],
      [() => chain.onRequest(r), "onRequest"],
      [() => chain.onResponse(r, outcome, "{}"), "onResponse"],
    ] as const) {
      let thrown: unknown;
      try {
        call();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(PluginFailed);
      expect(thrown).toMatchObject({ plugin: "strict", hook, message: expect.stringContaining("boom") });
    }
    const rejecting = new PluginChain([
      { name: "strict", required: true, onRequest: async () => Promise.reject(new Error("later")) },
    ]);
    await expect(rejecting.onRequest(r)).rejects.toMatchObject({ plugin: "strict", hook: "onRequest" });
    expect(errorsOf(chain.metrics())["strict onRequest"]).toBe(1);
  });

  it("only count a required plugin's failures in stream, end and error hooks", () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const chain = new PluginChain([
      { name: "strict", required: true, onStreamChunk: boom, onStreamEnd: boom, onError: boom },
    ]);
    const r = request();
    expect(() => {
      chain.onStreamChunk(r, "x");
      chain.onStreamEnd(r, outcome);
      chain.onError(r, { ...outcome, status: 500, code: "c", errorClass: "gateway", message: "m" });
    }).not.toThrow();
    expect(errorsOf(chain.metrics())).toEqual({
      "strict onStreamChunk": 1,
      "strict onStreamEnd": 1,
      "strict onError": 1,
    });
  });

  it("count a rejected asynchronous onRequest and go on with the next plugin", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const chain = new PluginChain([
      { name: "a", onRequest: async () => Promise.reject(new Error("no")) },
      { name: "b", onRequest: () => refusal("b") },
    ]);
    expect(await chain.onRequest(request())).toMatchObject({ refuse: { code: "b" } });
    expect(errorsOf(chain.metrics())["a onRequest"]).toBe(1);
  });

  it("count a hook's rejected promise where none was expected, so it never goes unhandled", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const chain = new PluginChain([
      { name: "a", onStreamEnd: (async () => Promise.reject(new Error("no"))) as () => void },
    ]);
    chain.onStreamEnd(request(), outcome);
    await new Promise((resolve) => setImmediate(resolve));
    expect(errorsOf(chain.metrics())["a onStreamEnd"]).toBe(1);
  });

  it("count a malformed verdict as the plugin's failure and ignore it", () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const chain = new PluginChain([
      { name: "bad-status", onRequest: () => ({ refuse: { status: 200, message: "m", code: "c" } }) },
      { name: "bad-shape", onRequest: () => ({ deny: true }) as unknown as RequestVerdict },
      { name: "bad-auth", authenticate: () => ({ refuse: "no" }) as unknown as undefined },
    ]);
    expect(chain.onRequest(request())).toBeUndefined();
    expect(chain.authenticate("k", "openai.chat")).toBeUndefined();
    expect(errorsOf(chain.metrics())).toEqual({
      "bad-status onRequest": 1,
      "bad-shape onRequest": 1,
      "bad-auth authenticate": 1,
    });
  });
});

describe("metrics", () => {
  it("time every call into per plugin and hook histograms from 1 µs to 1 s", async () => {
    const chain = new PluginChain([
      { name: "a", onRequest: () => undefined, onStreamEnd: () => undefined },
      { name: "b", authenticate: () => undefined },
    ]);
    chain.onRequest(request());
    chain.onRequest(request());
    chain.onStreamEnd(request(), outcome);
    chain.authenticate("k", "openai.chat");
    const [duration, errors] = chain.metrics() as [MetricJson, MetricJson];
    expect(duration).toMatchObject({ name: "switchyard_plugin_duration_seconds", type: "histogram" });
    expect(errors).toMatchObject({ name: "switchyard_plugin_errors_total", type: "counter" });
    const counts = Object.fromEntries(
      duration.values
        .filter((v) => v.metricName === "switchyard_plugin_duration_seconds_count")
        .map((v) => [`${v.labels.plugin} ${v.labels.hook}`, v.value]),
    );
    expect(counts).toEqual({ "a onRequest": 2, "a onStreamEnd": 1, "b authenticate": 1 });
    const bounds = duration.values
      .filter((v) => v.metricName?.endsWith("_bucket") && v.labels.plugin === "b")
      .map((v) => v.labels.le);
    expect(bounds).toEqual([...PLUGIN_DURATION_BUCKETS, "+Inf"]);
    expect(PLUGIN_DURATION_BUCKETS[0]).toBe(0.000001);
    expect(PLUGIN_DURATION_BUCKETS.at(-1)).toBe(1);
  });

  it("time an asynchronous onRequest until it settles", async () => {
    const chain = new PluginChain([
      {
        name: "slow",
        onRequest: () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 30)),
      },
    ]);
    await chain.onRequest(request());
    const sum = chain
      .metrics()[0]
      ?.values.find((v) => v.metricName === "switchyard_plugin_duration_seconds_sum")?.value;
    expect(sum).toBeGreaterThan(0.02);
  });
});

describe("close", () => {
  it("closes every plugin and logs a failure instead of throwing it", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const closed: string[] = [];
    const chain = new PluginChain([
      { name: "a", close: () => void closed.push("a") },
      {
        name: "b",
        close: async () => {
          throw new Error("stuck");
        },
      },
      { name: "c", close: async () => void closed.push("c") },
    ]);
    await expect(chain.close()).resolves.toBeUndefined();
    expect(closed).toEqual(["a", "c"]);
    expect(String(log.mock.calls[0]?.[0])).toContain("plugin b failed to close");
  });
});

function errorsOf(metrics: MetricJson[]): Record<string, number> {
  const errors = metrics.find((m) => m.name === "switchyard_plugin_errors_total");
  return Object.fromEntries(
    (errors?.values ?? []).map((v) => [`${v.labels.plugin} ${v.labels.hook}`, v.value]),
  );
}
