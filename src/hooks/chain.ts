// The configured plugins as the pipeline calls them: in order, each hook timed and its failures counted, a
// failing plugin isolated from the request unless it is `required`. Built once per configuration; every
// per-call structure (the plugins having each hook, their histograms and counters) is made here, so a call
// allocates nothing of its own.

import { isHeaderToken } from "../http/header-value.js";
import { Histogram, pushHistogram } from "../observability/lane-metrics.js";
import { counter, histogram, type MetricJson } from "../observability/metric-json.js";
import type {
  HookAnswer,
  HookError,
  HookOutcome,
  HookRefusal,
  HookRequest,
  Plugin,
  RequestVerdict,
} from "./plugin.js";

export const HOOKS = [
  "authenticate",
  "onRequest",
  "onResponse",
  "onStreamChunk",
  "onStreamEnd",
  "onError",
] as const;
export type HookName = (typeof HOOKS)[number];

/** From 1 µs (a header copied) to 1 s (a remote lookup); slower calls land in +Inf. */
export const PLUGIN_DURATION_BUCKETS = [
  0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
] as const;

const PLUGIN_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_PLUGIN_HEADERS = 32;
const MAX_HEADER_NAME_LENGTH = 64;
/** A failing plugin is logged at most this often; the count says how many failures went unlogged. */
const LOG_INTERVAL_MS = 60_000;
const MAX_LOGGED_MESSAGE = 300;

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];
const CREDENTIALS = [
  "authorization",
  "x-api-key",
  "x-goog-api-key",
  "api-key",
  "x-litellm-api-key",
  "cookie",
];
const FORBIDDEN_HEADERS: ReadonlyMap<string, string> = new Map([
  ...HOP_BY_HOP.map((name) => [name, "is a hop-by-hop header"] as const),
  ...CREDENTIALS.map(
    (name) =>
      [name, "carries the client's credentials, which plugins see only through authenticate"] as const,
  ),
]);

const NO_NAMES: readonly string[] = Object.freeze([]);

/** A plugin hook failed and the plugin is `required`: the pipeline answers 500. */
export class PluginFailed extends Error {
  constructor(
    readonly plugin: string,
    readonly hook: HookName,
    cause: unknown,
  ) {
    super(`plugin ${plugin} failed in ${hook}: ${describeError(cause)}`, { cause });
    this.name = "PluginFailed";
  }
}

interface Member {
  readonly plugin: Plugin;
  readonly name: string;
  readonly required: boolean;
  /** performance.now() of the last failure logged; -Infinity before the first. */
  loggedAt: number;
  /** Failures since then that were counted but not logged. */
  unlogged: number;
}

/** One plugin's hook: the function, and its timing and failure count. */
interface Slot<F> {
  readonly member: Member;
  readonly hook: HookName;
  readonly fn: F;
  readonly duration: Histogram;
  errors: number;
}

type Fn<K extends HookName> = NonNullable<Plugin[K]>;

export class PluginChain {
  static readonly empty: PluginChain = new PluginChain([]);

  readonly names: readonly string[];
  /** Request headers some plugin reads, lower case, each once: the fronts capture exactly these. */
  readonly requestHeaders: readonly string[];
  readonly authenticates: boolean;
  readonly hasRequestHooks: boolean;
  readonly observesReplies: boolean;

  private readonly members: readonly Member[];
  /** Every slot, in plugin order then hook order: what metrics() reports. */
  private readonly slots: Slot<unknown>[] = [];
  private readonly authSlots: Slot<Fn<"authenticate">>[] = [];
  private readonly requestSlots: Slot<Fn<"onRequest">>[] = [];
  private readonly responseSlots: Slot<Fn<"onResponse">>[] = [];
  private readonly chunkSlots: Slot<Fn<"onStreamChunk">>[] = [];
  private readonly endSlots: Slot<Fn<"onStreamEnd">>[] = [];
  private readonly errorSlots: Slot<Fn<"onError">>[] = [];

