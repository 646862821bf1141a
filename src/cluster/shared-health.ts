import { boundedCommands } from "../cache/redis-client.js";
import type { GatewayConfig, RedisTarget } from "../config/types.js";
import type { CompiledProvider } from "../providers/route.js";
import { compileRoutingTable } from "../routing/table.js";
import {
  CLOSED,
  D,
  deploymentSlot,
  deploymentTag,
  elapsed,
  findDeploymentSlot,
  HALF_OPEN,
  isOverflowDeployment,
  KEY_SLOTS,
  OPEN,
  openUpstreamBuffer,
  P,
  providerSlot,
  providerTag,
  sinceBase,
  type UpstreamLayout,
} from "../shm/upstream.js";
import { type ClusterRedis, connectClusterRedis } from "./redis-connect.js";

// Circuit breakers shared between gateway instances through Redis, run by each instance's control plane
// next to the upstream buffer of src/shm/upstream.ts (which its lanes drive through routing/upstream-health.ts).
//
// Identity. The buffer keys a deployment by a hash of (provider, key index, model) at a slot that differs
// between instances, so what travels is the names: provider, key name and model, as the configuration
// names them (provider keys' `models` lists and model groups). A deployment the configuration does not
// name (a `provider/model` a client chose, on a key without a model list) has only a hash in the buffer and
// stays per instance. Names longer than MAX_NAME_CHARS are not shared either.
//
// Out. Every `periodMs` the poll reads STATE and OPENED_AT of the named deployments; a change is published on
// `<prefix>health` as {from, provider, key, model, state, until} (until: epoch ms the open circuit admits a
// probe) and written to the hash `<prefix>health:circuit:<identity>` (last writer wins: the latest change any
// instance saw), which expires CIRCUIT_GRACE_MS after `until`. Every `slowPeriodMs`, latency and error EWMAs that changed go to `<prefix>health:scores:<identity>`
// (expiring after three such periods, so an instance that stops leaves nothing behind); nothing reads them
// back yet, they are there for operators and for routing that wants the cluster's view.
//
// In. The rule for remote messages, with `cooldown` this instance's own routing.cooldownMs:
// - open: `until` is cut to now + cooldown (a remote message can never hold a circuit longer than a local
//   failure would); a closed circuit opens until then, an open one whose own cooldown ends sooner is extended
//   to it; a half-open circuit is left to the probe it has in flight. The lanes then probe at `until`, as
//   after a local open.
// - closed: it undoes only what remote opens did. A circuit that only remote opens opened is closed; one that
//   was open locally and extended gets its own cooldown back; a circuit opened or probed locally since is left
//   alone, so only this instance's own half-open probe closes it (as upstream-health does without a cluster).
// - half-open: another instance is probing; nothing changes here.
// Messages from this instance, malformed or oversized ones and unknown identities are dropped.
//
// Propagation: a circuit that opens in one instance is open in the others' buffers within one poll period
// plus one Redis round trip (pub/sub). Pub/sub keeps nothing for a disconnected subscriber, so the circuit
// records are read again (and applied by the same rule) on every (re)connection, every new buffer or
// configuration, and every `slowPeriodMs`: a restarted instance knows the cluster's open circuits one round
// trip per READ_BATCH upstreams after Redis answers, and a lost message costs at most one slow period.
// Times are epoch milliseconds, so instances' clocks are assumed synchronised; skew only shortens an open
// or is capped by the rule.
//
// Redis down: requests never wait on this module. Commands are bounded in time, changes wait (latest per
// upstream) and are sent again RETRY_MS after a failure; errors are counted and logged at most once per
// LOG_EVERY_MS; nothing is thrown into the control plane.

