import { afterEach, describe, expect, it } from "vitest";
import {
  type Client,
  connect,
  FRONTS,
  get,
  startFront,
  UpgradeRefused,
  waitFor,
} from "../../test/helpers/websocket-fronts.js";
import type { HttpFront } from "./exchange.js";
import type { WebSocketEndpoint, WebSocketPeer } from "./websocket.js";

/** Keeps what the front tells it; answers "echo:<text>" to each message, and `peer.send`s on demand. */
class RecordingEndpoint implements WebSocketEndpoint {
  readonly path = "/ws";
  readonly peers: WebSocketPeer[] = [];
  readonly authorizations: string[] = [];
  readonly messages: string[] = [];
  closes = 0;
  private closeWaiters: Array<() => void> = [];

  open(peer: WebSocketPeer, authorization: string): void {
    this.peers.push(peer);
    this.authorizations.push(authorization);
  }

  message(peer: WebSocketPeer, text: string): void {
    this.messages.push(text);
    peer.send(`echo:${text}`);
  }

  close(): void {
    this.closes++;
    for (const wake of this.closeWaiters.splice(0)) wake();
  }

  /** Resolves once the front has told of `count` closed sockets in all. */
  async closed(count: number): Promise<void> {
    while (this.closes < count) await new Promise<void>((wake) => this.closeWaiters.push(wake));
  }
}

describe.each(FRONTS)("WebSockets on the %s front", (kind) => {
  let front: HttpFront | undefined;
  const clients: Client[] = [];

  afterEach(() => {
    for (const client of clients.splice(0)) client.socket.terminate();
    front?.stopListening();
    front?.closeConnections();
    front = undefined;
  });

  async function serve(endpoint: WebSocketEndpoint, limits = {}): Promise<number> {
    front = await startFront(kind, endpoint, limits);
    return front.port;
  }

  async function open(port: number, path = "/ws", headers: Record<string, string> = {}) {
    const client = await connect(port, path, headers);
    clients.push(client);
    return client;
  }

  it("hands the endpoint the upgrade's Authorization header and each text message", async () => {
    const endpoint = new RecordingEndpoint();
    const port = await serve(endpoint);
    const first = await open(port, "/ws", { authorization: "Bearer sk-1" });
    const second = await open(port, "/ws?since=now");
    first.send("hello");
    second.send("x".repeat(4096));
    expect(await first.receive(1)).toEqual(["echo:hello"]);
    expect(await second.receive(1)).toEqual([`echo:${"x".repeat(4096)}`]);
    expect(endpoint.authorizations).toEqual(["Bearer sk-1", ""]);
  });

  it("closes a socket that sends a message over 4 KiB with 1009, and one that sends binary with 1003", async () => {
    const endpoint = new RecordingEndpoint();
    const port = await serve(endpoint);
    const big = await open(port);
    big.send("x".repeat(4097));
    expect((await big.closed).code).toBe(1009);
    const binary = await open(port);
    binary.send(Buffer.from([1, 2, 3]));
    expect((await binary.closed).code).toBe(1003);
    await endpoint.closed(2);
    expect(endpoint.messages).toEqual([]);
  });

  it("sends the endpoint's close code and reason", async () => {
    const endpoint = new RecordingEndpoint();
    const port = await serve(endpoint);
    const client = await open(port);
    endpoint.peers[0]?.close(4401, "unauthorized");
    expect(await client.closed).toEqual({ code: 4401, reason: "unauthorized" });
    await endpoint.closed(1);
    expect(endpoint.peers[0]?.send("late")).toBe(false);
  });

  it("refuses a send that would buffer past the bound for a client that does not read", async () => {
    const endpoint = new RecordingEndpoint();
    const maxBufferedBytes = 64 * 1024;
    const port = await serve(endpoint, { maxBufferedBytes });
    const client = await open(port);
    client.socket.pause();
    client.send("hold");
    const peer = await waitFor(() => (endpoint.messages.length === 1 ? endpoint.peers[0] : undefined));
    const chunk = "y".repeat(16 * 1024);
    let sends = 0;
    // The kernel's socket buffers take the first few megabytes; the bound holds the rest.
    while (peer.send(chunk)) {
      sends++;
      expect(sends).toBeLessThan(4096);
    }
    expect(peer.bufferedBytes).toBeLessThanOrEqual(maxBufferedBytes);
    expect(peer.bufferedBytes).toBeGreaterThan(0);
  });

  it("leaves an upgrade on any other path, or of another protocol, to plain HTTP", async () => {
    const port = await serve(new RecordingEndpoint());
    const refused = await connect(port, "/v1/models").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UpgradeRefused);
    expect(refused).toMatchObject({ status: 200, body: "http GET /v1/models" });
    expect(await get(port, "/ws", {})).toEqual({ status: 200, body: "http GET /ws" });
    const h2c = {
      connection: "Upgrade, HTTP2-Settings",
      upgrade: "h2c",
      "http2-settings": "AAMAAABkAAQAoAAA",
    };
    expect(await get(port, "/ws", h2c)).toEqual({ status: 200, body: "http GET /ws" });
    expect(await get(port, "/v1/models", h2c)).toEqual({ status: 200, body: "http GET /v1/models" });
    expect(await get(port, "/v1/models", { ...h2c, "content-length": "0" })).toEqual({
      status: 200,
      body: "http GET /v1/models",
    });
  });

  it("refuses an upgrade past the socket cap with 503 and takes one again once a socket closes", async () => {
    const endpoint = new RecordingEndpoint();
    const port = await serve(endpoint, { maxSockets: 2 });
    const first = await open(port);
    await open(port);
    const over = await connect(port, "/ws").catch((error: unknown) => error);
    expect(over).toMatchObject({ status: 503 });
    first.socket.close(1000);
    await endpoint.closed(1);
    await open(port);
    expect(endpoint.peers).toHaveLength(3);
  });

  it("closes every socket when the front closes its connections", async () => {
    const endpoint = new RecordingEndpoint();
    const port = await serve(endpoint);
    const sockets = [await open(port), await open(port)];
    const draining = front as HttpFront;
    front = undefined;
    draining.stopListening();
    draining.closeConnections();
    for (const client of sockets) expect((await client.closed).code).toBeGreaterThanOrEqual(1000);
    await endpoint.closed(2);
  });
});

describe("WebSockets on the node front only", () => {
  let front: HttpFront | undefined;

  afterEach(() => {
    front?.stopListening();
    front?.closeConnections();
    front = undefined;
  });

  it("pings its sockets and ends one that stops answering", async () => {
    const endpoint = new RecordingEndpoint();
    front = await startFront("node", endpoint, { idleTimeoutSeconds: 0.2 });
    const answering = await connect(front.port, "/ws");
    const silent = await connect(front.port, "/ws", {}, { autoPong: false });
    let pings = 0;
    // Rounds a tenth of a second apart leave a loaded machine time to answer.
    answering.socket.on("ping", () => pings++);
    expect((await silent.closed).code).toBe(1006);
    await waitFor(() => (pings >= 3 ? true : undefined));
    expect(answering.socket.readyState).toBe(answering.socket.OPEN);
    answering.socket.terminate();
  });

  it("refuses an upgrade with a body on another path, which it could not parse, with 400", async () => {
    front = await startFront("node", new RecordingEndpoint());
    const h2c = { connection: "Upgrade", upgrade: "h2c", "content-type": "application/json" };
    expect(await get(front.port, "/v1/chat/completions", h2c, "{}")).toEqual({ status: 400, body: "" });
  });
});
