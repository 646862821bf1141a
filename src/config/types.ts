// The gateway's resolved configuration: what every loader (Bifrost config.json, environment, later LiteLLM
// config.yaml) produces and what lanes receive as an immutable snapshot. Secrets are already resolved here;
// never log a GatewayConfig whole (see `describeConfig` for the safe summary).
import type { ModelPrice } from "../governance/prices.js";
import type { BudgetWindow, Customer, Team, VirtualKey } from "../governance/types.js";

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
  /** Finer timeouts; each defaults to requestTimeoutMs. */
  readonly connectTimeoutMs?: number;
  /** Until the response headers arrive. */
  readonly firstByteTimeoutMs?: number;
  /** Between two chunks of the response body. */
  readonly idleTimeoutMs?: number;
  /**
   * PEM certificates this provider's TLS may chain to besides the system's roots (Bifrost's
   * `ca_cert_pem`): a self-hosted model behind a private CA.
   */
  readonly caCertPem?: string;
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
  /**
   * Set when the provider has keys and every one is disabled (a provider of the management API): `keys` is
   * empty, and requests to it are refused rather than sent without a key.
   */
  readonly keysDisabled?: true;
  readonly network: NetworkConfig;
  readonly concurrency: ConcurrencyConfig;
}

export interface ClientConfig {
  readonly maxRequestBodyBytes: number;
  /** count_tokens reads a smaller body: counting tokens is CPU time a lane spends on nothing else. */
  readonly maxCountTokensBodyBytes: number;
  /**
   * A body converted between wire formats is parsed whole on the lane (JSON.parse cannot be interrupted),
   * so it gets a limit of its own; bytes relayed as they are only pass the request limit.
   */
  readonly maxConvertedBodyBytes: number;
  /** CORS allow-list; "*" allows any origin. Empty disables CORS headers. */
  readonly allowedOrigins: readonly string[];
  /** Shed load at once (429) instead of queueing when a provider's buffer is full. */
  readonly dropExcessRequests: boolean;
}

export type RoutingStrategy =
  | "weighted"
  | "round-robin"
  | "least-busy"
  | "lowest-latency"
  | "adaptive"
  | "priority";

/** Error classes as LiteLLM's retry_policy names them. */
export type RetryClass =
  | "BadRequestError"
  | "AuthenticationError"
  | "TimeoutError"
  | "RateLimitError"
  | "ContentPolicyViolationError"
  | "InternalServerError";

/** One deployment behind a public model name (LiteLLM: a model_list entry). */
export interface Deployment {
  readonly provider: string;
  /** The model as that provider knows it. */
  readonly model: string;
  /** Restricts the deployment to one key of the provider, by key name; absent means any key serving the model. */
  readonly key?: string;
  readonly weight: number;
  /** Tried lower first under the "priority" strategy (LiteLLM's `order`). */
  readonly order: number;
  readonly rpm?: number;
  readonly tpm?: number;
  readonly timeoutMs?: number;
}

export interface RoutingConfig {
  readonly strategy: RoutingStrategy;
  /** Attempts after the first, across keys and deployments. */
  readonly numRetries: number;
  readonly retryBackoffInitialMs: number;
  readonly retryBackoffMaxMs: number;
  /** Time a request may take, all attempts included; 0 leaves it to the providers' own timeouts. */
  readonly timeoutMs: number;
  /** Consecutive failures that open a deployment's circuit (LiteLLM allowed_fails). */
  readonly allowedFails: number;
  /** How long an open circuit stays open before a half-open probe (LiteLLM cooldown_time). */
  readonly cooldownMs: number;
  /** Public model name → models to try, in order, when it fails. */
  readonly fallbacks: Readonly<Record<string, readonly string[]>>;
  readonly contextWindowFallbacks: Readonly<Record<string, readonly string[]>>;
  readonly contentPolicyFallbacks: Readonly<Record<string, readonly string[]>>;
  /** Retries per error class, overriding numRetries for that class. */
  readonly retryPolicy: Readonly<Partial<Record<RetryClass, number>>>;
}

