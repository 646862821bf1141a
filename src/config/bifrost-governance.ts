// Bifrost's `governance` section (virtual keys, teams, customers, budgets, rate limits) as Switchyard's model.
// Budgets and rate limits are declared once and referenced by id: older files name them on their owner
// (`budget_id`), newer ones name the owner on the budget (`virtual_key_id`, `team_id`, `customer_id`); both
// resolve into the owner's `budgets` and `limits`. A virtual key's value is hashed and masked here and never
// kept; messages name paths and ids, never a value.

import { createHash } from "node:crypto";
import { isDurationError, parseDuration } from "../governance/duration.js";
import type {
  Budget,
  BudgetWindow,
  Customer,
  KeyProviderConfig,
  Limits,
  Team,
  VirtualKey,
} from "../governance/types.js";
import { parseBifrostStores } from "./bifrost-stores.js";
import { type Collector, isObject, type Obj, resolveSecret } from "./collect.js";
import type { GovernanceConfig } from "./types.js";

/** Bifrost config `version`: 2 reads an empty allow-list as nothing allowed, 1 and absent as everything. */
export type AllowListVersion = 1 | 2 | undefined;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const MAX_NAME = 256;
/** Shorter values would show most of themselves in the mask, and are guessable. */
export const MIN_VIRTUAL_KEY_LENGTH = 16;
const MICROS_PER_DOLLAR = 1_000_000;
/** Bifrost aligns only these to the calendar; minutes and hours stay rolling. */
const CALENDAR_UNITS = new Set(["day", "week", "month", "year"]);

const SECTION = "governance";
const UNSUPPORTED_SECTIONS = new Set([
  "business_units",
  "roles",
  "routing_rules",
  "pricing_overrides",
  "complexity_analyzer_config",
  "model_configs",
  "providers",
]);
const PER_PROVIDER = "per-provider budgets and rate limits are not supported yet; ignored";

interface DeclaredBudget {
  readonly path: string;
  readonly maxMicros: number;
  readonly window: BudgetWindow | undefined;
  readonly anchor: number;
  /** Bifrost's deprecated per-budget calendar_aligned, promoted to the owner in Bifrost. */
  readonly calendar: boolean;
  used: boolean;
}

interface DeclaredLimit {
  readonly path: string;
  readonly requests?: number;
  readonly tokens?: number;
  readonly window: BudgetWindow | undefined;
  used: boolean;
}

type OwnerKind = "virtual_key" | "team" | "customer";

/** Provider → key id or name → key name, for resolving `key_ids` against the file's providers. */
export type ProviderKeyNames = ReadonlyMap<string, ReadonlyMap<string, string>>;

class Reader {
  readonly budgets = new Map<string, DeclaredBudget>();
  readonly limits = new Map<string, DeclaredLimit>();
  /** `${kind}:${id}` → the budgets whose `<kind>_id` names that owner (newer Bifrost files). */
  readonly owned = new Map<string, { kind: OwnerKind; owner: string; ids: string[] }>();

  constructor(
    readonly c: Collector,
    readonly env: NodeJS.ProcessEnv,
    readonly version: AllowListVersion,
    readonly providerKeys: ProviderKeyNames,
  ) {}

