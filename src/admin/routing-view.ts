import type { Deployment, GatewayConfig, ProviderConfig } from "../config/types.js";
import {
  CLOSED,
  D,
  deploymentTag,
  findDeploymentSlot,
  findProviderSlot,
  HALF_OPEN,
  KEY_SLOTS,
  OPEN,
  openUpstreamBuffer,
  P,
  providerTag,
  type UpstreamLayout,
} from "../shm/upstream.js";
import {
  DEPLOYMENT_FIELDS,
  deploymentView,
  FALLBACKS_VIEW,
  fallbacksView,
  ROUTING_SETTINGS_VIEW,
  routingSettingsView,
} from "./config-view.js";
import { nullable } from "./fields.js";
import type { AdminRoute } from "./route.js";
import type { ArraySchema, RecordSchema, Schema, StringSchema } from "./schema.js";

// GET /api/routing: how the gateway routes (model groups, aliases, fallbacks, strategy, retries) with the
// live state every lane shares (src/shm/upstream.ts): per provider the requests in flight and waiting, per
// deployment (provider × key × model) its circuit, latency and error rate. Read only: slots no lane has
// used are reported as such, never claimed.

const NAME: StringSchema = { type: "string", maxLength: 256 };
const INT: Schema = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
const MS: Schema = { type: "number", minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
const list = (items: Schema): ArraySchema => ({ type: "array", items, maxItems: 100_000 });
const record = (properties: RecordSchema["properties"], description?: string): RecordSchema => ({
  type: "object",
  additionalProperties: false,
  properties,
  ...(description === undefined ? {} : { description }),
});

export type CircuitState = "CLOSED" | "OPEN" | "HALF_OPEN";

export interface DeploymentLive {
  readonly in_flight: number;
  readonly circuit: CircuitState;
  /** EWMA of successful attempts, null before the first. */
  readonly latency_ms: number | null;
  /** EWMA of the failure rate, 0 to 1. */
  readonly error_rate: number;
  readonly samples: number;
  readonly consecutive_fails: number;
}

const LIVE: Schema = nullable(
  record(
    {
      in_flight: INT,
      circuit: { type: "string", maxLength: 9, enum: ["CLOSED", "OPEN", "HALF_OPEN"] },
      latency_ms: nullable(MS),
      error_rate: { type: "number", minimum: 0, maximum: 1 },
      samples: INT,
      consecutive_fails: INT,
    },
    "Shared by every lane; null when no request has gone this way since the state was made.",
  ),
);

export const ROUTING_RESPONSE: RecordSchema = record({
  settings: ROUTING_SETTINGS_VIEW,
  model_groups: list(
    record({
      name: NAME,
      deployments: list(
        record({
          ...DEPLOYMENT_FIELDS,
          live: {
            ...LIVE,
            description: "Over the deployment's keys: the worst circuit, the sums and maxima.",
          },
        }),
      ),
    }),
  ),
  aliases: {
    type: "object",
    additionalProperties: NAME,
    maxProperties: 100_000,
    propertyNames: NAME,
    description: "Alias → public model name.",
  },
  fallbacks: FALLBACKS_VIEW,
  providers: list(
    record({
      name: NAME,
      kind: NAME,
      concurrency: INT,
      buffer_size: INT,
      in_flight: INT,
      queued: INT,
      latency_ms: nullable(MS),
      keys: list(record({ name: NAME, open_circuits: INT })),
      deployments: list(
        record(
          { key: NAME, model: NAME, live: LIVE },
          "The models its keys list and the model groups send it; other models clients name are not listed.",
        ),
      ),
    }),
  ),
});

export const ROUTING_ROUTES: readonly AdminRoute[] = [
  {
    method: "GET",
    path: "/api/routing",
    summary:
      "Model groups, aliases, fallbacks and routing settings, with each provider's and deployment's live state.",
    response: ROUTING_RESPONSE,
    async handle(context) {
      return { status: 200, body: routingView(context.config(), context.upstreamState()) };
    },
  },
];

const CIRCUITS: Readonly<Record<number, CircuitState>> = {
  [CLOSED]: "CLOSED",
  [OPEN]: "OPEN",
  [HALF_OPEN]: "HALF_OPEN",
};

export function routingView(
  config: GatewayConfig,
  upstream: SharedArrayBuffer | undefined,
): Record<string, unknown> {
  const layout = upstream === undefined ? undefined : openUpstreamBuffer(upstream);
  const groups = Object.entries(config.modelGroups ?? {});
  return {
    settings: routingSettingsView(config),
    model_groups: groups.map(([name, deployments]) => ({
      name,
      deployments: deployments.map((deployment) => {
        const provider = Object.hasOwn(config.providers, deployment.provider)
          ? config.providers[deployment.provider]
          : undefined;
        const keys = provider === undefined ? [] : keysServing(provider, deployment);
        const states = keys.map((k) => deploymentLive(layout, deployment.provider, k, deployment.model));
        return { ...deploymentView(deployment), live: combined(states) };
      }),
    })),
    aliases: { ...config.aliases },
    fallbacks: fallbacksView(config),
    providers: Object.values(config.providers).map((provider) =>
      providerView(
        provider,
        groups.flatMap(([, deployments]) => deployments),
        layout,
      ),
    ),
  };
}

function providerView(
  provider: ProviderConfig,
  deployments: readonly Deployment[],
  layout: UpstreamLayout | undefined,
): Record<string, unknown> {
  const slot = layout === undefined ? -1 : findProviderSlot(layout, providerTag(provider.name));
  const read = (field: number) =>
    slot < 0 || layout === undefined ? 0 : Atomics.load(layout.i32, slot + field);
  const latencyUs = read(P.LATENCY_US);
  const names = keyNames(provider);
  // Each (key, model) pair the configuration names, in the order it names them.
  const pairs = new Map<string, { key: number; model: string }>();
  names.forEach((_, k) => {
    for (const model of provider.keys[k]?.models ?? []) pairs.set(`${k}\u0000${model}`, { key: k, model });
  });
  for (const deployment of deployments) {
    if (deployment.provider !== provider.name) continue;
    for (const k of keysServing(provider, deployment))
      pairs.set(`${k}\u0000${deployment.model}`, { key: k, model: deployment.model });
  }
  return {
    name: provider.name,
    kind: provider.kind,
    concurrency: provider.concurrency.concurrency,
    buffer_size: provider.concurrency.bufferSize,
    in_flight: read(P.IN_FLIGHT),
    queued: read(P.QUEUED),
    latency_ms: latencyUs === 0 ? null : latencyUs / 1000,
    // Keys past KEY_SLOTS share the last count.
    keys: names.map((name, k) => ({ name, open_circuits: read(P.KEY_OPEN + Math.min(k, KEY_SLOTS - 1)) })),
    deployments: [...pairs.values()].map(({ key, model }) => ({
      key: names[key] as string,
      model,
      live: deploymentLive(layout, provider.name, key, model),
    })),
  };
}

/** The names of the keys routing picks among: a provider without keys has one, "keyless" (src/routing/table.ts). */
function keyNames(provider: ProviderConfig): string[] {
  return provider.keys.length === 0 ? ["keyless"] : provider.keys.map((key) => key.name);
}

/** Indexes of the provider's keys a deployment may use: the one it names, else every key serving its model. */
function keysServing(provider: ProviderConfig, deployment: Deployment): number[] {
  if (provider.keys.length === 0) return [0];
  const out: number[] = [];
  provider.keys.forEach((key, k) => {
    const serves =
      deployment.key !== undefined
        ? key.name === deployment.key
        : key.models.length === 0 || key.models.includes(deployment.model);
    if (serves) out.push(k);
  });
  return out;
}

function deploymentLive(
  layout: UpstreamLayout | undefined,
  provider: string,
  keyIndex: number,
  model: string,
): DeploymentLive | null {
  if (layout === undefined) return null;
  const slot = findDeploymentSlot(layout, deploymentTag(provider, keyIndex, model));
  if (slot < 0) return null;
  const read = (field: number) => Atomics.load(layout.i32, slot + field);
  const latencyUs = read(D.LATENCY_US);
  return {
    in_flight: Math.max(0, read(D.IN_FLIGHT)),
    circuit: CIRCUITS[read(D.STATE)] ?? "CLOSED",
    latency_ms: latencyUs === 0 ? null : latencyUs / 1000,
    error_rate: Math.min(1, Math.max(0, read(D.ERROR_PPM) / 1_000_000)),
    samples: read(D.SAMPLES),
    consecutive_fails: read(D.CONSECUTIVE_FAILS),
  };
}

const SEVERITY: Readonly<Record<CircuitState, number>> = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 };

/** Several keys' states as one: the worst circuit, in-flight and samples summed, the highest averages. */
function combined(states: readonly (DeploymentLive | null)[]): DeploymentLive | null {
  const known = states.filter((state): state is DeploymentLive => state !== null);
  if (known.length === 0) return null;
  let circuit: CircuitState = "CLOSED";
  let latency: number | null = null;
  for (const state of known) {
    if (SEVERITY[state.circuit] > SEVERITY[circuit]) circuit = state.circuit;
    if (state.latency_ms !== null) latency = Math.max(latency ?? 0, state.latency_ms);
  }
  return {
    in_flight: known.reduce((sum, state) => sum + state.in_flight, 0),
    circuit,
    latency_ms: latency,
    error_rate: Math.max(...known.map((state) => state.error_rate)),
    samples: known.reduce((sum, state) => sum + state.samples, 0),
    consecutive_fails: Math.max(...known.map((state) => state.consecutive_fails)),
  };
}