export interface GatewayConfig {
  readonly providers: Readonly<Record<string, ProviderConfig>>;
  readonly client: ClientConfig;
  /** Public model names served by one or more deployments (absent: none beyond provider/model names). */
  readonly modelGroups?: Readonly<Record<string, readonly Deployment[]>>;
  /** Alias → public model name (LiteLLM model_group_alias). */
  readonly aliases?: Readonly<Record<string, string>>;
  /** Absent: defaults (weighted, no retries beyond the providers' max_retries, no fallbacks). */
  readonly routing?: RoutingConfig;
  /** Drop parameters a provider cannot take instead of answering 400 (LiteLLM drop_params). */
  readonly dropParams?: boolean;
  /**
   * The key every inference route and /v1/models require (LiteLLM general_settings.master_key, else
   * SWITCHYARD_API_KEY or LITELLM_MASTER_KEY); absent, the gateway is open to whoever reaches it.
   */
  readonly masterKey?: string;
  /** /metrics requires the master key too (LiteLLM require_auth_for_metrics_endpoint). */
  readonly metricsRequireKey?: boolean;
  /**
   * /metrics also carries Bifrost's telemetry names (bifrost_upstream_requests_total, bifrost_cost_total, ...)
   * for the same series, so Bifrost dashboards keep working (SWITCHYARD_BIFROST_METRICS=true).
   */
  readonly bifrostMetrics?: boolean;
  /**
   * Plugins in the order they run (Bifrost's `plugins`, LiteLLM's `switchyard_plugins` and header-forwarding
   * settings, SWITCHYARD_FORWARD_HEADERS); the master key's own plugin goes before them when a key is set.
   * Loaded by src/hooks/load.ts; options may hold secrets, so only names are ever logged.
   */
  readonly plugins?: readonly PluginSpec[];
  /** Virtual keys, teams and customers the file defines, and the store's database (absent: none of these set). */
  readonly governance?: GovernanceConfig;
  /**
   * Rates that override the shipped price table, by "provider/model" with the provider as this configuration
   * names it (LiteLLM's input_cost_per_token and the like in litellm_params or model_info).
   */
  readonly prices?: Readonly<Record<string, Partial<ModelPrice>>>;
  /** OpenTelemetry traces over OTLP/HTTP (src/config/tracing.ts); absent, no spans are made. */
  readonly tracing?: TracingConfig;
  /** The request log as the file and the environment set it; what is left out takes src/config/logs.ts's defaults. */
  readonly logs?: Partial<LogsConfig>;
  /** The answer cache (src/config/cache.ts); absent, nothing is cached. */
  readonly cache?: CacheConfig;
  /** Cluster mode (src/config/cluster.ts): budgets, limits and health shared through Redis; absent, each instance is alone. */
  readonly cluster?: ClusterConfig;
  /** Where this configuration came from: a file path, or "environment". */
  readonly source: string;
}

/** The request log: one record per request, written off the hot path (src/control/request-log.ts). */
export interface LogsConfig {
  /** Records are kept (Bifrost client.enable_logging and logs_store.enabled, LiteLLM disable_spend_logs). */
  readonly enabled: boolean;
  /**
   * Requests' input and output are kept with their records (Bifrost client.disable_content_logging, LiteLLM
   * store_prompts_in_spend_logs and turn_off_message_logging); a virtual key may turn it off for itself.
   */
  readonly content: boolean;
  /** Each side's content is cut at this many bytes. */
  readonly maxContentBytes: number;
  /** Records older than this are pruned; 0 keeps them whatever their age (Bifrost client.log_retention_days). */
  readonly retentionMs: number;
  /** The log's storage is kept under this many bytes, oldest records going first; 0 for no bound. */
  readonly maxBytes: number;
  /** Each lane's ring of records on their way to the store; a full ring drops records, counting them. */
  readonly ringBytes: number;
  /** The most a record waits in its ring before the log worker writes it. */
  readonly flushMs: number;
}

/** The answer cache: exact (a canonical request's hash) and, when an embedding model is set, semantic. */
export interface CacheConfig {
  /** Where exact entries live: this process (bounded by maxBytes) or Redis, shared by every instance. */
  readonly store: "memory" | "redis";
  /** redis://[user:password@]host:port[/db]; may hold a password: masked wherever it is shown. */
  readonly redisUrl?: string;
  readonly ttlMs: number;
  /** The memory store's bound (answers and keys). */
  readonly maxBytes: number;
  /** default_on: every request is cached unless it opts out; default_off (LiteLLM's mode): only those that opt in. */
  readonly mode: "default_on" | "default_off";
  /** Entries shared by every key (LiteLLM's cache_params.namespace); absent, each virtual key has its own. */
  readonly namespace?: string;
  readonly semantic?: SemanticCacheConfig;
  /** Settings for one model (as the client names it or as its alias resolves). */
  readonly models: Readonly<Record<string, CacheOverride>>;
  /** Settings for one virtual key, by its id or its name. */
  readonly keys: Readonly<Record<string, CacheOverride>>;
}

export interface SemanticCacheConfig {
  /** A model the gateway routes, asked for embeddings of each request's conversation. */
  readonly embeddingModel: string;
  /** Cosine similarity from which an earlier answer is given. */
  readonly threshold: number;
  /** Conversations with more non-system messages than this are cached exactly only. */
  readonly maxTurns: number;
  /** The vector index's bound, every scope together. */
  readonly maxBytes: number;
}

export interface CacheOverride {
  readonly enabled?: boolean;
  readonly ttlMs?: number;
  readonly semantic?: boolean;
  readonly threshold?: number;
  readonly namespace?: string;
}

