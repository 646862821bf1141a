import { describe, expect, it } from "vitest";
import { HOSTILE_NAMES, resolvedUrl } from "../../test/helpers/hostile-names.js";
import { UnsupportedRequest } from "./adapter.js";
import { googleModelSegment, pathSegment } from "./path.js";

describe("pathSegment", () => {
  it.each(HOSTILE_NAMES)("keeps %s inside one segment", (name) => {
    const segment = pathSegment(name);
    expect(segment).not.toMatch(/[/?#\\]/);
    expect(decodeURIComponent(segment)).toBe(name);
    const url = resolvedUrl(`/base/${segment}/end`);
    expect(url.pathname).toBe(`/base/${segment}/end`);
    expect(url.search).toBe("");
    expect(url.hash).toBe("");
  });

  it.each(["", ".", ".."])("refuses %j", (name) => {
    expect(() => pathSegment(name)).toThrow(UnsupportedRequest);
  });

  it("leaves plain ids readable", () => {
    expect(pathSegment("claude-sonnet-4@20250514")).toBe("claude-sonnet-4@20250514");
    expect(pathSegment("anthropic.claude-3-haiku-20240307-v1:0")).toBe(
      "anthropic.claude-3-haiku-20240307-v1%3A0",
    );
  });
});

describe("googleModelSegment", () => {
  it("refuses a colon, which would name another method", () => {
    expect(() => googleModelSegment("gemini-pro:countTokens")).toThrow(UnsupportedRequest);
    expect(googleModelSegment("gemini-2.5-pro")).toBe("gemini-2.5-pro");
  });
});
