import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { AdminRequest, AdminResponse } from "../admin/handler.js";
import type { LeaseAnswer } from "../cluster/lease-client.js";
import type { GatewayConfig } from "../config/types.js";
import type { GovernanceSnapshot } from "../governance/snapshot.js";
import type { SpendRecord } from "../governance/types.js";
import { NO_SITE, type StaticSite } from "../http/static-files.js";
import { METRICS_CONTENT_TYPE, renderMetrics } from "../observability/aggregate.js";
import type { MetricJson } from "../observability/metric-json.js";
import { capacityFor, createUpstreamBuffer, fits, openUpstreamBuffer, reclaimLane } from "../shm/upstream.js";
import type { FromLane, LaneData, ToLane } from "./messages.js";

// The control plane's view of the lanes: starts them on one port, publishes configuration, gathers
// metrics for whichever lane was asked for /metrics, restarts a lane that dies, and drains on shutdown.

const LANE_ENTRY = new URL("../../workers/lane.js", import.meta.url);
/** Where `npm run build` puts the web UI: dist/ui, beside the built server. */
export const UI_DIR = fileURLToPath(new URL("../../ui/", import.meta.url));
const SNAPSHOT_TIMEOUT_MS = 2_000;
/** A lane loads a configuration's plugins before it serves with it; each factory has 10 s. */
const PLUGIN_LOAD_WAIT_MS = 15_000;

export interface LanesOptions {
  readonly count: number;
  readonly host: string;
  readonly port: number;
  readonly backend: "uws" | "node";
  readonly config: GatewayConfig;
  readonly governance: GovernanceSnapshot;
  /** Spend a lane reported. */
  readonly onSpend: (records: SpendRecord[]) => void;
  /** A lane's thread ended (crashed, or drained): what it held in shared state must be given back. */
  readonly onLaneExit: (lane: number) => void;
  /** A management API request a lane received. */
  readonly onAdmin: (request: AdminRequest) => Promise<AdminResponse>;
  /** Cluster mode: a lane is short of a shared counter's lease. */
  readonly onLeaseShort?: (slots: readonly number[], amounts: readonly number[]) => Promise<LeaseAnswer>;
  readonly log: (line: string) => void;
  /** The request log's rings (src/control/request-log.ts); absent when the log is off. */
  readonly logRings?: SharedArrayBuffer;
  /** Whether the store answers (src/shm/readiness.ts), kept by the control plane. */
  readonly readiness: SharedArrayBuffer;
  /** Metrics the control plane keeps itself (the request log's), added to the lanes' on /metrics. */
  readonly controlMetrics?: () => MetricJson[];
  /** Whether anyone watches the live tail in any lane, told when that changes. */
  readonly onTailWatched?: (watched: boolean) => void;
  /** The web UI's files (src/http/static-files.ts); absent, `/` says the UI is not there. */
  readonly ui?: StaticSite;
}

export class Lanes {
  private readonly workers: (Worker | undefined)[] = [];
  private config: GatewayConfig;
  private governance: GovernanceSnapshot;
  private upstream: SharedArrayBuffer;
  private port: number;
  private stopping = false;
  private nextSnapshot = 0;
  private readonly snapshotWaiters = new Map<number, (metrics: MetricJson[]) => void>();
  private nextPublication = 0;
  /** Publications waiting for lanes to apply them. */
  private readonly applyWaiters = new Map<number, { pending: number; done: () => void }>();
  private readonly startedAt = Date.now();
  /** Live-tail clients per lane. */
  private readonly tailListeners: number[] = [];

  private constructor(private readonly options: LanesOptions) {
    this.config = options.config;
    this.governance = options.governance;
    this.upstream = createUpstreamBuffer(capacityFor(options.config));
    this.port = options.port;
  }

  /** Starts every lane; resolves with the bound port once all of them listen. */
  static async start(options: LanesOptions): Promise<Lanes> {
    const lanes = new Lanes(options);
    // Linux does not let SO_REUSEPORT sockets join (or, once it is closed, take over) a port the kernel
    // chose, so "any free port" is resolved here first and every lane, restarted ones too, binds that number.
    if (lanes.port === 0) lanes.port = await freePort(options.host);
    lanes.port = await lanes.spawn(0);
    await Promise.all(Array.from({ length: options.count - 1 }, (_, i) => lanes.spawn(i + 1)));
    return lanes;
  }

