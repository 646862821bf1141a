import { parentPort, workerData } from "node:worker_threads";
import type { FromLane, LaneData, ToLane } from "../src/control/messages.js";
import type { HttpFront } from "../src/http/exchange.js";
import { startNodeFront } from "../src/http/node.js";
import { loadUws, startUwsFront } from "../src/http/uws.js";
import { nativeStatus } from "../src/native/index.js";
import { Gateway } from "../src/pipeline/gateway.js";
import { installUpstreamHealth } from "../src/routing/upstream-health.js";
import { closeAllPools } from "../src/upstream/pools.js";

// A lane: one worker thread serving requests end to end on the shared port.

const data = workerData as LaneData;
const port = parentPort;
if (port === null) throw new Error("workers/lane.js runs as a worker thread");
const send = (message: FromLane) => port.postMessage(message);

let nextRequest = 0;
const pendingMetrics = new Map<number, (text: { contentType: string; body: string }) => void>();

let upstream = data.upstream;
installUpstreamHealth(upstream, data.config.routing, data.lane);
const gateway = new Gateway(
  data.config,
  {
    lane: data.lane,
    lanes: data.lanes,
    backend: data.backend,
    native: nativeStatus.loaded,
    startedAt: data.startedAt,
  },
  {
    metricsText: () =>
      new Promise((resolve) => {
        const id = nextRequest++;
        pendingMetrics.set(id, resolve);
        send({ type: "metrics-request", id });
      }),
  },
);

async function listen(): Promise<HttpFront> {
  if (data.backend === "node") return startNodeFront(data.host, data.port, gateway.handle);
  const uws = loadUws();
  if (!uws.ok) throw new Error(`uWS did not load in lane ${data.lane}: ${uws.reason}`);
  return startUwsFront(uws.uws, data.host, data.port, gateway.handle);
}

const front = await listen();
send({ type: "listening", port: front.port });

port.on("message", (message: ToLane) => {
  switch (message.type) {
    case "config":
      upstream = message.upstream ?? upstream;
      installUpstreamHealth(upstream, message.config.routing, data.lane);
      gateway.setConfig(message.config);
      return;
    case "snapshot":
      send({ type: "snapshot", id: message.id, metrics: gateway.metrics.snapshot() });
      return;
    case "metrics-text":
      pendingMetrics.get(message.id)?.({ contentType: message.contentType, body: message.body });
      pendingMetrics.delete(message.id);
      return;
    case "drain":
      front.stopListening();
      void drain(message.deadlineMs);
      return;
  }
});

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
  await closeAllPools();
  send({ type: "drained", unfinished });
}
