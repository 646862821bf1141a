// LiteLLM's key settings: the store's database (general_settings.database_url, else the DATABASE_URL variable
// LiteLLM also reads) and what keys made through the API get by default and may not exceed
// (litellm_settings.default_key_generate_params, upperbound_key_generate_params). LiteLLM has no switch that
// requires a virtual key: its master_key already makes every request carry a key (the master key or a
// virtual key), so requireVirtualKey stays false and the master key is the guard.

import {
  type DurationError,
  isDurationError,
  parseDuration,
  parseLiteLLMBudgetDuration,
} from "../governance/duration.js";
import type { BudgetWindow } from "../governance/types.js";
import { type Collector, isObject, type Obj } from "./collect.js";
import { checkDatabaseUrl } from "./database-url.js";
import type { Reader } from "./litellm.js";
import type { GovernanceConfig, KeyDefaults } from "./types.js";

const MICROS_PER_DOLLAR = 1_000_000;
const KEY_PARAMS_READ = new Set([
  "max_budget",
  "budget_duration",
  "models",
  "rpm_limit",
  "tpm_limit",
  "max_parallel_requests",
  "duration",
]);

function readWindow(
  c: Collector,
  r: Reader,
  obj: Obj,
  key: string,
  path: string,
  parse: (text: string) => BudgetWindow | DurationError,
): BudgetWindow | undefined {
  const text = r.text(obj, key, path);
  if (text === undefined) return undefined;
  const window = parse(text);
  if (isDurationError(window)) {
    c.problem(`${path}.${key}`, window.error);
    return undefined;
  }
  return window;
}

function readKeyParams(
  c: Collector,
  r: Reader,
  raw: unknown,
  path: string,
): Partial<KeyDefaults> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    c.problem(path, "must be a mapping");
    return undefined;
  }
  const out: { -readonly [K in keyof KeyDefaults]?: KeyDefaults[K] } = {};
  const budget = r.number(raw, "max_budget", path, 0, false);
  if (budget !== undefined) {
    const micros = Math.round(budget * MICROS_PER_DOLLAR);
    if (Number.isSafeInteger(micros)) out.maxBudgetMicros = micros;
    else c.problem(`${path}.max_budget`, "is too large");
  }
  const budgetDuration = readWindow(c, r, raw, "budget_duration", path, parseLiteLLMBudgetDuration);
  if (budgetDuration !== undefined) out.budgetDuration = budgetDuration;
  // A key's lifetime counts from its creation (LiteLLM: expires = created + duration).
  const duration = readWindow(c, r, raw, "duration", path, (t) => parseDuration(t, "rolling"));
  if (duration !== undefined) out.duration = duration;
  const rpm = r.number(raw, "rpm_limit", path, 0, true);
  if (rpm !== undefined) out.rpm = rpm;
  const tpm = r.number(raw, "tpm_limit", path, 0, true);
  if (tpm !== undefined) out.tpm = tpm;
  const parallel = r.number(raw, "max_parallel_requests", path, 0, true);
  if (parallel !== undefined) out.parallel = parallel;
  const models = raw.models;
  if (models !== undefined && models !== null) {
    if (!Array.isArray(models) || models.some((m) => typeof m !== "string" || m.trim() === ""))
      c.problem(`${path}.models`, "must be a list of model names");
    else
      out.models =
        models.includes("*") || models.includes("all-proxy-models") ? [] : [...new Set(models as string[])];
  }
  for (const key of Object.keys(raw))
    if (!KEY_PARAMS_READ.has(key)) c.unsupported(`${path}.${key}`, raw[key]);
  return Object.keys(out).length === 0 ? undefined : out;
}

function readDatabaseUrl(c: Collector, r: Reader, general: Obj, env: NodeJS.ProcessEnv): string | undefined {
  const fromFile = r.text(general, "database_url", "general_settings");
  const fromEnv = env.DATABASE_URL?.trim();
  const [raw, where] =
    fromFile !== undefined
      ? [fromFile, "general_settings.database_url"]
      : fromEnv
        ? [fromEnv, "DATABASE_URL"]
        : [undefined, ""];
  if (raw === undefined) return undefined;
  const checked = checkDatabaseUrl(raw);
  if ("error" in checked) {
    c.problem(where, checked.error);
    return undefined;
  }
  return checked.url;
}

/** The governance a LiteLLM config.yaml sets; undefined when it sets none. */
export function parseLiteLLMGovernance(
  c: Collector,
  r: Reader,
  litellm: Obj,
  general: Obj,
  env: NodeJS.ProcessEnv,
): GovernanceConfig | undefined {
  const databaseUrl = readDatabaseUrl(c, r, general, env);
  const keyDefaults = readKeyParams(
    c,
    r,
    litellm.default_key_generate_params,
    "litellm_settings.default_key_generate_params",
  );
  const keyUpperBounds = readKeyParams(
    c,
    r,
    litellm.upperbound_key_generate_params,
    "litellm_settings.upperbound_key_generate_params",
  );
  if (databaseUrl === undefined && keyDefaults === undefined && keyUpperBounds === undefined)
    return undefined;
  return {
    requireVirtualKey: false,
    virtualKeys: [],
    teams: [],
    customers: [],
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    ...(keyDefaults === undefined ? {} : { keyDefaults }),
    ...(keyUpperBounds === undefined ? {} : { keyUpperBounds }),
  };
}
