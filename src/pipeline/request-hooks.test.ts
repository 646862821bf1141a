import { describe, expect, it } from "vitest";
import { PluginChain } from "../hooks/chain.js";
import type { RequestTrace } from "../observability/tracing/request-trace.js";
import type { CacheRecorder } from "./cache/cache-recorder.js";
import type { Admission } from "./governance/admission.js";
import { RequestHooks } from "./request-hooks.js";
import type { LoggedRequest } from "./request-log.js";

/** A request's hooks with what follows it: a plugin chain, governance's admission, a span, its record. */
function hooks(parts: {
  chain?: PluginChain;
  admission?: Admission;
  trace?: RequestTrace;
  log?: LoggedRequest;
}): RequestHooks {
  return new RequestHooks(
    parts.chain ?? PluginChain.empty,
    "req-1",
    "/v1/chat/completions",
    "openai",
    "m",
    false,
    Buffer.from("{}"),
    [],
    [],
    parts.admission,
    parts.trace,
    parts.log,
  );
}

describe("when a request's hooks need a whole reply's usage", () => {
  it("not at once when only the request log follows the request: its record is written after the reply", () => {
    expect(hooks({ log: {} as LoggedRequest }).usageNow).toBe(false);
  });

  it("at once for governance's settlement, a span, the cache's recorder or a plugin that sees replies", () => {
    expect(hooks({ admission: {} as Admission }).usageNow).toBe(true);
    expect(hooks({ trace: {} as RequestTrace }).usageNow).toBe(true);
    const cached = hooks({ log: {} as LoggedRequest });
    cached.cacheRecorder = {} as CacheRecorder;
    expect(cached.usageNow).toBe(true);
    const chain = new PluginChain([{ name: "meter", onResponse() {} }]);
    expect(hooks({ chain }).usageNow).toBe(true);
  });
});
