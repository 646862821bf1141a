import { describe, expect, it } from "vitest";
import { presentedKey } from "./credentials.js";

const from = (headers: Record<string, string>) => presentedKey({ getHeader: (name) => headers[name] ?? "" });

describe("presentedKey", () => {
  it("reads each SDK's header: Bearer (any case), x-api-key, x-goog-api-key, api-key, x-litellm-api-key", () => {
    expect(from({ authorization: "Bearer sk-1" })).toBe("sk-1");
    expect(from({ authorization: "bearer  sk-2 " })).toBe("sk-2");
    expect(from({ "x-api-key": "sk-ant-3" })).toBe("sk-ant-3");
    expect(from({ "x-goog-api-key": "AIza4" })).toBe("AIza4");
    expect(from({ "api-key": "azure5" })).toBe("azure5");
    expect(from({ "x-litellm-api-key": "sk-6" })).toBe("sk-6");
  });

  it("prefers Authorization, and takes a bare Authorization value as the key", () => {
    expect(from({ authorization: "Bearer a", "x-api-key": "b" })).toBe("a");
    expect(from({ authorization: "raw-key" })).toBe("raw-key");
  });

  it("takes Bifrost's x-bf-vk over a placeholder bearer beside it", () => {
    expect(from({ "x-bf-vk": "sk-bf-1", authorization: "Bearer dummy" })).toBe("sk-bf-1");
    expect(from({ "x-bf-vk": "sk-bf-2" })).toBe("sk-bf-2");
  });

  it("is empty with no key, and for a value far longer than any key", () => {
    expect(from({})).toBe("");
    expect(from({ authorization: `Bearer ${"k".repeat(2000)}` })).toBe("");
  });
});
