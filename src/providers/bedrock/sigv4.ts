import { createHash, createHmac, timingSafeEqual } from "node:crypto";

// AWS Signature Version 4 (header form), written against AWS's published test suite: canonical request,
// string to sign, signing key derivation, Authorization header. Bedrock is a non-S3 service, so the path
// on the wire (already percent-encoded once) is encoded again in the canonical request.

export const ALGORITHM = "AWS4-HMAC-SHA256";
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface Scope {
  /** YYYYMMDD */
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

export type HeaderList = readonly (readonly [string, string])[];

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** RFC 3986 encoding of everything but the unreserved set, upper-case hex, as SigV4 requires. */
export function uriEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    if (
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a) ||
      (byte >= 0x30 && byte <= 0x39) ||
      byte === 0x2d ||
      byte === 0x2e ||
      byte === 0x5f ||
      byte === 0x7e
    ) {
      out += String.fromCharCode(byte);
    } else {
      out += `%${byte < 16 ? "0" : ""}${byte.toString(16).toUpperCase()}`;
    }
  }
  return out;
}

/** Each segment of the path as it goes on the wire, encoded (again); slashes kept. */
export function canonicalUri(path: string): string {
  if (path === "") return "/";
  const segments = path.split("/");
  for (let i = 0; i < segments.length; i++) segments[i] = uriEncode(segments[i] as string);
  const joined = segments.join("/");
  return joined.startsWith("/") ? joined : `/${joined}`;
}

/** Query parameters (already decoded) sorted by encoded name, then encoded value. */
export function canonicalQuery(query: readonly (readonly [string, string])[]): string {
  const pairs = query.map(([name, value]) => [uriEncode(name), uriEncode(value)] as const);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

function trimValue(value: string): string {
  // Only ASCII space and tab: a real signer leaves other bytes (such as U+00A0) alone.
  return value.replace(/^[ \t]+|[ \t]+$/g, "").replace(/[ \t]+/g, " ");
}

/**
 * Lower-cased, sorted signed header names and the canonical headers block. Repeated headers join with
 * commas in the order given.
 */
export function canonicalHeaders(headers: HeaderList): { block: string; signed: string } {
  const byName = new Map<string, string[]>();
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    const values = byName.get(lower);
    if (values === undefined) byName.set(lower, [trimValue(value)]);
    else values.push(trimValue(value));
  }
  const names = [...byName.keys()].sort();
  let block = "";
  for (const name of names) block += `${name}:${(byName.get(name) as string[]).join(",")}\n`;
  return { block, signed: names.join(";") };
}

export interface CanonicalInput {
  readonly method: string;
  /** The path as sent on the wire, without the query. */
  readonly path: string;
  readonly query?: readonly (readonly [string, string])[];
  /** The headers to sign (host and x-amz-date included). */
  readonly headers: HeaderList;
  readonly payloadHash: string;
}

export function canonicalRequest(input: CanonicalInput): { text: string; signedHeaders: string } {
  const { block, signed } = canonicalHeaders(input.headers);
  const text = `${input.method.toUpperCase()}\n${canonicalUri(input.path)}\n${canonicalQuery(input.query ?? [])}\n${block}\n${signed}\n${input.payloadHash}`;
  return { text, signedHeaders: signed };
}

export function credentialScope(scope: Scope): string {
  return `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
}

export function stringToSign(amzDate: string, scope: Scope, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${credentialScope(scope)}\n${sha256Hex(canonical)}`;
}

export function signingKey(secretAccessKey: string, scope: Scope): Buffer {
  const kDate = createHmac("sha256", `AWS4${secretAccessKey}`).update(scope.date).digest();
  const kRegion = createHmac("sha256", kDate).update(scope.region).digest();
  const kService = createHmac("sha256", kRegion).update(scope.service).digest();
  return createHmac("sha256", kService).update("aws4_request").digest();
}

/** Derived keys change once a day per credential and region; deriving one costs four HMACs per request. */
const derivedKeys = new Map<string, Buffer>();

function cachedSigningKey(secretAccessKey: string, scope: Scope): Buffer {
  const id = `${scope.date}\n${scope.region}\n${scope.service}\n${secretAccessKey}`;
  let key = derivedKeys.get(id);
  if (key === undefined) {
    if (derivedKeys.size >= 64) derivedKeys.clear();
    key = signingKey(secretAccessKey, scope);
    derivedKeys.set(id, key);
  }
  return key;
}

export function signatureOf(secretAccessKey: string, scope: Scope, toSign: string): string {
  return createHmac("sha256", cachedSigningKey(secretAccessKey, scope)).update(toSign).digest("hex");
}

