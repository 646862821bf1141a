import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { LocalHealth } from "../../test/helpers/local-health.js";
import { recordingReply } from "../../test/helpers/recording-reply.js";
import { DEFAULT_CLIENT } from "../config/defaults.js";
import type { GatewayConfig, ProviderConfig, RoutingConfig } from "../config/types.js";
import type { Reply, ResponseHeaders } from "../http/exchange.js";
import { ExchangeAccount } from "../observability/account.js";
import { LaneMetrics } from "../observability/lane-metrics.js";
import { createUpstreamBuffer } from "../shm/upstream.js";
import { ByteRelay, openAIGatewayError as errorBody, OPENAI_ERRORS } from "../upstream/byte-relay.js";
import { closeAllPools, dispatchUpstream } from "../upstream/pools.js";
import type { UpstreamFailure } from "../upstream/report.js";
import {
  AttemptLoop,
  type AttemptReport,
  chooseUntried,
  failureKind,
  needsLoop,
  runAttempts,
} from "./attempts.js";
import { candidatesFor, type ModelPlan, type PlanCandidate } from "./candidates.js";
import type { UpstreamHealth } from "./health.js";
import type { FailureKind } from "./retry.js";
import { compileRoutingTable, type RoutingTable } from "./table.js";
import { SharedUpstreamHealth } from "./upstream-health.js";

function provider(name: string, keys: number, maxRetries = 0): ProviderConfig {
  return {
    name,
    kind: "openai",
    keys: Array.from({ length: keys }, (_, i) => ({
      name: `k${i}`,
      value: `sk-${i}`,
      models: [],
      weight: 1,
    })),
    network: {
      baseUrl: "https://api.example.com",
      extraHeaders: {},
      requestTimeoutMs: 30_000,
      maxRetries,
      retryBackoffInitialMs: 100,
      retryBackoffMaxMs: 1000,
    },
    concurrency: { concurrency: 10, bufferSize: 10 },
  };
}

const ROUTING: RoutingConfig = {
  strategy: "weighted",
  numRetries: 2,
  retryBackoffInitialMs: 100,
  retryBackoffMaxMs: 1000,
  timeoutMs: 0,
  allowedFails: 3,
  cooldownMs: 1000,
  fallbacks: { "gpt-4o": ["backup"] },
  contextWindowFallbacks: { "gpt-4o": ["big"] },
  contentPolicyFallbacks: {},
  retryPolicy: {},
};

function table(routing: RoutingConfig | undefined, health?: UpstreamHealth): RoutingTable {
  const config: GatewayConfig = {
    providers: { a: provider("a", 2), b: provider("b", 1) },
    client: { ...DEFAULT_CLIENT, maxRequestBodyBytes: 1 << 20 },
    modelGroups: {
      "gpt-4o": [{ provider: "a", model: "gpt-4o", weight: 1, order: 0 }],
      backup: [{ provider: "b", model: "gpt-4o-mini", weight: 1, order: 0 }],
      big: [{ provider: "b", model: "gpt-4.1", weight: 1, order: 0 }],
    },
    ...(routing !== undefined ? { routing } : {}),
    source: "test",
  };
  return compileRoutingTable(config, health);
}

/** A reply that records what the loop itself wrote. */
function fakeReply() {
  return recordingReply();
}

/** A relay's report of a failure that routing reads as `kind`. */
function failure(
  kind: FailureKind,
  status: number,
  retryAfterMs = -1,
): UpstreamFailure & { delivered: ResponseHeaders[] } {
  const delivered: ResponseHeaders[] = [];
  const transport = kind === "timeout" || kind === "connection";
  const code =
    kind === "context-window"
      ? "context_length_exceeded"
      : kind === "content-policy"
        ? "content_policy_violation"
        : null;
  const reported = {
    source: transport ? ("transport" as const) : ("reply" as const),
    status,
    code,
    message: "",
    timedOut: kind === "timeout",
    retryAfterMs,
    delivered,
    deliver: (headers: ResponseHeaders) => delivered.push(headers),
  };
  expect(failureKind(reported)).toBe(kind);
  return reported;
}

