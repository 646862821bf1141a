import { describe, expect, it } from "vitest";
import type { ResponseHeaders } from "../http/exchange.js";
import { forwardedHeaders, withHeaders } from "./relay-core.js";

describe("withHeaders", () => {
  it("adds the attempt's headers to a reply's own without changing either list, reply after reply", () => {
    const own: ResponseHeaders = [["content-type", "application/json"]];
    const attempt: ResponseHeaders = [["x-switchyard-provider", "openai"]];
    for (let i = 0; i < 3; i++) {
      expect(withHeaders(own, attempt)).toEqual([
        ["content-type", "application/json"],
        ["x-switchyard-provider", "openai"],
      ]);
    }
    expect(own).toEqual([["content-type", "application/json"]]);
    expect(attempt).toEqual([["x-switchyard-provider", "openai"]]);
    expect(withHeaders(own, [])).toBe(own);
  });
});

describe("forwardedHeaders", () => {
  const upstream = {
    "content-type": "application/json",
    "x-ratelimit-remaining-requests": "9",
    "set-cookie": "s=1",
    "retry-after": "2",
    "cache-control": "no-cache",
  };

  it("keeps what a client may see, Retry-After on errors only, then the attempt's headers, in a new list", () => {
    const attempt: ResponseHeaders = [["x-switchyard-provider", "openai"]];
    const out = forwardedHeaders(upstream, 200, attempt);
    expect(out).toEqual([
      ["content-type", "application/json"],
      ["x-ratelimit-remaining-requests", "9"],
      ["cache-control", "no-cache"],
      ["x-switchyard-provider", "openai"],
    ]);
    expect(out).not.toBe(attempt);
    expect(attempt).toEqual([["x-switchyard-provider", "openai"]]);
    expect(forwardedHeaders(upstream, 429)).toContainEqual(["retry-after", "2"]);
  });
});
