// Bifrost's provider-specific key configs (azure_key_config, vertex_key_config, bedrock_key_config) and the
// key-level `aliases` map, with the names and rules of Bifrost's schema (https://www.getbifrost.ai/schema)
// and provider docs. Bifrost v1.4 kept model → deployment maps in `deployments` inside the key config; v1.5
// moved them to the key's `aliases`. Both are read and merged.

import { type Collector, childPath, isGiven, isObject, type Obj, readText } from "./collect.js";
import {
  AWS_REGION_RULE,
  AZURE_API_VERSION_RULE,
  AZURE_ENDPOINT_RULE,
  BEDROCK_ARN_RULE,
  checkServiceAccount,
  DEFAULT_AZURE_API_VERSION,
  GCP_PROJECT_RULE,
  GCP_REGION_RULE,
  isAwsRegion,
  isAzureApiVersion,
  isBedrockArnPrefix,
  isGcpProjectId,
  isGcpRegion,
  normalizeAzureEndpoint,
  readCredentialsFile,
} from "./key-configs.js";
import type { AzureKeyConfig, BedrockKeyConfig, VertexKeyConfig } from "./types.js";

export interface KeyConfigInput {
  readonly c: Collector;
  /** The key's path, e.g. providers.azure.keys[0]. */
  readonly keyPath: string;
  readonly env: NodeJS.ProcessEnv;
  /** The key's resolved `value` ("" when not set). */
  readonly value: string;
  /** The key's model restriction (empty: any model). */
  readonly models: readonly string[];
  /** The key-level `aliases`, already read (model → provider id). */
  readonly aliases: Readonly<Record<string, string>>;
}

const ENTRA_FIELDS = ["client_id", "client_secret", "tenant_id", "scopes"];

function warnUnknown(c: Collector, obj: Obj, path: string, known: readonly string[]): void {
  for (const key of Object.keys(obj))
    if (!known.includes(key)) c.warn(childPath(path, key), "unknown key; ignored");
}

/** A model → id map: `deployments` in a v1.4 key config. */
function readDeployments(
  c: Collector,
  obj: Obj,
  path: string,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isGiven(obj, "deployments")) return out;
  const p = childPath(path, "deployments");
  const raw = obj.deployments;
  if (!isObject(raw)) {
    c.problem(p, "must be an object mapping model names to deployment names");
    return out;
  }
  for (const model of Object.keys(raw)) {
    const id = readText(c, raw, model, p, env, true);
    if (id !== undefined) out[model] = id;
  }
  return out;
}

function mergeDeployments(
  c: Collector,
  fromConfig: Record<string, string>,
  configPath: string,
  aliases: Readonly<Record<string, string>>,
  keyPath: string,
): Record<string, string> {
  const merged = { ...fromConfig };
  for (const [model, id] of Object.entries(aliases)) {
    const existing = merged[model];
    if (existing !== undefined && existing !== id)
      c.problem(`${keyPath}.aliases.${model}`, `conflicts with ${configPath}.deployments.${model}`);
    else merged[model] = id;
  }
  return merged;
}

/**
 * The key-level `aliases` of Bifrost v1.5: model → provider id, each either a string or an object with
 * `model_id`. A Bedrock alias's `inference_profile_arn` is the full ARN and wins over `model_id`.
 */
export function parseAliases(
  c: Collector,
  raw: unknown,
  path: string,
  kind: string,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(raw)) {
    c.problem(path, "must be an object mapping model names to provider model ids");
    return out;
  }
  for (const [model, alias] of Object.entries(raw)) {
    const p = childPath(path, model);
    if (typeof alias === "string") {
      const id = readText(c, raw, model, path, env, true);
      if (id !== undefined) out[model] = id;
      continue;
    }
    if (!isObject(alias)) {
      c.problem(p, "must be a string or an object with model_id");
      continue;
    }
    const modelId = readText(c, alias, "model_id", p, env, true);
    const arn = kind === "bedrock" ? readText(c, alias, "inference_profile_arn", p, env) : undefined;
    if (arn !== undefined && !arn.startsWith("arn:"))
      c.problem(`${p}.inference_profile_arn`, "must be a full ARN (arn:aws:bedrock:...)");
    const id = arn ?? modelId;
    if (id !== undefined) out[model] = id;
    for (const key of Object.keys(alias)) {
      if (
        key === "model_id" ||
        key === "description" ||
        (key === "inference_profile_arn" && kind === "bedrock")
      )
        continue;
      c.unsupported(childPath(p, key), alias[key], "per-alias overrides are not supported yet; ignored");
    }
  }
  return out;
}