  list(obj: Obj, key: string, path: string): { raw: Obj; path: string }[] {
    const v = obj[key];
    const p = `${path}.${key}`;
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.c.problem(p, "must be an array");
      return [];
    }
    const out: { raw: Obj; path: string }[] = [];
    v.forEach((item, i) => {
      if (isObject(item)) out.push({ raw: item, path: `${p}[${i}]` });
      else this.c.problem(`${p}[${i}]`, "must be an object");
    });
    return out;
  }

  id(obj: Obj, key: string, path: string, required: boolean): string | undefined {
    const v = obj[key];
    const p = `${path}.${key}`;
    if (v === undefined || v === null || v === "") {
      if (required) this.c.problem(p, "is required");
      return undefined;
    }
    if (typeof v !== "string" || !ID.test(v)) {
      this.c.problem(p, "must be an id of letters, digits and . _ : @ - (at most 128)");
      return undefined;
    }
    return v;
  }

  name(obj: Obj, path: string): string | undefined {
    const v = obj.name;
    if (typeof v !== "string" || v.trim() === "" || v.length > MAX_NAME) {
      this.c.problem(`${path}.name`, `must be a non-empty string of at most ${MAX_NAME} characters`);
      return undefined;
    }
    return v;
  }

  boolean(obj: Obj, key: string, path: string, fallback: boolean): boolean {
    const v = obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") {
      this.c.problem(`${path}.${key}`, "must be true or false");
      return fallback;
    }
    return v;
  }

  count(obj: Obj, key: string, path: string): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      this.c.problem(`${path}.${key}`, "must be a whole number, at least 0");
      return undefined;
    }
    return v;
  }

  window(obj: Obj, key: string, path: string): BudgetWindow | undefined {
    const v = obj[key];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") {
      this.c.problem(`${path}.${key}`, 'must be a duration such as "1h", "1d", "1M"');
      return undefined;
    }
    const window = parseDuration(v);
    if (isDurationError(window)) {
      this.c.problem(`${path}.${key}`, window.error);
      return undefined;
    }
    return window;
  }

  time(obj: Obj, key: string, path: string): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null || v === "") return undefined;
    const ms = typeof v === "string" ? Date.parse(v) : Number.NaN;
    if (!Number.isFinite(ms)) {
      this.c.problem(`${path}.${key}`, "must be an RFC 3339 date-time such as 2026-01-31T00:00:00Z");
      return undefined;
    }
    return ms;
  }

  unread(obj: Obj, path: string, read: ReadonlySet<string>, ignored: ReadonlySet<string> = new Set()): void {
    for (const key of Object.keys(obj)) {
      if (read.has(key)) continue;
      if (ignored.has(key)) this.c.unsupported(`${path}.${key}`, obj[key]);
      else this.c.warn(`${path}.${key}`, "unknown key; ignored");
    }
  }

  /**
   * An allow-list under the file's `version`: ["*"] (or any "*") allows all (returned as []); a non-empty list
   * is itself; empty or absent allows nothing under version 2 (undefined returned) and all otherwise.
   */
  allowList(obj: Obj, key: string, path: string): string[] | undefined {
    const v = obj[key];
    const p = `${path}.${key}`;
    if (v === undefined || v === null) return this.version === 2 ? undefined : [];
    if (!Array.isArray(v) || v.some((m) => typeof m !== "string" || m.trim() === "")) {
      this.c.problem(p, "must be an array of names");
      return [];
    }
    const list = v as string[];
    if (list.includes("*")) return [];
    if (list.length > 0) return [...new Set(list)];
    if (this.version === 2) return undefined;
    if (this.version === undefined)
      this.c.warn(
        p,
        '[] read as everything, as Bifrost before v1.5 did, since the file has no "version"; write ["*"] to keep this reading, or set "version": 2 to read [] as nothing',
      );
    return [];
  }
}

// ---------------------------------------------------------------------------------------------------------
// budgets and rate_limits

const BUDGET_READ = new Set([
  "id",
  "max_limit",
  "reset_duration",
  "last_reset",
  "calendar_aligned",
  "virtual_key_id",
  "team_id",
  "customer_id",
  "provider_config_id",
  "model_config_id",
  "current_usage",
]);

function declareBudget(
  r: Reader,
  raw: Obj,
  path: string,
  id: string | undefined,
): DeclaredBudget | undefined {
  const before = r.c.problems.length;
  const max = raw.max_limit;
  let maxMicros = 0;
  if (typeof max !== "number" || !Number.isFinite(max) || max < 0)
    r.c.problem(`${path}.max_limit`, "must be a number of dollars, at least 0");
  else maxMicros = Math.round(max * MICROS_PER_DOLLAR);
  if (!Number.isSafeInteger(maxMicros)) r.c.problem(`${path}.max_limit`, "is too large");
  const window = r.window(raw, "reset_duration", path);
  if (window === undefined && raw.reset_duration === undefined)
    r.c.problem(`${path}.reset_duration`, "is required");
  const anchor = r.time(raw, "last_reset", path) ?? 0;
  const calendar = r.boolean(raw, "calendar_aligned", path, false);
  if (typeof raw.current_usage === "number" && raw.current_usage !== 0)
    r.c.warn(`${path}.current_usage`, "spend is the store's; ignored");
  if (r.c.problems.length > before || id === undefined) return undefined;
  return { path, maxMicros, window, anchor, calendar, used: false };
}

