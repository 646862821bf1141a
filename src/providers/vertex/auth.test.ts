import { generateKeyPairSync, verify } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeminiMockServer, startGeminiMock } from "../../../bench/mock/gemini-mock.js";
import { parseServiceAccount, REFRESH_MARGIN_MS, signedJwt, TokenSource } from "./auth.js";

// A key pair made for the test: the mock token endpoint verifies assertions with its public half.
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;

let mock: GeminiMockServer;

function account(key = privateKey) {
  return JSON.stringify({
    type: "service_account",
    project_id: "proj-1",
    private_key_id: "kid-1",
    private_key: key.export({ type: "pkcs8", format: "pem" }),
    client_email: "gateway@proj-1.iam.gserviceaccount.com",
    token_uri: mock.tokenUri,
  });
}

beforeAll(async () => {
  mock = await startGeminiMock({ verifyKey: publicKey });
});

afterAll(async () => {
  await mock?.close();
});

describe("service-account JWT", () => {
  it("is RS256-signed with the account's key and carries the claims Google checks", () => {
    const parsed = parseServiceAccount(account());
    const jwt = signedJwt(parsed, 1_700_000_000_000);
    const [header, claims, signature] = jwt.split(".") as [string, string, string];
    expect(JSON.parse(Buffer.from(header, "base64url").toString())).toEqual({
      alg: "RS256",
      typ: "JWT",
      kid: "kid-1",
    });
    expect(JSON.parse(Buffer.from(claims, "base64url").toString())).toEqual({
      iss: "gateway@proj-1.iam.gserviceaccount.com",
      scope: "https://www.googleapis.com/auth/cloud-platform",
      aud: mock.tokenUri,
      iat: 1_700_000_000,
      exp: 1_700_003_600,
    });
    expect(
      verify("sha256", Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature, "base64url")),
    ).toBe(true);
  });

  it("defaults the token URI to Google's and refuses JSON without a key", () => {
    const json = JSON.parse(account()) as Record<string, unknown>;
    delete json.token_uri;
    expect(parseServiceAccount(JSON.stringify(json)).tokenUri).toBe("https://oauth2.googleapis.com/token");
    expect(() => parseServiceAccount('{"client_email":"x"}')).toThrow(/private_key/);
    expect(() => parseServiceAccount("not json")).toThrow(/not valid JSON/);
  });
});

describe("token source", () => {
  it("exchanges once for many concurrent and later calls", async () => {
    const before = mock.stats.tokenRequests;
    const source = new TokenSource(parseServiceAccount(account()));
    const tokens = await Promise.all(Array.from({ length: 20 }, () => source.get()));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(/^ya29\.mock-/);
    expect(await source.get()).toBe(tokens[0]);
    expect(mock.stats.tokenRequests - before).toBe(1);
    expect(mock.stats.lastClaims?.iss).toBe("gateway@proj-1.iam.gserviceaccount.com");
  });

  it("refreshes shortly before expiry, once for the callers waiting", async () => {
    let now = Date.now();
    const source = new TokenSource(parseServiceAccount(account()), () => now);
    const first = await source.get();
    const before = mock.stats.tokenRequests;
    now += 3600_000 - REFRESH_MARGIN_MS - 1000;
    expect(await source.get()).toBe(first);
    expect(mock.stats.tokenRequests).toBe(before);
    now += 2000;
    const refreshed = await Promise.all([source.get(), source.get(), source.get()]);
    expect(mock.stats.tokenRequests).toBe(before + 1);
    expect(new Set(refreshed).size).toBe(1);
    expect(refreshed[0]).not.toBe(first);
  });

  it("fails with the token endpoint's reason when the signature does not verify", async () => {
    const source = new TokenSource(parseServiceAccount(account(otherKey)));
    await expect(source.get()).rejects.toThrow(/Invalid JWT Signature/);
    // The failed exchange is not cached: the next call tries again.
    const before = mock.stats.tokenRequests;
    await expect(source.get()).rejects.toThrow(/Invalid JWT Signature/);
    expect(mock.stats.tokenRequests).toBe(before + 1);
  });
});
