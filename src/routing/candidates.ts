import type { Deployment, ProviderKey } from "../config/types.js";
import { type GatewayError, gatewayError } from "../errors.js";
import type { ResponseHeaders } from "../http/exchange.js";
import type { CompiledProvider } from "../providers/route.js";
import { BoundedCache } from "./bounded-cache.js";
import type { Candidate } from "./health.js";
import { resolveModel } from "./resolve.js";
import type { RoutingTable } from "./table.js";

// A requested model name as the ordered list of ways to serve it: a model group's deployments (after
// aliases), or today's resolution (provider/model, listed models, families) spread over the provider's keys
// that serve the model. Groups are compiled with the routing table; other names are cached per table.

export interface PlanCandidate extends Candidate {
  /** Until the response headers arrive (the deployment's timeout, else the provider's). */
  readonly firstByteTimeoutMs: number;
  /** Between two chunks of the response body. */
  readonly idleTimeoutMs: number;
  /** x-switchyard-provider and -model, built once. */
  readonly identity: ResponseHeaders;
  /** The identity with retries and fallback index 0: what the first attempt answers with. */
  readonly firstHeaders: ResponseHeaders;
  /** The model as a JSON string token, for the byte leg's rewrite of a body's `model`. */
  readonly modelJson: Buffer;
}

export interface ModelPlan {
  /** The public name: what fallbacks and retry settings are keyed by. */
  readonly name: string;
  readonly candidates: readonly PlanCandidate[];
}

/** Resolved names cached per table; past these bounds the oldest are dropped and resolved again when asked. */
const CACHE_ENTRIES = 4096;
const CACHE_KEY_CHARS = 256 * 1024;

export function newResolvedCache(): BoundedCache<ModelPlan> {
  return new BoundedCache(CACHE_ENTRIES, CACHE_KEY_CHARS);
}

export function candidatesFor(table: RoutingTable, requested: string): ModelPlan | GatewayError {
  const group = table.groups.get(requested);
  if (group !== undefined) return group;
  const cached = table.resolved.get(requested);
  if (cached !== undefined) return cached;
  const resolved = resolveModel(table, requested);
  if ("status" in resolved) return resolved;
  const { provider, model } = resolved;
  if (provider.config.keysDisabled) {
    return gatewayError(
      "provider_keys_disabled",
      `Every key of provider '${provider.name}' is disabled; enable one to send it requests.`,
      "model",
    );
  }
  const candidates: PlanCandidate[] = [];
  for (let i = 0; i < provider.keys.length; i++) {
    const key = provider.keys[i] as ProviderKey;
    if (serves(key, model)) candidates.push(candidate(provider, i, model, key.weight, 0, undefined));
  }
  if (candidates.length === 0) {
    return gatewayError(
      "model_not_found",
      `No key of provider '${provider.name}' is configured for model '${model}'.`,
      "model",
    );
  }
  const plan: ModelPlan = { name: requested, candidates };
  table.resolved.set(requested, plan);
  return plan;
}

/** Model groups and their aliases, compiled once per configuration. Deployments nothing can serve are left out. */
export function compileGroups(
  groups: Readonly<Record<string, readonly Deployment[]>> | undefined,
  aliases: Readonly<Record<string, string>> | undefined,
  providers: ReadonlyMap<string, CompiledProvider>,
): Map<string, ModelPlan> {
  const out = new Map<string, ModelPlan>();
  if (groups === undefined) return out;
  for (const [name, deployments] of Object.entries(groups)) {
    const candidates: PlanCandidate[] = [];
    for (const deployment of deployments) {
      const provider = providers.get(deployment.provider);
      if (provider === undefined) continue;
      for (let i = 0; i < provider.keys.length; i++) {
        const key = provider.keys[i] as ProviderKey;
        if (deployment.key !== undefined ? key.name !== deployment.key : !serves(key, deployment.model))
          continue;
        candidates.push(
          candidate(
            provider,
            i,
            deployment.model,
            deployment.weight * key.weight,
            deployment.order,
            deployment.timeoutMs,
          ),
        );
      }
    }
    if (candidates.length > 0) out.set(name, { name, candidates });
  }
  if (aliases !== undefined) {
    for (const [alias, target] of Object.entries(aliases)) {
      const plan = out.get(target);
      if (plan !== undefined && !out.has(alias)) out.set(alias, plan);
    }
  }
  return out;
}

function serves(key: ProviderKey, model: string): boolean {
  return key.models.length === 0 || key.models.includes(model) || key.models.includes("*");
}

function candidate(
  provider: CompiledProvider,
  keyIndex: number,
  model: string,
  weight: number,
  order: number,
  timeoutMs: number | undefined,
): PlanCandidate {
  const network = provider.config.network;
  const identity: ResponseHeaders = [
    ["x-switchyard-provider", provider.name],
    ["x-switchyard-model", model],
  ];
  return {
    provider,
    keyIndex,
    model,
    weight,
    order,
    firstByteTimeoutMs: timeoutMs ?? network.firstByteTimeoutMs ?? network.requestTimeoutMs,
    idleTimeoutMs: timeoutMs ?? network.idleTimeoutMs ?? network.requestTimeoutMs,
    identity,
    firstHeaders: [...identity, ["x-switchyard-retries", "0"], ["x-switchyard-fallback-index", "0"]],
    modelJson: Buffer.from(JSON.stringify(model)),
  };
}
