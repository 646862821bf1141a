import type { CompiledProvider, KeyEndpoint } from "../providers/route.js";
import type { RoutingTable } from "../routing/table.js";
import { sendUpstream } from "../upstream/pools.js";

// GET /v1/models: what the configured providers actually serve, asked of each provider and cached per
// lane; a provider that cannot be asked is represented by the models its keys list.

const CACHE_MS = 60_000;
const ASK_TIMEOUT_MS = 5_000;
const MAX_LIST_BYTES = 4 << 20;

interface ModelEntry {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

let cached: { table: RoutingTable; at: number; entries: ModelEntry[]; body: string } | undefined;

/** The list as JSON; narrowed to the names `allows` accepts (a virtual key's models) when it is given. */
export async function listModels(table: RoutingTable, allows?: (id: string) => boolean): Promise<string> {
  const now = Date.now();
  if (cached === undefined || cached.table !== table || now - cached.at >= CACHE_MS) {
    const entries = (await Promise.all([...table.providers.values()].map(modelsOf))).flat();
    cached = { table, at: now, entries, body: JSON.stringify({ object: "list", data: entries }) };
  }
  if (allows === undefined) return cached.body;
  return JSON.stringify({ object: "list", data: cached.entries.filter((entry) => allows(entry.id)) });
}

async function modelsOf(provider: CompiledProvider): Promise<ModelEntry[]> {
  const listed = new Set(provider.keys.flatMap((key) => key.models));
  // When every key names its models, those are all this gateway will route to the provider.
  if (!provider.keys.every((key) => key.models.length > 0)) await askProvider(provider, listed);
  const created = Math.floor(Date.now() / 1000);
  return [...listed].map((id) => ({
    id: `${provider.name}/${id}`,
    object: "model",
    created,
    owned_by: provider.name,
  }));
}

async function askProvider(provider: CompiledProvider, into: Set<string>): Promise<void> {
  try {
    const endpoint = provider.endpoints[0] as KeyEndpoint;
    const response = await sendUpstream(
      {
        origin: endpoint.origin,
        path: endpoint.path("/models", ""),
        method: "GET",
        headers: endpoint.headers as string[],
        body: "",
      },
      ASK_TIMEOUT_MS,
    );
    const text = response.body.toString();
    if (response.status === 200 && text.length <= MAX_LIST_BYTES) {
      const data = (JSON.parse(text) as { data?: unknown }).data;
      if (Array.isArray(data)) {
        for (const item of data) {
          const id = (item as { id?: unknown }).id;
          if (typeof id === "string") into.add(id);
        }
      }
    }
  } catch {
    // Unreachable or malformed: the configured names still tell the client what it can ask for.
  }
}
