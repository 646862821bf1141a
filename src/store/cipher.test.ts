import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SecretCipher } from "./cipher.js";

const cipher = SecretCipher.fromPassphrase("a passphrase for the cipher tests");

/** The sealed value with one byte of its binary part flipped. */
function flip(sealed: string, index: number): string {
  const bytes = Buffer.from(sealed.slice(3), "base64");
  bytes[index] = (bytes[index] ?? 0) ^ 1;
  return `v1:${bytes.toString("base64")}`;
}

describe("SecretCipher", () => {
  it("opens what it sealed, any text", () => {
    for (const plain of ["sk-live-1234", "", "ü 🚀 \u0000 end", "x".repeat(10_000)]) {
      const sealed = cipher.seal(plain);
      expect(sealed.startsWith("v1:")).toBe(true);
      expect(sealed).not.toContain(plain || "never-empty");
      expect(cipher.open(sealed)).toBe(plain);
    }
  });

  it("seals the same text differently each time (a fresh iv)", () => {
    const sealed = new Set(Array.from({ length: 50 }, () => cipher.seal("same secret")));
    expect(sealed.size).toBe(50);
    const ivs = new Set(
      [...sealed].map((value) => Buffer.from(value.slice(3), "base64").subarray(0, 12).toString("hex")),
    );
    expect(ivs.size).toBe(50);
  });

  it("refuses altered values: iv, tag, ciphertext, truncation, format", () => {
    const sealed = cipher.seal("sk-live-1234");
    for (const index of [0, 11, 12, 27, 28, 30]) {
      expect(() => cipher.open(flip(sealed, index))).toThrow(/another key .* or altered/);
    }
    expect(() => cipher.open(sealed.slice(0, 20))).toThrow(/truncated/);
    expect(() => cipher.open(`v2:${sealed.slice(3)}`)).toThrow(/unknown format/);
    expect(() => cipher.open("sk-live-1234")).toThrow(/unknown format/);
  });

  it("refuses a value sealed with another key, without quoting it", () => {
    const sealed = SecretCipher.fromPassphrase("another passphrase entirely").seal("sk-live-1234");
    let message = "";
    try {
      cipher.open(sealed);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/another key/);
    expect(message).not.toContain(sealed);
    expect(message).not.toContain("sk-live");
  });

  it("takes only 32-byte keys", () => {
    expect(() => new SecretCipher(new Uint8Array(16))).toThrow(RangeError);
    expect(new SecretCipher(new Uint8Array(32)).open(new SecretCipher(new Uint8Array(32)).seal("k"))).toBe(
      "k",
    );
  });
});

describe("SecretCipher.fromEnv", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "sy-cipher-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("derives the key from SWITCHYARD_ENCRYPTION_KEY: the same passphrase opens, another does not", () => {
    const env = { SWITCHYARD_ENCRYPTION_KEY: "correct horse battery staple 42" };
    const first = SecretCipher.fromEnv(env, tempDir());
    expect(first.source).toBe("env");
    expect(first.warning).toBeUndefined();
    const sealed = first.cipher.seal("secret");
    expect(SecretCipher.fromEnv(env).cipher.open(sealed)).toBe("secret");
    expect(() =>
      SecretCipher.fromEnv({ SWITCHYARD_ENCRYPTION_KEY: "correct horse battery staple 43" }).cipher.open(
        sealed,
      ),
    ).toThrow(/another key/);
  });

  it("warns about a short passphrase without showing it", () => {
    const { source, warning } = SecretCipher.fromEnv({ SWITCHYARD_ENCRYPTION_KEY: "hunter2" });
    expect(source).toBe("env");
    expect(warning).toMatch(/SWITCHYARD_ENCRYPTION_KEY is short/);
    expect(warning).not.toContain("hunter2");
  });

  it("without the variable, generates a 0600 key file in the app dir and reuses it", () => {
    const dir = join(tempDir(), "app");
    const first = SecretCipher.fromEnv({ SWITCHYARD_ENCRYPTION_KEY: "" }, dir);
    const path = join(dir, "encryption.key");
    expect(first.source).toBe("generated-file");
    expect(first.warning).toContain("SWITCHYARD_ENCRYPTION_KEY is not set");
    expect(first.warning).toContain(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const keyText = readFileSync(path, "utf8");
    expect(first.warning).not.toContain(keyText.trim());

    const second = SecretCipher.fromEnv({}, dir);
    expect(second.source).toBe("generated-file");
    expect(readFileSync(path, "utf8")).toBe(keyText);
    expect(second.cipher.open(first.cipher.seal("secret"))).toBe("secret");
  });

  it("refuses a damaged key file instead of replacing it", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "encryption.key"), "not a key\n");
    expect(() => SecretCipher.fromEnv({}, dir)).toThrow(/does not hold a base64 32-byte key/);
    expect(readFileSync(join(dir, "encryption.key"), "utf8")).toBe("not a key\n");
  });

  it("without the variable or an app dir, keys this process only and says so", () => {
    const first = SecretCipher.fromEnv({});
    const second = SecretCipher.fromEnv({});
    expect(first.source).toBe("ephemeral");
    expect(first.warning).toMatch(/not be readable after a restart/);
    expect(() => second.cipher.open(first.cipher.seal("secret"))).toThrow(/another key/);
  });
});
