import { describe, expect, it } from "vitest";
import { providerErrorBody } from "./provider-error.js";

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