export function parseAzureKeyConfig(
  raw: Obj,
  path: string,
  input: KeyConfigInput,
): AzureKeyConfig | undefined {
  const { c, env } = input;
  const before = c.problems.length;
  let endpoint: string | undefined;
  const rawEndpoint = readText(c, raw, "endpoint", path, env, true);
  if (rawEndpoint !== undefined) {
    endpoint = normalizeAzureEndpoint(rawEndpoint);
    if (endpoint === undefined) c.problem(`${path}.endpoint`, AZURE_ENDPOINT_RULE);
  }
  let apiVersion = DEFAULT_AZURE_API_VERSION;
  const rawVersion = readText(c, raw, "api_version", path, env);
  if (rawVersion !== undefined) {
    if (isAzureApiVersion(rawVersion)) apiVersion = rawVersion;
    else c.problem(`${path}.api_version`, AZURE_API_VERSION_RULE);
  }
  const deployments = mergeDeployments(
    c,
    readDeployments(c, raw, path, env),
    path,
    input.aliases,
    input.keyPath,
  );
  for (const field of ENTRA_FIELDS)
    c.unsupported(
      `${path}.${field}`,
      raw[field],
      "Entra ID authentication is not supported yet; ignored (the key's value is sent as api-key)",
    );
  warnUnknown(c, raw, path, ["endpoint", "api_version", "deployments", ...ENTRA_FIELDS]);
  if (c.problems.length > before || endpoint === undefined) return undefined;
  return { endpoint, apiVersion, deployments };
}

/** True when the Azure key config asks for Entra ID instead of an API key (used to explain a missing value). */
export function azureWantsEntra(raw: unknown): boolean {
  return isObject(raw) && ENTRA_FIELDS.some((f) => isGiven(raw, f));
}

/**
 * Vertex: project and region are required. Credentials, in Bifrost's order: `auth_credentials` (the
 * service-account JSON, literally or as env.VAR), else the key's `value` (a Vertex API key; the service
 * account stays empty), else Application Default Credentials' first source, the JSON file named by
 * GOOGLE_APPLICATION_CREDENTIALS, read now. Metadata-server credentials are not supported.
 */
export function parseVertexKeyConfig(
  raw: Obj,
  path: string,
  input: KeyConfigInput,
): VertexKeyConfig | undefined {
  const { c, env } = input;
  const before = c.problems.length;
  const projectId = readText(c, raw, "project_id", path, env, true);
  if (projectId !== undefined && !isGcpProjectId(projectId))
    c.problem(`${path}.project_id`, GCP_PROJECT_RULE);
  const region = readText(c, raw, "region", path, env, true);
  if (region !== undefined && !isGcpRegion(region)) c.problem(`${path}.region`, GCP_REGION_RULE);

  const credsPath = `${path}.auth_credentials`;
  let serviceAccountJson = "";
  const credentials = readText(c, raw, "auth_credentials", path, env);
  if (credentials !== undefined) {
    if (input.value !== "")
      c.problem(
        `${input.keyPath}.value`,
        "set either value (a Vertex API key) or vertex_key_config.auth_credentials, not both",
      );
    const check = checkServiceAccount(credentials);
    if (check.ok) serviceAccountJson = credentials;
    else c.problem(credsPath, check.why);
  } else if (input.value === "" && !isGiven(raw, "auth_credentials")) {
    serviceAccountJson = applicationDefaultCredentials(c, credsPath, env) ?? "";
  }

  c.unsupported(`${path}.project_number`, raw.project_number);
  c.unsupported(`${path}.force_single_region`, raw.force_single_region);
  c.unsupported(
    `${path}.deployments`,
    raw.deployments,
    "fine-tuned model mappings are not supported yet for vertex; ignored",
  );
  warnUnknown(c, raw, path, [
    "project_id",
    "region",
    "auth_credentials",
    "project_number",
    "force_single_region",
    "deployments",
  ]);
  if (c.problems.length > before || projectId === undefined || region === undefined) return undefined;
  return { projectId, region, serviceAccountJson };
}

function applicationDefaultCredentials(
  c: Collector,
  path: string,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const file = env.GOOGLE_APPLICATION_CREDENTIALS?.trim();
  if (file === undefined || file === "") {
    c.problem(
      path,
      "is not set, and neither is the key's value (a Vertex API key) nor GOOGLE_APPLICATION_CREDENTIALS; metadata-server credentials are not supported",
    );
    return undefined;
  }
  const read = readCredentialsFile(file);
  if ("why" in read) {
    c.problem(path, `is not set, and GOOGLE_APPLICATION_CREDENTIALS (${file}) cannot be read: ${read.why}`);
    return undefined;
  }
  const check = checkServiceAccount(read.text);
  if (!check.ok) {
    c.problem(path, `is not set, and the GOOGLE_APPLICATION_CREDENTIALS file ${check.why}`);
    return undefined;
  }
  return read.text;
}