  /** Throws an Error naming the plugin and the problem when a plugin is malformed or two share a name. */
  constructor(plugins: readonly Plugin[]) {
    const members: Member[] = [];
    const headers = new Set<string>();
    for (const plugin of plugins) {
      const member = checkedMember(plugin);
      if (members.some((m) => m.name === member.name))
        throw new Error(`two plugins are named "${member.name}"; plugin names must be unique`);
      for (const name of checkedHeaders(plugin, member.name)) headers.add(name);
      if (headers.size > MAX_PLUGIN_HEADERS)
        throw new Error(
          `the plugins read more than ${MAX_PLUGIN_HEADERS} request headers together (plugin "${member.name}" brings the total past it)`,
        );
      members.push(member);
      this.addSlot(member, "authenticate", this.authSlots);
      this.addSlot(member, "onRequest", this.requestSlots);
      this.addSlot(member, "onResponse", this.responseSlots);
      this.addSlot(member, "onStreamChunk", this.chunkSlots);
      this.addSlot(member, "onStreamEnd", this.endSlots);
      this.addSlot(member, "onError", this.errorSlots);
    }
    this.members = members;
    this.names = members.length === 0 ? NO_NAMES : Object.freeze(members.map((m) => m.name));
    this.requestHeaders = headers.size === 0 ? NO_NAMES : Object.freeze([...headers]);
    this.authenticates = this.authSlots.length > 0;
    this.hasRequestHooks = this.requestSlots.length > 0;
    this.observesReplies =
      this.responseSlots.length + this.chunkSlots.length + this.endSlots.length + this.errorSlots.length > 0;
  }

  private addSlot<K extends HookName>(member: Member, hook: K, into: Slot<Fn<K>>[]): void {
    const fn = member.plugin[hook] as Fn<K> | undefined;
    if (fn === undefined) return;
    const slot: Slot<Fn<K>> = {
      member,
      hook,
      fn,
      duration: new Histogram(PLUGIN_DURATION_BUCKETS),
      errors: 0,
    };
    into.push(slot);
    this.slots.push(slot);
  }

