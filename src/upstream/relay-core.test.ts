import { describe, expect, it } from "vitest";
import type { ResponseHeaders } from "../http/exchange.js";
import { withHeaders } from "./relay-core.js";

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