/**
 * Bedrock: region is required. Credentials: access_key + secret_key (+ session_token) for SigV4, else the
 * key's `value` (a Bedrock API key, sent as a bearer token; access and secret stay empty), else the AWS
 * default chain's first source, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN. Instance
 * roles and STS AssumeRole are not supported. `arn` is the prefix Bifrost joins with each mapped id.
 */
export function parseBedrockKeyConfig(
  raw: Obj,
  path: string,
  input: KeyConfigInput,
): BedrockKeyConfig | undefined {
  const { c, env } = input;
  const before = c.problems.length;
  const region = readText(c, raw, "region", path, env, true);
  if (region !== undefined && !isAwsRegion(region)) c.problem(`${path}.region`, AWS_REGION_RULE);

  let accessKey = readText(c, raw, "access_key", path, env) ?? "";
  let secretKey = readText(c, raw, "secret_key", path, env) ?? "";
  let sessionToken = readText(c, raw, "session_token", path, env);
  const staticKeys = isGiven(raw, "access_key") || isGiven(raw, "secret_key");
  if (isGiven(raw, "access_key") && !isGiven(raw, "secret_key"))
    c.problem(`${path}.secret_key`, "is required with access_key");
  if (isGiven(raw, "secret_key") && !isGiven(raw, "access_key"))
    c.problem(`${path}.access_key`, "is required with secret_key");
  if (isGiven(raw, "session_token") && !staticKeys)
    c.problem(`${path}.session_token`, "needs access_key and secret_key");
  if (staticKeys && input.value !== "")
    c.problem(
      `${input.keyPath}.value`,
      "set either value (a Bedrock API key) or bedrock_key_config.access_key and secret_key, not both",
    );
  if (isGiven(raw, "role_arn"))
    c.problem(`${path}.role_arn`, "STS AssumeRole is not supported yet; use access_key and secret_key");

  if (!staticKeys && input.value === "" && !isGiven(raw, "session_token")) {
    const id = env.AWS_ACCESS_KEY_ID?.trim();
    const secret = env.AWS_SECRET_ACCESS_KEY?.trim();
    if (id && secret) {
      accessKey = id;
      secretKey = secret;
      sessionToken = env.AWS_SESSION_TOKEN?.trim() || undefined;
    } else {
      c.problem(
        path,
        "no credentials: set access_key and secret_key, the key's value (a Bedrock API key), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; instance roles (IRSA, ECS, EC2) are not supported yet",
      );
    }
  }

  const arn = readText(c, raw, "arn", path, env);
  if (arn !== undefined && !isBedrockArnPrefix(arn)) c.problem(`${path}.arn`, BEDROCK_ARN_RULE);
  const deployments = mergeDeployments(
    c,
    readDeployments(c, raw, path, env),
    path,
    input.aliases,
    input.keyPath,
  );
  if (arn !== undefined) {
    // Bifrost joins the prefix with the mapped id, or with the model name itself when none is mapped.
    for (const model of input.models) if (deployments[model] === undefined) deployments[model] = model;
    for (const [model, id] of Object.entries(deployments))
      if (!id.startsWith("arn:")) deployments[model] = `${arn}/${id}`;
    if (Object.keys(deployments).length === 0)
      c.warn(
        `${path}.arn`,
        'applies only to models listed in the key\'s "models", "aliases" or "deployments"; none are; ignored',
      );
  }

  for (const field of ["external_id", "session_name"])
    c.unsupported(`${path}.${field}`, raw[field], "only used with role_arn (not supported yet); ignored");
  c.unsupported(`${path}.project_id`, raw.project_id);
  c.unsupported(`${path}.batch_s3_config`, raw.batch_s3_config);
  warnUnknown(c, raw, path, [
    "region",
    "access_key",
    "secret_key",
    "session_token",
    "arn",
    "role_arn",
    "external_id",
    "session_name",
    "project_id",
    "deployments",
    "batch_s3_config",
  ]);
  if (c.problems.length > before || region === undefined) return undefined;
  return sessionToken === undefined
    ? { accessKey, secretKey, region, deployments }
    : { accessKey, secretKey, sessionToken, region, deployments };
}
