import { describe, expect, it } from "vitest";
import { ERROR_BODY_LIMIT, REDACTED, redactSecrets } from "./redact.js";

const redact = (text: string, secret = "") => redactSecrets(Buffer.from(text), secret).toString("utf8");

describe("redactSecrets", () => {
  it("replaces the attempt's key wherever it appears", () => {
    const body = JSON.stringify({ error: { message: "Incorrect API key provided: my-own-key-123." } });
    expect(redact(body, "my-own-key-123")).toBe(
      JSON.stringify({ error: { message: `Incorrect API key provided: ${REDACTED}.` } }),
    );
  });

  it("replaces common key shapes whatever key was used", () => {
    expect(redact("key sk-proj-abcdefgh12345678 is wrong")).toBe(`key ${REDACTED} is wrong`);
    expect(redact("Incorrect API key provided: sk-abc12***********************wxyz.")).toBe(
      `Incorrect API key provided: ${REDACTED}.`,
    );
    expect(redact("x sk-ant-api03-AAAAbbbbCCCC_dd-ee y")).toBe(`x ${REDACTED} y`);
    expect(redact("key=AIzaSyA1234567890abcdefghijklmnopqrstu")).toBe(`key=${REDACTED}`);
    expect(redact("id AKIAIOSFODNN7EXAMPLE denied")).toBe(`id ${REDACTED} denied`);
    expect(redact("token ya29.a0AfH6SMBxyz123456 expired")).toBe(`token ${REDACTED} expired`);
    expect(redact("Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9.abc")).toBe(
      `Authorization: Bearer ${REDACTED}`,
    );
  });

  it("returns the same Buffer when there is nothing to hide", () => {
    const body = Buffer.from('{"error":{"message":"The model `gpt-5` does not exist (see sk-learn)"}}');
    expect(redactSecrets(body, "a-secret-key")).toBe(body);
  });

  it("does not look for a configured key too short to be a secret", () => {
    expect(redact("a b c", "b")).toBe("a b c");
  });

  it("bounds the body it scans and relays", () => {
    const big = Buffer.alloc(ERROR_BODY_LIMIT * 4, "a");
    expect(redactSecrets(big, "").length).toBe(ERROR_BODY_LIMIT);
  });
});
