import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeConfig } from "./describe.js";
import { configFromEnvironment } from "./env.js";
import { ConfigError } from "./errors.js";

const AZURE_KEY = "azure-env-key-SECRET-1f2e";
const AWS_SECRET = "aws-env-secret-SECRET-8d7c";
const AWS_TOKEN = "aws-env-token-SECRET-6b5a";
const PEM_BODY = "ENVPRIVATEKEYBODYSECRET987654";
const SA = JSON.stringify({
  type: "service_account",
  project_id: "file-project-1",
  private_key: `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----\n`,
  client_email: "gw@file-project-1.iam.gserviceaccount.com",
});

const dir = mkdtempSync(join(tmpdir(), "switchyard-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const saFile = join(dir, "sa.json");
writeFileSync(saFile, SA);
const userFile = join(dir, "adc.json");
writeFileSync(userFile, JSON.stringify({ type: "authorized_user", refresh_token: PEM_BODY }));

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    configFromEnvironment(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).not.toContain(PEM_BODY);
    return [...(err as ConfigError).problems];
  }
  throw new Error("expected a ConfigError");
}

// Another provider keeps the "nothing configured" hint out of the warnings under test.
const OTHER = { OPENAI_API_KEY: "sk-o" };

const network = (baseUrl: string) => ({
  baseUrl,
  extraHeaders: {},
  requestTimeoutMs: 30_000,
  maxRetries: 0,
  retryBackoffInitialMs: 500,
  retryBackoffMaxMs: 5_000,
});

