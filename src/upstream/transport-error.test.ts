import { describe, expect, it } from "vitest";
import { UpstreamError } from "./h1/errors.js";
import { isLocalExhaustion, isRefusedRequest, transportError } from "./transport-error.js";

describe("transportError", () => {
  it("maps the client's timeouts to 504, naming the phase, and connection failures to 502", () => {
    const headers = new UpstreamError("UPSTREAM_HEADERS_TIMEOUT", "no reply within 10 ms");
    expect(transportError("openai", headers, false)).toMatchObject({
      status: 504,
      code: "upstream_timeout",
      message: "openai did not answer in time (waiting for the response).",
    });
    const body = new UpstreamError("UPSTREAM_BODY_TIMEOUT", "no reply bytes for 10 ms");
    expect(transportError("openai", body, true).message).toContain("between response chunks");
    const connect = new UpstreamError("UPSTREAM_CONNECT_TIMEOUT", "no connection within 10 ms");
    expect(transportError("openai", connect, false).message).toContain("(connect)");
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(transportError("openai", refused, false)).toMatchObject({
      status: 502,
      code: "upstream_unreachable",
    });
    expect(transportError("openai", refused, true).message).toContain("broke off its response");
  });

  it("answers the gateway's own want of descriptors or ports as an overload to retry, not as the provider's failure", () => {
    for (const code of ["EMFILE", "ENFILE", "EADDRNOTAVAIL"]) {
      const exhausted = Object.assign(new Error(`connect ${code}`), { code });
      expect(isLocalExhaustion(exhausted)).toBe(true);
      expect(transportError("openai", exhausted, false)).toMatchObject({
        status: 503,
        code: "overloaded",
        headers: [["retry-after", "1"]],
      });
    }
    expect(isLocalExhaustion(Object.assign(new Error("reset"), { code: "ECONNRESET" }))).toBe(false);
  });

  it("answers a request the client refused to send (a header it will not write) with a 400, not a provider failure", () => {
    const invalid = new UpstreamError(
      "UPSTREAM_INVALID_REQUEST",
      "the header x-request-id has a character HTTP does not allow",
    );
    expect(isRefusedRequest(invalid)).toBe(true);
    expect(isRefusedRequest(new UpstreamError("UPSTREAM_CLOSED", "closed"))).toBe(false);
    expect(transportError("openai", invalid, false)).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      message:
        "The request could not be sent to openai: the header x-request-id has a character HTTP does not allow.",
    });
  });
});
