import { createPrivateKey, type KeyObject, sign } from "node:crypto";

// Google service-account auth (OAuth 2.0 JWT bearer grant, RFC 7523): the gateway signs a JWT with the
// account's private key (RS256), trades it at the account's token URI for an access token, and reuses that
// token until shortly before it expires. One exchange at a time per account: requests that arrive while a
// refresh is under way wait for the same one.

export const DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token";
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
/** A token is replaced this long before it expires, so that no request goes out with a dying one. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
const JWT_LIFETIME_S = 3600;
const EXCHANGE_TIMEOUT_MS = 10_000;

export interface ServiceAccount {
  readonly clientEmail: string;
  readonly privateKey: KeyObject;
  readonly privateKeyId?: string;
  readonly tokenUri: string;
  readonly projectId?: string;
}

export function parseServiceAccount(json: string): ServiceAccount {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new Error("the Vertex service-account JSON is not valid JSON");
  }
  const { client_email, private_key, private_key_id, token_uri, project_id } = parsed;
  if (typeof client_email !== "string" || typeof private_key !== "string") {
    throw new Error("the Vertex service-account JSON lacks client_email or private_key");
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(private_key);
  } catch {
    throw new Error(`the private key of service account ${client_email} cannot be read`);
  }
  return {
    clientEmail: client_email,
    privateKey,
    privateKeyId: typeof private_key_id === "string" ? private_key_id : undefined,
    tokenUri: typeof token_uri === "string" && token_uri !== "" ? token_uri : DEFAULT_TOKEN_URI,
    projectId: typeof project_id === "string" ? project_id : undefined,
  };
}

const base64url = (text: string) => Buffer.from(text).toString("base64url");

/** The signed assertion sent to the token URI. */
export function signedJwt(account: ServiceAccount, nowMs: number, scope = CLOUD_PLATFORM_SCOPE): string {
  const iat = Math.floor(nowMs / 1000);
  const header: Record<string, string> = { alg: "RS256", typ: "JWT" };
  if (account.privateKeyId !== undefined) header.kid = account.privateKeyId;
  const claims = { iss: account.clientEmail, scope, aud: account.tokenUri, iat, exp: iat + JWT_LIFETIME_S };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${sign("sha256", Buffer.from(input), account.privateKey).toString("base64url")}`;
}

export class TokenSource {
  private token = "";
  private expiresAt = 0;
  private pending: Promise<string> | undefined;

  constructor(
    readonly account: ServiceAccount,
    private readonly now: () => number = Date.now,
  ) {}

  /** A valid access token: the cached one, or the result of the exchange under way or a new one. */
  get(): Promise<string> {
    const now = this.now();
    if (this.token !== "" && now < this.expiresAt - REFRESH_MARGIN_MS) return Promise.resolve(this.token);
    this.pending ??= this.exchange().finally(() => {
      this.pending = undefined;
    });
    // A refresh that fails while the old token still works must not fail the request.
    if (this.token !== "" && now < this.expiresAt) {
      const current = this.token;
      return this.pending.catch(() => current);
    }
    return this.pending;
  }

  private async exchange(): Promise<string> {
    const assertion = signedJwt(this.account, this.now());
    const body = `grant_type=${encodeURIComponent("urn:ietf:params:oauth:grant-type:jwt-bearer")}&assertion=${assertion}`;
    // One token per hour per account: Node's own fetch, not the relays' pooled client.
    const response = await fetch(this.account.tokenUri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
      signal: AbortSignal.timeout(EXCHANGE_TIMEOUT_MS),
    });
    const text = await response.text();
    let parsed: {
      access_token?: unknown;
      expires_in?: unknown;
      error?: unknown;
      error_description?: unknown;
    };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      parsed = {};
    }
    if (response.status !== 200 || typeof parsed.access_token !== "string") {
      const why =
        typeof parsed.error_description === "string"
          ? parsed.error_description
          : typeof parsed.error === "string"
            ? parsed.error
            : `HTTP ${response.status}`;
      throw new Error(`Vertex AI token exchange for ${this.account.clientEmail} failed: ${why}`);
    }
    const lifetime = typeof parsed.expires_in === "number" ? parsed.expires_in : JWT_LIFETIME_S;
    this.token = parsed.access_token;
    this.expiresAt = this.now() + lifetime * 1000;
    return this.token;
  }
}

const sources = new Map<string, TokenSource>();

/** One token source per service account, kept across configuration reloads. */
export function tokenSourceFor(serviceAccountJson: string): TokenSource {
  let source = sources.get(serviceAccountJson);
  if (source === undefined) {
    source = new TokenSource(parseServiceAccount(serviceAccountJson));
    sources.set(serviceAccountJson, source);
  }
  return source;
}
