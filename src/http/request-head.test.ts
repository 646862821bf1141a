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
        traceparent: false,
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
    const a = requestHead("POST", "/v1/chat/completions", "", header, {
      apiKey: false,
      pluginHeaders: [],
      traceparent: false,
    });
    const b = requestHead("GET", "/v1/models", "", header, {
      apiKey: false,
      pluginHeaders: [],
      traceparent: false,
    });
    expect(a.pluginHeaderValues).toEqual([]);
    expect(a.pluginHeaderValues).toBe(b.pluginHeaderValues);
    expect(Object.isFrozen(a.pluginHeaderValues)).toBe(true);
    expect(read).not.toContain("x-trace-id");
    expect(read).not.toContain("openai-organization");
    expect(read).not.toContain("traceparent");
  });
});

describe("requestHead: traceparent", () => {
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const header = { getHeader: (name: string) => (name === "traceparent" ? traceparent : "") };

  it("captures the client's traceparent when traces are on", () => {
    const needs = { apiKey: false, pluginHeaders: [], traceparent: true };
    expect(requestHead("POST", "/v1/chat/completions", "", header, needs).traceparent).toBe(traceparent);
  });

  it("leaves it unread when traces are off", () => {
    const needs = { apiKey: false, pluginHeaders: [], traceparent: false };
    expect(requestHead("POST", "/v1/chat/completions", "", header, needs).traceparent).toBe("");
  });
});
