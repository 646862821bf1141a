import { describe, expect, it } from "vitest";
import {
  canonicalRequest,
  canonicalUri,
  EMPTY_SHA256,
  type HeaderList,
  parseAuthorization,
  type Scope,
  sha256Hex,
  sign,
  signatureOf,
  signingKey,
  stringToSign,
  verify,
} from "./sigv4.js";

// Inputs and expected values of AWS's Signature Version 4 test suite (aws-sig-v4-test-suite): access key
// AKIDEXAMPLE, the example secret, region us-east-1, service "service", 2015-08-30T12:36:00Z.

const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SCOPE: Scope = { date: "20150830", region: "us-east-1", service: "service" };
const DATE = "20150830T123600Z";
const NOW = new Date("2015-08-30T12:36:00Z");
const HOST: [string, string] = ["Host", "example.amazonaws.com"];
const XDATE: [string, string] = ["X-Amz-Date", DATE];
const STS_TOKEN =
  "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
const FORM_HASH = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";

interface Vector {
  name: string;
  method: string;
  path: string;
  query?: [string, string][];
  headers: HeaderList;
  payloadHash?: string;
  canonical: string[];
  stringToSignHash: string;
  signature: string;
}

const tail = (signed: string, hash = EMPTY_SHA256) => ["", signed, hash];

const VECTORS: Vector[] = [
  {
    name: "get-vanilla",
    method: "GET",
    path: "/",
    headers: [HOST, XDATE],
    canonical: [
      "GET",
      "/",
      "",
      "host:example.amazonaws.com",
      `x-amz-date:${DATE}`,
      ...tail("host;x-amz-date"),
    ],
    stringToSignHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
    signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
  },
  {
    name: "get-vanilla-query-order-key-case",
    method: "GET",
    path: "/",
    query: [
      ["Param2", "value2"],
      ["Param1", "value1"],
    ],
    headers: [HOST, XDATE],
    canonical: [
      "GET",
      "/",
      "Param1=value1&Param2=value2",
      "host:example.amazonaws.com",
      `x-amz-date:${DATE}`,
      ...tail("host;x-amz-date"),
    ],
    stringToSignHash: "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
    signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
  },
  {
    name: "get-vanilla-utf8-query",
    method: "GET",
    path: "/",
    query: [["\u1234", "bar"]],
    headers: [HOST, XDATE],
    canonical: [
      "GET",
      "/",
      "%E1%88%B4=bar",
      "host:example.amazonaws.com",
      `x-amz-date:${DATE}`,
      ...tail("host;x-amz-date"),
    ],
    stringToSignHash: "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
    signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
  },
  {
    name: "get-header-key-duplicate",
    method: "GET",
    path: "/",
    headers: [HOST, ["My-Header1", "value2"], ["My-Header1", "value2"], ["My-Header1", "value1"], XDATE],
    canonical: [
      "GET",
      "/",
      "",
      "host:example.amazonaws.com",
      "my-header1:value2,value2,value1",
      `x-amz-date:${DATE}`,
      ...tail("host;my-header1;x-amz-date"),
    ],
    stringToSignHash: "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
    signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
  },
  {
    name: "get-header-value-order",
    method: "GET",
    path: "/",
    headers: [
      HOST,
      ["My-Header1", "value4"],
      ["My-Header1", "value1"],
      ["My-Header1", "value3"],
      ["My-Header1", "value2"],
      XDATE,
    ],
    canonical: [
      "GET",
      "/",
      "",
      "host:example.amazonaws.com",
      "my-header1:value4,value1,value3,value2",
      `x-amz-date:${DATE}`,
      ...tail("host;my-header1;x-amz-date"),
    ],
    stringToSignHash: "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
    signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
  },
  {
    name: "get-header-value-trim",
    method: "GET",
    path: "/",
    headers: [HOST, ["My-Header1", " value1"], ["My-Header2", ' "a   b   c"'], XDATE],
    canonical: [
      "GET",
      "/",
      "",
      "host:example.amazonaws.com",
      "my-header1:value1",
      'my-header2:"a b c"',
      `x-amz-date:${DATE}`,
      ...tail("host;my-header1;my-header2;x-amz-date"),
    ],
    stringToSignHash: "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
    signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
  },
  {
    name: "get-unreserved",
    method: "GET",
    path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    headers: [HOST, XDATE],
    canonical: [
      "GET",
      "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
      "",
      "host:example.amazonaws.com",
      `x-amz-date:${DATE}`,
      ...tail("host;x-amz-date"),
    ],
    stringToSignHash: "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
    signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
  },
  {
    name: "get-utf8",
    method: "GET",
    path: "/\u1234",
    headers: [HOST, XDATE],
    canonical: [
      "GET",
      "/%E1%88%B4",
      "",
      "host:example.amazonaws.com",
      `x-amz-date:${DATE}`,
      ...tail("host;x-amz-date"),
    ],
    stringToSignHash: "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
    signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
  },
  {
    name: "get-space-unnormalized",
    method: "GET",
    path: "/example space/",
    headers: [HOST, XDATE],
    canonical: [
      "GET",
      "/example%20space/",
      "",
      "host:example.amazonaws.com",
      `x-amz-date:${DATE}`,
      ...tail("host;x-amz-date"),
    ],
    stringToSignHash: "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
    signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
  },
  {
    name: "post-vanilla",
    method: "POST",
    path: "/",
    headers: [HOST, XDATE],
    canonical: [
      "POST",
      "/",
      "",
      "host:example.amazonaws.com",
      `x-amz-date:${DATE}`,
      ...tail("host;x-amz-date"),
    ],
    stringToSignHash: "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87",
    signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
  },
  {
    name: "post-vanilla-query",
    method: "POST",
    path: "/",
    query: [["Param1", "value1"]],
    headers: [HOST, XDATE],
    canonical: [
      "POST",
      "/",
      "Param1=value1",
      "host:example.amazonaws.com",
      `x-amz-date:${DATE}`,
      ...tail("host;x-amz-date"),
    ],
    stringToSignHash: "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
    signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
  },
  {
    name: "post-header-key-sort",
    method: "POST",
    path: "/",
    headers: [HOST, ["My-Header1", "value1"], XDATE],
    canonical: [
      "POST",
      "/",
      "",
      "host:example.amazonaws.com",
      "my-header1:value1",
      `x-amz-date:${DATE}`,
      ...tail("host;my-header1;x-amz-date"),
    ],
    stringToSignHash: "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
    signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
  },
  {
    name: "post-header-value-case",
    method: "POST",
    path: "/",
    headers: [HOST, ["My-Header1", "VALUE1"], XDATE],
    canonical: [
      "POST",
      "/",
      "",
      "host:example.amazonaws.com",
      "my-header1:VALUE1",
      `x-amz-date:${DATE}`,
      ...tail("host;my-header1;x-amz-date"),
    ],
    stringToSignHash: "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
    signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
  },
  {
    name: "post-x-www-form-urlencoded",
    method: "POST",
    path: "/",
    headers: [
      ["Content-Type", "application/x-www-form-urlencoded"],
      HOST,
      ["Content-Length", "13"],
      XDATE,
      ["X-Amz-Content-Sha256", FORM_HASH],
    ],
    payloadHash: FORM_HASH,
    canonical: [
      "POST",
      "/",
      "",
      "content-length:13",
      "content-type:application/x-www-form-urlencoded",
      "host:example.amazonaws.com",
      `x-amz-content-sha256:${FORM_HASH}`,
      `x-amz-date:${DATE}`,
      ...tail("content-length;content-type;host;x-amz-content-sha256;x-amz-date", FORM_HASH),
    ],
    stringToSignHash: "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb",
    signature: "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
  },
  {
    name: "post-sts-header-after",
    method: "POST",
    path: "/",
    headers: [HOST, XDATE, ["X-Amz-Security-Token", STS_TOKEN]],
    canonical: [
      "POST",
      "/",
      "",
      "host:example.amazonaws.com",
      `x-amz-date:${DATE}`,
      `x-amz-security-token:${STS_TOKEN}`,
      ...tail("host;x-amz-date;x-amz-security-token"),
    ],
    stringToSignHash: "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
    signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
  },
];

