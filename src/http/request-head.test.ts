import { describe, expect, it } from "vitest";
import { requestHead } from "./request-head.js";

const headers: Record<string, string> = { "x-trace-id": "t-1", "openai-organization": "org-1" };

describe("requestHead: plugin headers", () => {
  it('captures the plugins\' headers in the order named, with "" for one not sent', () => {
    const head = requestHead(
      "POST",
      "/v1/chat/completions",
      "",
      { getHeader: (name) => headers[name] ?? "" },
      {
        apiKey: false,
        pluginHeaders: ["openai-organization", "x-absent", "x-trace-id"],
      },
    );
    expect(head.pluginHeaderValues).toEqual(["org-1", "", "t-1"]);
  });

  it("reads no plugin header and shares one frozen empty list when no plugin reads any", () => {
    const read: string[] = [];
    const header = {
      getHeader(name: string) {
        read.push(name);
        return headers[name] ?? "";
      },
    };
    const a = requestHead("POST", "/v1/chat/completions", "", header, { apiKey: false, pluginHeaders: [] });
    const b = requestHead("GET", "/v1/models", "", header, { apiKey: false, pluginHeaders: [] });
    expect(a.pluginHeaderValues).toEqual([]);
    expect(a.pluginHeaderValues).toBe(b.pluginHeaderValues);
    expect(Object.isFrozen(a.pluginHeaderValues)).toBe(true);
    expect(read).not.toContain("x-trace-id");
    expect(read).not.toContain("openai-organization");
  });
});
