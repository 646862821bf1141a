import { describe, expect, it } from "vitest";
import { headerValue, MAX_HEADER_VALUE, renderHeaders, requestId, tokenList } from "./header-value.js";

describe("headerValue", () => {
  it("keeps visible ASCII as it is", () => {
    expect(headerValue("gpt-4o-mini")).toBe("gpt-4o-mini");
    expect(headerValue("openrouter/meta-llama/llama-3.1-8b-instruct:free")).toBe(
      "openrouter/meta-llama/llama-3.1-8b-instruct:free",
    );
  });

  it("encodes CR, LF, NUL, other control characters, DEL and non-ASCII", () => {
    expect(headerValue("m\r\nSet-Cookie: x=y")).toBe("m%0D%0ASet-Cookie: x=y");
    expect(headerValue("a\u0000b\u0007c\u007fd\te")).toBe("a%00b%07c%7Fd%09e");
    expect(headerValue("modèle")).toBe("mod%C3%A8le");
    expect(headerValue("\u2028")).toBe("%E2%80%A8");
  });

  it("bounds the length", () => {
    expect(headerValue("x".repeat(MAX_HEADER_VALUE * 2))).toHaveLength(MAX_HEADER_VALUE);
    expect(headerValue("\n".repeat(MAX_HEADER_VALUE))).toHaveLength(MAX_HEADER_VALUE);
  });
});

describe("renderHeaders", () => {
  it("renders values and leaves out headers whose name is not a token", () => {
    const written: [string, string][] = [];
    renderHeaders(
      [
        ["x-switchyard-model", "m\r\nSet-Cookie: x=y"],
        ["bad\r\nname", "v"],
        ["", "v"],
        ["content-type", "application/json"],
      ],
      written,
      (target, name, value) => target.push([name, value]),
    );
    expect(written).toEqual([
      ["x-switchyard-model", "m%0D%0ASet-Cookie: x=y"],
      ["content-type", "application/json"],
    ]);
  });
});

describe("requestId", () => {
  it("keeps a plain token the client sent", () => {
    expect(requestId("req_01HZX.abc:42-x")).toBe("req_01HZX.abc:42-x");
    expect(requestId("a".repeat(128))).toBe("a".repeat(128));
  });

  it("replaces a missing, long or unsafe id with a generated one", () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const sent of ["", "a".repeat(129), "id\r\nSet-Cookie: x=y", "id with space", "id/1", "é"]) {
      expect(requestId(sent)).toMatch(uuid);
    }
  });
});

describe("tokenList", () => {
  it("keeps plain tokens and drops everything else", () => {
    expect(tokenList("authorization, content-type,x-stainless-os")).toBe(
      "authorization,content-type,x-stainless-os",
    );
    expect(tokenList("prompt-caching-2024-07-31")).toBe("prompt-caching-2024-07-31");
    expect(tokenList("a\r\nset-cookie: x=y, b")).toBe("b");
    expect(tokenList("")).toBe("");
    expect(tokenList(" , ;")).toBe("");
    expect(tokenList(`${"x".repeat(65)},ok`)).toBe("ok");
  });

  it("keeps at most 32 items", () => {
    const many = Array.from({ length: 100 }, (_, i) => `h${i}`).join(",");
    expect(tokenList(many).split(",")).toHaveLength(32);
  });
});
