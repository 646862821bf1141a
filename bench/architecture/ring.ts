// Shape A, "ring": one uWS acceptor on the main thread writes each request (id + body) into a
// SharedArrayBuffer ring per worker; worker threads route it, call the upstream with undici, and write
// status + body into a response ring that the main thread drains to answer uWS (uWS responses belong to
// the thread that accepted them).
// Usage: node dist/bench/architecture/ring.js --port 8802 --workers 2 --upstream http://127.0.0.1:9100
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { flag, forward, makeRouter, statusLine } from "./common.js";
import { createRingBuffer, SpscRing } from "./spsc-ring.js";
import { type HttpResponse, readBody, type us_listen_socket, uws } from "./uws.js";

const RING_BYTES = 8 * 1024 * 1024;

interface RingWorkerData {
  upstream: string;
  requests: SharedArrayBuffer;
  responses: SharedArrayBuffer;
}

function runWorker(data: RingWorkerData): void {
  const routes = makeRouter(data.upstream);
  const inbox = new SpscRing(data.requests);
  const outbox = new SpscRing(data.responses);
  let served = 0;
  const backlog: { id: number; status: number; body: Buffer }[] = [];
  let retrying = false;
  const retry = (): void => {
    while (backlog.length > 0) {
      const m = backlog[0] as { id: number; status: number; body: Buffer };
      if (!outbox.push(m.id, m.status, m.body)) {
        setTimeout(retry, 1);
        return;
      }
      backlog.shift();
    }
    retrying = false;
  };
  inbox.consume((id, _aux, body) => {
    forward(routes, body).then((reply) => {
      served++;
      if (backlog.length === 0 && outbox.push(id, reply.status, reply.body)) return;
      backlog.push({ id, status: reply.status, body: reply.body });
      if (!retrying) {
        retrying = true;
        setTimeout(retry, 1);
      }
    });
  });
  parentPort?.on("message", (msg: { type: string }) => {
    if (msg.type !== "stop") return;
    parentPort?.postMessage({ type: "stats", served });
    for (const route of new Set(routes.values())) void route.pool.destroy();
    // The pending Atomics.waitAsync does not keep the thread alive; closing the port lets it exit.
    parentPort?.close();
  });
}

interface Pending {
  res: HttpResponse;
  aborted: boolean;
}

function main(): void {
  const port = Number(flag("port", "8802"));
  const workers = Number(flag("workers", "2"));
  const upstream = flag("upstream", "http://127.0.0.1:9100");
  const pending = new Map<number, Pending>();
  const inboxes: SpscRing[] = [];
  const backlogs: { id: number; body: Buffer }[][] = [];
  const threads: Worker[] = [];
  const served: number[] = [];
  let nextId = 1;
  let nextWorker = 0;

  const answer = (id: number, status: number, body: Buffer): void => {
    const p = pending.get(id);
    if (p === undefined) return;
    pending.delete(id);
    if (p.aborted) return;
    p.res.cork(() => {
      p.res.writeStatus(statusLine(status)).writeHeader("content-type", "application/json").end(body);
    });
  };
  const flushBacklogs = (): void => {
    for (let i = 0; i < backlogs.length; i++) {
      const q = backlogs[i] as { id: number; body: Buffer }[];
      const ring = inboxes[i] as SpscRing;
      while (q.length > 0) {
        const m = q[0] as { id: number; body: Buffer };
        if (!ring.push(m.id, 0, m.body)) break;
        q.shift();
      }
    }
  };

  for (let i = 0; i < workers; i++) {
    const requests = createRingBuffer(RING_BYTES);
    const responses = createRingBuffer(RING_BYTES);
    const w = new Worker(new URL(import.meta.url), {
      workerData: { upstream, requests, responses } satisfies RingWorkerData,
    });
    w.on("message", (msg: { type: string; served?: number }) => {
      if (msg.type === "stats") served[i] = msg.served ?? 0;
    });
    inboxes.push(new SpscRing(requests));
    backlogs.push([]);
    threads.push(w);
    new SpscRing(responses).consume((id, status, body) => {
      answer(id, status, body);
      if ((backlogs[i] as unknown[]).length > 0) flushBacklogs();
    });
  }

  const app = uws.App();
  let listenSocket: us_listen_socket | false = false;
  app.post("/v1/chat/completions", (res) => {
    const id = nextId;
    nextId = nextId === 0x7fffffff ? 1 : nextId + 1;
    const p: Pending = { res, aborted: false };
    res.onAborted(() => {
      p.aborted = true;
    });
    readBody(res, (body) => {
      pending.set(id, p);
      const w = nextWorker;
      nextWorker = (nextWorker + 1) % workers;
      const q = backlogs[w] as { id: number; body: Buffer }[];
      if (q.length > 0 || !(inboxes[w] as SpscRing).push(id, 0, body)) q.push({ id, body });
    });
  });
  app.any("/*", (res) => {
    res.writeStatus("404 Not Found").end();
  });
  app.listen("127.0.0.1", port, (s) => {
    if (s === false) {
      console.error(`ring could not listen on ${port}`);
      process.exit(1);
    }
    listenSocket = s;
    console.log(JSON.stringify({ type: "ready", shape: "ring", port, workers }));
  });
  setInterval(flushBacklogs, 5).unref();

  const stop = (): void => {
    if (listenSocket !== false) uws.us_listen_socket_close(listenSocket);
    let exited = 0;
    for (const w of threads) {
      w.once("exit", () => {
        if (++exited === threads.length) {
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
else runWorker(workerData as RingWorkerData);