interface Sent {
  candidate: PlanCandidate;
  hook: AttemptReport;
}

interface RunOptions {
  fallbacks?: string[];
  deadlineMs?: number;
  /** Also sends the attempt, answering on `reply`. */
  send?: (candidate: PlanCandidate, hook: AttemptReport, reply: Reply) => void;
}

function run(t: RoutingTable, plan: ModelPlan, options: RunOptions = {}) {
  const sent: Sent[] = [];
  const reply = fakeReply();
  const metrics = new LaneMetrics();
  const attempts = new AttemptLoop({
    table: t,
    metrics,
    reply,
    startedAt: performance.now(),
    plan,
    fallbacks: options.fallbacks,
    deadlineMs: options.deadlineMs ?? 0,
    errorBody,
    hooks: undefined,
    send: (candidate, hook) => {
      sent.push({ candidate, hook });
      options.send?.(candidate, hook, reply);
    },
    resolve: (model) => candidatesFor(t, model),
  });
  attempts.start();
  return { sent, reply, metrics };
}

const planOf = (t: RoutingTable, name: string) => candidatesFor(t, name) as ModelPlan;
const header = (headers: ResponseHeaders, name: string) => headers.find(([n]) => n === name)?.[1];

afterEach(() => {
  vi.useRealTimers();
});