  /** Asks each plugin in order; the first refusal wins and later plugins are not asked. */
  authenticate(apiKey: string, route: string): HookRefusal | undefined {
    const slots = this.authSlots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as Slot<Fn<"authenticate">>;
      const start = performance.now();
      let verdict: unknown;
      try {
        verdict = slot.fn.call(slot.member.plugin, apiKey, route);
      } catch (error) {
        observe(slot, start);
        this.failed(slot, error, true);
        continue;
      }
      observe(slot, start);
      if (verdict === undefined || verdict === null) continue;
      const refusal = (verdict as { refuse?: unknown }).refuse;
      if (isRefusal(refusal)) return refusal;
      this.settleLater(slot, verdict);
      this.failed(slot, new TypeError("authenticate must return undefined or { refuse: {...} }"), true);
    }
    return undefined;
  }

  /**
   * Asks each plugin in order; the first verdict wins and later plugins are not asked. Synchronous while
   * every plugin answers synchronously; from the first plugin that returns a promise, a promise.
   */
  onRequest(request: HookRequest): RequestVerdict | Promise<RequestVerdict> {
    const slots = this.requestSlots;
    for (let i = 0; i < slots.length; i++) {
      const verdict = this.requestAt(slots[i] as Slot<Fn<"onRequest">>, request);
      if (verdict === undefined) continue;
      if (isThenable(verdict)) return this.requestFrom(verdict, i + 1, request);
      return verdict;
    }
    return undefined;
  }

  onResponse(request: HookRequest, outcome: HookOutcome, body: Uint8Array | string): void {
    const slots = this.responseSlots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as Slot<Fn<"onResponse">>;
      const start = performance.now();
      let result: unknown;
      try {
        result = slot.fn.call(slot.member.plugin, request, outcome, body);
      } catch (error) {
        observe(slot, start);
        this.failed(slot, error, true);
        continue;
      }
      observe(slot, start);
      this.settleLater(slot, result);
    }
  }

  onStreamChunk(request: HookRequest, chunk: Uint8Array | string): void {
    const slots = this.chunkSlots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as Slot<Fn<"onStreamChunk">>;
      const start = performance.now();
      try {
        this.settleLater(slot, slot.fn.call(slot.member.plugin, request, chunk));
      } catch (error) {
        this.failed(slot, error, false);
      }
      observe(slot, start);
    }
  }

  onStreamEnd(request: HookRequest, outcome: HookOutcome): void {
    const slots = this.endSlots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as Slot<Fn<"onStreamEnd">>;
      const start = performance.now();
      try {
        this.settleLater(slot, slot.fn.call(slot.member.plugin, request, outcome));
      } catch (error) {
        this.failed(slot, error, false);
      }
      observe(slot, start);
    }
  }

  onError(request: HookRequest, error: HookError): void {
    const slots = this.errorSlots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as Slot<Fn<"onError">>;
      const start = performance.now();
      try {
        this.settleLater(slot, slot.fn.call(slot.member.plugin, request, error));
      } catch (failure) {
        this.failed(slot, failure, false);
      }
      observe(slot, start);
    }
  }

  /** switchyard_plugin_duration_seconds and switchyard_plugin_errors_total, per plugin and hook it has. */
  metrics(): MetricJson[] {
    if (this.slots.length === 0) return [];
    const duration = histogram(
      "switchyard_plugin_duration_seconds",
      "Time a plugin's hook took per call (an asynchronous onRequest until it settled)",
    );
    const errors = counter(
      "switchyard_plugin_errors_total",
      "Exceptions thrown, promises rejected and malformed verdicts returned by a plugin's hook",
    );
    for (const slot of this.slots) {
      const labels = { plugin: slot.member.name, hook: slot.hook };
      pushHistogram(duration, slot.duration, labels);
      errors.values.push({ value: slot.errors, labels });
    }
    return [duration, errors];
  }

  /** Lets every plugin release what it holds; a failure is logged, never thrown. */
  async close(): Promise<void> {
    await Promise.all(
      this.members.map(async (member) => {
        if (member.plugin.close === undefined) return;
        try {
          await member.plugin.close();
        } catch (error) {
          console.error(`[switchyard] plugin ${member.name} failed to close: ${describeError(error)}`);
        }
      }),
    );
  }

  /** One plugin's onRequest: its verdict, a promise of it, or undefined when it failed and is not required. */
  private requestAt(
    slot: Slot<Fn<"onRequest">>,
    request: HookRequest,
  ): RequestVerdict | Promise<RequestVerdict> {
    const start = performance.now();
    let verdict: unknown;
    try {
      verdict = slot.fn.call(slot.member.plugin, request);
    } catch (error) {
      observe(slot, start);
      this.failed(slot, error, true);
      return undefined;
    }
    if (isThenable(verdict))
      return Promise.resolve(verdict).then(
        (settled) => {
          observe(slot, start);
          return this.checkedVerdict(slot, settled);
        },
        (error: unknown) => {
          observe(slot, start);
          this.failed(slot, error, true);
          return undefined;
        },
      );
    observe(slot, start);
    return this.checkedVerdict(slot, verdict);
  }

  /** The rest of onRequest once a plugin has answered with a promise. */
  private async requestFrom(
    pending: Promise<RequestVerdict>,
    next: number,
    request: HookRequest,
  ): Promise<RequestVerdict> {
    const first = await pending;
    if (first !== undefined) return first;
    const slots = this.requestSlots;
    for (let i = next; i < slots.length; i++) {
      const verdict = await this.requestAt(slots[i] as Slot<Fn<"onRequest">>, request);
      if (verdict !== undefined) return verdict;
    }
    return undefined;
  }

  private checkedVerdict(slot: Slot<unknown>, verdict: unknown): RequestVerdict {
    if (verdict === undefined || verdict === null) return undefined;
    if (isObject(verdict) && (isRefusal(verdict.refuse) || isAnswer(verdict.answer)))
      return verdict as RequestVerdict;
    this.failed(
      slot,
      new TypeError("onRequest must return undefined, { refuse: {...} } or { answer: {...} }"),
      true,
    );
    return undefined;
  }

  /** A hook that returned a promise although it need not: its rejection counts, and never goes unhandled. */
  private settleLater(slot: Slot<unknown>, result: unknown): void {
    if (isThenable(result))
      result.then(undefined, (error: unknown) => {
        this.failed(slot, error, false);
      });
  }

  /** Counts the failure; rethrows it as PluginFailed when `mayStop` and the plugin is required, else logs it. */
  private failed(slot: Slot<unknown>, error: unknown, mayStop: boolean): void {
    slot.errors++;
    const member = slot.member;
    if (mayStop && member.required) throw new PluginFailed(member.name, slot.hook, error);
    const now = performance.now();
    if (now - member.loggedAt < LOG_INTERVAL_MS) {
      member.unlogged++;
      return;
    }
    const unlogged =
      member.unlogged === 0 ? "" : ` (${member.unlogged} more failures in the last minute were not logged)`;
    member.loggedAt = now;
    member.unlogged = 0;
    console.error(
      `[switchyard] plugin ${member.name} failed in ${slot.hook}, the request goes on: ${describeError(error)}${unlogged}`,
    );
  }
}

