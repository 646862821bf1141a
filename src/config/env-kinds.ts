// Environment mode for the providers with native adapters, using the variables their own SDKs and LiteLLM
// read:
//   azure    AZURE_API_KEY | AZURE_OPENAI_API_KEY, AZURE_API_BASE | AZURE_OPENAI_ENDPOINT (the resource
//            endpoint), AZURE_API_VERSION | OPENAI_API_VERSION (default DEFAULT_AZURE_API_VERSION)
//   bedrock  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional),
//            AWS_REGION | AWS_DEFAULT_REGION; present only when the key id, the secret and a region are set
//   vertex   GOOGLE_APPLICATION_CREDENTIALS (path of a service-account JSON file, read at load),
//            VERTEX_PROJECT | VERTEXAI_PROJECT | GOOGLE_CLOUD_PROJECT (default: the file's project_id),
//            VERTEX_LOCATION | VERTEXAI_LOCATION | GOOGLE_CLOUD_LOCATION (default us-central1)
//   cohere   COHERE_API_KEY | CO_API_KEY, COHERE_BASE_URL | CO_API_URL
// BEDROCK_BASE_URL and VERTEX_BASE_URL point every request at one place (a proxy, a private endpoint, a
// mock); without them the adapters derive the host from the region.

import { DEFAULT_CONCURRENCY, defaultNetwork } from "./defaults.js";
import {
  AWS_REGION_RULE,
  AZURE_API_VERSION_RULE,
  AZURE_ENDPOINT_RULE,
  checkServiceAccount,
  DEFAULT_AZURE_API_VERSION,
  DEFAULT_VERTEX_REGION,
  GCP_PROJECT_RULE,
  GCP_REGION_RULE,
  isAwsRegion,
  isAzureApiVersion,
  isGcpProjectId,
  isGcpRegion,
  normalizeAzureEndpoint,
  readCredentialsFile,
} from "./key-configs.js";
import { defaultBaseUrl } from "./kinds.js";
import { catalogEntry } from "./provider-catalog.js";
import type { ProviderConfig, ProviderKey } from "./types.js";
import { normalizeBaseUrl } from "./url.js";

interface Found {
  readonly name: string;
  readonly value: string;
}

interface Report {
  readonly problems: string[];
  readonly warnings: string[];
}

export const AZURE_KEY_VARS = ["AZURE_API_KEY", "AZURE_OPENAI_API_KEY"];
const AZURE_ENDPOINT_VARS = ["AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT"];
const AZURE_VERSION_VARS = ["AZURE_API_VERSION", "OPENAI_API_VERSION"];
const AWS_REGION_VARS = ["AWS_REGION", "AWS_DEFAULT_REGION"];
const VERTEX_PROJECT_VARS = ["VERTEX_PROJECT", "VERTEXAI_PROJECT", "GOOGLE_CLOUD_PROJECT"];
const VERTEX_LOCATION_VARS = ["VERTEX_LOCATION", "VERTEXAI_LOCATION", "GOOGLE_CLOUD_LOCATION"];
export const COHERE_KEY_VARS = ["COHERE_API_KEY", "CO_API_KEY"];
const COHERE_BASE_VARS = ["COHERE_BASE_URL", "CO_API_URL"];

/** The variables that turn each of these providers on, for the "nothing configured" hint. */
export const ADAPTER_ENV_HINT = [
  ...AZURE_KEY_VARS,
  "AWS_ACCESS_KEY_ID",
  "GOOGLE_APPLICATION_CREDENTIALS",
  ...COHERE_KEY_VARS,
];

function firstSet(env: NodeJS.ProcessEnv, names: readonly string[]): Found | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") return { name, value: value.trim() };
  }
  return undefined;
}

/** The kind's names plus whatever its catalog entry adds, without duplicates. */
function withCatalog(kind: string, names: readonly string[], field: "keyEnv" | "baseUrlEnv"): string[] {
  const entry = catalogEntry(kind);
  const extra = entry.name !== kind ? [] : field === "keyEnv" ? entry.keyEnv : [entry.baseUrlEnv];
  return [...new Set([...names, ...extra])].filter((n) => n !== "");
}