describe("the attempt loop", () => {
  it("moves a 429 to the other key at once and reports both attempts to the shared state", () => {
    const health = new LocalHealth();
    const t = table(ROUTING, health);
    const { sent, metrics } = run(t, planOf(t, "gpt-4o"));
    expect(sent).toHaveLength(1);
    sent[0]?.hook.failed(failure("rate-limit", 429, 20_000));
    expect(sent).toHaveLength(2);
    expect(sent.map((s) => s.candidate.keyIndex)).toEqual([0, 1]);
    expect(header(sent[1]?.hook.headers ?? [], "x-switchyard-retries")).toBe("1");
    expect([metrics.retries, metrics.fallbacks]).toEqual([1, 0]);
    sent[1]?.hook.settled(200);
    expect(health.log).toEqual([
      "started a/gpt-4o#0",
      "finished a/gpt-4o#0 failure",
      "started a/gpt-4o#1",
      "finished a/gpt-4o#1 ok",
    ]);
    expect(health.released).toBe(2);
  });

  it("waits out Retry-After once every key was tried", () => {
    vi.useFakeTimers();
    const t = table(ROUTING, new LocalHealth());
    const { sent } = run(t, planOf(t, "gpt-4o"));
    sent[0]?.hook.failed(failure("rate-limit", 429, 2000));
    sent[1]?.hook.failed(failure("rate-limit", 429, 2000));
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(1999);
    expect(sent).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sent).toHaveLength(3);
  });

  it("does not wait out a Retry-After of more than a minute", () => {
    const t = table({ ...ROUTING, fallbacks: {} }, new LocalHealth());
    const { sent } = run(t, planOf(t, "gpt-4o"));
    sent[0]?.hook.failed(failure("rate-limit", 429, 120_000));
    const last = failure("rate-limit", 429, 120_000);
    sent[1]?.hook.failed(last);
    expect(sent).toHaveLength(2);
    expect(last.delivered).toHaveLength(1);
  });

  it("never retries the client's own error, even with fallbacks", () => {
    const t = table(ROUTING, new LocalHealth());
    const { sent } = run(t, planOf(t, "gpt-4o"));
    const bad = failure("client", 400);
    sent[0]?.hook.failed(bad);
    expect(sent).toHaveLength(1);
    expect(bad.delivered).toHaveLength(1);
  });

  it("moves down the fallback chain once the retries are spent, and delivers the last failure at its end", () => {
    vi.useFakeTimers();
    const t = table({ ...ROUTING, numRetries: 0 }, new LocalHealth());
    const { sent, metrics } = run(t, planOf(t, "gpt-4o"));
    sent[0]?.hook.failed(failure("server", 503));
    expect(sent[1]?.candidate.provider.name).toBe("b");
    expect(header(sent[1]?.hook.headers ?? [], "x-switchyard-fallback-index")).toBe("1");
    expect([metrics.retries, metrics.fallbacks]).toEqual([0, 1]);
    const last = failure("server", 500);
    sent[1]?.hook.failed(last);
    expect(sent).toHaveLength(2);
    expect(header(last.delivered[0] ?? [], "x-switchyard-provider")).toBe("b");
  });

  it("takes the context-window chain for a context-window error", () => {
    const t = table(ROUTING, new LocalHealth());
    const { sent } = run(t, planOf(t, "gpt-4o"));
    sent[0]?.hook.failed(failure("context-window", 400));
    expect(sent[1]?.candidate.model).toBe("gpt-4.1");
  });

  it("prefers the request's own fallbacks over the configured chain", () => {
    const t = table({ ...ROUTING, numRetries: 0 }, new LocalHealth());
    const { sent } = run(t, planOf(t, "gpt-4o"), { fallbacks: ["big"] });
    sent[0]?.hook.failed(failure("server", 502));
    expect(sent[1]?.candidate.model).toBe("gpt-4.1");
  });

  it("gives up at once when the backoff would not fit in the deadline", () => {
    vi.useFakeTimers();
    const t = table(
      { ...ROUTING, retryBackoffInitialMs: 10_000, retryBackoffMaxMs: 10_000 },
      new LocalHealth(),
    );
    const plan = planOf(t, "backup");
    vi.spyOn(Math, "random").mockReturnValue(0.99);
    const { sent } = run(t, plan, { deadlineMs: 1000 });
    const last = failure("server", 503);
    sent[0]?.hook.failed(last);
    // A 9.9 s backoff cannot fit in the 1 s left: the last failure is the answer at once.
    expect(sent).toHaveLength(1);
    expect(last.delivered).toHaveLength(1);
    vi.restoreAllMocks();
  });

  it("retries after the backoff, and answers 504 when the deadline then passes", () => {
    vi.useFakeTimers();
    const t = table(
      { ...ROUTING, retryBackoffInitialMs: 10_000, retryBackoffMaxMs: 10_000 },
      new LocalHealth(),
    );
    vi.spyOn(Math, "random").mockReturnValue(0.1);
    const { sent, reply } = run(t, planOf(t, "backup"), { deadlineMs: 5000 });
    sent[0]?.hook.failed(failure("server", 503));
    vi.advanceTimersByTime(999);
    expect(sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sent).toHaveLength(2);
    expect(header(sent[1]?.hook.headers ?? [], "x-switchyard-retries")).toBe("1");
    // Nothing attached: the attempt is still being built when the deadline passes.
    vi.advanceTimersByTime(4000);
    sent[1]?.hook.failed(failure("timeout", 504));
    expect(reply.status).toBe(504);
    vi.restoreAllMocks();
  });

  it("aborts the attempt in flight when the deadline passes, then answers 504", () => {
    vi.useFakeTimers();
    const t = table(ROUTING, new LocalHealth());
    const { sent, reply } = run(t, planOf(t, "gpt-4o"), { deadlineMs: 500 });
    const abort = vi.fn();
    sent[0]?.hook.attach({ abort });
    vi.advanceTimersByTime(500);
    expect(abort).toHaveBeenCalledOnce();
    sent[0]?.hook.failed(failure("timeout", 504));
    expect(sent).toHaveLength(1);
    expect(reply.status).toBe(504);
    expect(JSON.parse(reply.body).error.code).toBe("request_timeout");
  });

  it("answers an admission refusal with its status and Retry-After", () => {
    const health = new LocalHealth();
    health.refuse = { status: 429, retryAfterSeconds: 3 };
    const t = table(ROUTING, health);
    const { sent, reply, metrics } = run(t, planOf(t, "gpt-4o"));
    expect(sent).toHaveLength(0);
    expect(reply.status).toBe(429);
    expect(header(reply.headers, "retry-after")).toBe("3");
    expect(health.log).toEqual(["withdrawn a/gpt-4o#0"]);
    const refusals = metrics.snapshot().find((m) => m.name === "switchyard_refusals_total")?.values;
    expect(refusals).toEqual([{ value: 1, labels: { reason: "rate_limit_exceeded" } }]);
  });

  it("answers 503 with the time left of the soonest cooldown when every circuit on the way is open", () => {
    const health = new LocalHealth();
    health.open.add("a/gpt-4o#0").add("a/gpt-4o#1").add("b/gpt-4o-mini#0");
    health.cooldownLeftMs = 29_001;
    const t = table(ROUTING, health);
    const { sent, reply } = run(t, planOf(t, "gpt-4o"));
    expect(sent).toHaveLength(0);
    expect(reply.status).toBe(503);
    expect(header(reply.headers, "retry-after")).toBe("30");
    expect(JSON.parse(reply.body).error.message).toContain("retry after 30 s");
  });

  it("skips open circuits, and falls back when every candidate is open", () => {
    const health = new LocalHealth();
    health.open.add("a/gpt-4o#0").add("a/gpt-4o#1");
    const t = table(ROUTING, health);
    const { sent } = run(t, planOf(t, "gpt-4o"));
    expect(sent[0]?.candidate.provider.name).toBe("b");
  });
});

