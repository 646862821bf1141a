import { once } from "node:events";
import { createServer, get, type Server } from "node:http";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type Backend, Balancer, backendName, parseBackend } from "./balancer.js";

/** A plain HTTP server that answers every request with its name. */
async function named(name: string): Promise<{ server: Server; backend: Backend }> {
  const server = createServer((_req, res) => res.end(name));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, backend: { host: "127.0.0.1", port: address.port } };
}

/** One GET on a connection of its own (no keep-alive agent), so each request is one balanced connection. */
function fetchOnce(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve(body));
      res.on("error", reject);
    }).on("error", reject);
  });
}

async function stopServer(server: Server): Promise<void> {
  if (!server.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe("Balancer", () => {
  const servers: Server[] = [];
  let balancer: Balancer | undefined;

  async function backends(...names: string[]): Promise<Backend[]> {
    const started = await Promise.all(names.map(named));
    servers.push(...started.map((s) => s.server));
    return started.map((s) => s.backend);
  }

  afterEach(async () => {
    await balancer?.close();
    balancer = undefined;
    await Promise.all(servers.splice(0).map(stopServer));
  });

  it("hands connections to the backends in turn and counts them", async () => {
    const list = await backends("a", "b", "c");
    balancer = await Balancer.start({ backends: list });
    const answers: string[] = [];
    for (let i = 0; i < 9; i++) answers.push(await fetchOnce(balancer.url));
    expect(answers).toEqual(["a", "b", "c", "a", "b", "c", "a", "b", "c"]);
    expect([...balancer.counts().values()]).toEqual([3, 3, 3]);
  });

  it("skips a dead backend without failing a request, and takes it back when added", async () => {
    const list = await backends("a", "b", "c");
    const [a, b, c] = list as [Backend, Backend, Backend];
    balancer = await Balancer.start({ backends: list, downMs: 60_000 });
    await stopServer(servers[1] as Server);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => fetchOnce((balancer as Balancer).url)),
    );
    expect(answers.filter((x) => x === "b")).toEqual([]);
    expect(answers.filter((x) => x === "a").length + answers.filter((x) => x === "c").length).toBe(12);
    expect(balancer.counts().get(backendName(b))).toBeUndefined();

    // The instance restarts on the same port: add() puts it back at once, though it is still marked down.
    const restarted = createServer((_req, res) => res.end("b"));
    servers.push(restarted);
    restarted.listen(b.port, b.host);
    await once(restarted, "listening");
    balancer.add(b);
    const after: string[] = [];
    for (let i = 0; i < 3; i++) after.push(await fetchOnce(balancer.url));
    expect(after.sort()).toEqual(["a", "b", "c"]);

    expect(balancer.remove(a)).toBe(true);
    expect(balancer.remove(a)).toBe(false);
    for (let i = 0; i < 4; i++) expect(await fetchOnce(balancer.url)).not.toBe("a");
    expect(balancer.counts().get(backendName(c))).toBeGreaterThan(0);
  });

  it("drops the client when every backend is dead", async () => {
    const list = await backends("a");
    balancer = await Balancer.start({ backends: list });
    await stopServer(servers[0] as Server);
    await expect(fetchOnce(balancer.url)).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it("refuses connections beyond its cap", async () => {
    const list = await backends("a");
    balancer = await Balancer.start({ backends: list, maxConnections: 2 });
    const port = balancer.port;
    const open = async () => {
      const socket = connect(port, "127.0.0.1");
      await once(socket, "connect");
      return socket;
    };
    const kept = [await open(), await open()];
    await expect.poll(() => balancer?.openConnections()).toBe(2);
    const third = await open();
    // The server closes the third connection at once, so it reads its end without a byte.
    await once(third, "close");
    expect(third.bytesRead).toBe(0);
    expect(balancer.openConnections()).toBe(2);
    for (const socket of kept) socket.destroy();
  });

  it("closes cleanly: open connections ended, the port released", async () => {
    const list = await backends("a");
    balancer = await Balancer.start({ backends: list });
    const { port, url } = balancer;
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await once(socket, "data");
    const closed = once(socket, "close");
    await balancer.close();
    balancer = undefined;
    await closed;
    await expect(fetchOnce(url)).rejects.toThrow(/ECONNREFUSED/);
    const backendConnections = await new Promise<number>((resolve, reject) =>
      (servers[0] as Server).getConnections((err, n) => (err ? reject(err) : resolve(n))),
    );
    expect(backendConnections).toBe(0);
  });

  it("reads host:port backends", () => {
    expect(parseBackend("127.0.0.1:8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseBackend("[::1]:9")).toEqual({ host: "::1", port: 9 });
    expect(() => parseBackend("localhost")).toThrow("not a host:port backend");
    expect(() => parseBackend("h:70000")).toThrow("not a host:port backend");
  });
});
