import { describe, expect, it } from "vitest";
import { recordingReply } from "../../test/helpers/recording-reply.js";
import { ExchangeAccount } from "../observability/account.js";
import { LaneMetrics } from "../observability/lane-metrics.js";
import type { Usage } from "../observability/usage.js";
import { ByteRelay, OPENAI_ERRORS } from "./byte-relay.js";
import type { UpstreamController } from "./h1/exchange.js";
import type { ExchangeReport, ReplyObserver } from "./report.js";

const controller: UpstreamController = { abort() {}, pause() {}, resume() {} };
const report: ExchangeReport = {
  headers: [],
  attach() {},
  failed: (failure) => failure.deliver([]),
  settled() {},
};
const REPLY = Buffer.from(
  JSON.stringify({
    id: "c-1",
    choices: [],
    usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
  }),
);

/** A gathered reply relayed to an observer that does or does not need its usage with it. */
function relayWhole(usageNow: boolean) {
  const reply = recordingReply();
  const account = new ExchangeAccount(new LaneMetrics(), "openai", "m", performance.now());
  const seen: { promptTokens: number; sent: boolean; usage: Usage | undefined }[] = [];
  const observer: ReplyObserver = {
    usageNow,
    response: (_status, _body, usage) =>
      seen.push({ promptTokens: usage?.prompt ?? -1, sent: reply.body !== "", usage }),
    chunk() {},
    streamEnd() {},
    error() {},
  };
  const relay = new ByteRelay(reply, "openai", "", account, OPENAI_ERRORS, report, observer, undefined);
  relay.onRequestStart(controller);
  relay.onResponseStart(controller, 200, {
    "content-type": "application/json",
    "content-length": String(REPLY.length),
  });
  relay.onResponseData(controller, REPLY);
  relay.onResponseEnd();
  return { reply, seen };
}

describe("a whole reply's usage and its observer", () => {
  it("is read before the reply goes when the observer reads it then (a plugin, governance, a span, the cache)", () => {
    const { reply, seen } = relayWhole(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ promptTokens: 11, sent: false });
    expect(reply.body).toBe(REPLY.toString());
  });

  it("is read after the reply has gone when only the request log waits for it, into the object it was given", () => {
    const { reply, seen } = relayWhole(false);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ promptTokens: 0, sent: false });
    expect(reply.body).toBe(REPLY.toString());
    // Filled once the relay has finished, before the log's record is written in a later microtask.
    expect(seen[0]?.usage).toMatchObject({ prompt: 11, completion: 7 });
  });
});
