import { timingSafeEqual } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { PluginChain } from "../chain.js";
import { MasterKey, masterKeyPlugin, unauthorized } from "./master-key.js";

vi.mock("node:crypto", async (importOriginal) => {
  const crypto = await importOriginal<typeof import("node:crypto")>();
  return { ...crypto, timingSafeEqual: vi.fn(crypto.timingSafeEqual) };
});

describe("MasterKey", () => {
  it("accepts the key and nothing else: not a prefix, not an extension, not empty", () => {
    const key = new MasterKey("sk-master-1234");
    expect(key.accepts("sk-master-1234")).toBe(true);
    expect(key.accepts("sk-master-123")).toBe(false);
    expect(key.accepts("sk-master-12345")).toBe(false);
    expect(key.accepts("")).toBe(false);
  });

  it("compares two 32-byte digests in constant time whatever the length of the guess", () => {
    const compare = vi.mocked(timingSafeEqual);
    compare.mockClear();
    const key = new MasterKey("sk-master-1234");
    for (const guess of ["s", "sk-master-1234", "x".repeat(5000)]) key.accepts(guess);
    expect(compare).toHaveBeenCalledTimes(3);
    for (const [a, b] of compare.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
  });

  it("refuses with 401 and never repeats the key it was given", () => {
    const refusal = unauthorized("sk-guess");
    expect(refusal.status).toBe(401);
    expect(refusal.message).not.toContain("sk-guess");
    expect(unauthorized("").message).toContain("Authorization: Bearer");
  });
});

describe("masterKeyPlugin", () => {
  const chain = new PluginChain([masterKeyPlugin("sk-master-1234")]);

  it("is named master_key, required, and lets the right key through", () => {
    expect(chain.names).toEqual(["master_key"]);
    expect(chain.authenticates).toBe(true);
    expect(chain.authenticate("sk-master-1234", "openai.chat")).toBeUndefined();
  });

  it("refuses a missing key saying where it goes, and a wrong one as not valid, never echoing it", () => {
    const missing = chain.authenticate("", "openai.chat");
    expect(missing).toMatchObject({ status: 401, code: "invalid_api_key" });
    expect(missing?.message).toContain("Authorization: Bearer");
    const wrong = chain.authenticate("sk-guess-9", "openai.chat");
    expect(wrong).toMatchObject({ status: 401, code: "invalid_api_key" });
    expect(wrong?.message).toContain("not valid");
    expect(wrong?.message).not.toContain("sk-guess-9");
  });
});