export const DEFAULT_PERIOD_MS = 200;
export const DEFAULT_SLOW_PERIOD_MS = 5_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 250;
/** How long a circuit record outlives its `until` (closed and half-open records: from their writing). */
export const CIRCUIT_GRACE_MS = 60_000;
export const MAX_NAME_CHARS = 256;
/** Four names at MAX_NAME_CHARS, JSON-escaped, and the fields around them; anything longer is not ours. */
const MAX_MESSAGE_CHARS = 8_192;
/** Upstreams sent or read per round trip. */
const READ_BATCH = 64;
const MAX_IN_FLIGHT = 4 * READ_BATCH;
const RETRY_MS = 1_000;
const LOG_EVERY_MS = 10_000;

type CircuitState = "open" | "half-open" | "closed";
const STATE_NAMES: Record<number, CircuitState> = {
  [CLOSED]: "closed",
  [OPEN]: "open",
  [HALF_OPEN]: "half-open",
};

export interface SharedHealthOptions {
  readonly redis: RedisTarget;
  /** The cluster's key prefix (cluster.keyPrefix). */
  readonly prefix: string;
  /** This process's id in the cluster, its own messages are recognised by it. */
  readonly instance: string;
  /** The upstream buffer the lanes use now; read on every poll, so a reload's new buffer is picked up. */
  readonly upstream: () => SharedArrayBuffer;
  /** The configuration now: names the deployments, and routing.cooldownMs bounds remote opens. */
  readonly config: () => GatewayConfig;
  readonly log: (message: string) => void;
  readonly periodMs?: number;
  /** Scores are written, and circuit records read again, this often. */
  readonly slowPeriodMs?: number;
  readonly commandTimeoutMs?: number;
  /** Epoch milliseconds; the lanes' clock. */
  readonly clock?: () => number;
}

export interface SharedHealthCounts {
  /** Local circuit changes published. */
  published: number;
  /** Upstreams whose scores were written. */
  scoresPublished: number;
  /** Remote opens and closes that changed the local buffer. */
  applied: number;
  /** Well-formed remote changes with nothing to do here (unknown upstream, expired, rule says no). */
  ignored: number;
  /** Malformed or oversized messages and records. */
  rejected: number;
  /** Redis errors: failed or timed-out commands, connection errors. */
  failures: number;
}

/** A deployment the configuration names, as every instance names it. */
interface Upstream {
  /** JSON of [provider, key name, model]: the same in every instance. */
  readonly identity: string;
  readonly provider: string;
  readonly key: string;
  readonly model: string;
  readonly keyIndex: number;
  readonly tag: number;
  readonly circuitKey: string;
  readonly scoresKey: string;
}

/** What this instance knows of one upstream in the current buffer. */
interface Track {
  /** Deployment slot offset; -1 until a lane (or a remote open) claims it. */
  slot: number;
  /** STATE and OPENED_AT as last seen or written here: a difference is a local change to publish. */
  state: number;
  openedAt: number;
  /** The OPENED_AT a remote open wrote, and the local one it replaced (undefined: the circuit was closed). */
  remote: { readonly written: number; readonly before: number | undefined } | undefined;
  /** Scores as last written, to skip unchanged ones. */
  scores: string;
}

interface View {
  readonly buffer: SharedArrayBuffer;
  readonly config: GatewayConfig;
  readonly layout: UpstreamLayout;
  readonly upstreams: readonly Upstream[];
  readonly byIdentity: ReadonlyMap<string, Upstream>;
  readonly tracks: Map<Upstream, Track>;
  /** Remote opens are applied only with the breakers on: the lanes ignore circuit states otherwise. */
  readonly cooldownMs: number;
}

interface Change {
  readonly state: CircuitState;
  readonly until: number;
}

const identityOf = (provider: string, key: string, model: string): string =>
  JSON.stringify([provider, key, model]);

const shortName = (value: unknown): value is string =>
  typeof value === "string" && value.length <= MAX_NAME_CHARS;

