import type { GatewayConfig } from "../config/types.js";

// LiteLLM's /model/info from the running configuration: one entry per deployment of a model group, and one
// per model a provider's keys list by name. Keys and other secrets never appear.

export interface ModelInfoEntry {
  readonly model_name: string;
  readonly litellm_params: Readonly<Record<string, unknown>>;
  readonly model_info: Readonly<Record<string, unknown>>;
}

export function modelInfo(config: GatewayConfig, onlyId?: string): ModelInfoEntry[] {
  const entries: ModelInfoEntry[] = [];
  for (const [group, deployments] of Object.entries(config.modelGroups ?? {}))
    deployments.forEach((d, i) => {
      const params: Record<string, unknown> = {
        model: `${d.provider}/${d.model}`,
        custom_llm_provider: config.providers[d.provider]?.kind ?? d.provider,
      };
      if (d.rpm !== undefined) params.rpm = d.rpm;
      if (d.tpm !== undefined) params.tpm = d.tpm;
      if (d.weight !== 1) params.weight = d.weight;
      if (d.order !== 0) params.order = d.order;
      entries.push({
        model_name: group,
        litellm_params: params,
        model_info: { id: `${group}#${i}`, db_model: false, key: d.model },
      });
    });
  for (const provider of Object.values(config.providers)) {
    const models = new Set(provider.keys.flatMap((k) => k.models));
    for (const model of models)
      entries.push({
        model_name: `${provider.name}/${model}`,
        litellm_params: { model: `${provider.name}/${model}`, custom_llm_provider: provider.kind },
        model_info: { id: `${provider.name}/${model}`, db_model: false, key: model },
      });
  }
  return onlyId === undefined ? entries : entries.filter((e) => e.model_info.id === onlyId);
}
