import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERRORS, errorClassOf, gatewayError } from "../../src/errors.js";

// Every error the gateway itself answers with takes its code from the one catalog (src/errors.ts): a code
// written anywhere else in src/ must be one of the catalog's. Configuration errors (src/config/) are not
// answers to requests and have their own type.

const SRC = fileURLToPath(new URL("../../src", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "config" && dir === SRC ? [] : sources(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") ? [path] : [];
  });
}

describe("the error catalog", () => {
  it("is where every code the gateway answers with comes from", () => {
    const strays: string[] = [];
    for (const file of sources(SRC)) {
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(/\bcode: "([^"]+)"|gatewayError\(\s*"([^"]+)"/g)) {
        const code = match[1] ?? match[2] ?? "";
        if (!Object.hasOwn(ERRORS, code)) strays.push(`${relative(SRC, file)}: ${code}`);
      }
    }
    expect(strays).toEqual([]);
  });

  it("gives each error its status, type and class", () => {
    expect(gatewayError("model_not_found", "no such model", "model")).toEqual({
      status: 404,
      type: "invalid_request_error",
      code: "model_not_found",
      message: "no such model",
      param: "model",
    });
    expect(gatewayError("rate_limit_exceeded", "queue full", null, [["retry-after", "1"]]).headers).toEqual([
      ["retry-after", "1"],
    ]);
    expect(errorClassOf("invalid_json")).toBe("client");
    expect(errorClassOf("invalid_api_key")).toBe("policy");
    expect(errorClassOf("upstream_timeout")).toBe("provider");
    expect(errorClassOf("internal_error")).toBe("gateway");
    // A code the catalog does not have is the provider's own.
    expect(errorClassOf("insufficient_quota")).toBe("provider");
    expect(errorClassOf(529)).toBe("provider");
    expect(errorClassOf(null)).toBe("provider");
  });

  it("keeps statuses where HTTP puts their class", () => {
    for (const [code, kind] of Object.entries(ERRORS)) {
      if (kind.errorClass === "client") expect(kind.status, code).toBeLessThan(500);
      if (kind.errorClass === "gateway") expect(kind.status, code).toBe(500);
      expect(kind.status, code).toBeGreaterThanOrEqual(400);
    }
  });
});
