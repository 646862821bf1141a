import { describe, expect, it } from "vitest";
import { checkFallbacks, checkModelName, MAX_MODEL_NAME } from "./model-name.js";

describe("checkModelName", () => {
  it.each([
    "gpt-4o-mini",
    "openai/gpt-4o",
    "openrouter/meta-llama/llama-3.1-8b-instruct:free",
    "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
    "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
    "vertex/claude-3-5-sonnet-v2@20241022",
    "gemini/models/gemini-1.5-pro",
    "ft:gpt-4o-mini-2024-07-18:my-org:custom_suffix:9abc",
    "ollama/llama3:8b",
    "accounts/fireworks/models/llama-v3p1-8b-instruct",
    "@cf/meta/llama-3-8b-instruct",
    "my_azure_deployment-01",
    "x+y=z~1,2",
    "model..v2",
    ".hidden",
    "a".repeat(MAX_MODEL_NAME),
  ])("takes %s", (name) => {
    expect(checkModelName(name)).toBeUndefined();
  });

  it.each([
    ["empty", ""],
    ["too long", "a".repeat(MAX_MODEL_NAME + 1)],
    ["CRLF", "gpt-4o\r\nSet-Cookie: x=y"],
    ["LF", "gpt-4o\nx"],
    ["NUL", "gpt\u0000"],
    ["DEL", "gpt\u007f"],
    ["space", "gpt 4o"],
    ["query", "gemini-pro?key=x"],
    ["fragment", "gemini-pro#x"],
    ["percent escape", "%2e%2e/files"],
    ["backslash", "..\\files"],
    ["non-ASCII", "modèle"],
    ["dot-dot segment", "../files"],
    ["inner dot-dot segment", "gemini/models/../../v1beta/files"],
    ["trailing dot-dot", "openai/.."],
    ["dot segment", "a/./b"],
    ["lone dot", "."],
  ])("refuses %s", (_label, name) => {
    expect(checkModelName(name)).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      code: "invalid_model",
      param: "model",
    });
  });

  it("does not echo the name", () => {
    expect(checkModelName("evil\r\nname")?.message).not.toContain("evil");
  });
});

describe("checkFallbacks", () => {
  it("names the fallbacks parameter", () => {
    expect(checkFallbacks(undefined)).toBeUndefined();
    expect(checkFallbacks(["openai/gpt-4o", "claude-3-5-haiku"])).toBeUndefined();
    expect(checkFallbacks(["ok", "bad\r\n"])).toMatchObject({ code: "invalid_model", param: "fallbacks" });
  });
});