describe("environment: azure", () => {
  it("configures azure from AZURE_API_KEY, AZURE_API_BASE and AZURE_API_VERSION", () => {
    const { config, warnings } = configFromEnvironment({
      AZURE_API_KEY: AZURE_KEY,
      AZURE_API_BASE: "https://my-res.openai.azure.com/",
      AZURE_API_VERSION: "2025-04-01-preview",
    });
    expect(warnings).toEqual([]);
    expect(config.providers.azure).toEqual({
      name: "azure",
      kind: "azure",
      keys: [
        {
          name: "AZURE_API_KEY",
          value: AZURE_KEY,
          models: [],
          weight: 1,
          azure: {
            endpoint: "https://my-res.openai.azure.com",
            apiVersion: "2025-04-01-preview",
            deployments: {},
          },
        },
      ],
      network: network(""),
      concurrency: { concurrency: 1000, bufferSize: 5000 },
    });
  });

  it("reads the Azure SDK's names and defaults the API version", () => {
    const { config } = configFromEnvironment({
      AZURE_OPENAI_API_KEY: "k",
      AZURE_OPENAI_ENDPOINT: "https://other.openai.azure.com",
    });
    expect(config.providers.azure?.keys[0]).toMatchObject({
      name: "AZURE_OPENAI_API_KEY",
      azure: { endpoint: "https://other.openai.azure.com", apiVersion: "2024-10-21" },
    });
  });

  it("warns when only half of the pair is set, and rejects unusable values", () => {
    const keyOnly = configFromEnvironment({ ...OTHER, AZURE_API_KEY: "k" });
    expect(keyOnly.config.providers.azure).toBeUndefined();
    expect(keyOnly.warnings).toEqual([
      "AZURE_API_KEY: set, but AZURE_API_BASE / AZURE_OPENAI_ENDPOINT is not; azure is not configured",
    ]);
    expect(
      configFromEnvironment({ ...OTHER, AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com" }).warnings,
    ).toEqual([
      "AZURE_OPENAI_ENDPOINT: set, but AZURE_API_KEY / AZURE_OPENAI_API_KEY is not; azure is not configured",
    ]);
    expect(
      problemsOf({
        AZURE_API_KEY: "k",
        AZURE_API_BASE: "http://r.openai.azure.com",
        OPENAI_API_VERSION: "v9",
      }),
    ).toEqual([
      "AZURE_API_BASE: must be an https URL (http only for localhost) without query or fragment, such as https://my-resource.openai.azure.com",
      "OPENAI_API_VERSION: must be an Azure OpenAI API version such as 2024-10-21 or 2025-04-01-preview",
    ]);
  });
});

describe("environment: bedrock", () => {
  it("configures bedrock when the key id, the secret and a region are set", () => {
    const { config, warnings } = configFromEnvironment({
      AWS_ACCESS_KEY_ID: "AKIAENV",
      AWS_SECRET_ACCESS_KEY: AWS_SECRET,
      AWS_SESSION_TOKEN: AWS_TOKEN,
      AWS_DEFAULT_REGION: "eu-west-1",
    });
    expect(warnings).toEqual([]);
    expect(config.providers.bedrock).toEqual({
      name: "bedrock",
      kind: "bedrock",
      keys: [
        {
          name: "AWS_ACCESS_KEY_ID",
          value: "",
          models: [],
          weight: 1,
          bedrock: {
            accessKey: "AKIAENV",
            secretKey: AWS_SECRET,
            sessionToken: AWS_TOKEN,
            region: "eu-west-1",
            deployments: {},
          },
        },
      ],
      network: network(""),
      concurrency: { concurrency: 1000, bufferSize: 5000 },
    });
  });

  it("prefers AWS_REGION, takes BEDROCK_BASE_URL as an override, and has no session token unless set", () => {
    const { config } = configFromEnvironment({
      AWS_ACCESS_KEY_ID: "AK",
      AWS_SECRET_ACCESS_KEY: "S",
      AWS_REGION: "us-west-2",
      AWS_DEFAULT_REGION: "eu-west-1",
      BEDROCK_BASE_URL: "http://127.0.0.1:9200/",
    });
    expect(config.providers.bedrock?.keys[0]?.bedrock).toEqual({
      accessKey: "AK",
      secretKey: "S",
      region: "us-west-2",
      deployments: {},
    });
    expect(config.providers.bedrock?.network.baseUrl).toBe("http://127.0.0.1:9200");
  });

  it("is absent without the full triple, and rejects an unusable region or override", () => {
    expect(
      configFromEnvironment({ AWS_ACCESS_KEY_ID: "AK", AWS_REGION: "us-east-1" }).config.providers.bedrock,
    ).toBeUndefined();
    const noRegion = configFromEnvironment({ ...OTHER, AWS_ACCESS_KEY_ID: "AK", AWS_SECRET_ACCESS_KEY: "S" });
    expect(noRegion.config.providers.bedrock).toBeUndefined();
    expect(noRegion.warnings).toEqual([
      "AWS_ACCESS_KEY_ID: set, but AWS_REGION / AWS_DEFAULT_REGION is not; bedrock is not configured",
    ]);
    expect(
      problemsOf({
        AWS_ACCESS_KEY_ID: "AK",
        AWS_SECRET_ACCESS_KEY: "S",
        AWS_REGION: "useast1",
        BEDROCK_BASE_URL: "x",
      }),
    ).toEqual([
      "AWS_REGION: must be an AWS region such as us-east-1",
      "BEDROCK_BASE_URL: must be an absolute http:// or https:// URL without query or fragment",
    ]);
  });
});

describe("environment: vertex", () => {
  it("configures vertex from GOOGLE_APPLICATION_CREDENTIALS, reading the file, with project and location", () => {
    const { config, warnings } = configFromEnvironment({
      GOOGLE_APPLICATION_CREDENTIALS: saFile,
      VERTEX_PROJECT: "env-project-1",
      VERTEX_LOCATION: "europe-west4",
    });
    expect(warnings).toEqual([]);
    expect(config.providers.vertex).toEqual({
      name: "vertex",
      kind: "vertex",
      keys: [
        {
          name: "GOOGLE_APPLICATION_CREDENTIALS",
          value: "",
          models: [],
          weight: 1,
          vertex: { projectId: "env-project-1", region: "europe-west4", serviceAccountJson: SA },
        },
      ],
      network: network(""),
      concurrency: { concurrency: 1000, bufferSize: 5000 },
    });
  });

  it("takes GOOGLE_CLOUD_PROJECT, then the file's project_id, and defaults the location to us-central1", () => {
    const cloud = configFromEnvironment({
      GOOGLE_APPLICATION_CREDENTIALS: saFile,
      GOOGLE_CLOUD_PROJECT: "cloud-proj-1",
    });
    expect(cloud.config.providers.vertex?.keys[0]?.vertex).toMatchObject({
      projectId: "cloud-proj-1",
      region: "us-central1",
    });
    const fromFile = configFromEnvironment({
      GOOGLE_APPLICATION_CREDENTIALS: saFile,
      VERTEX_BASE_URL: "http://127.0.0.1:9300",
    });
    expect(fromFile.config.providers.vertex?.keys[0]?.vertex?.projectId).toBe("file-project-1");
    expect(fromFile.config.providers.vertex?.network.baseUrl).toBe("http://127.0.0.1:9300");
  });

  it("rejects an unreadable file, a bad project or location; skips other credential types with a warning", () => {
    const missing = join(dir, "nope.json");
    expect(problemsOf({ GOOGLE_APPLICATION_CREDENTIALS: missing })).toEqual([
      `GOOGLE_APPLICATION_CREDENTIALS: cannot read ${missing}: file not found`,
    ]);
    expect(
      problemsOf({
        GOOGLE_APPLICATION_CREDENTIALS: saFile,
        VERTEX_PROJECT: "Bad_Project",
        VERTEX_LOCATION: "mars",
      }),
    ).toEqual([
      "VERTEX_PROJECT: must be a Google Cloud project ID such as my-project-123",
      "VERTEX_LOCATION: must be a Google Cloud region such as us-central1, or global",
    ]);
    const user = configFromEnvironment({ ...OTHER, GOOGLE_APPLICATION_CREDENTIALS: userFile });
    expect(user.config.providers.vertex).toBeUndefined();
    expect(user.warnings).toEqual([
      'GOOGLE_APPLICATION_CREDENTIALS: the file must be a service_account credential (found "authorized_user"); other Google credential types are not supported; vertex is not configured',
    ]);
    expect(configFromEnvironment({ ...OTHER, VERTEX_PROJECT: "p-123456" }).warnings).toEqual([
      "VERTEX_PROJECT: set, but GOOGLE_APPLICATION_CREDENTIALS is not; vertex is not configured",
    ]);
  });
});

describe("environment: cohere", () => {
  it("configures cohere from COHERE_API_KEY or CO_API_KEY", () => {
    const { config } = configFromEnvironment({ CO_API_KEY: "co" });
    expect(config.providers.cohere).toEqual({
      name: "cohere",
      kind: "cohere",
      keys: [{ name: "CO_API_KEY", value: "co", models: [], weight: 1 }],
      network: network("https://api.cohere.com"),
      concurrency: { concurrency: 1000, bufferSize: 5000 },
    });
    const both = configFromEnvironment({
      COHERE_API_KEY: "first",
      CO_API_KEY: "second",
      COHERE_BASE_URL: "http://127.0.0.1:9400",
    });
    expect(both.config.providers.cohere?.keys[0]?.value).toBe("first");
    expect(both.config.providers.cohere?.network.baseUrl).toBe("http://127.0.0.1:9400");
    expect(configFromEnvironment({ ...OTHER, CO_API_URL: "http://127.0.0.1:9400" }).warnings).toEqual([
      "CO_API_URL: set, but COHERE_API_KEY / CO_API_KEY is not; cohere is not configured",
    ]);
  });
});

describe("environment: start-up description", () => {
  it("describes each adapter provider without its credentials", () => {
    const { config } = configFromEnvironment({
      AZURE_API_KEY: AZURE_KEY,
      AZURE_API_BASE: "https://my-res.openai.azure.com",
      AWS_ACCESS_KEY_ID: "AKIAENV",
      AWS_SECRET_ACCESS_KEY: AWS_SECRET,
      AWS_SESSION_TOKEN: AWS_TOKEN,
      AWS_REGION: "us-east-1",
      GOOGLE_APPLICATION_CREDENTIALS: saFile,
      COHERE_API_KEY: "co-SECRET",
    });
    const lines = describeConfig(config);
    expect(lines).toEqual([
      "azure (azure) upstream per key, 1 key (https://my-res.openai.azure.com api-version 2024-10-21), models: any",
      "bedrock (bedrock) upstream per key, 1 key (region us-east-1), models: any",
      "vertex (vertex) upstream per key, 1 key (project file-project-1 in us-central1), models: any",
      "cohere (cohere) https://api.cohere.com, 1 key, models: any",
    ]);
    for (const secret of [AZURE_KEY, AWS_SECRET, AWS_TOKEN, PEM_BODY, "co-SECRET", "AKIAENV"])
      expect(lines.join("\n")).not.toContain(secret);
  });
});