function readBudgets(r: Reader, section: Obj): void {
  const seen = new Set<string>();
  for (const { raw, path } of r.list(section, "budgets", SECTION)) {
    const id = r.id(raw, "id", path, true);
    if (id !== undefined && seen.has(id)) r.c.problem(`${path}.id`, `duplicate budget id "${id}"`);
    if (id !== undefined) seen.add(id);
    const budget = declareBudget(r, raw, path, id);
    for (const kind of ["virtual_key", "team", "customer"] as const) {
      const owner = r.id(raw, `${kind}_id`, path, false);
      if (owner === undefined || id === undefined) continue;
      const key = `${kind}:${owner}`;
      const entry = r.owned.get(key) ?? { kind, owner, ids: [] };
      entry.ids.push(id);
      r.owned.set(key, entry);
    }
    for (const key of ["provider_config_id", "model_config_id"])
      if (raw[key] !== undefined && raw[key] !== null && budget !== undefined) {
        r.c.warn(`${path}.${key}`, PER_PROVIDER);
        budget.used = true;
      }
    r.unread(raw, path, BUDGET_READ);
    if (id !== undefined && budget !== undefined && !r.budgets.has(id)) r.budgets.set(id, budget);
  }
}

const LIMIT_READ = new Set([
  "id",
  "token_max_limit",
  "token_reset_duration",
  "request_max_limit",
  "request_reset_duration",
  "calendar_aligned",
  // Counters Bifrost exports with its configuration; the store keeps Switchyard's own.
  "token_current_usage",
  "token_last_reset",
  "request_current_usage",
  "request_last_reset",
]);

function readRateLimits(r: Reader, section: Obj): void {
  const seen = new Set<string>();
  for (const { raw, path } of r.list(section, "rate_limits", SECTION)) {
    const before = r.c.problems.length;
    const id = r.id(raw, "id", path, true);
    if (id !== undefined && seen.has(id)) r.c.problem(`${path}.id`, `duplicate rate limit id "${id}"`);
    if (id !== undefined) seen.add(id);
    const tokens = r.count(raw, "token_max_limit", path);
    const requests = r.count(raw, "request_max_limit", path);
    const tokenWindow = r.window(raw, "token_reset_duration", path);
    const requestWindow = r.window(raw, "request_reset_duration", path);
    if (tokens !== undefined && tokenWindow === undefined && raw.token_reset_duration === undefined)
      r.c.problem(`${path}.token_reset_duration`, "is required with token_max_limit");
    if (requests !== undefined && requestWindow === undefined && raw.request_reset_duration === undefined)
      r.c.problem(`${path}.request_reset_duration`, "is required with request_max_limit");
    // Switchyard's Limits have one window for requests and tokens.
    if (
      tokens !== undefined &&
      requests !== undefined &&
      tokenWindow !== undefined &&
      requestWindow !== undefined &&
      (tokenWindow.count !== requestWindow.count || tokenWindow.unit !== requestWindow.unit)
    )
      r.c.problem(
        path,
        "token_reset_duration and request_reset_duration must be the same window (Switchyard keeps one window per rate limit); split them into two rate limits on different owners",
      );
    if (raw.calendar_aligned !== undefined) r.boolean(raw, "calendar_aligned", path, false);
    r.unread(raw, path, LIMIT_READ);
    if (r.c.problems.length > before || id === undefined) continue;
    const window = requests !== undefined ? requestWindow : tokenWindow;
    r.limits.set(id, {
      path,
      window,
      used: false,
      ...(requests === undefined ? {} : { requests }),
      ...(tokens === undefined ? {} : { tokens }),
    });
  }
}

