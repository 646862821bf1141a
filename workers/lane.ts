import { parentPort, workerData } from "node:worker_threads";
import type { AdminResponse } from "../src/admin/handler.js";
import type { LeaseAnswer } from "../src/cluster/lease-client.js";
import type { GatewayConfig } from "../src/config/types.js";
import type { FromLane, LaneData, ToLane } from "../src/control/messages.js";
import type { GovernanceSnapshot } from "../src/governance/snapshot.js";
import { describeError, type PluginChain } from "../src/hooks/chain.js";
import { loadPluginChain } from "../src/hooks/load.js";
import type { ExchangeHandler, HttpFront } from "../src/http/exchange.js";
import { startNodeFront } from "../src/http/node.js";
import { loadUws, startUwsFront } from "../src/http/uws.js";
import { nativeStatus } from "../src/native/index.js";
import { loadCacheBackends } from "../src/pipeline/cache/lane-cache.js";
import { Gateway } from "../src/pipeline/gateway.js";
import type { SpendSink } from "../src/pipeline/governance/admission.js";
import { type AskLease, LaneGovernance } from "../src/pipeline/governance/lane-governance.js";
import { SpendOutbox } from "../src/pipeline/governance/spend-outbox.js";
import { pricingFor } from "../src/pipeline/governance/table-pricing.js";
import { LiveTail } from "../src/pipeline/live-tail.js";
import { installUpstreamHealth } from "../src/routing/upstream-health.js";
import { LogRingWriter } from "../src/shm/log-ring.js";
import { Readiness } from "../src/shm/readiness.js";
import { closeAllPools } from "../src/upstream/pools.js";

// A lane: one worker thread serving requests end to end on the shared port.

const data = workerData as LaneData;
const ADMIN_TIMED_OUT: AdminResponse = {
  status: 504,
  body: JSON.stringify({
    error: {
      message: "The control plane did not answer in time.",
      type: "timeout_error",
      code: "request_timeout",
    },
  }),
};
const port = parentPort;
if (port === null) throw new Error("workers/lane.js runs as a worker thread");
const send = (message: FromLane) => port.postMessage(message);

let nextRequest = 0;
const pendingMetrics = new Map<number, (text: { contentType: string; body: string }) => void>();
const pendingAdmin = new Map<number, (response: AdminResponse) => void>();
/** The control plane answers management requests from its store; a wedged store must not hold a client forever. */
const ADMIN_TIMEOUT_MS = 30_000;

let upstream = data.upstream;
installUpstreamHealth(upstream, data.config.routing, data.lane);
// The control plane loaded these plugins once before it started the lanes, so a failure here is rare; it
// fails the lane's start with the reason.
let plugins: PluginChain = await loadPluginChain(data.config);
await loadCacheBackends(data.config);
const spendOutbox = new SpendOutbox((records) => send({ type: "spend", records }));
let governanceSnapshot = data.governance;
let config = data.config;
// Each settled request's spend goes to the control plane and to this lane's per-key metrics.
const spendSink: SpendSink = {
  record(record) {
    gateway.metrics.recordSpend(record);
    spendOutbox.record(record);
  },
};
const pendingLease = new Map<number, (answer: LeaseAnswer) => void>();
/** A refill is one Redis round trip with a deadline of its own; past this the control plane is wedged. */
const LEASE_TIMEOUT_MS = 2_000;
// Cluster mode is chosen at start: a reload does not turn it on or off.
const askLease: AskLease | undefined =
  data.config.cluster === undefined
    ? undefined
    : (needs) =>
        new Promise((resolve) => {
          const id = nextRequest++;
          const timer = setTimeout(() => {
            pendingLease.delete(id);
            resolve("unreachable");
          }, LEASE_TIMEOUT_MS);
          pendingLease.set(id, (answer) => {
            clearTimeout(timer);
            resolve(answer);
          });
          send({
            type: "lease-short",
            id,
            slots: needs.map((need) => need.slot),
            amounts: needs.map((need) => need.amount),
          });
        });
const laneGovernance = (snapshot: GovernanceSnapshot, current: GatewayConfig): LaneGovernance =>
  new LaneGovernance(snapshot, data.lane, pricingFor(current), spendSink, askLease);
const gateway = new Gateway(
  data.config,
  {
    lane: data.lane,
    lanes: data.lanes,
    backend: data.backend,
    native: nativeStatus.loaded,
    startedAt: data.startedAt,
    readiness: new Readiness(data.readiness),
  },
  {
    metricsText: () =>
      new Promise((resolve) => {
        const id = nextRequest++;
        pendingMetrics.set(id, resolve);
        send({ type: "metrics-request", id });
      }),
    admin: (request) =>
      new Promise((resolve) => {
        const id = nextRequest++;
        const timer = setTimeout(() => {
          pendingAdmin.delete(id);
          resolve(ADMIN_TIMED_OUT);
        }, ADMIN_TIMEOUT_MS);
        pendingAdmin.set(id, (response) => {
          clearTimeout(timer);
          resolve(response);
        });
        send({ type: "admin-request", id, request });
      }),
  },
  plugins,
  laneGovernance(governanceSnapshot, config),
  data.logRings === undefined ? undefined : new LogRingWriter(data.logRings, data.lane),
  data.ui,
);

// The web UI's live tail: records the log worker stored, sent on by the control plane while someone watches.
const liveTail = new LiveTail({
  adminKey: () => gateway.adminKey,
  onListenersChanged: (count) => send({ type: "tail-listeners", count }),
});

