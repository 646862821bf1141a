import { describe, expect, it } from "vitest";
import { hookRequest } from "../../../test/helpers/hook-request.js";
import { PluginChain } from "../chain.js";
import { headerAllowlistPlugin, MAX_FORWARDED_VALUE } from "./header-allowlist.js";
import { BUILTIN_PLUGINS } from "./index.js";

function request(headers: Record<string, string>) {
  const sent = hookRequest(headers);
  return { request: sent, upstream: sent.upstream };
}

describe("header_allowlist", () => {
  it("is the built-in registry's header_allowlist", () => {
    expect(BUILTIN_PLUGINS.get("header_allowlist")).toBe(headerAllowlistPlugin);
  });

  it("declares its headers, lower case and each once, as the chain's request headers", () => {
    const chain = new PluginChain([
      headerAllowlistPlugin({ headers: ["X-Trace-Id", "x-trace-id", "X-Tenant"] }),
    ]);
    expect(chain.names).toEqual(["header_allowlist"]);
    expect(chain.requestHeaders).toEqual(["x-trace-id", "x-tenant"]);
  });

  it("copies each header present to the upstream request, and nothing for an absent one", () => {
    const plugin = headerAllowlistPlugin({ headers: ["x-trace-id", "x-tenant", "openai-organization"] });
    const { request: r, upstream } = request({ "x-trace-id": "abc-123", "openai-organization": "org-1" });
    expect(plugin.onRequest?.(r)).toBeUndefined();
    expect(upstream).toEqual([
      ["x-trace-id", "abc-123"],
      ["openai-organization", "org-1"],
    ]);
  });

  it(`passes on no value longer than ${MAX_FORWARDED_VALUE} characters or holding control characters`, () => {
    const plugin = headerAllowlistPlugin({ headers: ["x-a", "x-b", "x-c", "x-d", "x-e"] });
    const { request: r, upstream } = request({
      "x-a": "x".repeat(MAX_FORWARDED_VALUE),
      "x-b": "x".repeat(MAX_FORWARDED_VALUE + 1),
      "x-c": "one\r\nx-injected: two",
      "x-d": "nul\u0000",
      "x-e": "tab\there",
    });
    plugin.onRequest?.(r);
    expect(upstream.map(([name]) => name)).toEqual(["x-a"]);
  });

  it("refuses options without a list of names, and names the gateway writes itself", () => {
    for (const options of [undefined, {}, { headers: [] }, { headers: "x-a" }, { headers: [1] }])
      expect(() => headerAllowlistPlugin(options)).toThrow(/options\.headers/);
    for (const name of ["Host", "content-length", "content-type", "x-request-id"])
      expect(() => headerAllowlistPlugin({ headers: ["x-ok", name] })).toThrow(
        /options\.headers\[1\].*written by the gateway/,
      );
  });

  it("cannot forward credentials or hop-by-hop headers: the chain refuses them", () => {
    expect(() => new PluginChain([headerAllowlistPlugin({ headers: ["authorization"] })])).toThrow(
      /credentials/,
    );
    expect(() => new PluginChain([headerAllowlistPlugin({ headers: ["connection"] })])).toThrow(/hop-by-hop/);
  });
});