/** The deployments `config` names, as the lanes key them (compiled the way the lanes compile it). */
function namedUpstreams(config: GatewayConfig, prefix: string): Upstream[] {
  const table = compileRoutingTable(config);
  const named = new Map<string, Upstream>();
  const add = (route: CompiledProvider, keyIndex: number, model: string): void => {
    const key = route.keys[keyIndex]?.name ?? "";
    if (!shortName(route.name) || !shortName(key) || !shortName(model)) return;
    const identity = identityOf(route.name, key, model);
    if (named.has(identity)) return;
    named.set(identity, {
      identity,
      provider: route.name,
      key,
      model,
      keyIndex,
      tag: deploymentTag(route.name, keyIndex, model),
      circuitKey: `${prefix}health:circuit:${identity}`,
      scoresKey: `${prefix}health:scores:${identity}`,
    });
  };
  for (const route of table.providers.values()) {
    route.keys.forEach((key, i) => {
      for (const model of key.models) if (model !== "*") add(route, i, model);
    });
  }
  for (const plan of table.groups.values()) {
    for (const candidate of plan.candidates) add(candidate.provider, candidate.keyIndex, candidate.model);
  }
  return [...named.values()];
}

/** A remote message, or undefined when it is not one of ours. */
function parseMessage(raw: string): ({ from: string; identity: string } & Change) | undefined {
  if (raw.length > MAX_MESSAGE_CHARS) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { from, provider, key, model, state, until } = value as Record<string, unknown>;
  if (!shortName(from) || !shortName(provider) || !shortName(key) || !shortName(model)) return undefined;
  if (state !== "open" && state !== "half-open" && state !== "closed") return undefined;
  if (typeof until !== "number" || !Number.isFinite(until)) return undefined;
  return { from, identity: identityOf(provider, key, model), state, until };
}

export class SharedHealth {
  readonly counts: SharedHealthCounts = {
    published: 0,
    scoresPublished: 0,
    applied: 0,
    ignored: 0,
    rejected: 0,
    failures: 0,
  };
  /** The pub/sub channel of circuit changes. */
  readonly channel: string;
  private readonly options: SharedHealthOptions;
  private readonly clock: () => number;
  private readonly run: <T>(send: () => Promise<T>) => Promise<T>;
  private client: ClusterRedis | undefined;
  private timer: NodeJS.Timeout | undefined;
  private view: View | undefined;
  /** Local changes not yet sent, the latest per upstream. */
  private readonly pending = new Map<Upstream, Change>();
  private flushing = false;
  private retryAt = 0;
  private scoring = false;
  private slowAt = 0;
  private reading = false;
  private readAgain = false;
  private loggedAt = Number.NEGATIVE_INFINITY;
  private unlogged = 0;

  constructor(options: SharedHealthOptions) {
    this.options = options;
    this.channel = `${options.prefix}health`;
    this.clock = options.clock ?? Date.now;
    this.run = boundedCommands(options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, MAX_IN_FLIGHT);
  }

  /**
   * Connects in the background and starts polling; Redis need not be up. The promise resolves once the
   * others' messages are heard (it may wait for Redis as long as Redis is away); it never rejects.
   */
  start(): Promise<void> {
    if (this.client !== undefined) return Promise.resolve();
    const client = connectClusterRedis(this.options.redis, {
      commandTimeoutMs: this.options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      onError: (error) => this.fail(error),
    });
    this.client = client;
    this.poll();
    client.onReady(() => void this.readAll());
    this.timer = setInterval(() => this.poll(), this.options.periodMs ?? DEFAULT_PERIOD_MS);
    this.timer.unref();
    return client
      .subscribe(this.channel, (message) => this.receive(message))
      .catch((error) => this.fail(error));
  }