/** A configured base URL, "" when none is set, undefined when it is set but unusable (problem recorded). */
function baseUrlOverride(
  env: NodeJS.ProcessEnv,
  names: readonly string[],
  report: Report,
): string | undefined {
  const found = firstSet(env, names);
  if (found === undefined) return "";
  const url = normalizeBaseUrl(found.value);
  if (url === undefined)
    report.problems.push(
      `${found.name}: must be an absolute http:// or https:// URL without query or fragment`,
    );
  return url;
}

function provider(kind: string, key: ProviderKey, baseUrl: string): ProviderConfig {
  return {
    name: kind,
    kind,
    keys: [key],
    network: defaultNetwork(baseUrl),
    concurrency: DEFAULT_CONCURRENCY,
  };
}

function azureFromEnvironment(env: NodeJS.ProcessEnv, report: Report): ProviderConfig | undefined {
  const key = firstSet(env, withCatalog("azure", AZURE_KEY_VARS, "keyEnv"));
  const endpointVar = firstSet(env, AZURE_ENDPOINT_VARS);
  if (key === undefined || endpointVar === undefined) {
    const set = key ?? endpointVar;
    if (set !== undefined) {
      const missing = key === undefined ? AZURE_KEY_VARS : AZURE_ENDPOINT_VARS;
      report.warnings.push(`${set.name}: set, but ${missing.join(" / ")} is not; azure is not configured`);
    }
    return undefined;
  }
  const before = report.problems.length;
  const endpoint = normalizeAzureEndpoint(endpointVar.value);
  if (endpoint === undefined) report.problems.push(`${endpointVar.name}: ${AZURE_ENDPOINT_RULE}`);
  const versionVar = firstSet(env, AZURE_VERSION_VARS);
  if (versionVar !== undefined && !isAzureApiVersion(versionVar.value))
    report.problems.push(`${versionVar.name}: ${AZURE_API_VERSION_RULE}`);
  if (report.problems.length > before || endpoint === undefined) return undefined;
  const apiVersion = versionVar?.value ?? DEFAULT_AZURE_API_VERSION;
  return provider(
    "azure",
    {
      name: key.name,
      value: key.value,
      models: [],
      weight: 1,
      azure: { endpoint, apiVersion, deployments: {} },
    },
    "",
  );
}

function bedrockFromEnvironment(env: NodeJS.ProcessEnv, report: Report): ProviderConfig | undefined {
  const id = firstSet(env, ["AWS_ACCESS_KEY_ID"]);
  const secret = firstSet(env, ["AWS_SECRET_ACCESS_KEY"]);
  const region = firstSet(env, AWS_REGION_VARS);
  if (id === undefined || secret === undefined) return undefined;
  if (region === undefined) {
    report.warnings.push(
      `AWS_ACCESS_KEY_ID: set, but ${AWS_REGION_VARS.join(" / ")} is not; bedrock is not configured`,
    );
    return undefined;
  }
  const before = report.problems.length;
  if (!isAwsRegion(region.value)) report.problems.push(`${region.name}: ${AWS_REGION_RULE}`);
  const baseUrl = baseUrlOverride(env, withCatalog("bedrock", ["BEDROCK_BASE_URL"], "baseUrlEnv"), report);
  if (report.problems.length > before || baseUrl === undefined) return undefined;
  const token = firstSet(env, ["AWS_SESSION_TOKEN"]);
  const bedrock = {
    accessKey: id.value,
    secretKey: secret.value,
    region: region.value,
    deployments: {},
    ...(token === undefined ? {} : { sessionToken: token.value }),
  };
  return provider(
    "bedrock",
    { name: "AWS_ACCESS_KEY_ID", value: "", models: [], weight: 1, bedrock },
    baseUrl,
  );
}

