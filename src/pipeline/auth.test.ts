import { describe, expect, it } from "vitest";
import { MasterKey, unauthorized } from "./auth.js";

describe("MasterKey", () => {
  it("accepts the key and nothing else: not a prefix, not an extension, not empty", () => {
    const key = new MasterKey("sk-master-1234");
    expect(key.accepts("sk-master-1234")).toBe(true);
    expect(key.accepts("sk-master-123")).toBe(false);
    expect(key.accepts("sk-master-12345")).toBe(false);
    expect(key.accepts("")).toBe(false);
  });

  it("refuses with 401 and never repeats the key it was given", () => {
    const refusal = unauthorized("sk-guess");
    expect(refusal.status).toBe(401);
    expect(refusal.message).not.toContain("sk-guess");
    expect(unauthorized("").message).toContain("Authorization: Bearer");
  });
});
