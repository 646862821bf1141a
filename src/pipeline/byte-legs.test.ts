import { describe, expect, it } from "vitest";
import { byteLegs } from "./byte-legs.js";

const ANTHROPIC_ERRORS = byteLegs.anthropic.errors;

describe("errors on the Anthropic byte leg", () => {
  it("relays Anthropic's own error bodies byte for byte", () => {
    const body =
      '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}';
    expect(ANTHROPIC_ERRORS.provider(529, "anthropic", Buffer.from(body))).toBe(body);
  });

  it("rewraps other bodies in Anthropic's shape", () => {
    expect(
      JSON.parse(ANTHROPIC_ERRORS.provider(502, "anthropic", Buffer.from("<html>Bad Gateway</html>"))),
    ).toEqual({
      type: "error",
      error: { type: "api_error", message: "anthropic: <html>Bad Gateway</html>" },
    });
    expect(
      JSON.parse(
        ANTHROPIC_ERRORS.provider(429, "anthropic", Buffer.from('{"error":{"message":"slow down"}}')),
      ),
    ).toEqual({ type: "error", error: { type: "rate_limit_error", message: "slow down" } });
  });

  it("words the gateway's own failures in Anthropic's shape, as JSON and as an SSE event", () => {
    const failure = {
      status: 504,
      message: "anthropic did not answer in time",
      type: "timeout_error",
      code: "upstream_timeout",
    };
    expect(JSON.parse(ANTHROPIC_ERRORS.gateway(failure))).toEqual({
      type: "error",
      error: { type: "timeout_error", message: "anthropic did not answer in time" },
    });
    expect(ANTHROPIC_ERRORS.sseEvent({ ...failure, status: 502, type: "api_error" })).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"anthropic did not answer in time"}}\n\n',
    );
  });
});
