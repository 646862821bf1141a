import { errors } from "undici";
import { describe, expect, it } from "vitest";
import { isRefusedRequest, transportError } from "./transport-error.js";

describe("transportError", () => {
  it("maps undici's timeouts to 504 and connection failures to 502", () => {
    const timeout = Object.assign(new Error("Headers Timeout Error"), { code: "UND_ERR_HEADERS_TIMEOUT" });
    expect(transportError("openai", timeout, false)).toMatchObject({ status: 504, code: "upstream_timeout" });
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(transportError("openai", refused, false)).toMatchObject({
      status: 502,
      code: "upstream_unreachable",
    });
    expect(transportError("openai", refused, true).message).toContain("broke off its response");
  });

  it("answers a request undici refused to send (a header it will not write) with a 400, not a provider failure", () => {
    const invalid = new errors.InvalidArgumentError("invalid x-request-id header");
    expect(isRefusedRequest(invalid)).toBe(true);
    expect(transportError("openai", invalid, false)).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      message: "The request could not be sent to openai: invalid x-request-id header.",
    });
  });
});