export interface TracingConfig {
  /** The full URL spans are POSTed to (`<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`). */
  readonly endpoint: string;
  /** Sent with every export (OTEL_EXPORTER_OTLP_HEADERS); may hold a collector's key: never log them. */
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
}

export interface GovernanceConfig {
  /** Inference requires a virtual key (or the master key); false keeps the gateway open to anonymous clients. */
  readonly requireVirtualKey: boolean;
  /**
   * Entities the configuration file defines; they are merged with the store's at start and on reload (the file
   * wins for its ids). Their `createdAt`, `updatedAt` and budget `anchor` are 0 unless the file gives a time
   * (Bifrost's `last_reset`), so a reload never moves a rolling window.
   */
  readonly virtualKeys: readonly VirtualKey[];
  readonly teams: readonly Team[];
  readonly customers: readonly Customer[];
  /** PostgreSQL URL for the store (postgres://...), when the file names one. May hold a password: never log it. */
  readonly databaseUrl?: string;
  /** Defaults for keys made through the API (LiteLLM default_key_generate_params). */
  readonly keyDefaults?: Partial<KeyDefaults>;
  /** The most a key made through the API may ask for (LiteLLM upperbound_key_generate_params). */
  readonly keyUpperBounds?: Partial<KeyDefaults>;
}

/** What a key made through the API gets when the request leaves it out (or, as upper bounds, may not exceed). */
export interface KeyDefaults {
  /** Models the key may use (exact names or `*` patterns); empty is all. */
  readonly models: readonly string[];
  readonly maxBudgetMicros: number;
  /** The budget's window; absent with a budget: one window for the key's whole life. */
  readonly budgetDuration: BudgetWindow;
  /** Requests per minute. */
  readonly rpm: number;
  /** Tokens per minute. */
  readonly tpm: number;
  /** Requests under way at once. */
  readonly parallel: number;
  /** How long the key lives from its creation. */
  readonly duration: BudgetWindow;
}

/** A plugin as a configuration lists it (see src/hooks/load.ts, which loads it). */
export interface PluginSpec {
  /** How the configuration calls it (Bifrost's entry `name`), for start-up lines and errors only. */
  readonly name?: string;
  /** A JavaScript module (.js, .mjs, .cjs), relative to the configuration file's directory. */
  readonly path?: string;
  /** A plugin that ships with the gateway, by name (src/hooks/builtin/index.ts). */
  readonly builtin?: string;
  /** Given to the plugin's factory as they are. */
  readonly options: unknown;
  readonly enabled: boolean;
}

/** What a plugin module may be: JavaScript only. */
export const MODULE_EXTENSIONS = [".js", ".mjs", ".cjs"] as const;

/**
 * The plugins that ship with the gateway, by the name a configuration gives them (`builtin: "..."`); the
 * registry in src/hooks/builtin/index.ts has a factory for each.
 */
export const BUILTIN_PLUGIN_NAMES = ["header_allowlist"] as const;
export type BuiltinPluginName = (typeof BUILTIN_PLUGIN_NAMES)[number];

/** Where the cluster's Redis is: one server, a Sentinel-watched primary, or a Redis Cluster. */
export type RedisTarget =
  | { readonly kind: "standalone"; readonly url: string }
  | {
      readonly kind: "sentinel";
      /** The primary's name as the sentinels know it (Sentinel's `master-name`). */
      readonly masterName: string;
      readonly sentinels: readonly { readonly host: string; readonly port: number }[];
      /** Credentials for the primary and replicas (redis:// URL userinfo form is not used with Sentinel). */
      readonly username?: string;
      readonly password?: string;
    }
  | { readonly kind: "cluster"; readonly nodes: readonly string[] };

/** Many instances behind a load balancer enforcing one set of budgets, limits and circuit states (docs/cluster.md). */
export interface ClusterConfig {
  readonly redis: RedisTarget;
  /** Names this instance in Redis and in logs (a host name); each process adds a random suffix. */
  readonly instanceName: string;
  /** Every key the cluster writes starts with it: several clusters may share one Redis. */
  readonly keyPrefix: string;
  /** Redis unreachable: refuse what the leases held do not cover ("refuse"), or serve within them ("local"). */
  readonly onRedisDown: "refuse" | "local";
  /** A dead instance's lease: charged whole ("charge"), or only what it had reserved ("reclaim"). */
  readonly leaseExpiry: "charge" | "reclaim";
  /** How many instances share the limits: a lease is at most limit / (instances × 2). */
  readonly expectedInstances: number;
  /** A lease its holder does not renew lapses after this long. */
  readonly leaseTtlMs: number;
  /** Circuit states and upstream scores are published to the other instances. */
  readonly shareHealth: boolean;
}
