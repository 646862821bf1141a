// Rules shared by the config.json and environment loaders for Azure, Vertex and Bedrock key configs.
// Every message names what is wrong, never the value: these fields hold or sit next to secrets.

import { readFileSync } from "node:fs";
import { normalizeBaseUrl } from "./url.js";

/**
 * Azure OpenAI's newest dated GA data-plane (inference) version at the time of writing; newer features
 * (preview versions, the v1 API) need an explicit api_version / AZURE_API_VERSION.
 */
export const DEFAULT_AZURE_API_VERSION = "2024-10-21";

/** Vertex AI's default location in Google's SDKs and docs. */
export const DEFAULT_VERTEX_REGION = "us-central1";

export const AZURE_ENDPOINT_RULE =
  "must be an https URL (http only for localhost) without query or fragment, such as https://my-resource.openai.azure.com";
export const AZURE_API_VERSION_RULE =
  "must be an Azure OpenAI API version such as 2024-10-21 or 2025-04-01-preview";
export const AWS_REGION_RULE = "must be an AWS region such as us-east-1";
export const GCP_REGION_RULE = "must be a Google Cloud region such as us-central1, or global";
export const GCP_PROJECT_RULE = "must be a Google Cloud project ID such as my-project-123";
export const BEDROCK_ARN_RULE =
  "must be a Bedrock ARN prefix such as arn:aws:bedrock:us-east-1:123456789012:application-inference-profile";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The endpoint without trailing slashes, or undefined when it is not https (http is allowed on loopback). */
export function normalizeAzureEndpoint(raw: string): string | undefined {
  const normalized = normalizeBaseUrl(raw);
  if (normalized === undefined) return undefined;
  const url = new URL(normalized);
  if (url.protocol === "https:") return normalized;
  return LOOPBACK_HOSTS.has(url.hostname) ? normalized : undefined;
}

export function isAzureApiVersion(v: string): boolean {
  return /^\d{4}-\d{2}-\d{2}(-preview)?$/.test(v);
}

/** us-east-1, eu-central-2, us-gov-west-1, ap-southeast-3, ... */
export function isAwsRegion(v: string): boolean {
  return /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(v);
}

/** us-central1, europe-west4, northamerica-northeast1, ... or "global". */
export function isGcpRegion(v: string): boolean {
  return v === "global" || /^[a-z]+-[a-z]+\d{1,2}$/.test(v);
}

/** Google's rule (6-30 characters, lowercase letters, digits and hyphens), plus legacy domain-scoped ids. */
export function isGcpProjectId(v: string): boolean {
  return /^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(v);
}

export function isBedrockArnPrefix(v: string): boolean {
  return /^arn:aws(-[a-z]+)*:bedrock:[a-z0-9-]*:\d{12}:[a-z-]+$/.test(v);
}

export type ServiceAccountCheck = { ok: true; projectId?: string } | { ok: false; why: string };

/**
 * Checks that `text` is a Google service-account key (the JSON file Google issues), the only credential
 * type the Vertex adapter signs tokens with. The reason never quotes the text.
 */
export function checkServiceAccount(text: string): ServiceAccountCheck {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, why: "must be the service-account JSON key (the text does not parse as JSON)" };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    return { ok: false, why: "must be the service-account JSON key (a JSON object)" };
  const sa = json as Record<string, unknown>;
  if (sa.type !== "service_account") {
    const found =
      typeof sa.type === "string" && /^[a-z_]{1,40}$/.test(sa.type) ? `"${sa.type}"` : "no valid type";
    return {
      ok: false,
      why: `must be a service_account credential (found ${found}); other Google credential types are not supported`,
    };
  }
  if (typeof sa.client_email !== "string" || !sa.client_email.includes("@"))
    return { ok: false, why: "service-account JSON has no client_email" };
  if (typeof sa.private_key !== "string" || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(sa.private_key))
    return { ok: false, why: "service-account JSON has no PEM private_key" };
  return typeof sa.project_id === "string" && sa.project_id !== ""
    ? { ok: true, projectId: sa.project_id }
    : { ok: true };
}

/** Reads a credentials file; the reason names the failure, never the content. */
export function readCredentialsFile(path: string): { text: string } | { why: string } {
  try {
    return { text: readFileSync(path, "utf8") };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "file not found"
        : code === "EACCES"
          ? "permission denied"
          : code === "EISDIR"
            ? "is a directory"
            : (code ?? "unreadable");
    return { why };
  }
}