  /** Stops polling and closes the connections; changes not yet sent are dropped. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.client?.destroy();
    this.client = undefined;
  }

  /** The view of the current buffer and configuration, rebuilt when either changed. */
  private current(): View {
    const buffer = this.options.upstream();
    const config = this.options.config();
    const old = this.view;
    if (old !== undefined && old.buffer === buffer && old.config === config) return old;
    const layout = old?.buffer === buffer ? old.layout : openUpstreamBuffer(buffer);
    const upstreams = namedUpstreams(config, this.options.prefix);
    const byIdentity = new Map<string, Upstream>();
    const tracks = new Map<Upstream, Track>();
    for (const upstream of upstreams) {
      byIdentity.set(upstream.identity, upstream);
      // The same buffer keeps what was seen, so a change made just before the reload is still published;
      // a new buffer starts from what it holds, and nothing is published for the swap itself. A key that
      // moved to another index is another slot.
      const kept = old?.buffer === buffer ? old.byIdentity.get(upstream.identity) : undefined;
      const track = kept?.tag === upstream.tag ? old?.tracks.get(kept) : undefined;
      tracks.set(upstream, track ?? this.baseline(layout, upstream));
    }
    const routing = config.routing;
    const breakersOn = routing !== undefined && routing.allowedFails > 0;
    const view: View = {
      buffer,
      config,
      layout,
      upstreams,
      byIdentity,
      tracks,
      cooldownMs: breakersOn ? Math.max(0, routing.cooldownMs) : 0,
    };
    this.view = view;
    if (old !== undefined) void this.readAll();
    return view;
  }

  private baseline(layout: UpstreamLayout, upstream: Upstream): Track {
    const slot = findDeploymentSlot(layout, upstream.tag);
    const i32 = layout.i32;
    return {
      slot,
      openedAt: slot < 0 ? 0 : Atomics.load(i32, slot + D.OPENED_AT),
      state: slot < 0 ? CLOSED : Atomics.load(i32, slot + D.STATE),
      remote: undefined,
      scores: "",
    };
  }