  get boundPort(): number {
    return this.port;
  }

  /** The shared upstream state lanes count in now (src/shm/upstream.ts): read it, never write it. */
  get upstreamState(): SharedArrayBuffer {
    return this.upstream;
  }

  /**
   * A new configuration for every lane (plugins reloaded in each). Resolves once every lane serves with it
   * or kept its own (a plugin that failed there), or after PLUGIN_LOAD_WAIT_MS for a lane too busy or gone.
   */
  publish(config: GatewayConfig): Promise<void> {
    this.config = config;
    if (fits(openUpstreamBuffer(this.upstream), config))
      return this.broadcastApplied((id) => ({ type: "config", id, config }), PLUGIN_LOAD_WAIT_MS);
    // Old requests finish on the old buffer; new ones count on the new, which starts without history.
    this.upstream = createUpstreamBuffer(capacityFor(config));
    const upstream = this.upstream;
    return this.broadcastApplied((id) => ({ type: "config", id, config, upstream }), PLUGIN_LOAD_WAIT_MS);
  }

  /**
   * Virtual keys, limits or budgets changed: every lane swaps them in between requests. Resolves once every
   * lane serves with them (or after SNAPSHOT_TIMEOUT_MS, for a lane too busy or gone), so that a management
   * API answer comes after the change holds everywhere.
   */
  publishGovernance(snapshot: GovernanceSnapshot): Promise<void> {
    this.governance = snapshot;
    return this.broadcastApplied((id) => ({ type: "governance", id, snapshot }), SNAPSHOT_TIMEOUT_MS);
  }