function vertexFromEnvironment(env: NodeJS.ProcessEnv, report: Report): ProviderConfig | undefined {
  const file = firstSet(env, ["GOOGLE_APPLICATION_CREDENTIALS"]);
  if (file === undefined) {
    const project = firstSet(env, VERTEX_PROJECT_VARS.slice(0, 2));
    if (project !== undefined)
      report.warnings.push(
        `${project.name}: set, but GOOGLE_APPLICATION_CREDENTIALS is not; vertex is not configured`,
      );
    return undefined;
  }
  const read = readCredentialsFile(file.value);
  if ("why" in read) {
    report.problems.push(`GOOGLE_APPLICATION_CREDENTIALS: cannot read ${file.value}: ${read.why}`);
    return undefined;
  }
  const check = checkServiceAccount(read.text);
  if (!check.ok) {
    // The variable also serves other Google clients, whose credential types Vertex may not take.
    report.warnings.push(`GOOGLE_APPLICATION_CREDENTIALS: the file ${check.why}; vertex is not configured`);
    return undefined;
  }
  const projectVar = firstSet(env, VERTEX_PROJECT_VARS);
  const projectId = projectVar?.value ?? check.projectId;
  if (projectId === undefined) {
    report.warnings.push(
      `GOOGLE_APPLICATION_CREDENTIALS: the file has no project_id and ${VERTEX_PROJECT_VARS.join(" / ")} is not set; vertex is not configured`,
    );
    return undefined;
  }
  const before = report.problems.length;
  if (!isGcpProjectId(projectId))
    report.problems.push(
      `${projectVar?.name ?? "GOOGLE_APPLICATION_CREDENTIALS project_id"}: ${GCP_PROJECT_RULE}`,
    );
  const regionVar = firstSet(env, VERTEX_LOCATION_VARS);
  const region = regionVar?.value ?? DEFAULT_VERTEX_REGION;
  if (regionVar !== undefined && !isGcpRegion(region))
    report.problems.push(`${regionVar.name}: ${GCP_REGION_RULE}`);
  const baseUrl = baseUrlOverride(env, withCatalog("vertex", ["VERTEX_BASE_URL"], "baseUrlEnv"), report);
  if (report.problems.length > before || baseUrl === undefined) return undefined;
  return provider(
    "vertex",
    {
      name: "GOOGLE_APPLICATION_CREDENTIALS",
      value: "",
      models: [],
      weight: 1,
      vertex: { projectId, region, serviceAccountJson: read.text },
    },
    baseUrl,
  );
}

function cohereFromEnvironment(env: NodeJS.ProcessEnv, report: Report): ProviderConfig | undefined {
  const key = firstSet(env, withCatalog("cohere", COHERE_KEY_VARS, "keyEnv"));
  const baseVars = withCatalog("cohere", COHERE_BASE_VARS, "baseUrlEnv");
  if (key === undefined) {
    const base = firstSet(env, baseVars);
    if (base !== undefined)
      report.warnings.push(
        `${base.name}: set, but ${COHERE_KEY_VARS.join(" / ")} is not; cohere is not configured`,
      );
    return undefined;
  }
  const baseUrl = baseUrlOverride(env, baseVars, report);
  if (baseUrl === undefined) return undefined;
  return provider(
    "cohere",
    { name: key.name, value: key.value, models: [], weight: 1 },
    baseUrl === "" ? defaultBaseUrl("cohere") : baseUrl,
  );
}

/** Azure, Bedrock, Vertex and Cohere from their usual variables; problems and warnings go to `report`. */
export function adapterProvidersFromEnvironment(env: NodeJS.ProcessEnv, report: Report): ProviderConfig[] {
  const found = [
    azureFromEnvironment(env, report),
    bedrockFromEnvironment(env, report),
    vertexFromEnvironment(env, report),
    cohereFromEnvironment(env, report),
  ];
  return found.filter((p): p is ProviderConfig => p !== undefined);
}
