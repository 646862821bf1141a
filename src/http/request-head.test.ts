import { describe, expect, it } from "vitest";
import type { HeaderSource, HeadNeeds } from "./exchange.js";
import { MAX_METADATA_ENTRIES, MAX_METADATA_VALUE, requestHead } from "./request-head.js";

const headers: Record<string, string> = { "x-trace-id": "t-1", "openai-organization": "org-1" };

/** A request's headers as a front hands them over. */
function source(values: Record<string, string>, read: string[] = []): HeaderSource {
  return {
    getHeader(name) {
      read.push(name);
      return values[name] ?? "";
    },
    forEach(callback) {
      read.push("*");
      for (const [name, value] of Object.entries(values)) callback(name, value);
    },
  };
}

const NEEDS: HeadNeeds = {
  apiKey: false,
  pluginHeaders: [],
  traceparent: false,
  metadata: false,
  cache: false,
};

describe("requestHead: plugin headers", () => {
  it('captures the plugins\' headers in the order named, with "" for one not sent', () => {
    const head = requestHead("POST", "/v1/chat/completions", "", source(headers), {
      ...NEEDS,
      pluginHeaders: ["openai-organization", "x-absent", "x-trace-id"],
    });
    expect(head.pluginHeaderValues).toEqual(["org-1", "", "t-1"]);
  });

  it("reads no plugin header and shares one frozen empty list when no plugin reads any", () => {
    const read: string[] = [];
    const header = source(headers, read);
    const a = requestHead("POST", "/v1/chat/completions", "", header, NEEDS);
    const b = requestHead("GET", "/v1/models", "", header, NEEDS);
    expect(a.pluginHeaderValues).toEqual([]);
    expect(a.pluginHeaderValues).toBe(b.pluginHeaderValues);
    expect(Object.isFrozen(a.pluginHeaderValues)).toBe(true);
    expect(read).not.toContain("x-trace-id");
    expect(read).not.toContain("openai-organization");
    expect(read).not.toContain("traceparent");
    // Nor does it walk the headers for metadata while the request log is off.
    expect(read).not.toContain("*");
    expect(a.metadata).toEqual([]);
  });
});

describe("requestHead: traceparent", () => {
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const header = source({ traceparent });

  it("captures the client's traceparent when traces are on", () => {
    const needs = { ...NEEDS, traceparent: true };
    expect(requestHead("POST", "/v1/chat/completions", "", header, needs).traceparent).toBe(traceparent);
  });

  it("leaves it unread when traces are off", () => {
    const needs = { ...NEEDS, traceparent: false };
    expect(requestHead("POST", "/v1/chat/completions", "", header, needs).traceparent).toBe("");
  });
});

describe("requestHead: the client's metadata headers", () => {
  const needs = { ...NEEDS, metadata: true };

  it("takes x-switchyard-metadata-* as name/value pairs, the prefix left out", () => {
    const head = requestHead(
      "POST",
      "/v1/chat/completions",
      "",
      source({ "x-switchyard-metadata-user": "ann", "x-switchyard-metadata-run_id": "r-7", "x-other": "no" }),
      needs,
    );
    expect(head.metadata).toEqual(["user", "ann", "run_id", "r-7"]);
  });

  it("bounds what a hostile client sends: names checked, values cut and printable, at most 16", () => {
    const many: Record<string, string> = {
      "x-switchyard-metadata-": "empty name",
      [`x-switchyard-metadata-${"n".repeat(65)}`]: "long name",
      "x-switchyard-metadata-evil": "a\r\nset-cookie: x",
      "x-switchyard-metadata-big": "v".repeat(10_000),
    };
    for (let i = 0; i < 40; i++) many[`x-switchyard-metadata-k${i}`] = String(i);
    const head = requestHead("POST", "/v1/chat/completions", "", source(many), needs);
    const pairs = head.metadata;
    expect(pairs.length).toBe(MAX_METADATA_ENTRIES * 2);
    const names = pairs.filter((_, i) => i % 2 === 0);
    expect(names).not.toContain("");
    expect(names.every((name) => name.length <= 64)).toBe(true);
    const values = pairs.filter((_, i) => i % 2 === 1);
    expect(values.every((value) => /^[\x20-\x7e]*$/.test(value))).toBe(true);
    expect(values.every((value) => value.length <= MAX_METADATA_VALUE * 3)).toBe(true);
    expect(values).toContain("a%0D%0Aset-cookie: x");
  });
});
