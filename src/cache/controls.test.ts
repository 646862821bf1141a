import { describe, expect, it } from "vitest";
import { CACHE_REQUEST_HEADERS, CacheControlError, cacheControls, NO_CONTROLS } from "./controls.js";

/** The captured header values, in CACHE_REQUEST_HEADERS' order, from a name → value map. */
function headers(sent: Record<string, string> = {}): string[] {
  return CACHE_REQUEST_HEADERS.map((name) => sent[name] ?? "");
}

describe("a request's cache controls", () => {
  it("are the defaults when the request says nothing", () => {
    expect(cacheControls(headers(), undefined)).toBe(NO_CONTROLS);
  });

  it("read LiteLLM's cache member: no-cache, no-store, ttl, s-maxage, namespace", () => {
    expect(
      cacheControls(headers(), {
        "no-cache": true,
        "no-store": false,
        ttl: 60,
        "s-maxage": 5,
        namespace: "team-a",
      }),
    ).toEqual({ read: false, write: true, optIn: true, ttlMs: 60_000, maxAgeMs: 5_000, namespace: "team-a" });
    expect(cacheControls(headers(), { "no-store": true })).toMatchObject({ read: true, write: false });
  });

  it("read Switchyard's and Bifrost's headers", () => {
    expect(
      cacheControls(
        headers({
          "x-switchyard-cache-ttl": "90",
          "x-switchyard-cache-key": "session-7",
          "x-switchyard-cache": "on",
        }),
        undefined,
      ),
    ).toEqual({ read: true, write: true, optIn: true, ttlMs: 90_000, namespace: "session-7" });
    expect(
      cacheControls(
        headers({
          "x-bf-cache-key": "k1",
          "x-bf-cache-ttl": "5m",
          "x-bf-cache-threshold": "0.95",
          "x-bf-cache-no-store": "true",
        }),
        undefined,
      ),
    ).toEqual({ read: true, write: false, optIn: true, ttlMs: 300_000, namespace: "k1", threshold: 0.95 });
    expect(cacheControls(headers({ "x-switchyard-cache": "off" }), undefined)).toMatchObject({
      read: false,
      write: false,
    });
    expect(cacheControls(headers({ "x-switchyard-cache": "no-cache" }), undefined)).toMatchObject({
      read: false,
      write: true,
    });
  });

  it("refuse what they cannot follow, naming it, and never pass on an unbounded value", () => {
    const refused =
      (body: unknown, sent: Record<string, string> = {}) =>
      () =>
        cacheControls(headers(sent), body);
    expect(refused("no-cache")).toThrow(CacheControlError);
    expect(refused({ "no-cache": "yes" })).toThrow("'cache.no-cache' must be true or false.");
    expect(refused({ ttl: -1 })).toThrow("'cache.ttl' must be seconds");
    expect(refused({ ttl: 1e12 })).toThrow("'cache.ttl' must be seconds");
    expect(refused({ namespace: "x".repeat(129) })).toThrow("'cache.namespace' must be 1 to 128");
    expect(refused({ namespace: "a b\r\n" })).toThrow("'cache.namespace' must be 1 to 128");
    expect(refused({ [`z${"y".repeat(1000)}`]: 1 })).toThrow(/^'cache\.zy{63}' is not a cache control\.$/);
    expect(refused(undefined, { "x-switchyard-cache": "maybe" })).toThrow("x-switchyard-cache must be");
    expect(refused(undefined, { "x-bf-cache-ttl": "5 minutes" })).toThrow("x-bf-cache-ttl must be");
    expect(refused(undefined, { "x-bf-cache-threshold": "1.5" })).toThrow("x-bf-cache-threshold must be");
    expect(refused(undefined, { "x-bf-cache-threshold": "-0" })).toThrow("x-bf-cache-threshold must be");
    expect(refused(undefined, { "x-switchyard-cache-key": "../../etc" })).not.toThrow();
    expect(refused(undefined, { "x-switchyard-cache-key": "a%20b" })).toThrow("x-switchyard-cache-key");
  });
});
