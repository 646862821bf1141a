import { KEY_CONFIG_KINDS } from "../config/kinds.js";
import type { ProviderKey } from "../config/types.js";
import type { UpstreamRequest } from "../providers/adapter.js";
import { anthropicHeaders } from "../providers/anthropic/adapter.js";
import { geminiHeaders, geminiRoot } from "../providers/gemini/adapter.js";
import { providerError } from "../providers/provider-error.js";
import { speaksOpenAI } from "../providers/registry.js";
import type { CompiledProvider } from "../providers/route.js";
import { compileRoutingTable } from "../routing/table.js";
import { poolFor, sendUpstream } from "../upstream/pools.js";
import { redactSecrets } from "../upstream/redact.js";
import { knownSecrets, redactKnown } from "./config-view.js";
import type { AdminContext } from "./context.js";
import { AdminError, notFound } from "./errors.js";
import type { AdminRoute } from "./route.js";
import type { RecordSchema } from "./schema.js";

// POST /api/providers/{name}/keys/{id}/test: one cheap request to the provider with one of its keys, sent
// from the control plane, so the web UI can tell a working key from a wrong one. The request is the
// provider's model list, with the auth headers its adapter sends on the hot path. The answer carries the
// provider's status and error message with the key and anything shaped like a key redacted.

export const KEY_TEST_TIMEOUT_MS = 10_000;

export interface KeyTestResult {
  /** The provider answered 2xx. */
  readonly ok: boolean;
  /** The provider's status; 0 when it did not answer (connection refused, timeout). */
  readonly status: number;
  readonly latency_ms: number;
  /** What to show: the provider's error message (redacted), or what the success means. */
  readonly message: string;
}

const KEY_TEST_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    ok: { type: "boolean" },
    status: { type: "integer", minimum: 0, maximum: 999, description: "The provider's; 0: no answer." },
    latency_ms: { type: "integer", minimum: 0, maximum: 3_600_000 },
    message: { type: "string", maxLength: 4096, description: "Keys and key-shaped text redacted." },
  },
};

export const PROVIDER_TEST_ROUTES: readonly AdminRoute[] = [
  {
    method: "POST",
    path: "/api/providers/{name}/keys/{id}/test",
    summary:
      "Send one cheap request (the model list) to the provider with this key. A key added through the API by its id; one of the configuration file by its name (or 0-based position).",
    response: KEY_TEST_VIEW,
    async handle(context, { params }) {
      return {
        status: 200,
        body: await testProviderKey(context, params.name as string, params.id as string),
      };
    },
  },
];

export async function testProviderKey(
  context: AdminContext,
  name: string,
  id: string,
): Promise<KeyTestResult> {
  const config = context.config();
  const keyName = await resolveKeyName(context, name, id);
  const provider = compileRoutingTable(config).providers.get(name);
  if (provider === undefined)
    throw new AdminError(
      422,
      "invalid_request_error",
      "untestable",
      `provider ${JSON.stringify(name)} is not served (GET /api/config says why under warnings.api)`,
    );
  const keyIndex = provider.keys.findIndex((key) => key.name === keyName);
  if (keyIndex < 0) throw notFound("provider key", id);
  const request = modelListRequest(provider, keyIndex);
  if (typeof request === "string") throw new AdminError(422, "invalid_request_error", "untestable", request);
  const secret = provider.keys[keyIndex]?.value ?? "";
  // Every secret of the configuration, this key's among them, and whatever looks like a key.
  const clean = (text: string) => redactKnown(text, knownSecrets(config)).slice(0, 4096);
  // The provider's own pool settings (its CA certificates, its connect timeout) for this origin.
  poolFor(request.origin, provider.config.network);
  const started = performance.now();
  try {
    const reply = await sendUpstream(request, KEY_TEST_TIMEOUT_MS);
    const latency = Math.round(performance.now() - started);
    if (reply.status < 300)
      return {
        ok: true,
        status: reply.status,
        latency_ms: latency,
        message: "The provider accepted the key.",
      };
    const body = redactSecrets(reply.body, secret);
    const message = providerError(reply.status, name, body).message;
    return { ok: false, status: reply.status, latency_ms: latency, message: clean(message) };
  } catch (error) {
    const latency = Math.round(performance.now() - started);
    return {
      ok: false,
      status: 0,
      latency_ms: latency,
      message: clean(`No answer: ${(error as Error).message}`),
    };
  }
}

/**
 * The name of the key `id` stands for in the served configuration: a stored key by its id, a key of the
 * configuration file by its name or position. Provider key names are unique per provider.
 */
async function resolveKeyName(context: AdminContext, name: string, id: string): Promise<string> {
  const file = context.fileConfig().providers;
  if (Object.hasOwn(file, name)) {
    const keys = file[name]?.keys ?? [];
    const key = keys.find((k) => k.name === id) ?? (/^\d{1,4}$/.test(id) ? keys[Number(id)] : undefined);
    if (key !== undefined) return key.name;
    // A provider without keys (a local server) is tried as routing tries it, with its one "keyless" key.
    if (keys.length === 0 && id === KEYLESS) return KEYLESS;
    throw notFound("provider key", id);
  }
  const stored = (await context.store.listProviderKeys(name)).find((key) => key.id === id);
  if (stored?.enabled === false)
    throw new AdminError(
      422,
      "invalid_request_error",
      "untestable",
      "the key is disabled: enable it to test it",
    );
  if (stored !== undefined) return stored.name;
  const providers = await context.store.listProviders();
  if (!providers.some((p) => p.name === name)) throw notFound("provider", name);
  if (id === KEYLESS && (await context.store.listProviderKeys(name)).length === 0) return KEYLESS;
  throw notFound("provider key", id);
}

/** The name routing gives the one key of a provider configured without any (src/routing/table.ts). */
const KEYLESS = "keyless";

/** The cheapest request that proves a key: the provider's model list, or why there is none to send. */
export function modelListRequest(provider: CompiledProvider, keyIndex: number): UpstreamRequest | string {
  const kind = provider.config.kind;
  const get = (origin: string, path: string, headers: readonly string[]): UpstreamRequest => ({
    origin,
    path,
    method: "GET",
    headers: withoutContentType(headers),
    body: "",
  });
  if (KEY_CONFIG_KINDS.has(kind))
    return `a ${kind} key cannot be tested with a cheap request: send a request through the gateway instead`;
  if (kind === "anthropic")
    return get(
      provider.origin,
      `${provider.apiPath}/models`,
      anthropicHeaders(provider, provider.keys[keyIndex] as ProviderKey),
    );
  if (kind === "gemini")
    return get(
      provider.origin,
      `${geminiRoot(provider.apiPath)}/v1beta/models`,
      geminiHeaders(provider, keyIndex),
    );
  const endpoint = provider.endpoints[keyIndex];
  if (endpoint === undefined) return "the provider has no such key";
  if (kind === "cohere")
    return get(
      endpoint.origin,
      `${endpoint.path("", "").replace(/\/v[12]$/, "")}/v1/models`,
      endpoint.headers,
    );
  if (speaksOpenAI(kind)) return get(endpoint.origin, endpoint.path("/models", ""), endpoint.headers);
  return `a ${kind} key cannot be tested with a cheap request: send a request through the gateway instead`;
}

/** A GET sends no body, so no content type. */
function withoutContentType(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2)
    if ((headers[i] as string).toLowerCase() !== "content-type")
      out.push(headers[i] as string, headers[i + 1] as string);
  return out;
}