  /** Sends every lane the message made for a new id; resolves when all of them said it applied, or at `waitMs`. */
  private broadcastApplied(message: (id: number) => ToLane, waitMs: number): Promise<void> {
    const id = this.nextPublication++;
    const live = this.workers.filter((worker) => worker !== undefined).length;
    if (live === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.applyWaiters.delete(id);
        resolve();
      }, waitMs);
      this.applyWaiters.set(id, {
        pending: live,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      this.broadcast(message(id));
    });
  }

  /** Stops accepting, lets requests under way finish until the deadline, then ends the lanes. */
  async drain(deadlineMs: number): Promise<number> {
    this.stopping = true;
    const results = await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<number>((resolve) => {
            if (worker === undefined) return resolve(0);
            worker.on("message", (message: FromLane) => {
              if (message.type === "drained") resolve(message.unfinished);
            });
            worker.on("exit", () => resolve(0));
            worker.postMessage({ type: "drain", deadlineMs } satisfies ToLane);
          }),
      ),
    );
    await Promise.all(this.workers.map((worker) => worker?.terminate()));
    return results.reduce((a, b) => a + b, 0);
  }

  private spawn(index: number): Promise<number> {
    const data: LaneData = {
      lane: index,
      lanes: this.options.count,
      host: this.options.host,
      port: this.port,
      backend: this.options.backend,
      config: this.config,
      startedAt: this.startedAt,
      upstream: this.upstream,
      governance: this.governance,
      ui: this.options.ui ?? NO_SITE,
      readiness: this.options.readiness,
      ...(this.options.logRings === undefined ? {} : { logRings: this.options.logRings }),
    };
    const worker = new Worker(LANE_ENTRY, { workerData: data });
    this.workers[index] = worker;
    return new Promise((resolve, reject) => {
      let listening = false;
      worker.on("message", (message: FromLane) => {
        if (message.type === "listening") {
          listening = true;
          resolve(message.port);
        } else this.onLaneMessage(worker, message);
      });
      worker.on("error", (error) => {
        this.options.log(`lane ${index} failed: ${error.stack ?? error.message}`);
        if (!listening) reject(error);
      });
      worker.on("exit", (code) => {
        if (this.workers[index] === worker) this.workers[index] = undefined;
        // Places the lane held under the provider concurrency limits would otherwise be lost for good.
        reclaimLane(openUpstreamBuffer(data.upstream), index);
        if (this.upstream !== data.upstream) reclaimLane(openUpstreamBuffer(this.upstream), index);
        this.options.onLaneExit(index);
        this.setTailListeners(index, 0);
        if (!listening || this.stopping) return;
        this.options.log(`lane ${index} exited with code ${code}; starting a new one`);
        this.spawn(index).then(
          () => this.options.log(`lane ${index} restarted`),
          (error: Error) => this.options.log(`lane ${index} restart failed: ${error.message}`),
        );
      });
    });
  }

  private onLaneMessage(worker: Worker, message: FromLane): void {
    if (message.type === "applied") {
      const waiter = this.applyWaiters.get(message.id);
      if (waiter !== undefined && --waiter.pending === 0) {
        this.applyWaiters.delete(message.id);
        waiter.done();
      }
    } else if (message.type === "spend") {
      this.options.onSpend(message.records);
    } else if (message.type === "lease-short") {
      const answer = (value: LeaseAnswer) =>
        worker.postMessage({ type: "lease-answer", id: message.id, answer: value } satisfies ToLane);
      const asked = this.options.onLeaseShort?.(message.slots, message.amounts);
      if (asked === undefined) answer("unreachable");
      else
        asked.then(answer, (error: Error) => {
          this.options.log(`cluster: a lease refill failed: ${error.message}`);
          answer("unreachable");
        });
    } else if (message.type === "tail-listeners") {
      this.setTailListeners(this.workers.indexOf(worker), message.count);
    } else if (message.type === "admin-request") {
      const { request } = message;
      // Structured clone delivers the lane's Buffer as a plain Uint8Array.
      const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
      this.options.onAdmin({ ...request, body }).then(
        (response) =>
          worker.postMessage({ type: "admin-response", id: message.id, response } satisfies ToLane),
        (error: Error) => {
          this.options.log(`management request failed: ${error.stack ?? error.message}`);
          const response: AdminResponse = {
            status: 500,
            body: JSON.stringify({
              error: { message: "The management request failed.", type: "api_error", code: "internal_error" },
            }),
          };
          worker.postMessage({ type: "admin-response", id: message.id, response } satisfies ToLane);
        },
      );
    } else if (message.type === "snapshot") {
      this.snapshotWaiters.get(message.id)?.(message.metrics);
      this.snapshotWaiters.delete(message.id);
    } else if (message.type === "metrics-request") {
      this.metricsText().then(
        (body) =>
          worker.postMessage({
            type: "metrics-text",
            id: message.id,
            contentType: METRICS_CONTENT_TYPE,
            body,
          } satisfies ToLane),
        (error: Error) => this.options.log(`metrics aggregation failed: ${error.message}`),
      );
    }
  }

  async metricsText(): Promise<string> {
    const snapshots = await Promise.all(
      this.workers.map((worker) => (worker === undefined ? Promise.resolve([]) : this.snapshotOf(worker))),
    );
    const own = this.options.controlMetrics?.();
    return renderMetrics(own === undefined ? snapshots : [...snapshots, own]);
  }

  /** Records just stored, to the lanes where someone watches the live tail (`json` is its message). */
  tail(json: string): void {
    this.workers.forEach((worker, lane) => {
      if ((this.tailListeners[lane] ?? 0) > 0) worker?.postMessage({ type: "tail", json } satisfies ToLane);
    });
  }

  private setTailListeners(lane: number, count: number): void {
    if (lane < 0) return;
    const before = this.tailListeners.some((n) => n > 0);
    this.tailListeners[lane] = count;
    const after = this.tailListeners.some((n) => n > 0);
    if (before !== after) this.options.onTailWatched?.(after);
  }

  private snapshotOf(worker: Worker): Promise<MetricJson[]> {
    const id = this.nextSnapshot++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.snapshotWaiters.delete(id);
        resolve([]);
      }, SNAPSHOT_TIMEOUT_MS);
      this.snapshotWaiters.set(id, (metrics) => {
        clearTimeout(timer);
        resolve(metrics);
      });
      worker.postMessage({ type: "snapshot", id } satisfies ToLane);
    });
  }

  private broadcast(message: ToLane): void {
    for (const worker of this.workers) worker?.postMessage(message);
  }
}

/** A port the kernel reports free on `host` now (it may be taken again before it is bound). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}