  private poll(): void {
    try {
      const view = this.current();
      const now = this.clock();
      const t = sinceBase(view.layout, now);
      const i32 = view.layout.i32;
      for (const upstream of view.upstreams) {
        const track = view.tracks.get(upstream) as Track;
        if (track.slot < 0) {
          track.slot = findDeploymentSlot(view.layout, upstream.tag);
          if (track.slot < 0) continue;
        }
        // OPENED_AT first, as the lanes read it: a state read after it is at least as new.
        const openedAt = Atomics.load(i32, track.slot + D.OPENED_AT);
        const state = Atomics.load(i32, track.slot + D.STATE);
        if (state === track.state && (state !== OPEN || openedAt === track.openedAt)) continue;
        track.state = state;
        track.openedAt = openedAt;
        const name = STATE_NAMES[state];
        if (name === undefined) continue;
        const until = state === OPEN ? now + view.cooldownMs - elapsed(t, openedAt) : now;
        // An open circuit already due for a probe (a probe handed back) tells the others nothing.
        if (state === OPEN && until <= now) continue;
        this.pending.set(upstream, { state: name, until });
      }
      // While Redis is away changes wait here; its connection errors are what gets counted.
      if (this.client?.isReady !== true) return;
      if (this.pending.size > 0 && !this.flushing && now >= this.retryAt) void this.flush(now);
      const slowPeriod = this.options.slowPeriodMs ?? DEFAULT_SLOW_PERIOD_MS;
      if (now >= this.slowAt && !this.scoring) {
        this.slowAt = now + slowPeriod;
        void this.publishScores(view, now, slowPeriod);
        // Pub/sub delivers at most once: what a dropped subscriber connection missed is in the records.
        void this.readAll();
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /** Sends up to READ_BATCH pending changes; a failed one waits for the next try unless a newer replaced it. */
  private async flush(now: number): Promise<void> {
    this.flushing = true;
    const batch: [Upstream, Change][] = [];
    for (const entry of this.pending) {
      batch.push(entry);
      this.pending.delete(entry[0]);
      if (batch.length === READ_BATCH) break;
    }
    const from = this.options.instance;
    let failed = false;
    await Promise.all(
      batch.map(async ([upstream, change]) => {
        const message = JSON.stringify({
          from,
          provider: upstream.provider,
          key: upstream.key,
          model: upstream.model,
          state: change.state,
          until: change.until,
        });
        const record = { state: change.state, until: String(change.until), from, at: String(now) };
        const ttl = Math.max(0, change.until - now) + CIRCUIT_GRACE_MS;
        try {
          await Promise.all([
            this.command((client) => client.hSet(upstream.circuitKey, record)),
            this.command((client) => client.pExpire(upstream.circuitKey, ttl)),
            this.command((client) => client.publish(this.channel, message)),
          ]);
          this.counts.published++;
        } catch (error) {
          failed = true;
          this.fail(error);
          if (!this.pending.has(upstream)) this.pending.set(upstream, change);
        }
      }),
    );
    if (failed) this.retryAt = this.clock() + RETRY_MS;
    this.flushing = false;
  }

  private async publishScores(view: View, now: number, slowPeriod: number): Promise<void> {
    this.scoring = true;
    const i32 = view.layout.i32;
    const from = this.options.instance;
    const due: { upstream: Upstream; track: Track; record: Record<string, string>; scores: string }[] = [];
    for (const upstream of view.upstreams) {
      const track = view.tracks.get(upstream) as Track;
      if (track.slot < 0) continue;
      const samples = Atomics.load(i32, track.slot + D.SAMPLES);
      if (samples === 0) continue;
      const latencyUs = Atomics.load(i32, track.slot + D.LATENCY_US);
      const errorPpm = Atomics.load(i32, track.slot + D.ERROR_PPM);
      const scores = `${latencyUs} ${errorPpm} ${samples}`;
      if (scores === track.scores) continue;
      const record = {
        latencyUs: String(latencyUs),
        errorPpm: String(errorPpm),
        samples: String(samples),
        from,
        at: String(now),
      };
      due.push({ upstream, track, record, scores });
    }
    for (let i = 0; i < due.length && this.view === view; i += READ_BATCH) {
      await Promise.all(
        due.slice(i, i + READ_BATCH).map(async ({ upstream, track, record, scores }) => {
          try {
            await Promise.all([
              this.command((client) => client.hSet(upstream.scoresKey, record)),
              this.command((client) => client.pExpire(upstream.scoresKey, 3 * slowPeriod)),
            ]);
            track.scores = scores;
            this.counts.scoresPublished++;
          } catch (error) {
            this.fail(error);
          }
        }),
      );
    }
    this.scoring = false;
  }

  private receive(raw: string): void {
    try {
      const message = parseMessage(raw);
      if (message === undefined) {
        this.counts.rejected++;
        return;
      }
      if (message.from === this.options.instance) return;
      this.apply(message.identity, message);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Reads every named upstream's circuit record: what the others opened while this instance was not listening. */
  private async readAll(): Promise<void> {
    if (this.client?.isReady !== true) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        const view = this.current();
        for (let i = 0; i < view.upstreams.length && this.view === view; i += READ_BATCH) {
          await Promise.all(
            view.upstreams.slice(i, i + READ_BATCH).map((upstream) => this.readOne(upstream)),
          );
        }
      } while (this.readAgain);
    } catch (error) {
      this.fail(error);
    } finally {
      this.reading = false;
    }
  }

  private async readOne(upstream: Upstream): Promise<void> {
    let record: Record<string, string>;
    try {
      record = await this.command((client) => client.hGetAll(upstream.circuitKey));
    } catch (error) {
      this.fail(error);
      return;
    }
    // No record, or this process's own.
    if (record.state === undefined || record.from === this.options.instance) return;
    const { state } = record;
    const until = Number(record.until);
    if ((state !== "open" && state !== "half-open" && state !== "closed") || !Number.isFinite(until)) {
      this.counts.rejected++;
      return;
    }
    this.apply(upstream.identity, { state, until });
  }

  /** Applies a remote change by the rule in the module comment. */
  private apply(identity: string, change: Change): void {
    const view = this.current();
    const upstream = view.byIdentity.get(identity);
    const track = upstream === undefined ? undefined : view.tracks.get(upstream);
    const applied =
      upstream !== undefined &&
      track !== undefined &&
      view.cooldownMs > 0 &&
      (change.state === "open"
        ? this.applyOpen(view, upstream, track, change.until)
        : change.state === "closed" && this.applyClose(view, upstream, track));
    if (applied) this.counts.applied++;
    else this.counts.ignored++;
  }

  private applyOpen(view: View, upstream: Upstream, track: Track, until: number): boolean {
    const now = this.clock();
    const bounded = Math.min(until, now + view.cooldownMs);
    if (bounded <= now) return false;
    const layout = view.layout;
    const i32 = layout.i32;
    if (track.slot < 0) track.slot = deploymentSlot(layout, upstream.tag);
    const slot = track.slot;
    // The overflow slot's circuit never opens: it mixes other deployments.
    if (isOverflowDeployment(layout, slot)) {
      track.slot = -1;
      return false;
    }
    const written = sinceBase(layout, bounded - view.cooldownMs);
    const openedAt = Atomics.load(i32, slot + D.OPENED_AT);
    const state = Atomics.load(i32, slot + D.STATE);
    let before: number | undefined;
    if (state === OPEN) {
      // Signed difference: OPENED_AT is kept modulo 2^32.
      if (((written - openedAt) | 0) <= 0) return false;
      if (Atomics.compareExchange(i32, slot + D.OPENED_AT, openedAt, written) !== openedAt) return false;
      // Extending what a remote open wrote keeps the local cooldown that one replaced.
      before = track.remote?.written === openedAt ? track.remote.before : openedAt;
    } else if (state === CLOSED) {
      // OPENED_AT before STATE, as upstream-health opens a circuit.
      Atomics.store(i32, slot + D.OPENED_AT, written);
      if (Atomics.compareExchange(i32, slot + D.STATE, CLOSED, OPEN) !== CLOSED) return false;
      this.countOpen(layout, upstream, 1);
    } else return false;
    track.remote = { written, before };
    track.state = OPEN;
    track.openedAt = written;
    return true;
  }

  private applyClose(view: View, upstream: Upstream, track: Track): boolean {
    const remote = track.remote;
    if (remote === undefined || track.slot < 0) return false;
    track.remote = undefined;
    const i32 = view.layout.i32;
    const slot = track.slot;
    // A lane that opened again or took a probe since wrote OPENED_AT: the circuit is local now.
    if (Atomics.load(i32, slot + D.OPENED_AT) !== remote.written) return false;
    if (remote.before === undefined) {
      if (Atomics.compareExchange(i32, slot + D.STATE, OPEN, CLOSED) !== OPEN) return false;
      this.countOpen(view.layout, upstream, -1);
      track.state = CLOSED;
      return true;
    }
    if (Atomics.load(i32, slot + D.STATE) !== OPEN) return false;
    if (Atomics.compareExchange(i32, slot + D.OPENED_AT, remote.written, remote.before) !== remote.written)
      return false;
    track.openedAt = remote.before;
    return true;
  }

  /** The per-key open count behind switchyard_circuit_open, kept as upstream-health keeps it. */
  private countOpen(layout: UpstreamLayout, upstream: Upstream, delta: number): void {
    const key = Math.min(Math.max(0, upstream.keyIndex), KEY_SLOTS - 1);
    Atomics.add(layout.i32, providerSlot(layout, providerTag(upstream.provider)) + P.KEY_OPEN + key, delta);
  }

  private command<T>(send: (client: ClusterRedis) => Promise<T>): Promise<T> {
    const client = this.client;
    if (client === undefined) return Promise.reject(new Error("shared health is stopped"));
    return this.run(() => send(client));
  }

  private fail(error: unknown): void {
    if (this.client === undefined) return;
    this.counts.failures++;
    const now = this.clock();
    if (now - this.loggedAt < LOG_EVERY_MS) {
      this.unlogged++;
      return;
    }
    const more = this.unlogged > 0 ? ` (and ${this.unlogged} more errors since the last report)` : "";
    this.options.log(`shared health: ${error instanceof Error ? error.message : String(error)}${more}`);
    this.loggedAt = now;
    this.unlogged = 0;
  }
}
