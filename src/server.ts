#!/usr/bin/env node
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { type AdminContext, handleAdmin } from "./admin/handler.js";
import { liveTailMessage } from "./admin/logs.js";
import { sharedHealthMetrics } from "./cluster/health-metrics.js";
import { describeRedisTarget } from "./config/cluster.js";
import {
  describeAuth,
  describeConfig,
  describeGovernance,
  describeModelGroups,
  describePlugins,
} from "./config/describe.js";
import { loadConfig } from "./config/load.js";
import { logSettings } from "./config/logs.js";
import { watchConfig } from "./config/watch.js";
import { ConfigStatusControl } from "./control/config-status.js";
import { DEFAULT_COUNTER_SLOTS, describeVirtualKeys, GovernanceControl } from "./control/governance.js";
import { Lanes, UI_DIR } from "./control/lanes.js";
import { checkPlugins, pluginCheckedReloads } from "./control/plugin-check.js";
import { RequestLogControl } from "./control/request-log.js";
import { ServedConfigControl } from "./control/served-config.js";
import { watchStore } from "./control/store-watch.js";
import { loadStaticSite } from "./http/static-files.js";
import { loadUws } from "./http/uws.js";
import { listenReusePort, nativeStatus } from "./native/index.js";
import type { MetricJson } from "./observability/metric-json.js";
import { createReadinessBuffer, Readiness } from "./shm/readiness.js";
import { openStore } from "./store/open.js";

// Entry point: read flags and environment, load the configuration, start the lanes, watch the file,
// and drain on SIGTERM.

const log = (line: string) => process.stdout.write(`[switchyard] ${line}\n`);

const { values: flags } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string" },
    config: { type: "string" },
    "app-dir": { type: "string" },
    lanes: { type: "string" },
    "drain-seconds": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

if (flags.help) {
  process.stdout.write(`Usage: switchyard [--port 8080] [--host 0.0.0.0] [--config FILE] [--app-dir DIR] [--lanes N]
                  [--drain-seconds 30]

Environment: PORT, HOST, SWITCHYARD_LANES, SWITCHYARD_DRAIN_SECONDS, provider keys (OPENAI_API_KEY, ...),
SWITCHYARD_HTTP=node (force the node:http front), SWITCHYARD_NATIVE=0 (force the TypeScript fallbacks),
SWITCHYARD_UI_DIR (serve the web UI from another directory than the build's dist/ui).
`);
  process.exit(0);
}

function positiveCount(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 16_777_216) {
    log(`${name} must be a whole number from 1 to 16777216, got "${text}"`);
    process.exit(2);
  }
  return value;
}

function positiveInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    log(`${name} must be a whole number, got "${text}"`);
    process.exit(2);
  }
  return value;
}

const env = process.env;
const port = positiveInt(flags.port ?? env.PORT, "--port", 8080);
const host = flags.host ?? env.HOST ?? "0.0.0.0";
const configPath = flags.config ?? env.SWITCHYARD_CONFIG;
const appDir = flags["app-dir"] ?? env.SWITCHYARD_APP_DIR;
// How long SIGTERM lets requests under way finish; past it they end with an error in their client's format.
const drainSeconds = positiveInt(
  flags["drain-seconds"] ?? env.SWITCHYARD_DRAIN_SECONDS,
  "--drain-seconds",
  30,
);

let loaded: ReturnType<typeof loadConfig>;
try {
  loaded = loadConfig({ configPath, appDir, env });
} catch (error) {
  log((error as Error).message);
  process.exit(2);
}

// A plugin that cannot load stops start-up here, once, with its reason, before any lane tries it.
const plugins = await checkPlugins(loaded.config).catch((error: Error) => {
  log(`could not load the plugins: ${error.message}`);
  process.exit(2);
});

// The web UI's files, read once here; every lane serves them from memory.
const ui = loadStaticSite(env.SWITCHYARD_UI_DIR || UI_DIR);
const configStatus = new ConfigStatusControl(loaded.warnings, loaded.path !== undefined);

const uws = loadUws(env);
const backend = uws.ok ? "uws" : "node";
const requestedLanes =
  positiveInt(flags.lanes ?? env.SWITCHYARD_LANES, "--lanes", availableParallelism()) || 1;
// Node 20 cannot share a port between threads: node:http serves from every lane only on the addon's
// SO_REUSEPORT sockets (src/http/node.ts), else from one.
const nodeShares = listenReusePort !== undefined;
const laneCount = backend === "uws" || nodeShares ? requestedLanes : 1;

