// The gateway's resolved configuration: what every loader (Bifrost config.json, environment, later LiteLLM
// config.yaml) produces and what lanes receive as an immutable snapshot. Secrets are already resolved here;
// never log a GatewayConfig whole (see `describeConfig` for the safe summary).

export interface ProviderKey {
  /** Human name for logs and metrics; never the secret. */
  readonly name: string;
  /** The resolved secret ("env.VAR" already looked up). Empty for keyless local providers. */
  readonly value: string;
  /** Models this key may serve; empty means "any model of the provider". */
  readonly models: readonly string[];
  readonly weight: number;
  /** Azure OpenAI: resource endpoint, API version, and model name → deployment name. */
  readonly azure?: AzureKeyConfig;
  /** Google Vertex AI: project, region and the service account that signs token requests. */
  readonly vertex?: VertexKeyConfig;
  /** AWS Bedrock: credentials and region for SigV4 signing. */
  readonly bedrock?: BedrockKeyConfig;
}

export interface AzureKeyConfig {
  /** https://<resource>.openai.azure.com */
  readonly endpoint: string;
  readonly apiVersion: string;
  readonly deployments: Readonly<Record<string, string>>;
}

export interface VertexKeyConfig {
  readonly projectId: string;
  readonly region: string;
  /** The service-account JSON (as text), resolved from a literal, an env var, or a file. */
  readonly serviceAccountJson: string;
}

export interface BedrockKeyConfig {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly sessionToken?: string;
  readonly region: string;
  /** Model name → inference profile ARN or id. */
  readonly deployments: Readonly<Record<string, string>>;
}

export interface NetworkConfig {
  /**
   * The provider's root URL as configured, without a trailing slash (https://api.openai.com, or
   * http://localhost:4000/v1). Adapters append their API path unless the URL already ends with it.
   */
  readonly baseUrl: string;
  readonly extraHeaders: Readonly<Record<string, string>>;
  readonly requestTimeoutMs: number;
  readonly maxRetries: number;
  readonly retryBackoffInitialMs: number;
  readonly retryBackoffMaxMs: number;
}

export interface ConcurrencyConfig {
  /** Upstream requests in flight per provider (per gateway, shared by all lanes). */
  readonly concurrency: number;
  /** Requests allowed to wait for a concurrency slot before the gateway sheds load. */
  readonly bufferSize: number;
}

export interface ProviderConfig {
  /** Provider id as clients write it in `provider/model`, e.g. "openai", "groq", "my-vllm". */
  readonly name: string;
  /** Catalog entry this provider follows (wire format, auth style, model families). */
  readonly kind: string;
  readonly keys: readonly ProviderKey[];
  readonly network: NetworkConfig;
  readonly concurrency: ConcurrencyConfig;
}

export interface ClientConfig {
  readonly maxRequestBodyBytes: number;
  /** CORS allow-list; "*" allows any origin. Empty disables CORS headers. */
  readonly allowedOrigins: readonly string[];
  /** Shed load at once (429) instead of queueing when a provider's buffer is full. */
  readonly dropExcessRequests: boolean;
}

export interface GatewayConfig {
  readonly providers: Readonly<Record<string, ProviderConfig>>;
  readonly client: ClientConfig;
  /** Where this configuration came from: a file path, or "environment". */
  readonly source: string;
}