function aligned(window: BudgetWindow, calendar: boolean): BudgetWindow {
  return calendar && CALENDAR_UNITS.has(window.unit) ? { ...window, alignment: "calendar" } : window;
}

/** The owner's budgets: its `budget_id`, then the budgets naming it as owner. */
function budgetsOf(
  r: Reader,
  raw: Obj,
  path: string,
  kind: OwnerKind,
  id: string,
  calendar: boolean,
): Budget[] {
  const ids: string[] = [];
  const single = r.id(raw, "budget_id", path, false);
  if (single !== undefined) {
    if (r.budgets.has(single)) ids.push(single);
    else r.c.problem(`${path}.budget_id`, `names no budget in governance.budgets ("${single}")`);
  }
  for (const owned of r.owned.get(`${kind}:${id}`)?.ids ?? []) if (!ids.includes(owned)) ids.push(owned);
  r.owned.delete(`${kind}:${id}`);
  const out: Budget[] = [];
  for (const budgetId of ids) {
    const b = r.budgets.get(budgetId);
    if (b === undefined) continue;
    b.used = true;
    out.push({
      id: budgetId,
      maxMicros: b.maxMicros,
      anchor: b.anchor,
      ...(b.window === undefined ? {} : { window: aligned(b.window, calendar || b.calendar) }),
    });
  }
  return out;
}