// The control plane's store: virtual keys, teams, customers, spend (SQLite in the app dir by default).
const opened = await openStore({ appDir, databaseUrl: loaded.config.governance?.databaseUrl, env }).catch(
  (error: Error) => {
    log(`could not open the store: ${error.message}`);
    process.exit(2);
  },
);
const store = opened.store;
let lanes: Lanes | undefined;
// Lanes serve the file's configuration with the providers added through the management API.
const served = await ServedConfigControl.start(store, loaded.config, (config) => lanes?.publish(config), log);
// /ready: the control plane pings the store (and in cluster mode watches Redis); every lane reads the answer.
const readinessBuffer = createReadinessBuffer();
const readiness = new Readiness(readinessBuffer);
// Cluster mode shares budgets and limits through Redis; its client is loaded only then.
const clusterConfig = loaded.config.cluster;
const LeaseGovernance =
  clusterConfig === undefined ? undefined : (await import("./cluster/lease-governance.js")).LeaseGovernance;
let cluster: InstanceType<NonNullable<typeof LeaseGovernance>> | undefined;
const governance = await GovernanceControl.start(
  store,
  loaded.config,
  (snapshot) => lanes?.publishGovernance(snapshot),
  log,
  {
    counters: positiveCount(
      env.SWITCHYARD_GOVERNANCE_COUNTERS,
      "SWITCHYARD_GOVERNANCE_COUNTERS",
      DEFAULT_COUNTER_SLOTS,
    ),
    lanes: laneCount,
  },
  clusterConfig === undefined || LeaseGovernance === undefined
    ? undefined
    : (counters) => {
        cluster = new LeaseGovernance(counters, clusterConfig, log, (reachable) => {
          readiness.cluster = reachable;
        });
        return cluster;
      },
);
// The request log: lanes' rings drained by the log worker into its own store (logs.db beside the
// governance database, or the same PostgreSQL database).
const logs = logSettings(loaded.config);
const requestLog = logs.enabled
  ? await RequestLogControl.start({
      settings: logs,
      lanes: laneCount,
      ...(appDir === undefined ? {} : { appDir }),
      ...(opened.databaseUrl === undefined ? {} : { databaseUrl: opened.databaseUrl }),
      log,
      onWritten: (summaries) => lanes?.tail(liveTailMessage(summaries)),
    }).catch((error: Error) => {
      log(`could not start the request log: ${error.message}`);
      process.exit(2);
    })
  : undefined;
/** Keys, teams, customers or providers changed in the store: the lanes get them anew. */
const reloadFromStore = () => Promise.all([governance.changed(), served.changed()]);
// Changes other gateways on the same PostgreSQL make through their admin API reach this one too.
const storeChanges = store.watchChanges(() => {
  reloadFromStore().catch((error: Error) =>
    log(`could not reload what another gateway changed: ${error.message}`),
  );
});
const adminContext: AdminContext = {
  store,
  changed: async () => {
    await reloadFromStore();
    await store
      .announceChange()
      .catch((error: Error) => log(`could not tell other gateways of a change: ${error.message}`));
  },
  flushSpend: async () => {
    await Promise.all([governance.flush(), cluster?.flush()]);
  },
  budgetState: (budgetId) => {
    const state = governance.counterState(`budget:${budgetId}`);
    return state === undefined
      ? undefined
      : { windowStart: state.windowStart, spentMicros: state.used, reservedMicros: state.reserved };
  },
  config: () => served.config,
  fileConfig: () => served.fileConfig,
  now: () => Date.now(),
  configStatus: () => configStatus.status(served.storedProviderWarnings),
  upstreamState: () => lanes?.upstreamState,
  ...(requestLog === undefined ? {} : { logs: requestLog }),
};

const storeWatch = watchStore(store, readiness, log);

const startedWith = { config: served.config, governance: governance.snapshot };
lanes = await Lanes.start({
  count: laneCount,
  host,
  port,
  backend,
  config: startedWith.config,
  governance: startedWith.governance,
  onSpend: (records) => governance.onSpend(records),
  onLaneExit: (lane) => governance.laneEnded(lane),
  onAdmin: (request) => handleAdmin(adminContext, request),
  ...(cluster === undefined ? {} : { onLeaseShort: cluster.short.bind(cluster) }),
  ui,
  log,
  readiness: readinessBuffer,
  ...(requestLog === undefined && cluster === undefined
    ? {}
    : {
        controlMetrics: (): MetricJson[] => [
          ...(requestLog?.metrics() ?? []),
          ...(cluster?.metrics() ?? []),
          ...(sharedHealth === undefined ? [] : sharedHealthMetrics(sharedHealth.counts)),
        ],
      }),
  ...(requestLog === undefined
    ? {}
    : {
        logRings: requestLog.rings,
        onTailWatched: (watched: boolean) => requestLog.setTail(watched),
      }),
}).catch((error: Error) => {
  log(`could not start: ${error.message}`);
  process.exit(1);
});
const running: Lanes = lanes;
// Cluster mode: circuit states reach the other instances through Redis (src/cluster/shared-health.ts).
const sharedHealth =
  clusterConfig?.shareHealth === true
    ? new (await import("./cluster/shared-health.js")).SharedHealth({
        redis: clusterConfig.redis,
        prefix: clusterConfig.keyPrefix,
        instance: cluster?.instance ?? clusterConfig.instanceName,
        upstream: (): SharedArrayBuffer => running.upstreamState,
        config: () => served.config,
        log,
      })
    : undefined;
