import { once } from "node:events";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

// A small round-robin TCP load balancer, the "local front" of several gateway instances in tests and in the
// benchmark (bench/lb.ts runs it as a process of its own). Each accepted connection goes to the next live
// backend and is piped both ways; HTTP keep-alive therefore pins a client connection to one backend, as
// nginx's stream module or any L4 balancer does. A backend that refuses a connection (or does not accept it
// within the connect timeout) is marked down for a while and the connection tries the next one, so a killed
// instance costs no client a failed request unless every backend is down.

export interface Backend {
  readonly host: string;
  readonly port: number;
}

export interface BalancerOptions {
  readonly backends: readonly Backend[];
  /** 0 (the default): any free port. */
  readonly port?: number;
  readonly host?: string;
  /** Open client connections at most; the server drops any beyond (net.Server.maxConnections). */
  readonly maxConnections?: number;
  /** How long a backend that refused a connection is left out of the rotation. */
  readonly downMs?: number;
  readonly connectTimeoutMs?: number;
}

const DEFAULTS = { host: "127.0.0.1", maxConnections: 10_000, downMs: 1000, connectTimeoutMs: 2000 };

/** "host:port", the name a backend is counted and removed under. */
export function backendName(backend: Backend): string {
  return `${backend.host}:${backend.port}`;
}

/** "host:port" → a backend; throws on anything else. */
export function parseBackend(text: string): Backend {
  const match = /^\[?([^\s\]]+?)\]?:(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2]);
  if (match === null || !(port >= 1 && port <= 65_535)) throw new Error(`not a host:port backend: ${text}`);
  return { host: match[1] as string, port };
}

export class Balancer {
  private readonly backends: Backend[];
  /** Backend name → the time until which it is skipped. */
  private readonly downUntil = new Map<string, number>();
  /** Backend name → connections handed to it so far. */
  private readonly handed = new Map<string, number>();
  /** Open sockets, client and backend side, so that close() can end them. */
  private readonly clients = new Set<Socket>();
  private readonly upstreams = new Set<Socket>();
  private next = 0;

  private constructor(
    private readonly server: Server,
    private readonly options: Required<Omit<BalancerOptions, "backends" | "port">>,
    backends: readonly Backend[],
  ) {
    this.backends = [...backends];
  }

  static async start(options: BalancerOptions): Promise<Balancer> {
    const settings = {
      host: options.host ?? DEFAULTS.host,
      maxConnections: options.maxConnections ?? DEFAULTS.maxConnections,
      downMs: options.downMs ?? DEFAULTS.downMs,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    };
    // Paused until a backend accepts: the client's first bytes wait in the kernel, not in our memory.
    // Half-open allowed both ways, so a client that shuts down its side after a request still gets its answer.
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
    server.maxConnections = settings.maxConnections;
    const balancer = new Balancer(server, settings, options.backends);
    server.on("connection", (client) => balancer.accept(client));
    server.listen(options.port ?? 0, settings.host);
    await once(server, "listening");
    return balancer;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("the balancer is not listening");
    return address.port;
  }

  get url(): string {
    return `http://${this.options.host}:${this.port}`;
  }

  /** Connections handed to each backend so far, by "host:port" (removed backends included). */
  counts(): ReadonlyMap<string, number> {
    return new Map(this.handed);
  }

  /** Client connections open now. */
  openConnections(): number {
    return this.clients.size;
  }

  /** Puts a backend (back) in the rotation, live at once. */
  add(backend: Backend): void {
    this.downUntil.delete(backendName(backend));
    if (!this.backends.some((b) => backendName(b) === backendName(backend))) this.backends.push(backend);
  }

  /** Takes a backend out of the rotation; its open connections go on until either side ends them. */
  remove(backend: Backend): boolean {
    const index = this.backends.findIndex((b) => backendName(b) === backendName(backend));
    if (index < 0) return false;
    this.backends.splice(index, 1);
    return true;
  }

  /** Stops accepting, ends every open connection, and resolves once the server is closed. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of [...this.clients, ...this.upstreams]) socket.destroy();
    await closed;
  }

  private accept(client: Socket): void {
    this.track(this.clients, client);
    client.on("error", () => client.destroy());
    this.tryBackends(client, new Set());
  }

  /** Connects `client` to the next backend not in `tried`; the client is dropped when none is left. */
  private tryBackends(client: Socket, tried: Set<string>): void {
    if (client.destroyed) return;
    const backend = this.pick(tried);
    if (backend === undefined) {
      client.destroy();
      return;
    }
    const name = backendName(backend);
    tried.add(name);
    const upstream = tcpConnect({ host: backend.host, port: backend.port, allowHalfOpen: true });
    this.track(this.upstreams, upstream);
    upstream.setTimeout(this.options.connectTimeoutMs, () => upstream.destroy(new Error("connect timeout")));
    const failed = (): void => {
      this.downUntil.set(name, Date.now() + this.options.downMs);
      this.tryBackends(client, tried);
    };
    upstream.once("error", failed);
    upstream.once("connect", () => {
      upstream.off("error", failed);
      upstream.setTimeout(0);
      // The client went away while this backend was being reached.
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      this.handed.set(name, (this.handed.get(name) ?? 0) + 1);
      this.pipe(client, upstream);
    });
  }

  /**
   * The next backend in the rotation that is neither down nor tried; when every untried one is down, the one
   * whose down time ends first (it may be back, and refusing the client outright would be worse).
   */
  private pick(tried: ReadonlySet<string>): Backend | undefined {
    const now = Date.now();
    const count = this.backends.length;
    let fallback: Backend | undefined;
    for (let i = 0; i < count; i++) {
      const index = (this.next + i) % count;
      const backend = this.backends[index] as Backend;
      const name = backendName(backend);
      if (tried.has(name)) continue;
      const until = this.downUntil.get(name) ?? 0;
      if (until <= now) {
        this.next = index + 1;
        return backend;
      }
      if (fallback === undefined || until < (this.downUntil.get(backendName(fallback)) ?? 0))
        fallback = backend;
    }
    return fallback;
  }

  private pipe(client: Socket, upstream: Socket): void {
    upstream.on("error", () => upstream.destroy());
    // A reset or a full close on either side ends the pair; half-closes travel through the pipes.
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }

  private track(set: Set<Socket>, socket: Socket): void {
    set.add(socket);
    socket.once("close", () => set.delete(socket));
  }
}