function limitsOf(r: Reader, raw: Obj, path: string, calendar: boolean): Limits | undefined {
  const id = r.id(raw, "rate_limit_id", path, false);
  if (id === undefined) return undefined;
  const l = r.limits.get(id);
  if (l === undefined) {
    r.c.problem(`${path}.rate_limit_id`, `names no rate limit in governance.rate_limits ("${id}")`);
    return undefined;
  }
  l.used = true;
  return {
    ...(l.requests === undefined ? {} : { requests: l.requests }),
    ...(l.tokens === undefined ? {} : { tokens: l.tokens }),
    ...(l.window === undefined ? {} : { window: aligned(l.window, calendar) }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// customers and teams

const CUSTOMER_READ = new Set(["id", "name", "budget_id", "budgets", "rate_limit_id", "calendar_aligned"]);
const INLINE_BUDGET_READ = new Set([
  "id",
  "max_limit",
  "reset_duration",
  "calendar_aligned",
  "last_reset",
  "current_usage",
]);

function readCustomers(r: Reader, section: Obj): Customer[] {
  const out: Customer[] = [];
  for (const { raw, path } of r.list(section, "customers", SECTION)) {
    const before = r.c.problems.length;
    const id = r.id(raw, "id", path, true);
    const name = r.name(raw, path);
    const calendar = r.boolean(raw, "calendar_aligned", path, false);
    if (raw.budgets !== undefined && raw.budget_id !== undefined)
      r.c.problem(path, "budgets and budget_id exclude each other");
    const inline: Budget[] = [];
    for (const [i, line] of r.list(raw, "budgets", path).entries()) {
      const lineId = r.id(line.raw, "id", line.path, false) ?? `${id ?? "customer"}-budget-${i}`;
      const b = declareBudget(r, line.raw, line.path, lineId);
      r.unread(line.raw, line.path, INLINE_BUDGET_READ);
      if (
        b?.window !== undefined &&
        inline.some((o) => o.window?.unit === b.window?.unit && o.window?.count === b.window?.count)
      )
        r.c.problem(
          `${line.path}.reset_duration`,
          "each of a customer's budgets needs its own reset_duration",
        );
      if (b !== undefined)
        inline.push({
          id: lineId,
          maxMicros: b.maxMicros,
          anchor: b.anchor,
          ...(b.window === undefined ? {} : { window: aligned(b.window, calendar || b.calendar) }),
        });
    }
    const budgets = id === undefined ? [] : [...inline, ...budgetsOf(r, raw, path, "customer", id, calendar)];
    const limits = limitsOf(r, raw, path, calendar);
    r.unread(raw, path, CUSTOMER_READ);
    if (r.c.problems.length > before || id === undefined || name === undefined) continue;
    out.push({
      id,
      name,
      budgets,
      ...(limits === undefined ? {} : { limits }),
      metadata: {},
      createdAt: 0,
      updatedAt: 0,
    });
  }
  return out;
}

const TEAM_READ = new Set(["id", "name", "customer_id", "budget_id", "rate_limit_id", "calendar_aligned"]);
const TEAM_UNSUPPORTED = new Set(["source_id", "business_unit_id", "profile", "config", "claims"]);

function readTeams(r: Reader, section: Obj, customers: ReadonlySet<string>): Team[] {
  const out: Team[] = [];
  for (const { raw, path } of r.list(section, "teams", SECTION)) {
    const before = r.c.problems.length;
    const id = r.id(raw, "id", path, true);
    const name = r.name(raw, path);
    const calendar = r.boolean(raw, "calendar_aligned", path, false);
    const customerId = r.id(raw, "customer_id", path, false);
    if (customerId !== undefined && !customers.has(customerId))
      r.c.warn(
        `${path}.customer_id`,
        `"${customerId}" is not in governance.customers; it must exist in the store`,
      );
    const budgets = id === undefined ? [] : budgetsOf(r, raw, path, "team", id, calendar);
    const limits = limitsOf(r, raw, path, calendar);
    r.unread(raw, path, TEAM_READ, new Set([...TEAM_UNSUPPORTED, "virtual_key_count"]));
    if (r.c.problems.length > before || id === undefined || name === undefined) continue;
    out.push({
      id,
      name,
      ...(customerId === undefined ? {} : { customerId }),
      budgets,
      ...(limits === undefined ? {} : { limits }),
      models: [],
      metadata: {},
      createdAt: 0,
      updatedAt: 0,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// virtual_keys

const PROVIDER_CONFIG_READ = new Set([
  "provider",
  "weight",
  "allowed_models",
  "key_ids",
  "keys",
  "allow_all_keys",
  "budget_id",
  "rate_limit_id",
  "budgets",
  "id",
  "virtual_key_id",
]);

/** The key names a provider config allows ([] for all), or undefined when it allows none. */
function keyNamesOf(r: Reader, raw: Obj, path: string, provider: string): string[] | undefined {
  if (r.boolean(raw, "allow_all_keys", path, false)) return [];
  const field = raw.key_ids !== undefined ? "key_ids" : "keys";
  let refs: unknown = raw[field];
  // Bifrost's own format for `keys`: objects carrying the key's key_id (or name).
  if (field === "keys" && Array.isArray(refs))
    refs = refs.map((k) => (isObject(k) ? (k.key_id ?? k.id ?? k.name) : k));
  const list = r.allowList({ [field]: refs }, field, path);
  if (list === undefined || list.length === 0) return list;
  const known = r.providerKeys.get(provider);
  if (known === undefined) return list;
  const names: string[] = [];
  list.forEach((ref, i) => {
    const name = known.get(ref);
    if (name === undefined)
      r.c.problem(`${path}.${field}[${i}]`, `names no key of provider ${provider} ("${ref}")`);
    else if (!names.includes(name)) names.push(name);
  });
  return names;
}

function providerConfigs(r: Reader, raw: Obj, path: string): KeyProviderConfig[] | undefined {
  const entries = r.list(raw, "provider_configs", path);
  if (entries.length === 0 && r.version === 2) return undefined;
  if (entries.length === 0 && Array.isArray(raw.provider_configs) && r.version === undefined)
    r.c.warn(
      `${path}.provider_configs`,
      '[] read as every provider, as Bifrost before v1.5 did, since the file has no "version"; set "version": 2 to read [] as none',
    );
  const out: KeyProviderConfig[] = [];
  for (const pc of entries) {
    const provider = pc.raw.provider;
    if (typeof provider !== "string" || provider.trim() === "") {
      r.c.problem(`${pc.path}.provider`, "must be a provider name");
      continue;
    }
    if (out.some((o) => o.provider === provider)) {
      r.c.problem(`${pc.path}.provider`, `"${provider}" is listed twice`);
      continue;
    }
    if (!r.providerKeys.has(provider))
      r.c.warn(`${pc.path}.provider`, `"${provider}" is not in providers; it must exist in the store`);
    let weight: number | undefined;
    const w = pc.raw.weight;
    if (w !== undefined && w !== null) {
      if (typeof w !== "number" || !Number.isFinite(w) || w < 0)
        r.c.problem(`${pc.path}.weight`, "must be a number, at least 0");
      else weight = w;
    }
    const allowedModels = r.allowList(pc.raw, "allowed_models", pc.path);
    const keyNames = keyNamesOf(r, pc.raw, pc.path, provider);
    for (const key of ["budget_id", "rate_limit_id", "budgets"]) {
      if (pc.raw[key] === undefined || pc.raw[key] === null) continue;
      r.c.warn(`${pc.path}.${key}`, PER_PROVIDER);
      if (key === "budget_id" && typeof pc.raw.budget_id === "string") {
        const b = r.budgets.get(pc.raw.budget_id);
        if (b !== undefined) b.used = true;
      }
      if (key === "rate_limit_id" && typeof pc.raw.rate_limit_id === "string") {
        const l = r.limits.get(pc.raw.rate_limit_id);
        if (l !== undefined) l.used = true;
      }
    }
    r.unread(pc.raw, pc.path, PROVIDER_CONFIG_READ);
    if (allowedModels === undefined || keyNames === undefined) {
      const what = allowedModels === undefined ? "allowed_models" : "key_ids";
      r.c.warn(
        `${pc.path}.${what}`,
        `empty: this provider serves the key nothing (Bifrost config version 2; use ["*"] for all); provider left out`,
      );
      continue;
    }
    out.push({ provider, ...(weight === undefined ? {} : { weight }), allowedModels, keyNames });
  }
  return out;
}

const KEY_READ = new Set([
  "id",
  "name",
  "value",
  "description",
  "is_active",
  "expires_at",
  "calendar_aligned",
  "team_id",
  "customer_id",
  "budget_id",
  "rate_limit_id",
  "provider_configs",
]);
const KEY_UNSUPPORTED = new Set(["mcp_configs", "access_profile_id", "keys"]);

function secretOf(r: Reader, raw: Obj, path: string): { hash: string; masked: string } | undefined {
  const v = raw.value;
  const p = `${path}.value`;
  if (v === undefined || v === null || v === "") {
    r.c.problem(p, "is required (the key clients send)");
    return undefined;
  }
  if (typeof v !== "string") {
    r.c.problem(p, 'must be a string (a literal key or "env.VAR_NAME")');
    return undefined;
  }
  const value = resolveSecret(r.c, v, p, r.env);
  if (value === undefined) return undefined;
  if (value.length < MIN_VIRTUAL_KEY_LENGTH || /\s/.test(value)) {
    r.c.problem(p, `must be at least ${MIN_VIRTUAL_KEY_LENGTH} characters without spaces`);
    return undefined;
  }
  return {
    hash: createHash("sha256").update(value).digest("hex"),
    masked: `${value.slice(0, 6)}…${value.slice(-4)}`,
  };
}

function readVirtualKeys(
  r: Reader,
  section: Obj,
  teams: ReadonlySet<string>,
  customers: ReadonlySet<string>,
): VirtualKey[] {
  const out: VirtualKey[] = [];
  const hashes = new Map<string, string>();
  for (const { raw, path } of r.list(section, "virtual_keys", SECTION)) {
    const before = r.c.problems.length;
    const id = r.id(raw, "id", path, true);
    const name = r.name(raw, path);
    const secret = secretOf(r, raw, path);
    let description: string | undefined;
    if (raw.description !== undefined && raw.description !== null) {
      if (typeof raw.description !== "string") r.c.problem(`${path}.description`, "must be a string");
      else if (raw.description !== "") description = raw.description;
    }
    let active = r.boolean(raw, "is_active", path, true);
    const expiresAt = r.time(raw, "expires_at", path);
    const calendar = r.boolean(raw, "calendar_aligned", path, false);
    const teamId = r.id(raw, "team_id", path, false);
    const customerId = r.id(raw, "customer_id", path, false);
    if (teamId !== undefined && customerId !== undefined)
      r.c.problem(path, "team_id and customer_id exclude each other (a key belongs to a team or a customer)");
    if (teamId !== undefined && !teams.has(teamId))
      r.c.warn(`${path}.team_id`, `"${teamId}" is not in governance.teams; it must exist in the store`);
    if (customerId !== undefined && !customers.has(customerId))
      r.c.warn(
        `${path}.customer_id`,
        `"${customerId}" is not in governance.customers; it must exist in the store`,
      );
    const budgets = id === undefined ? [] : budgetsOf(r, raw, path, "virtual_key", id, calendar);
    const limits = limitsOf(r, raw, path, calendar);
    const configs = providerConfigs(r, raw, path);
    if (
      configs === undefined ||
      (configs.length === 0 && Array.isArray(raw.provider_configs) && raw.provider_configs.length > 0)
    ) {
      if (active)
        r.c.warn(
          `${path}.provider_configs`,
          "allows no provider (Bifrost config version 2: empty denies all); key inactive",
        );
      active = false;
    }
    r.unread(raw, path, KEY_READ, KEY_UNSUPPORTED);
    if (secret !== undefined && id !== undefined) {
      const other = hashes.get(secret.hash);
      if (other !== undefined) r.c.problem(`${path}.value`, `is the same key as virtual key "${other}"`);
      hashes.set(secret.hash, id);
    }
    if (r.c.problems.length > before || id === undefined || name === undefined || secret === undefined)
      continue;
    const providerConfigsList = configs ?? [];
    out.push({
      id,
      name,
      hash: secret.hash,
      masked: secret.masked,
      active,
      ...(expiresAt === undefined ? {} : { expiresAt }),
      ...(teamId === undefined ? {} : { teamId }),
      ...(customerId === undefined ? {} : { customerId }),
      models: [],
      providers: providerConfigsList.map((pc) => pc.provider),
      providerConfigs: providerConfigsList,
      ...(limits === undefined ? {} : { limits }),
      modelLimits: {},
      budgets,
      metadata: description === undefined ? {} : { description },
      secretMetadata: {},
      logContent: true,
      createdAt: 0,
      updatedAt: 0,
    });
  }
  return out;
}

function noDuplicates(c: Collector, list: readonly { id: string }[], what: string): void {
  const seen = new Set<string>();
  for (const [i, e] of list.entries()) {
    if (seen.has(e.id)) c.problem(`${SECTION}.${what}`, `duplicate id "${e.id}" (entry ${i})`);
    seen.add(e.id);
  }
}

function parseSection(
  c: Collector,
  section: Obj,
  env: NodeJS.ProcessEnv,
  version: AllowListVersion,
  providerKeys: ProviderKeyNames,
): Omit<GovernanceConfig, "requireVirtualKey"> & { requireOverride?: boolean } {
  const r = new Reader(c, env, version, providerKeys);
  readBudgets(r, section);
  readRateLimits(r, section);
  const customers = readCustomers(r, section);
  const customerIds = new Set(customers.map((x) => x.id));
  const teams = readTeams(r, section, customerIds);
  const virtualKeys = readVirtualKeys(r, section, new Set(teams.map((t) => t.id)), customerIds);
  noDuplicates(c, customers, "customers");
  noDuplicates(c, teams, "teams");
  noDuplicates(c, virtualKeys, "virtual_keys");

  // Owners left in `owned` were never read: they are not entities of this file.
  for (const { kind, owner, ids } of r.owned.values())
    for (const id of ids) {
      const b = r.budgets.get(id);
      if (b === undefined) continue;
      b.used = true;
      c.warn(`${b.path}.${kind}_id`, `"${owner}" is not defined in governance.${kind}s; budget unused`);
    }
  for (const [id, b] of r.budgets) if (!b.used) c.warn(b.path, `budget "${id}" is used by nothing`);
  for (const [id, l] of r.limits) if (!l.used) c.warn(l.path, `rate limit "${id}" is used by nothing`);

  let requireOverride: boolean | undefined;
  const auth = section.auth_config;
  if (isObject(auth)) {
    if (auth.disable_auth_on_inference !== undefined)
      requireOverride = !r.boolean(auth, "disable_auth_on_inference", `${SECTION}.auth_config`, false);
    for (const key of Object.keys(auth))
      if (key !== "disable_auth_on_inference") c.unsupported(`${SECTION}.auth_config.${key}`, auth[key]);
  } else if (auth !== undefined && auth !== null) c.problem(`${SECTION}.auth_config`, "must be an object");

  for (const key of Object.keys(section)) {
    if (["budgets", "rate_limits", "customers", "teams", "virtual_keys", "auth_config"].includes(key))
      continue;
    if (UNSUPPORTED_SECTIONS.has(key)) c.unsupported(`${SECTION}.${key}`, section[key]);
    else c.warn(`${SECTION}.${key}`, "unknown key; ignored");
  }
  return { virtualKeys, teams, customers, ...(requireOverride === undefined ? {} : { requireOverride }) };
}

/** Each provider's keys by `id` and by name, to their name (unnamed keys are `<provider>-<index>`, as bifrost.ts names them). */
function providerKeyNames(rawProviders: unknown): ProviderKeyNames {
  const out = new Map<string, Map<string, string>>();
  if (!isObject(rawProviders)) return out;
  for (const [provider, raw] of Object.entries(rawProviders)) {
    const names = new Map<string, string>();
    const keys = isObject(raw) && Array.isArray(raw.keys) ? raw.keys : [];
    keys.forEach((key, i) => {
      if (!isObject(key)) return;
      const name = typeof key.name === "string" && key.name.trim() !== "" ? key.name : `${provider}-${i}`;
      names.set(name, name);
      if (typeof key.id === "string" && key.id !== "") names.set(key.id, name);
    });
    out.set(provider, names);
  }
  return out;
}

/** client.enforce_auth_on_inference, else its deprecated name enforce_governance_header. */
function enforcedByClient(c: Collector, client: unknown): boolean {
  if (!isObject(client)) return false;
  if (client.enable_governance === false)
    c.warn(
      "client.enable_governance",
      "governance cannot be turned off; the virtual keys and budgets given apply",
    );
  else if (client.enable_governance !== undefined && client.enable_governance !== true)
    c.problem("client.enable_governance", "must be true or false");
  for (const key of ["enforce_auth_on_inference", "enforce_governance_header"]) {
    const v = client[key];
    if (v === undefined || v === null) continue;
    if (typeof v === "boolean") return v;
    c.problem(`client.${key}`, "must be true or false");
    return false;
  }
  return false;
}

/**
 * The governance a Bifrost config.json sets: its `governance` section, whether inference needs a virtual key
 * (client.enforce_auth_on_inference, overridden by governance.auth_config.disable_auth_on_inference) and the
 * PostgreSQL store it names. Undefined when it sets none of these.
 */
export function parseBifrostGovernance(
  c: Collector,
  json: Obj,
  env: NodeJS.ProcessEnv,
  version: AllowListVersion,
): GovernanceConfig | undefined {
  const raw = json.governance;
  if (raw !== undefined && raw !== null && !isObject(raw)) c.problem(SECTION, "must be an object");
  const section = isObject(raw)
    ? parseSection(c, raw, env, version, providerKeyNames(json.providers))
    : { virtualKeys: [], teams: [], customers: [] };
  const enforced = enforcedByClient(c, json.client);
  const { requireOverride, ...entities } = section;
  const requireVirtualKey = requireOverride ?? enforced;
  const databaseUrl = parseBifrostStores(c, json, env);
  if (!isObject(raw) && !requireVirtualKey && databaseUrl === undefined) return undefined;
  return { requireVirtualKey, ...entities, ...(databaseUrl === undefined ? {} : { databaseUrl }) };
}