void sharedHealth?.start();
// The first lane serves the management API before the others listen: what it changed meanwhile goes out now.
if (served.config !== startedWith.config) await running.publish(served.config);
if (governance.snapshot !== startedWith.governance) await running.publishGovernance(governance.snapshot);

log(`listening on http://${host}:${running.boundPort}`);
log(
  uws.ok
    ? `http backend: uWebSockets.js (${uws.path.split("/").pop()})`
    : `http backend: node:http (uWebSockets.js unavailable: ${uws.reason})`,
);
const asked = laneCount !== requestedLanes ? `asked for ${requestedLanes}; ` : "";
log(
  backend === "uws"
    ? `lanes: ${laneCount}`
    : nodeShares
      ? `lanes: ${laneCount} (node:http on SO_REUSEPORT sockets from the native module)`
      : `lanes: ${laneCount} (${asked}node:http serves one without the native module's SO_REUSEPORT sockets)`,
);
log(
  `native module: ${nativeStatus.loaded ? "loaded" : "not loaded, TypeScript fallback"} (${nativeStatus.detail})`,
);
log(`config: ${loaded.path ?? "environment"}`);
log(
  ui.index === undefined
    ? `web UI: not served (${ui.problem})`
    : `web UI: http://${host}:${running.boundPort}/ (${ui.files.size} files, ${Math.round(ui.bytes / 1024)} KiB)`,
);
log(describeAuth(loaded.config));
log(describePlugins(plugins));
log(`store: ${opened.description}`);
if (clusterConfig !== undefined)
  log(
    `cluster: on, Redis ${describeRedisTarget(clusterConfig.redis)}, instance ${cluster?.instance ?? clusterConfig.instanceName}; budgets and rate limits leased (on Redis down: ${clusterConfig.onRedisDown}, a dead instance's lease: ${clusterConfig.leaseExpiry})`,
  );
log(
  requestLog === undefined
    ? "request log: off"
    : `request log: ${requestLog.where}, content ${logs.content ? `kept (up to ${logs.maxContentBytes} bytes a side)` : "not kept"}, ${logs.retentionMs === 0 ? "kept whatever its age" : `pruned after ${Math.round(logs.retentionMs / 86_400_000)} days`}${logs.maxBytes === 0 ? "" : ` or past ${Math.round(logs.maxBytes / 1024 / 1024)} MiB`}`,
);
for (const warning of opened.warnings) log(`warning: ${warning}`);
log(describeGovernance(loaded.config));
log(describeVirtualKeys(governance.snapshot, loaded.config));
if (Object.keys(served.config.providers).length === 0) {
  log("providers: none found; set OPENAI_API_KEY (or another provider key) or pass --config");
} else {
  for (const line of describeConfig(served.config)) log(`provider ${line}`);
}
for (const line of describeModelGroups(loaded.config)) log(line);
for (const warning of loaded.warnings) log(`warning: ${warning}`);

const rejected = (error: Error) => {
  configStatus.rejected(error);
  log(`config change rejected, keeping the previous one: ${error.message}`);
};
const watcher =
  loaded.path === undefined
    ? undefined
    : watchConfig(
        loaded.path,
        env,
        pluginCheckedReloads((config, warnings: string[], names) => {
          served.setFileConfig(config).catch((error: Error) => log(`config reload failed: ${error.message}`));
          governance
            .setConfig(config)
            .catch((error: Error) => log(`governance reload failed: ${error.message}`));
          configStatus.reloaded(warnings);
          log(`config reloaded from ${loaded.path}`);
          log(describeAuth(config));
          log(describePlugins(names));
          for (const warning of warnings) log(`warning: ${warning}`);
        }, rejected),
        rejected,
      );

log("ready");

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: draining (up to ${drainSeconds} s)`);
  watcher?.close();
  storeWatch.stop();
  const unfinished = await running.drain(drainSeconds * 1000);
  // The lanes' last spend and records are in: written before the stores close.
  await requestLog?.stop();
  await governance.close();
  sharedHealth?.stop();
  await cluster?.close();
  await storeChanges.stop();
  await store.close();
  log(
    unfinished === 0
      ? "drained; bye"
      : `deadline reached with ${unfinished} requests unfinished; each was ended with a shutdown error`,
  );
  process.exit(0);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
