// Shape B, "lanes": N worker threads, each with its own uWS app on the same port (SO_REUSEPORT), each
// serving requests end to end with its own undici pool. The main thread only starts and stops lanes.
// Usage: node dist/bench/architecture/lanes.js --port 8801 --workers 2 --upstream http://127.0.0.1:9100
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { flag, forward, makeRouter, statusLine } from "./common.js";
import { readBody, type us_listen_socket, uws } from "./uws.js";

interface LaneData {
  port: number;
  upstream: string;
}

function runLane(data: LaneData): void {
  const routes = makeRouter(data.upstream);
  const app = uws.App();
  let served = 0;
  let listenSocket: us_listen_socket | false = false;
  app.post("/v1/chat/completions", (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    readBody(res, (body) => {
      forward(routes, body).then((reply) => {
        served++;
        if (aborted) return;
        res.cork(() => {
          res
            .writeStatus(statusLine(reply.status))
            .writeHeader("content-type", "application/json")
            .end(reply.body);
        });
      });
    });
  });
  app.any("/*", (res) => {
    res.writeStatus("404 Not Found").end();
  });
  app.listen("127.0.0.1", data.port, (s) => {
    listenSocket = s;
    parentPort?.postMessage({ type: "ready", ok: s !== false });
  });
  parentPort?.on("message", (msg: { type: string }) => {
    if (msg.type !== "stop") return;
    // Clean exit of a uWS worker: close the listen socket and the app, then let the loop drain.
    // process.exit() inside a worker with live uWS handles aborts the whole process.
    if (listenSocket !== false) uws.us_listen_socket_close(listenSocket);
    // close() exists in the binary (uWS >= 20.2x) but not in this package's typings.
    (app as unknown as { close(): void }).close();
    parentPort?.postMessage({ type: "stats", served });
    for (const route of new Set(routes.values())) void route.pool.destroy();
    parentPort?.close();
  });
}

function main(): void {
  const port = Number(flag("port", "8801"));
  const workers = Number(flag("workers", "2"));
  const upstream = flag("upstream", "http://127.0.0.1:9100");
  const lanes: Worker[] = [];
  let ready = 0;
  const served: number[] = [];
  for (let i = 0; i < workers; i++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { port, upstream } satisfies LaneData });
    w.on("message", (msg: { type: string; ok?: boolean; served?: number }) => {
      if (msg.type === "ready") {
        if (!msg.ok) {
          console.error(`lane ${i} could not listen on ${port}`);
          process.exit(1);
        }
        if (++ready === workers)
          console.log(JSON.stringify({ type: "ready", shape: "lanes", port, workers }));
      } else if (msg.type === "stats") {
        served[i] = msg.served ?? 0;
      }
    });
    lanes.push(w);
  }
  const stop = (): void => {
    let exited = 0;
    for (const w of lanes) {
      w.once("exit", () => {
        if (++exited === lanes.length) {
          console.log(JSON.stringify({ type: "stats", servedPerWorker: served }));
          process.exit(0);
        }
      });
      w.postMessage({ type: "stop" });
    }
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (isMainThread) main();
else runLane(workerData as LaneData);
