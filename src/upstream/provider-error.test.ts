import { errors } from "undici";
import { describe, expect, it } from "vitest";
import { isRefusedRequest, providerErrorBody, transportError } from "./provider-error.js";
import { transportKind } from "./relay.js";

const parse = (text: string) => JSON.parse(text).error;

describe("providerErrorBody", () => {
  it("keeps an OpenAI-shaped error as the provider wrote it", () => {
    const body = Buffer.from(
      JSON.stringify({
        error: { message: "Bad tools", type: "invalid_request_error", param: "tools", code: "x" },
      }),
    );
    expect(parse(providerErrorBody(400, "openai", body))).toEqual({
      message: "Bad tools",
      type: "invalid_request_error",
      param: "tools",
      code: "x",
    });
  });

  it("rewraps other shapes in OpenAI's shape with a type that fits the status", () => {
    expect(parse(providerErrorBody(503, "groq", Buffer.from("<html>Service Unavailable</html>")))).toEqual({
      message: "groq: <html>Service Unavailable</html>",
      type: "api_error",
      param: null,
      code: null,
    });
    expect(parse(providerErrorBody(422, "vllm", Buffer.from('{"detail":"bad field"}'))).message).toBe(
      "vllm: bad field",
    );
    expect(
      parse(providerErrorBody(429, "gemini", Buffer.from('[{"error":{"code":429,"message":"quota"}}]'))),
    ).toMatchObject({ message: "quota", type: "rate_limit_error", code: 429 });
  });
});

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
    expect(transportKind(invalid)).toBe("client");
    expect(transportError("openai", invalid, false)).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      message: "The request could not be sent to openai: invalid x-request-id header.",
    });
    expect(transportKind(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toBe("connection");
  });
});
