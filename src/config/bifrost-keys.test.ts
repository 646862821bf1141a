import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, parseBifrostConfig } from "./bifrost.js";
import { isKnownKind } from "./kinds.js";

// Markers that must never appear in a problem, a warning or a description.
const AZURE_KEY = "azure-key-SECRET-7c1d";
const AWS_SECRET = "aws-secret-SECRET-93ab";
const AWS_TOKEN = "aws-session-token-SECRET-55e0";
const PEM_BODY = "PRIVATEKEYBODYSECRET0123456789";
const serviceAccount = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: "service_account",
    project_id: "sa-project-1",
    private_key_id: "kid-1",
    private_key: `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----\n`,
    client_email: "gateway@sa-project-1.iam.gserviceaccount.com",
    token_uri: "https://oauth2.googleapis.com/token",
    ...extra,
  });
const SA = serviceAccount();

const dir = mkdtempSync(join(tmpdir(), "switchyard-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const saFile = join(dir, "sa.json");
writeFileSync(saFile, SA);

function parse(json: unknown, env: NodeJS.ProcessEnv = {}) {
  return parseBifrostConfig(json, env, "config.json");
}

function problemsOf(json: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parse(json, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}

function errorText(json: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    parse(json, env);
  } catch (err) {
    return (err as ConfigError).message;
  }
  throw new Error("expected a ConfigError");
}

const one = (provider: string, key: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  providers: { [provider]: { keys: [{ name: "k", models: ["*"], weight: 1, ...key }], ...extra } },
});

describe("provider kinds with native adapters", () => {
  it("knows azure, vertex, bedrock and cohere whether or not the catalog lists them", () => {
    for (const kind of ["azure", "vertex", "bedrock", "cohere"]) expect(isKnownKind(kind)).toBe(true);
    expect(isKnownKind("my-vllm")).toBe(false);
  });

  it("reads cohere as its own kind with its public URL and a required key", () => {
    const { config } = parse(one("cohere", { value: "co-key" }));
    expect(config.providers.cohere).toMatchObject({
      kind: "cohere",
      network: { baseUrl: "https://api.cohere.com" },
      keys: [{ name: "k", value: "co-key", models: [], weight: 1 }],
    });
    expect(problemsOf({ providers: { cohere: {} } })).toEqual([
      "providers.cohere.keys: at least one usable key is required for cohere",
    ]);
    expect(problemsOf(one("cohere", {}))).toEqual(["providers.cohere.keys[0].value: is required"]);
  });

  it("requires a key for azure, vertex and bedrock, and leaves their base URL empty unless configured", () => {
    expect(problemsOf({ providers: { azure: {}, vertex: { keys: [] }, bedrock: {} } })).toEqual([
      "providers.azure.keys: at least one usable key is required for azure",
      "providers.vertex.keys: at least one usable key is required for vertex",
      "providers.bedrock.keys: at least one usable key is required for bedrock",
    ]);
    const { config } = parse({
      providers: {
        bedrock: {
          keys: [
            {
              name: "k",
              models: ["*"],
              bedrock_key_config: { access_key: "AK", secret_key: "S", region: "us-east-1" },
            },
          ],
          network_config: { base_url: "http://127.0.0.1:9000/" },
        },
        "bedrock-eu": {
          keys: [
            {
              name: "k",
              models: ["*"],
              bedrock_key_config: { access_key: "AK", secret_key: "S", region: "eu-west-1" },
            },
          ],
          custom_provider_config: { base_provider_type: "bedrock" },
        },
      },
    });
    expect(config.providers.bedrock?.network.baseUrl).toBe("http://127.0.0.1:9000");
    expect(config.providers["bedrock-eu"]).toMatchObject({ kind: "bedrock", network: { baseUrl: "" } });
  });

  it("requires the kind's key config on each key", () => {
    expect(problemsOf(one("azure", { value: "x" }))).toEqual([
      "providers.azure.keys[0].azure_key_config: is required for azure keys",
    ]);
    expect(problemsOf(one("vertex", {}))).toEqual([
      "providers.vertex.keys[0].vertex_key_config: is required for vertex keys",
    ]);
    expect(problemsOf(one("bedrock", { bedrock_key_config: "us-east-1" }))).toEqual([
      "providers.bedrock.keys[0].bedrock_key_config: must be an object",
    ]);
  });
});

describe("azure_key_config", () => {
  it("reads endpoint, api_version and deployments, resolving env.VAR in each", () => {
    const { config, warnings } = parse(
      one("azure", {
        value: "env.AZURE_KEY",
        azure_key_config: {
          endpoint: "env.AZURE_ENDPOINT",
          api_version: "env.AZURE_VERSION",
          deployments: { "gpt-4o": "gpt4o-prod", "gpt-4o-mini": "env.MINI_DEPLOYMENT" },
        },
      }),
      {
        AZURE_KEY: AZURE_KEY,
        AZURE_ENDPOINT: "https://my-res.openai.azure.com/",
        AZURE_VERSION: "2025-04-01-preview",
        MINI_DEPLOYMENT: "mini-prod",
      },
    );
    expect(warnings).toEqual([]);
    expect(config.providers.azure).toMatchObject({ name: "azure", kind: "azure", network: { baseUrl: "" } });
    expect(config.providers.azure?.keys).toEqual([
      {
        name: "k",
        value: AZURE_KEY,
        models: [],
        weight: 1,
        azure: {
          endpoint: "https://my-res.openai.azure.com",
          apiVersion: "2025-04-01-preview",
          deployments: { "gpt-4o": "gpt4o-prod", "gpt-4o-mini": "mini-prod" },
        },
      },
    ]);
  });

  it("defaults api_version to the newest dated GA version and deployments to none", () => {
    const { config } = parse(
      one("azure", { value: "x", azure_key_config: { endpoint: "https://r.openai.azure.com" } }),
    );
    expect(config.providers.azure?.keys[0]?.azure).toEqual({
      endpoint: "https://r.openai.azure.com",
      apiVersion: "2024-10-21",
      deployments: {},
    });
  });

  it("merges Bifrost v1.5 key-level aliases (string or model_id) with v1.4 deployments", () => {
    const { config, warnings } = parse(
      one("azure", {
        value: "x",
        aliases: {
          "gpt-4o": "gpt4o-prod",
          o3: { model_id: "o3-dep", description: "reasoning", api_version: "2025-01-01" },
        },
        azure_key_config: {
          endpoint: "https://r.openai.azure.com",
          deployments: { "gpt-4o": "gpt4o-prod", o1: "o1-dep" },
        },
      }),
    );
    expect(config.providers.azure?.keys[0]?.azure?.deployments).toEqual({
      "gpt-4o": "gpt4o-prod",
      o1: "o1-dep",
      o3: "o3-dep",
    });
    expect(warnings).toEqual([
      "providers.azure.keys[0].aliases.o3.api_version: per-alias overrides are not supported yet; ignored",
    ]);
    expect(
      problemsOf(
        one("azure", {
          value: "x",
          aliases: { "gpt-4o": "other", bad: { deployment: "d" }, worse: 3 },
          azure_key_config: {
            endpoint: "https://r.openai.azure.com",
            deployments: { "gpt-4o": "gpt4o-prod" },
          },
        }),
      ),
    ).toEqual([
      "providers.azure.keys[0].aliases.bad.model_id: is required",
      "providers.azure.keys[0].aliases.worse: must be a string or an object with model_id",
      "providers.azure.keys[0].aliases.gpt-4o: conflicts with providers.azure.keys[0].azure_key_config.deployments.gpt-4o",
    ]);
  });

  it("rejects an endpoint that is not https, allowing http only on loopback", () => {
    const endpoint = (e: string) => one("azure", { value: "x", azure_key_config: { endpoint: e } });
    const rule =
      "must be an https URL (http only for localhost) without query or fragment, such as https://my-resource.openai.azure.com";
    for (const bad of [
      "http://r.openai.azure.com",
      "r.openai.azure.com",
      "https://r.openai.azure.com?x=1",
      "ftp://r",
    ])
      expect(problemsOf(endpoint(bad))).toEqual([
        `providers.azure.keys[0].azure_key_config.endpoint: ${rule}`,
      ]);
    for (const local of ["http://127.0.0.1:9100", "http://localhost:9100/", "http://[::1]:9100"])
      expect(parse(endpoint(local)).config.providers.azure?.keys[0]?.azure?.endpoint).toBe(
        local.replace(/\/$/, ""),
      );
  });

  it("names every problem with its path", () => {
    expect(
      problemsOf(
        one("azure", {
          azure_key_config: { api_version: "latest", deployments: { "gpt-4o": "" }, endpoint: 42 },
        }),
      ),
    ).toEqual([
      "providers.azure.keys[0].value: is required",
      'providers.azure.keys[0].azure_key_config.endpoint: must be a string (a literal value or "env.VAR_NAME")',
      "providers.azure.keys[0].azure_key_config.api_version: must be an Azure OpenAI API version such as 2024-10-21 or 2025-04-01-preview",
      "providers.azure.keys[0].azure_key_config.deployments.gpt-4o: is required",
    ]);
    expect(problemsOf(one("azure", { value: "x", azure_key_config: {} }))).toEqual([
      "providers.azure.keys[0].azure_key_config.endpoint: is required",
    ]);
    expect(problemsOf(one("azure", { value: "x", azure_key_config: { endpoint: "env.NOPE" } }))).toEqual([
      "providers.azure.keys[0].azure_key_config.endpoint: environment variable NOPE is not set",
    ]);
    expect(
      problemsOf(
        one("azure", {
          value: "x",
          azure_key_config: { endpoint: "https://r.openai.azure.com", deployments: [] },
        }),
      ),
    ).toEqual([
      "providers.azure.keys[0].azure_key_config.deployments: must be an object mapping model names to deployment names",
    ]);
  });

  it("explains that Entra ID is not supported: an error without a value, a warning with one", () => {
    const entra = { client_id: "c", client_secret: "env.AZ_SECRET", tenant_id: "t" };
    expect(
      problemsOf(one("azure", { azure_key_config: { endpoint: "https://r.openai.azure.com", ...entra } })),
    ).toEqual([
      "providers.azure.keys[0].value: is required (the Azure API key; Entra ID authentication is not supported yet)",
    ]);
    const { warnings } = parse(
      one("azure", {
        value: "x",
        azure_key_config: { endpoint: "https://r.openai.azure.com", ...entra, colour: 1 },
      }),
    );
    const note = "Entra ID authentication is not supported yet; ignored (the key's value is sent as api-key)";
    expect(warnings).toEqual([
      `providers.azure.keys[0].azure_key_config.client_id: ${note}`,
      `providers.azure.keys[0].azure_key_config.client_secret: ${note}`,
      `providers.azure.keys[0].azure_key_config.tenant_id: ${note}`,
      "providers.azure.keys[0].azure_key_config.colour: unknown key; ignored",
    ]);
  });
});

describe("vertex_key_config", () => {
  const vertex = (config: Record<string, unknown>, key: Record<string, unknown> = {}) =>
    one("vertex", {
      vertex_key_config: { project_id: "my-project-1", region: "us-central1", ...config },
      ...key,
    });

  it("reads project, region and the service-account JSON from env.VAR, without a value", () => {
    const { config, warnings } = parse(
      vertex({
        project_id: "env.VERTEX_PROJECT_ID",
        region: "europe-west4",
        auth_credentials: "env.VERTEX_CREDENTIALS",
      }),
      { VERTEX_PROJECT_ID: "my-project-1", VERTEX_CREDENTIALS: SA },
    );
    expect(warnings).toEqual([]);
    expect(config.providers.vertex).toMatchObject({ kind: "vertex", network: { baseUrl: "" } });
    expect(config.providers.vertex?.keys[0]).toEqual({
      name: "k",
      value: "",
      models: [],
      weight: 1,
      vertex: { projectId: "my-project-1", region: "europe-west4", serviceAccountJson: SA },
    });
  });

  it("accepts the JSON literally and the global region", () => {
    const { config } = parse(vertex({ region: "global", auth_credentials: SA }));
    expect(config.providers.vertex?.keys[0]?.vertex).toEqual({
      projectId: "my-project-1",
      region: "global",
      serviceAccountJson: SA,
    });
  });

  it("falls back to the GOOGLE_APPLICATION_CREDENTIALS file when auth_credentials is empty, as Bifrost's ADC does", () => {
    const { config } = parse(vertex({ auth_credentials: "" }), { GOOGLE_APPLICATION_CREDENTIALS: saFile });
    expect(config.providers.vertex?.keys[0]?.vertex?.serviceAccountJson).toBe(SA);
    expect(problemsOf(vertex({}), { GOOGLE_APPLICATION_CREDENTIALS: join(dir, "missing.json") })).toEqual([
      `providers.vertex.keys[0].vertex_key_config.auth_credentials: is not set, and GOOGLE_APPLICATION_CREDENTIALS (${join(dir, "missing.json")}) cannot be read: file not found`,
    ]);
    expect(problemsOf(vertex({}))).toEqual([
      "providers.vertex.keys[0].vertex_key_config.auth_credentials: is not set, and neither is the key's value (a Vertex API key) nor GOOGLE_APPLICATION_CREDENTIALS; metadata-server credentials are not supported",
    ]);
  });

  it("takes the key's value as a Vertex API key, leaving the service account empty", () => {
    const { config } = parse(vertex({}, { value: "env.VERTEX_API_KEY" }), {
      VERTEX_API_KEY: "vx-key",
      GOOGLE_APPLICATION_CREDENTIALS: saFile,
    });
    expect(config.providers.vertex?.keys[0]).toMatchObject({
      value: "vx-key",
      vertex: { projectId: "my-project-1", region: "us-central1", serviceAccountJson: "" },
    });
    expect(problemsOf(vertex({ auth_credentials: SA }, { value: "vx-key" }))).toEqual([
      "providers.vertex.keys[0].value: set either value (a Vertex API key) or vertex_key_config.auth_credentials, not both",
    ]);
  });

  it("rejects credentials that are not a service-account key, without quoting them", () => {
    const path = "providers.vertex.keys[0].vertex_key_config.auth_credentials";
    const cases: [string, string][] = [
      [`not json ${PEM_BODY}`, "must be the service-account JSON key (the text does not parse as JSON)"],
      [`["${PEM_BODY}"]`, "must be the service-account JSON key (a JSON object)"],
      [
        JSON.stringify({ type: "authorized_user", refresh_token: PEM_BODY }),
        'must be a service_account credential (found "authorized_user"); other Google credential types are not supported',
      ],
      [
        JSON.stringify({ type: PEM_BODY }),
        "must be a service_account credential (found no valid type); other Google credential types are not supported",
      ],
      [serviceAccount({ client_email: undefined }), "service-account JSON has no client_email"],
      [serviceAccount({ private_key: PEM_BODY }), "service-account JSON has no PEM private_key"],
    ];
    for (const [text, why] of cases) {
      expect(problemsOf(vertex({ auth_credentials: text }))).toEqual([`${path}: ${why}`]);
      expect(errorText(vertex({ auth_credentials: text }))).not.toContain(PEM_BODY);
    }
    const badFile = join(dir, "bad.json");
    writeFileSync(badFile, `{"type":"service_account","private_key":"${PEM_BODY}"`);
    const message = errorText(vertex({}), { GOOGLE_APPLICATION_CREDENTIALS: badFile });
    expect(message).toContain(
      `${path}: is not set, and the GOOGLE_APPLICATION_CREDENTIALS file must be the service-account JSON key (the text does not parse as JSON)`,
    );
    expect(message).not.toContain(PEM_BODY);
  });

  it("requires a valid project and region", () => {
    expect(problemsOf(one("vertex", { vertex_key_config: { auth_credentials: SA } }))).toEqual([
      "providers.vertex.keys[0].vertex_key_config.project_id: is required",
      "providers.vertex.keys[0].vertex_key_config.region: is required",
    ]);
    expect(
      problemsOf(vertex({ project_id: "My Project", region: "us-central", auth_credentials: SA })),
    ).toEqual([
      "providers.vertex.keys[0].vertex_key_config.project_id: must be a Google Cloud project ID such as my-project-123",
      "providers.vertex.keys[0].vertex_key_config.region: must be a Google Cloud region such as us-central1, or global",
    ]);
  });

  it("warns about Vertex settings that have no effect yet", () => {
    const { warnings } = parse(
      vertex(
        {
          auth_credentials: SA,
          project_number: "123",
          force_single_region: true,
          deployments: { ft: "456" },
        },
        { aliases: { ft: "456" } },
      ),
    );
    expect(warnings).toEqual([
      "providers.vertex.keys[0].aliases: not supported yet; ignored",
      "providers.vertex.keys[0].vertex_key_config.project_number: not supported yet; ignored",
      "providers.vertex.keys[0].vertex_key_config.force_single_region: not supported yet; ignored",
      "providers.vertex.keys[0].vertex_key_config.deployments: fine-tuned model mappings are not supported yet for vertex; ignored",
    ]);
  });
});

describe("bedrock_key_config", () => {
  const bedrock = (config: Record<string, unknown>, key: Record<string, unknown> = {}) =>
    one("bedrock", { bedrock_key_config: { region: "us-east-1", ...config }, ...key });
  const keys = { access_key: "AKIAEXAMPLE", secret_key: AWS_SECRET };

  it("reads IAM keys, session token, region and deployments, resolving env.VAR, without a value", () => {
    const { config, warnings } = parse(
      bedrock({
        access_key: "env.AWS_KEY_ID",
        secret_key: "env.AWS_SECRET",
        session_token: "env.AWS_TOKEN",
        region: "env.BEDROCK_REGION",
        deployments: { "claude-sonnet": "us.anthropic.claude-3-5-sonnet-20241022-v2:0" },
      }),
      { AWS_KEY_ID: "AKIAEXAMPLE", AWS_SECRET, AWS_TOKEN, BEDROCK_REGION: "eu-central-1" },
    );
    expect(warnings).toEqual([]);
    expect(config.providers.bedrock).toMatchObject({ kind: "bedrock", network: { baseUrl: "" } });
    expect(config.providers.bedrock?.keys[0]).toEqual({
      name: "k",
      value: "",
      models: [],
      weight: 1,
      bedrock: {
        accessKey: "AKIAEXAMPLE",
        secretKey: AWS_SECRET,
        sessionToken: AWS_TOKEN,
        region: "eu-central-1",
        deployments: { "claude-sonnet": "us.anthropic.claude-3-5-sonnet-20241022-v2:0" },
      },
    });
  });

  it("takes the key's value as a Bedrock API key, with empty IAM keys", () => {
    const { config } = parse(bedrock({}, { value: "bedrock-api-key" }), { AWS_ACCESS_KEY_ID: "ignored" });
    expect(config.providers.bedrock?.keys[0]).toMatchObject({
      value: "bedrock-api-key",
      bedrock: { accessKey: "", secretKey: "", region: "us-east-1", deployments: {} },
    });
    expect(config.providers.bedrock?.keys[0]?.bedrock?.sessionToken).toBeUndefined();
    expect(problemsOf(bedrock(keys, { value: "bedrock-api-key" }))).toEqual([
      "providers.bedrock.keys[0].value: set either value (a Bedrock API key) or bedrock_key_config.access_key and secret_key, not both",
    ]);
  });

  it("falls back to AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, the default chain's first source", () => {
    const { config } = parse(bedrock({}), {
      AWS_ACCESS_KEY_ID: "AKIAENV",
      AWS_SECRET_ACCESS_KEY: AWS_SECRET,
      AWS_SESSION_TOKEN: AWS_TOKEN,
    });
    expect(config.providers.bedrock?.keys[0]?.bedrock).toEqual({
      accessKey: "AKIAENV",
      secretKey: AWS_SECRET,
      sessionToken: AWS_TOKEN,
      region: "us-east-1",
      deployments: {},
    });
    expect(problemsOf(bedrock({}), { AWS_ACCESS_KEY_ID: "AKIAENV" })).toEqual([
      "providers.bedrock.keys[0].bedrock_key_config: no credentials: set access_key and secret_key, the key's value (a Bedrock API key), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; instance roles (IRSA, ECS, EC2) are not supported yet",
    ]);
  });

  it("requires both halves of an IAM key pair and a valid region", () => {
    const path = "providers.bedrock.keys[0].bedrock_key_config";
    expect(problemsOf(bedrock({ access_key: "AK" }))).toEqual([
      `${path}.secret_key: is required with access_key`,
    ]);
    expect(problemsOf(bedrock({ secret_key: AWS_SECRET }))).toEqual([
      `${path}.access_key: is required with secret_key`,
    ]);
    expect(problemsOf(bedrock({ session_token: AWS_TOKEN }))).toEqual([
      `${path}.session_token: needs access_key and secret_key`,
    ]);
    expect(problemsOf(one("bedrock", { bedrock_key_config: keys }))).toEqual([`${path}.region: is required`]);
    expect(problemsOf(bedrock({ ...keys, region: "US East 1" }))).toEqual([
      `${path}.region: must be an AWS region such as us-east-1`,
    ]);
    expect(
      parse(bedrock({ ...keys, region: "us-gov-west-1" })).config.providers.bedrock?.keys[0]?.bedrock?.region,
    ).toBe("us-gov-west-1");
  });

  it("rejects STS AssumeRole rather than signing as another identity", () => {
    expect(problemsOf(bedrock({ ...keys, role_arn: "arn:aws:iam::123456789012:role/Bedrock" }))).toEqual([
      "providers.bedrock.keys[0].bedrock_key_config.role_arn: STS AssumeRole is not supported yet; use access_key and secret_key",
    ]);
  });

  it("joins the arn prefix with mapped ids and listed models, as Bifrost builds inference-profile ARNs", () => {
    const arn = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile";
    const { config, warnings } = parse(
      bedrock(
        { ...keys, region: "eu-west-1", arn, deployments: { haiku: "abc123" } },
        {
          models: ["opus", "sonnet", "haiku", "nova"],
          aliases: {
            opus: { model_id: "ghi56rst" },
            sonnet: {
              model_id: "x",
              inference_profile_arn: "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.claude",
            },
          },
        },
      ),
    );
    expect(warnings).toEqual([]);
    expect(config.providers.bedrock?.keys[0]?.bedrock?.deployments).toEqual({
      haiku: `${arn}/abc123`,
      opus: `${arn}/ghi56rst`,
      sonnet: "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.claude",
      nova: `${arn}/nova`,
    });
    expect(parse(bedrock({ ...keys, arn })).warnings).toEqual([
      'providers.bedrock.keys[0].bedrock_key_config.arn: applies only to models listed in the key\'s "models", "aliases" or "deployments"; none are; ignored',
    ]);
    expect(problemsOf(bedrock({ ...keys, arn: "inference-profile" }))).toEqual([
      "providers.bedrock.keys[0].bedrock_key_config.arn: must be a Bedrock ARN prefix such as arn:aws:bedrock:us-east-1:123456789012:application-inference-profile",
    ]);
    expect(
      problemsOf(bedrock(keys, { aliases: { m: { model_id: "x", inference_profile_arn: "profile-1" } } })),
    ).toEqual([
      "providers.bedrock.keys[0].aliases.m.inference_profile_arn: must be a full ARN (arn:aws:bedrock:...)",
    ]);
  });

  it("warns about Bedrock settings that have no effect yet", () => {
    const { warnings } = parse(
      bedrock({
        ...keys,
        external_id: "x",
        session_name: "s",
        project_id: "p",
        batch_s3_config: { buckets: [{ bucket_name: "b" }] },
        extra: 1,
      }),
    );
    expect(warnings).toEqual([
      "providers.bedrock.keys[0].bedrock_key_config.external_id: only used with role_arn (not supported yet); ignored",
      "providers.bedrock.keys[0].bedrock_key_config.session_name: only used with role_arn (not supported yet); ignored",
      "providers.bedrock.keys[0].bedrock_key_config.project_id: not supported yet; ignored",
      "providers.bedrock.keys[0].bedrock_key_config.batch_s3_config: not supported yet; ignored",
      "providers.bedrock.keys[0].bedrock_key_config.extra: unknown key; ignored",
    ]);
  });
});

describe("secrets in key configs", () => {
  it("never puts a service account, an AWS secret, a session token or an API key into problems or warnings", () => {
    const env = { AZ: AZURE_KEY, SECRET: AWS_SECRET, TOKEN: AWS_TOKEN, SA };
    const broken = {
      providers: {
        azure: {
          keys: [{ name: "a", value: "env.AZ", azure_key_config: { endpoint: `http://x:${AZURE_KEY}@h` } }],
        },
        vertex: {
          keys: [
            {
              name: "v",
              vertex_key_config: { project_id: "bad id", region: "r", auth_credentials: "env.SA" },
            },
          ],
        },
        bedrock: {
          keys: [
            {
              name: "b",
              bedrock_key_config: {
                access_key: "A",
                secret_key: "env.SECRET",
                session_token: "env.TOKEN",
                region: "x",
              },
            },
          ],
        },
      },
    };
    const message = errorText(broken, env);
    for (const secret of [AZURE_KEY, AWS_SECRET, AWS_TOKEN, PEM_BODY]) expect(message).not.toContain(secret);

    const working = {
      providers: {
        azure: {
          keys: [
            {
              name: "a",
              value: "env.AZ",
              azure_key_config: { endpoint: "https://r.openai.azure.com", x: 1 },
            },
          ],
        },
        vertex: {
          keys: [
            {
              name: "v",
              vertex_key_config: {
                project_id: "p-123456",
                region: "us-east5",
                auth_credentials: "env.SA",
                y: 1,
              },
            },
          ],
        },
        bedrock: {
          keys: [
            {
              name: "b",
              bedrock_key_config: {
                access_key: "A",
                secret_key: "env.SECRET",
                session_token: "env.TOKEN",
                region: "us-west-2",
                z: 1,
              },
            },
          ],
        },
      },
    };
    const { warnings } = parse(working, env);
    expect(warnings).toHaveLength(3);
    for (const secret of [AZURE_KEY, AWS_SECRET, AWS_TOKEN, PEM_BODY])
      expect(warnings.join("\n")).not.toContain(secret);
  });
});
