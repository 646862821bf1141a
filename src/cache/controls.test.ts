import { describe, expect, it } from "vitest";
import { seededRandom } from "../../test/helpers/prng.js";
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

  it("survive fuzzed bodies and headers: an answer within bounds, or a CacheControlError", () => {
    const seed = 20261204;
    const { random, pick } = seededRandom(seed);
    const values: unknown[] = [
      true,
      false,
      null,
      0,
      -1,
      1.5,
      1e300,
      Number.NaN,
      "",
      "x",
      "5m",
      [],
      {},
      "a".repeat(300),
    ];
    const names = [
      "no-cache",
      "no-store",
      "ttl",
      "s-maxage",
      "namespace",
      "use-cache",
      "__proto__",
      "constructor",
      "zz",
    ];
    const words = [
      "",
      "on",
      "off",
      "no-cache",
      "30",
      "30s",
      "5m",
      "9999999999",
      "0.5",
      "1",
      "true",
      "\r\n",
      "é",
      "-1",
    ];
    for (let round = 0; round < 5_000; round++) {
      const body: Record<string, unknown> | undefined =
        random() < 0.2
          ? undefined
          : Object.fromEntries(names.filter(() => random() < 0.3).map((n) => [n, pick(values)]));
      const sent = headers(
        Object.fromEntries(
          CACHE_REQUEST_HEADERS.filter(() => random() < 0.3).map((name) => [name, pick(words)]),
        ),
      );
      try {
        const controls = cacheControls(sent, random() < 0.05 ? pick(values) : body);
        expect(controls.ttlMs ?? 0, `seed ${seed} round ${round}`).toBeLessThanOrEqual(7 * 24 * 3600 * 1000);
        expect(controls.namespace?.length ?? 0).toBeLessThanOrEqual(128);
        if (controls.threshold !== undefined)
          expect(controls.threshold >= 0 && controls.threshold <= 1).toBe(true);
      } catch (error) {
        expect(error, `seed ${seed} round ${round}`).toBeInstanceOf(CacheControlError);
      }
    }
  });
});