describe("SigV4 against AWS's test suite", () => {
  for (const v of VECTORS) {
    it(`${v.name}: canonical request, string to sign, signature`, () => {
      const canonical = canonicalRequest({
        method: v.method,
        path: v.path,
        query: v.query ?? [],
        headers: v.headers,
        payloadHash: v.payloadHash ?? EMPTY_SHA256,
      });
      expect(canonical.text).toBe(v.canonical.join("\n"));
      const toSign = stringToSign(DATE, SCOPE, canonical.text);
      expect(toSign).toBe(
        ["AWS4-HMAC-SHA256", DATE, "20150830/us-east-1/service/aws4_request", v.stringToSignHash].join("\n"),
      );
      expect(signatureOf(SECRET, SCOPE, toSign)).toBe(v.signature);
    });
  }

  it("derives the signing key of AWS's documented example (iam, 20120215)", () => {
    expect(
      signingKey(SECRET, { date: "20120215", region: "us-east-1", service: "iam" }).toString("hex"),
    ).toBe("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  });

  it("a cached derived key still follows the secret, date and region", () => {
    const toSign = "AWS4-HMAC-SHA256\n20150830T123600Z\nscope\nhash";
    const a = signatureOf(SECRET, SCOPE, toSign);
    expect(signatureOf(SECRET, SCOPE, toSign)).toBe(a);
    expect(signatureOf("other", SCOPE, toSign)).not.toBe(a);
    expect(signatureOf(SECRET, { ...SCOPE, date: "20150831" }, toSign)).not.toBe(a);
    expect(signatureOf(SECRET, { ...SCOPE, region: "eu-west-1" }, toSign)).not.toBe(a);
  });

  it("the form body hashes to the suite's payload hash", () => {
    expect(sha256Hex("Param1=value1")).toBe(FORM_HASH);
    expect(sha256Hex("")).toBe(EMPTY_SHA256);
  });

  it("sign() produces the suite's Authorization header for post-vanilla", () => {
    const signed = sign({
      method: "POST",
      host: "example.amazonaws.com",
      path: "/",
      body: "",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: SECRET },
      region: "us-east-1",
      service: "service",
      now: NOW,
    });
    expect(signed.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    );
    expect(signed.headers).toEqual([
      ["x-amz-date", DATE],
      ["authorization", signed.authorization],
    ]);
  });

  it("sign() adds and signs the session token (post-sts-header-after)", () => {
    const signed = sign({
      method: "POST",
      host: "example.amazonaws.com",
      path: "/",
      body: "",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: SECRET, sessionToken: STS_TOKEN },
      region: "us-east-1",
      service: "service",
      now: NOW,
    });
    expect(signed.signature).toBe("85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead");
    expect(signed.headers).toContainEqual(["x-amz-security-token", STS_TOKEN]);
  });

  it("sign() signs a body with x-amz-content-sha256 (post-x-www-form-urlencoded)", () => {
    const signed = sign({
      method: "POST",
      host: "example.amazonaws.com",
      path: "/",
      headers: [
        ["content-type", "application/x-www-form-urlencoded"],
        ["content-length", "13"],
      ],
      body: "Param1=value1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: SECRET },
      region: "us-east-1",
      service: "service",
      now: NOW,
      contentSha256Header: true,
    });
    expect(signed.signature).toBe("d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b");
  });
});

describe("SigV4 for Bedrock", () => {
  it("encodes the already-encoded model id again in the canonical URI (non-S3 rule)", () => {
    expect(canonicalUri("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse")).toBe(
      "/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse",
    );
    expect(
      canonicalUri("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.x-v1%3A0/converse"),
    ).toBe(
      "/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A123%253Ainference-profile%252Fus.x-v1%253A0/converse",
    );
  });

  const credentials = { accessKeyId: "AKIDMOCK", secretAccessKey: "mock-secret", sessionToken: "tok" };
  const signRequest = (body: string) =>
    sign({
      method: "POST",
      host: "127.0.0.1:9999",
      path: "/model/amazon.nova-lite-v1%3A0/converse",
      headers: [["content-type", "application/json"]],
      body,
      credentials,
      region: "us-west-2",
      service: "bedrock",
    });
  const received = (signed: ReturnType<typeof signRequest>) => {
    const headers: Record<string, string> = { host: "127.0.0.1:9999", "content-type": "application/json" };
    for (const [name, value] of signed.headers) headers[name] = value;
    return headers;
  };
  const lookupSecret = (id: string) => (id === "AKIDMOCK" ? "mock-secret" : undefined);

  it("a signed request verifies, and its scope names region and service", () => {
    const signed = signRequest('{"messages":[]}');
    expect(parseAuthorization(signed.authorization)?.scope).toMatchObject({
      region: "us-west-2",
      service: "bedrock",
    });
    expect(
      verify({
        method: "POST",
        path: "/model/amazon.nova-lite-v1%3A0/converse",
        headers: received(signed),
        body: Buffer.from('{"messages":[]}'),
        lookupSecret,
        service: "bedrock",
      }),
    ).toBeUndefined();
  });

  it("verification fails for a changed body, path, header or unknown key", () => {
    const signed = signRequest('{"messages":[]}');
    const base = {
      method: "POST",
      path: "/model/amazon.nova-lite-v1%3A0/converse",
      headers: received(signed),
      body: Buffer.from('{"messages":[]}'),
      lookupSecret,
      service: "bedrock",
    };
    expect(verify({ ...base, body: Buffer.from('{"messages":[1]}') })).toMatch(/does not match/);
    expect(verify({ ...base, path: "/model/amazon.nova-pro-v1%3A0/converse" })).toMatch(/does not match/);
    expect(verify({ ...base, headers: { ...base.headers, "x-amz-security-token": "other" } })).toMatch(
      /does not match/,
    );
    expect(verify({ ...base, lookupSecret: () => undefined })).toMatch(/security token/);
    expect(verify({ ...base, headers: { ...base.headers, authorization: undefined } })).toMatch(/Missing/);
    expect(verify({ ...base, service: "s3" })).toMatch(/scoped/);
  });
});
