// Defaults follow Bifrost so a config.json behaves the same under either gateway.
// Network and concurrency values: Bifrost core `schemas` constants and docs.getbifrost.ai/providers/performance;
// body size: Bifrost's client default (max_request_body_size_mb = 100).

import type { ClientConfig, ConcurrencyConfig } from "./types.js";

export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;
export const DEFAULT_MAX_RETRIES = 0;
/** Bifrost's retry_backoff_initial / retry_backoff_max are milliseconds. */
export const DEFAULT_RETRY_BACKOFF_INITIAL_MS = 500;
export const DEFAULT_RETRY_BACKOFF_MAX_MS = 5_000;
export const DEFAULT_CONCURRENCY: ConcurrencyConfig = { concurrency: 1000, bufferSize: 5000 };
export const DEFAULT_MAX_REQUEST_BODY_MB = 100;
export const DEFAULT_MAX_COUNT_TOKENS_BODY_MB = 4;
/** Anthropic's own limit on a Messages request; parsing is lane CPU, about 20 ms a MiB at worst here. */
export const DEFAULT_MAX_CONVERTED_BODY_MB = 32;

export const MIB = 1024 * 1024;

export function defaultNetwork(baseUrl: string) {
  return {
    baseUrl,
    extraHeaders: {},
    requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_SECONDS * 1000,
    maxRetries: DEFAULT_MAX_RETRIES,
    retryBackoffInitialMs: DEFAULT_RETRY_BACKOFF_INITIAL_MS,
    retryBackoffMaxMs: DEFAULT_RETRY_BACKOFF_MAX_MS,
  };
}

// Bifrost defaults allowed_origins to ["*"]; Switchyard sends no CORS headers unless origins are configured,
// so a gateway holding provider keys is not callable from any web page by default.
export const DEFAULT_CLIENT: ClientConfig = {
  maxRequestBodyBytes: DEFAULT_MAX_REQUEST_BODY_MB * MIB,
  maxCountTokensBodyBytes: DEFAULT_MAX_COUNT_TOKENS_BODY_MB * MIB,
  maxConvertedBodyBytes: DEFAULT_MAX_CONVERTED_BODY_MB * MIB,
  allowedOrigins: [],
  dropExcessRequests: false,
};
