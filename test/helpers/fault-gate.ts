import { once } from "node:events";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { MockErrorReply } from "../../bench/mock/error-reply.js";

// A fault injector in front of one mock provider: it records every request it is sent and passes it on
// unchanged (the Host header too, so a SigV4 signature still holds), unless told to answer the next ones
// with the provider's own error, or to hold the next one until released. A gateway pointed at two gates in
// front of one mock sees two providers, each of which a test can make fail or stall on its own.

export interface GatedRequest {
  readonly method: string;
  /** Path and query as received. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface HeldRequest {
  /** Resolves when the held request has arrived (and is being held). */
  readonly arrived: Promise<GatedRequest>;
  /** Passes the held request on to the mock. */
  release(): void;
}

export interface FaultGate {
  /** http://127.0.0.1:port, to be configured as the provider's base URL. */
  readonly url: string;
  /** Every request received, oldest first. */
  readonly requests: readonly GatedRequest[];
  /** Answers the next `count` requests with `status` in the provider's error format. */
  failNext(count: number, status: number): void;
  /** Holds the next request before it reaches the mock. */
  holdNext(): HeldRequest;
  /** Drops the failures and holds not yet used, and releases every held request. */
  reset(): void;
  close(): Promise<void>;
}

type Action =
  | { readonly kind: "fail"; readonly status: number }
  | {
      readonly kind: "hold";
      readonly arrive: (request: GatedRequest) => void;
      readonly released: Promise<void>;
    };

/** `errorReply` builds the provider's error answer (the mock's own, see bench/mock/*-mock.ts). */
export async function startFaultGate(
  target: string,
  errorReply: (status: number) => MockErrorReply,
): Promise<FaultGate> {
  const upstream = new URL(target);
  const requests: GatedRequest[] = [];
  const actions: Action[] = [];
  const releases = new Set<() => void>();

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    res.on("close", () => out.destroy());
    out.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers))
        if (typeof value === "string") headers[name] = value;
      const recorded = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers,
        body: body.toString("utf8"),
      };
      requests.push(recorded);
      const action = actions.shift();
      if (action?.kind === "fail") {
        const error = errorReply(action.status);
        res.writeHead(error.status, { "content-type": "application/json", ...error.headers });
        res.end(error.body);
        return;
      }
      if (action?.kind === "hold") {
        action.arrive(recorded);
        void action.released.then(() => forward(req, res, body));
        return;
      }
      forward(req, res, body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(count, status) {
      for (let i = 0; i < count; i++) actions.push({ kind: "fail", status });
    },
    holdNext() {
      let arrive!: (request: GatedRequest) => void;
      const arrived = new Promise<GatedRequest>((resolve) => {
        arrive = resolve;
      });
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      releases.add(release);
      actions.push({ kind: "hold", arrive, released });
      return {
        arrived,
        release() {
          releases.delete(release);
          release();
        },
      };
    },
    reset() {
      actions.length = 0;
      for (const release of releases) release();
      releases.clear();
    },
    async close() {
      for (const release of releases) release();
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