/** 20150830T123600Z */
export function amzDate(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

export interface SignInput {
  readonly method: string;
  /** host[:port], as the Host header will carry it. */
  readonly host: string;
  readonly path: string;
  readonly query?: readonly (readonly [string, string])[];
  /** Further headers to sign, e.g. content-type. */
  readonly headers?: HeaderList;
  readonly body: string | Buffer;
  readonly credentials: Credentials;
  readonly region: string;
  readonly service: string;
  readonly now?: Date;
  /** Send x-amz-content-sha256 too (S3 requires it; other services accept it). */
  readonly contentSha256Header?: boolean;
}

export interface Signed {
  /** Headers to add to the request: x-amz-date, x-amz-security-token, x-amz-content-sha256, authorization. */
  readonly headers: [string, string][];
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signature: string;
  readonly authorization: string;
}

export function sign(input: SignInput): Signed {
  const date = amzDate(input.now ?? new Date());
  const payloadHash = sha256Hex(input.body);
  const added: [string, string][] = [["x-amz-date", date]];
  if (input.credentials.sessionToken !== undefined && input.credentials.sessionToken !== "") {
    added.push(["x-amz-security-token", input.credentials.sessionToken]);
  }
  if (input.contentSha256Header === true) added.push(["x-amz-content-sha256", payloadHash]);
  const headers: (readonly [string, string])[] = [["host", input.host], ...(input.headers ?? []), ...added];
  const canonical = canonicalRequest({
    method: input.method,
    path: input.path,
    query: input.query ?? [],
    headers,
    payloadHash,
  });
  const scope: Scope = { date: date.slice(0, 8), region: input.region, service: input.service };
  const toSign = stringToSign(date, scope, canonical.text);
  const signature = signatureOf(input.credentials.secretAccessKey, scope, toSign);
  const authorization = `${ALGORITHM} Credential=${input.credentials.accessKeyId}/${credentialScope(scope)}, SignedHeaders=${canonical.signedHeaders}, Signature=${signature}`;
  added.push(["authorization", authorization]);
  return { headers: added, canonicalRequest: canonical.text, stringToSign: toSign, signature, authorization };
}

export interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly scope: Scope;
  readonly signedHeaders: string[];
  readonly signature: string;
}

export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(
      header,
    );
  if (match === null) return undefined;
  return {
    accessKeyId: match[1] as string,
    scope: { date: match[2] as string, region: match[3] as string, service: match[4] as string },
    signedHeaders: (match[5] as string).split(";"),
    signature: match[6] as string,
  };
}

export interface VerifyInput {
  readonly method: string;
  /** The raw request target path (still percent-encoded), without the query. */
  readonly path: string;
  readonly query?: readonly (readonly [string, string])[];
  /** Lower-case header names as received. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  readonly lookupSecret: (accessKeyId: string) => string | undefined;
  readonly service: string;
}

/** What a service does on receipt: recompute the signature; undefined when it matches, else the reason. */
export function verify(input: VerifyInput): string | undefined {
  const header = input.headers.authorization;
  if (typeof header !== "string") return "Missing Authentication Token";
  const parsed = parseAuthorization(header);
  if (parsed === undefined) return "Authorization header is not a valid AWS4-HMAC-SHA256 value";
  if (parsed.scope.service !== input.service)
    return `Credential should be scoped to service '${input.service}'`;
  const secret = input.lookupSecret(parsed.accessKeyId);
  if (secret === undefined) return "The security token included in the request is invalid.";
  const date = input.headers["x-amz-date"];
  if (typeof date !== "string" || !date.startsWith(parsed.scope.date))
    return "x-amz-date is missing or off scope";
  if (!parsed.signedHeaders.includes("host")) return "'Host' must be a signed header";
  for (const name of Object.keys(input.headers)) {
    if (name.startsWith("x-amz-") && !parsed.signedHeaders.includes(name)) return `'${name}' must be signed`;
  }
  const headers: [string, string][] = [];
  for (const name of parsed.signedHeaders) {
    const value = input.headers[name];
    headers.push([name, Array.isArray(value) ? value.join(",") : (value ?? "")]);
  }
  const canonical = canonicalRequest({
    method: input.method,
    path: input.path,
    query: input.query ?? [],
    headers,
    payloadHash: sha256Hex(input.body),
  });
  const expected = signatureOf(secret, parsed.scope, stringToSign(date, parsed.scope, canonical.text));
  const same = timingSafeEqual(Buffer.from(expected, "hex"), Buffer.from(parsed.signature, "hex"));
  return same
    ? undefined
    : "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
}
