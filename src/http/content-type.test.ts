import { describe, expect, it } from "vitest";
import { isJsonContentType } from "./content-type.js";

describe("isJsonContentType", () => {
  it("takes application/json with or without parameters, in any case", () => {
    for (const value of [
      "application/json",
      "application/json; charset=utf-8",
      "Application/JSON;charset=UTF-8",
      " application/json ",
    ])
      expect(isJsonContentType(value), value).toBe(true);
  });

  it("takes structured +json types", () => {
    expect(isJsonContentType("application/vnd.api+json")).toBe(true);
    expect(isJsonContentType("application/merge-patch+json; charset=utf-8")).toBe(true);
  });

  it("refuses what a browser may send cross-origin without a preflight, and a missing header", () => {
    for (const value of [
      "",
      "text/plain",
      "text/plain; charset=utf-8",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/jsonp",
      "text/json+plain",
      "+json",
      "application/+json",
      "a/b/c+json",
    ])
      expect(isJsonContentType(value), value).toBe(false);
  });
});