describe("what counts against a provider's health", () => {
  afterAll(() => closeAllPools());

  /** Breakers that open on the first failure, for 30 s. */
  const breakers = () =>
    new SharedUpstreamHealth(createUpstreamBuffer({ providers: 16, deployments: 64 }), {
      ...ROUTING,
      allowedFails: 1,
      cooldownMs: 30_000,
    });

  it("not an attempt cut short by the client's own deadline", () => {
    vi.useFakeTimers();
    const health = new LocalHealth();
    const t = table(ROUTING, health);
    const { sent, reply } = run(t, planOf(t, "backup"), { deadlineMs: 1 });
    sent[0]?.hook.attach({ abort: () => {} });
    vi.advanceTimersByTime(1);
    sent[0]?.hook.failed(failure("timeout", 504));
    expect(reply.status).toBe(504);
    expect(health.log.at(-1)).toBe("finished b/gpt-4o-mini#0 client-error");
  });

  it("but an attempt cut short by the gateway's own deadline (router timeout) is a provider timeout", () => {
    vi.useFakeTimers();
    const health = new LocalHealth();
    const t = table({ ...ROUTING, timeoutMs: 500 }, health);
    const { sent, reply } = run(t, planOf(t, "backup"), { deadlineMs: 500 });
    sent[0]?.hook.attach({ abort: () => {} });
    vi.advanceTimersByTime(500);
    sent[0]?.hook.failed(failure("timeout", 504));
    expect(reply.status).toBe(504);
    expect(health.log.at(-1)).toBe("finished b/gpt-4o-mini#0 failure");
  });

  it("and a provider timeout under a client deadline still counts when the deadline did not cut it", () => {
    const health = new LocalHealth();
    const t = table(ROUTING, health);
    const { sent } = run(t, planOf(t, "backup"), { deadlineMs: 60_000 });
    sent[0]?.hook.failed(failure("timeout", 504));
    expect(health.log.at(-1)).toBe("finished b/gpt-4o-mini#0 failure");
  });

  it("not the client leaving", () => {
    const health = new LocalHealth();
    const t = table(ROUTING, health);
    const { sent } = run(t, planOf(t, "backup"));
    sent[0]?.hook.settled(499);
    expect(health.log.at(-1)).toBe("finished b/gpt-4o-mini#0 client-error");
  });

  it("not a header the upstream client refuses before sending: the client gets a 400 and the circuit stays closed", () => {
    const health = breakers();
    const t = table(ROUTING, health);
    const metrics = new LaneMetrics();
    for (let i = 0; i < 5; i++) {
      const { reply } = run(t, planOf(t, "backup"), {
        send: (candidate, hook, reply) => {
          const account = new ExchangeAccount(metrics, "b", candidate.model, performance.now());
          const relay = new ByteRelay(reply, "b", "sk-0", account, OPENAI_ERRORS, hook, undefined, undefined);
          // The client refuses the control byte before taking a connection: the port is never dialled.
          dispatchUpstream(
            "http://127.0.0.1:9",
            undefined,
            {
              path: "/v1/chat/completions",
              method: "POST",
              headers: [],
              extraHeaders: ["x-request-id", "a\u0001b"],
              body: "{}",
              headersTimeout: 1000,
              bodyTimeout: 1000,
            },
            relay,
            account,
          );
        },
      });
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.body).error.message).toContain(
        "the header x-request-id has a character HTTP does not allow",
      );
    }
    const candidate = planOf(t, "backup").candidates[0] as PlanCandidate;
    expect(health.circuit(candidate)).toBe("closed");
  });

  it("not the gateway running out of sockets: the client gets a 503 to retry, and the circuit stays closed", () => {
    const health = breakers();
    const t = table(ROUTING, health);
    const metrics = new LaneMetrics();
    const unsent = { abort() {}, pause() {}, resume() {} };
    for (let i = 0; i < 5; i++) {
      const { reply } = run(t, planOf(t, "backup"), {
        send: (candidate, hook, reply) => {
          const account = new ExchangeAccount(metrics, "b", candidate.model, performance.now());
          const relay = new ByteRelay(reply, "b", "sk-0", account, OPENAI_ERRORS, hook, undefined, undefined);
          relay.onRequestStart(unsent);
          relay.onResponseError(
            unsent,
            Object.assign(new Error("connect EMFILE 10.0.0.1:443"), { code: "EMFILE" }),
          );
        },
      });
      expect(reply.status).toBe(503);
      expect(reply.headers).toContainEqual(["retry-after", "1"]);
      expect(JSON.parse(reply.body).error.code).toBe("overloaded");
    }
    const candidate = planOf(t, "backup").candidates[0] as PlanCandidate;
    expect(health.circuit(candidate)).toBe("closed");
  });

  it("but a provider's 500 opens the circuit, and the next request's Retry-After is the cooldown", () => {
    const health = breakers();
    const t = table({ ...ROUTING, fallbacks: {} }, health);
    const first = run(t, planOf(t, "backup"));
    first.sent[0]?.hook.failed(failure("server", 500));
    const { sent, reply } = run(t, planOf(t, "backup"));
    expect(sent).toHaveLength(0);
    expect(reply.status).toBe(503);
    const retryAfter = Number(header(reply.headers, "retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(29);
    expect(retryAfter).toBeLessThanOrEqual(30);
  });
});