function observe(slot: Slot<unknown>, start: number): void {
  slot.duration.observe((performance.now() - start) / 1000);
}

function checkedMember(plugin: Plugin): Member {
  if (!isObject(plugin)) throw new Error("a plugin must be an object with a name and hooks");
  const name: unknown = plugin.name;
  if (typeof name !== "string" || !PLUGIN_NAME.test(name))
    throw new Error(
      `plugin name ${typeof name === "string" ? JSON.stringify(name.slice(0, 80)) : `of type ${typeof name}`} must be 1 to 64 characters of A-Z, a-z, 0-9, "_", "." and "-"`,
    );
  for (const hook of [...HOOKS, "close"] as const) {
    const fn: unknown = plugin[hook];
    if (fn !== undefined && typeof fn !== "function")
      throw new Error(`plugin "${name}": ${hook} must be a function`);
  }
  const required: unknown = plugin.required;
  if (required !== undefined && typeof required !== "boolean")
    throw new Error(`plugin "${name}": required must be true or false`);
  return { plugin, name, required: required === true, loggedAt: Number.NEGATIVE_INFINITY, unlogged: 0 };
}

function checkedHeaders(plugin: Plugin, name: string): readonly string[] {
  const headers: unknown = plugin.requestHeaders;
  if (headers === undefined) return NO_NAMES;
  if (!Array.isArray(headers)) throw new Error(`plugin "${name}": requestHeaders must be an array of names`);
  return headers.map((header: unknown, i) => {
    const where = `plugin "${name}": requestHeaders[${i}]`;
    if (typeof header !== "string") throw new Error(`${where} must be a string`);
    const lower = header.toLowerCase();
    if (lower.length > MAX_HEADER_NAME_LENGTH || !isHeaderToken(lower))
      throw new Error(
        `${where} must be a header name of at most ${MAX_HEADER_NAME_LENGTH} characters (letters, digits and !#$%&'*+-.^_\`|~)`,
      );
    const forbidden = FORBIDDEN_HEADERS.get(lower);
    if (forbidden !== undefined) throw new Error(`${where}: ${lower} ${forbidden}`);
    return lower;
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return isObject(value) && typeof value.then === "function";
}

const isStatus = (value: unknown, min: number): boolean =>
  typeof value === "number" && Number.isInteger(value) && value >= min && value <= 599;

function isRefusal(value: unknown): value is HookRefusal {
  return (
    isObject(value) &&
    isStatus(value.status, 400) &&
    typeof value.message === "string" &&
    typeof value.code === "string" &&
    (value.type === undefined || typeof value.type === "string") &&
    (value.headers === undefined || Array.isArray(value.headers))
  );
}

function isAnswer(value: unknown): value is HookAnswer {
  return (
    isObject(value) &&
    isStatus(value.status, 200) &&
    Array.isArray(value.headers) &&
    (typeof value.body === "string" || value.body instanceof Uint8Array)
  );
}

/** A failure's message for the log: bounded, on one line. Never the request, which is not passed here. */
export function describeError(error: unknown): string {
  const text =
    error instanceof Error
      ? error.name === "Error"
        ? error.message
        : `${error.name}: ${error.message}`
      : String(error);
  const line = text.replace(/[^\x20-\x7e\u00a0-\uffff]+/g, " ");
  return line.length > MAX_LOGGED_MESSAGE ? `${line.slice(0, MAX_LOGGED_MESSAGE)}…` : line;
}