async function listen(): Promise<HttpFront> {
  const handler = testCrashHandler(gateway.handle);
  const tail = data.logRings === undefined ? undefined : liveTail;
  if (data.backend === "node") return startNodeFront(data.host, data.port, handler, gateway.headNeeds, tail);
  const uws = loadUws();
  if (!uws.ok) throw new Error(`uWS did not load in lane ${data.lane}: ${uws.reason}`);
  return startUwsFront(uws.uws, data.host, data.port, handler, gateway.headNeeds, tail);
}

/**
 * Test only (NODE_ENV=test): a request to SWITCHYARD_TEST_CRASH_PATH throws from a timer, outside every
 * request's guard, as a bug in the lane would; the e2e tests use it to see the lane replaced.
 */
function testCrashHandler(handle: ExchangeHandler): ExchangeHandler {
  const path = process.env.SWITCHYARD_TEST_CRASH_PATH;
  if (process.env.NODE_ENV !== "test" || path === undefined || path === "") return handle;
  return (head, reply) => {
    if (head.path !== path) return handle(head, reply);
    setTimeout(() => {
      throw new Error(`test crash of lane ${data.lane}`);
    }, 10);
  };
}

const front = await listen();
send({ type: "listening", port: front.port });
let listening = true;
// A drain and a crash may both stop the listener; uWS must close a listen socket only once.
const stopListening = (): void => {
  if (listening) front.stopListening();
  listening = false;
};

const CRASH_EXIT_MS = 1_000;
let crashed = false;
/**
 * An error that escaped every request's guard leaves the lane in a state nobody can vouch for: it stops
 * accepting, closes its connections and pools and ends with code 1, and the control plane starts another.
 * Exiting with uWS handles open would abort the whole process, so the thread ends by running out of work,
 * or, when a timer of a request under way holds it, by exit once the uWS sockets have had time to close.
 */
const crash = (error: unknown): void => {
  console.error(`[switchyard] lane ${data.lane} crashed:`, error instanceof Error ? error.stack : error);
  if (crashed) return;
  crashed = true;
  process.exitCode = 1;
  stopListening();
  front.closeConnections();
  // Spend already recorded goes out before the port closes; requests cut off by the crash settle nothing.
  spendOutbox.flush();
  void Promise.all([closeAllPools(), plugins.close()]).finally(() => port.close());
  setTimeout(() => process.exit(1), CRASH_EXIT_MS).unref();
};
process.on("uncaughtException", crash);
process.on("unhandledRejection", crash);

let reloads = Promise.resolve();
port.on("message", (message: ToLane) => {
  switch (message.type) {
    case "config":
      // One at a time, in the order published: a slow plugin load must not let an older configuration win.
      reloads = reloads
        .then(() => applyConfig(message))
        .finally(() => send({ type: "applied", id: message.id }));
      return;
    case "governance":
      governanceSnapshot = message.snapshot;
      gateway.setGovernance(laneGovernance(governanceSnapshot, config));
      send({ type: "applied", id: message.id });
      return;
    case "snapshot":
      send({ type: "snapshot", id: message.id, metrics: gateway.metrics.snapshot() });
      return;
    case "admin-response":
      pendingAdmin.get(message.id)?.(message.response);
      pendingAdmin.delete(message.id);
      return;
    case "tail":
      liveTail.publish(message.json);
      return;
    case "lease-answer":
      pendingLease.get(message.id)?.(message.answer);
      pendingLease.delete(message.id);
      return;
    case "metrics-text":
      pendingMetrics.get(message.id)?.({ contentType: message.contentType, body: message.body });
      pendingMetrics.delete(message.id);
      return;
    case "drain":
      gateway.startDraining();
      stopListening();
      void drain(message.deadlineMs);
      return;
  }
});

/**
 * Swaps in a published configuration once its plugins have loaded; when they do not, the lane keeps the
 * configuration and plugins it has (the control plane loaded them first, so this is a plugin failing in
 * one lane only). The replaced plugins are closed once the new ones serve.
 */
async function applyConfig(message: Extract<ToLane, { type: "config" }>): Promise<void> {
  let next: PluginChain;
  try {
    next = await loadPluginChain(message.config);
  } catch (error) {
    console.error(
      `[switchyard] lane ${data.lane} keeps its configuration: the new one's plugins did not load: ${describeError(error)}`,
    );
    return;
  }
  try {
    await loadCacheBackends(message.config);
  } catch (error) {
    console.error(
      `[switchyard] lane ${data.lane} keeps its configuration: the cache's Redis store did not load: ${describeError(error)}`,
    );
    return;
  }
  upstream = message.upstream ?? upstream;
  installUpstreamHealth(upstream, message.config.routing, data.lane);
  gateway.setConfig(message.config, next);
  config = message.config;
  // Prices follow the configuration (its overrides).
  gateway.setGovernance(laneGovernance(governanceSnapshot, config));
  const previous = plugins;
  plugins = next;
  await previous.close();
}

/** How long the last bytes of replies ended at the deadline get to leave before connections close. */
const FLUSH_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function drain(deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (gateway.metrics.inFlight > 0 && Date.now() < deadline) await sleep(20);
  // Past the deadline every client still waiting is told so in its format, rather than cut off mid-stream.
  const unfinished = front.interruptExchanges();
  if (unfinished > 0) await sleep(FLUSH_MS);
  // Open uWS handles at thread exit abort the whole process, so every connection is closed first.
  front.closeConnections();
  await Promise.all([closeAllPools(), plugins.close(), gateway.drainTraces(), gateway.closeCache()]);
  spendOutbox.flush();
  send({ type: "drained", unfinished });
}