describe("needsLoop", () => {
  it("is false only for one candidate with nothing to retry and no deadline", () => {
    const plain = table(undefined);
    expect(needsLoop(plain, planOf(plain, "backup"), undefined, 0)).toBe(false);
    expect(needsLoop(plain, planOf(plain, "backup"), undefined, 1000)).toBe(true);
    expect(needsLoop(plain, planOf(plain, "backup"), ["gpt-4o"], 0)).toBe(true);
    expect(needsLoop(plain, planOf(plain, "gpt-4o"), undefined, 0)).toBe(true);
    const routed = table(ROUTING);
    expect(needsLoop(routed, planOf(routed, "backup"), undefined, 0)).toBe(true);
    const shared = table(undefined, new LocalHealth());
    expect(needsLoop(shared, planOf(shared, "backup"), undefined, 0)).toBe(false);
  });
});

describe("the sole attempt (one candidate, nothing to retry) with shared upstream state", () => {
  function runLone(health: LocalHealth) {
    const t = table(undefined, health);
    const sent: { candidate: PlanCandidate; hook: AttemptReport }[] = [];
    const reply = fakeReply();
    const metrics = new LaneMetrics();
    runAttempts({
      table: t,
      metrics,
      reply,
      startedAt: performance.now(),
      plan: planOf(t, "backup"),
      fallbacks: undefined,
      deadlineMs: 0,
      errorBody,
      hooks: undefined,
      send: (candidate, hook) => sent.push({ candidate, hook }),
      resolve: (model) => candidatesFor(t, model),
    });
    return { sent, reply, metrics };
  }

  function only(sent: { candidate: PlanCandidate; hook: AttemptReport }[]) {
    expect(sent).toHaveLength(1);
    const [first] = sent;
    if (first === undefined) throw new Error("the sole attempt was not sent");
    return { candidate: first.candidate, hook: first.hook };
  }

  it("is admitted, started and reported once when it answers", () => {
    const health = new LocalHealth();
    const { candidate, hook } = only(runLone(health).sent);
    expect(hook.headers).toBe(candidate.firstHeaders);
    hook.settled(200);
    hook.settled(200);
    expect(health.log).toEqual(["started b/gpt-4o-mini#0", "finished b/gpt-4o-mini#0 ok"]);
    expect(health.released).toBe(1);
  });

  it("answers its failure to the client with the first attempt's headers, and counts it against the upstream", () => {
    const health = new LocalHealth();
    const { candidate, hook } = only(runLone(health).sent);
    const f = failure("server", 502);
    hook.failed(f);
    expect(f.delivered).toEqual([candidate.firstHeaders]);
    expect(health.log.at(-1)).toBe("finished b/gpt-4o-mini#0 failure");
    expect(health.released).toBe(1);
  });

  it("does not report a client's own mistake against the upstream", () => {
    const health = new LocalHealth();
    only(runLone(health).sent).hook.failed(failure("client", 400));
    expect(health.log.at(-1)).toBe("finished b/gpt-4o-mini#0 client-error");
  });

  it("is refused with 503 and the cooldown's time left as Retry-After when its circuit is open", () => {
    const health = new LocalHealth();
    health.open.add("b/gpt-4o-mini#0");
    health.cooldownLeftMs = 30_000;
    const { sent, reply, metrics } = runLone(health);
    expect(sent).toHaveLength(0);
    expect(reply.status).toBe(503);
    expect(header(reply.headers, "retry-after")).toBe("30");
    expect(header(reply.headers, "x-switchyard-provider")).toBe("b");
    expect(JSON.parse(reply.body).error.code).toBe("overloaded");
    expect(JSON.stringify(metrics.snapshot())).toContain('"status":"503"');
  });

  it("passes on the concurrency limit's refusal, and hands back what it chose (a half-open probe's token)", () => {
    const health = new LocalHealth();
    health.refuse = { status: 429, retryAfterSeconds: 3 };
    const { sent, reply } = runLone(health);
    expect(sent).toHaveLength(0);
    expect(reply.status).toBe(429);
    expect(header(reply.headers, "retry-after")).toBe("3");
    expect(health.log).toEqual(["withdrawn b/gpt-4o-mini#0"]);
  });
});

describe("chooseUntried", () => {
  it("picks by weight among the untried, -1 when all were tried", () => {
    const t = table(undefined);
    const candidates = planOf(t, "gpt-4o").candidates;
    expect(chooseUntried(candidates, new Set(), () => 0)).toBe(0);
    expect(chooseUntried(candidates, new Set(), () => 0.99)).toBe(1);
    expect(chooseUntried(candidates, new Set([0]), () => 0)).toBe(1);
    expect(chooseUntried(candidates, new Set([0, 1]), () => 0)).toBe(-1);
  });
});
