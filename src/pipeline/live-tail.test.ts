import { afterEach, describe, expect, it, vi } from "vitest";
import { type Client, connect, FRONTS, startFront, waitFor } from "../../test/helpers/websocket-fronts.js";
import { MasterKey } from "../hooks/builtin/master-key.js";
import type { HttpFront } from "../http/exchange.js";
import type { WebSocketPeer } from "../http/websocket.js";
import { CLOSE_UNAUTHORIZED, LIVE_TAIL_PATH, LiveTail, type LiveTailOptions } from "./live-tail.js";

const KEY = "sk-admin-0123456789";

/** A peer that keeps what it was sent and how it was closed; `accepts` false plays a client over its bound. */
class FakePeer implements WebSocketPeer {
  readonly sent: unknown[] = [];
  closed: { code: number; reason: string } | undefined;
  accepts = true;
  readonly bufferedBytes = 0;

  send(text: string): boolean {
    if (this.closed !== undefined || !this.accepts) return false;
    this.sent.push(JSON.parse(text));
    return true;
  }

  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
  }
}

function tail(options: Partial<LiveTailOptions> = {}) {
  const counts: number[] = [];
  const hub = new LiveTail({
    adminKey: () => new MasterKey(KEY),
    onListenersChanged: (count) => counts.push(count),
    ...options,
  });
  return { hub, counts };
}

function openWithHeader(hub: LiveTail, authorization = `Bearer ${KEY}`): FakePeer {
  const peer = new FakePeer();
  hub.open(peer, authorization);
  return peer;
}

describe("LiveTail", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("serves /api/logs/live", () => {
    expect(tail().hub.path).toBe(LIVE_TAIL_PATH);
    expect(LIVE_TAIL_PATH).toBe("/api/logs/live");
  });

  it("lets in a peer whose upgrade carried the admin key as a bearer token", () => {
    const { hub, counts } = tail();
    const peer = openWithHeader(hub);
    expect(peer.sent).toEqual([{ type: "ready" }]);
    expect(peer.closed).toBeUndefined();
    expect(hub.listeners).toBe(1);
    expect(counts).toEqual([1]);
  });

  it("lets in a peer whose first message is the admin key", () => {
    const { hub } = tail();
    const peer = new FakePeer();
    hub.open(peer, "");
    expect(peer.sent).toEqual([]);
    expect(hub.listeners).toBe(0);
    hub.message(peer, JSON.stringify({ type: "auth", key: KEY }));
    expect(peer.sent).toEqual([{ type: "ready" }]);
    expect(hub.listeners).toBe(1);
  });

  it("refuses a wrong key, whether in the header, in another scheme or in the first message", () => {
    const { hub, counts } = tail();
    for (const authorization of ["Bearer sk-wrong", `Basic ${KEY}`, KEY]) {
      const peer = openWithHeader(hub, authorization);
      expect(peer.sent).toEqual([{ type: "error", message: expect.stringContaining("admin key") }]);
      expect(peer.closed?.code).toBe(CLOSE_UNAUTHORIZED);
    }
    const peer = new FakePeer();
    hub.open(peer, "");
    hub.message(peer, JSON.stringify({ type: "auth", key: "sk-wrong" }));
    expect(peer.closed?.code).toBe(CLOSE_UNAUTHORIZED);
    expect(hub.listeners).toBe(0);
    expect(counts).toEqual([]);
  });

  it("refuses a peer whose first message is anything but the key", () => {
    const { hub } = tail();
    for (const first of [{ type: "ping" }, { type: "auth" }, { type: "auth", key: 7 }, null, [KEY]]) {
      const peer = new FakePeer();
      hub.open(peer, "");
      hub.message(peer, JSON.stringify(first));
      expect(peer.closed?.code).toBe(CLOSE_UNAUTHORIZED);
    }
  });

  it("refuses a key too long to be one without hashing it", () => {
    const accepts = vi.fn(() => true);
    const { hub } = tail({ adminKey: () => ({ accepts }) as unknown as MasterKey });
    const peer = openWithHeader(hub, `Bearer ${"k".repeat(2000)}`);
    expect(peer.closed?.code).toBe(CLOSE_UNAUTHORIZED);
    expect(accepts).not.toHaveBeenCalled();
  });

  it("refuses a peer that sends no key within the timeout", () => {
    vi.useFakeTimers();
    const { hub } = tail({ authTimeoutMs: 1_000 });
    const peer = new FakePeer();
    hub.open(peer, "");
    vi.advanceTimersByTime(999);
    expect(peer.closed).toBeUndefined();
    vi.advanceTimersByTime(1);
    expect(peer.sent).toEqual([{ type: "error", message: expect.stringContaining("in time") }]);
    expect(peer.closed?.code).toBe(CLOSE_UNAUTHORIZED);
  });

  it("stops the timeout once the peer is in or gone", () => {
    vi.useFakeTimers();
    const { hub } = tail({ authTimeoutMs: 1_000 });
    const inside = new FakePeer();
    const gone = new FakePeer();
    hub.open(inside, "");
    hub.open(gone, "");
    hub.message(inside, JSON.stringify({ type: "auth", key: KEY }));
    hub.close(gone);
    expect(vi.getTimerCount()).toBe(0);
    expect(inside.closed).toBeUndefined();
  });

  it("refuses everyone when no admin key is configured, and follows the key as it changes", () => {
    let key: MasterKey | undefined;
    const { hub } = tail({ adminKey: () => key });
    const before = openWithHeader(hub);
    expect(before.sent).toEqual([{ type: "error", message: expect.stringContaining("needs an admin key") }]);
    expect(before.closed?.code).toBe(CLOSE_UNAUTHORIZED);
    key = new MasterKey("sk-rotated");
    expect(openWithHeader(hub).closed?.code).toBe(CLOSE_UNAUTHORIZED);
    expect(openWithHeader(hub, "Bearer sk-rotated").sent).toEqual([{ type: "ready" }]);
  });

  it("answers a ping after authentication and ignores other messages", () => {
    const { hub } = tail();
    const peer = openWithHeader(hub);
    hub.message(peer, JSON.stringify({ type: "ping" }));
    hub.message(peer, JSON.stringify({ type: "subscribe", to: "everything" }));
    hub.message(peer, "42");
    expect(peer.sent).toEqual([{ type: "ready" }, { type: "pong" }]);
    expect(peer.closed).toBeUndefined();
  });

  it("closes a peer that sends malformed JSON with 1003, before or after authentication", () => {
    const { hub, counts } = tail();
    const waiting = new FakePeer();
    hub.open(waiting, "");
    hub.message(waiting, "{not json");
    expect(waiting.closed?.code).toBe(1003);
    const inside = openWithHeader(hub);
    expect(() => hub.message(inside, "\u0000")).not.toThrow();
    expect(inside.closed?.code).toBe(1003);
    expect(hub.listeners).toBe(0);
    expect(counts).toEqual([1, 0]);
  });

  it("publishes to authenticated peers only", () => {
    const { hub } = tail();
    const inside = openWithHeader(hub);
    const waiting = new FakePeer();
    hub.open(waiting, "");
    const refused = openWithHeader(hub, "Bearer sk-wrong");
    const batch = { type: "logs", logs: [{ id: "req-1" }] };
    hub.publish(JSON.stringify(batch));
    expect(inside.sent).toEqual([{ type: "ready" }, batch]);
    expect(waiting.sent).toEqual([]);
    expect(refused.sent).toHaveLength(1);
  });

  it("closes a peer too slow to take a batch with 1013 and sends it nothing more", () => {
    const { hub, counts } = tail();
    const slow = openWithHeader(hub);
    const quick = openWithHeader(hub);
    slow.accepts = false;
    hub.publish(JSON.stringify({ type: "logs", logs: [] }));
    expect(slow.closed).toEqual({ code: 1013, reason: "too slow" });
    expect(quick.sent).toHaveLength(2);
    expect(hub.listeners).toBe(1);
    expect(counts).toEqual([1, 2, 1]);
    slow.accepts = true;
    hub.publish(JSON.stringify({ type: "logs", logs: [] }));
    expect(slow.sent).toEqual([{ type: "ready" }]);
  });

  it("counts listeners as they come and go, and caps them", () => {
    const { hub, counts } = tail({ maxListeners: 2 });
    const first = openWithHeader(hub);
    openWithHeader(hub);
    const third = openWithHeader(hub);
    expect(third.sent).toEqual([{ type: "error", message: expect.stringContaining("Too many") }]);
    expect(third.closed?.code).toBe(1013);
    hub.close(first);
    hub.close(first);
    expect(hub.listeners).toBe(1);
    expect(counts).toEqual([1, 2, 1]);
    expect(openWithHeader(hub).sent).toEqual([{ type: "ready" }]);
  });
});

describe.each(FRONTS)("the live tail on the %s front", (kind) => {
  let front: HttpFront | undefined;
  const clients: Client[] = [];

  afterEach(() => {
    for (const client of clients.splice(0)) client.socket.terminate();
    front?.stopListening();
    front?.closeConnections();
    front = undefined;
  });

  async function serve(options: Partial<LiveTailOptions> = {}) {
    const served = tail(options);
    front = await startFront(kind, served.hub);
    return { ...served, port: front.port };
  }

  async function open(port: number, headers: Record<string, string> = {}): Promise<Client> {
    const client = await connect(port, LIVE_TAIL_PATH, headers);
    clients.push(client);
    return client;
  }

  it("takes the admin key from the upgrade's Authorization header or from the first message", async () => {
    const { hub, port } = await serve();
    const byHeader = await open(port, { authorization: `Bearer ${KEY}` });
    expect(await byHeader.receive(1)).toEqual([{ type: "ready" }]);
    const byMessage = await open(port);
    byMessage.send(JSON.stringify({ type: "auth", key: KEY }));
    expect(await byMessage.receive(1)).toEqual([{ type: "ready" }]);
    byMessage.send(JSON.stringify({ type: "ping" }));
    expect(await byMessage.receive(2)).toEqual([{ type: "ready" }, { type: "pong" }]);
    expect(hub.listeners).toBe(2);
  });

  it("refuses a wrong key with an error message and 4401", async () => {
    const { port } = await serve();
    const byHeader = await open(port, { authorization: "Bearer sk-wrong" });
    expect(await byHeader.closed).toEqual({ code: CLOSE_UNAUTHORIZED, reason: "unauthorized" });
    expect(byHeader.received).toEqual([{ type: "error", message: expect.any(String) }]);
    const byMessage = await open(port);
    byMessage.send(JSON.stringify({ type: "auth", key: "sk-wrong" }));
    expect((await byMessage.closed).code).toBe(CLOSE_UNAUTHORIZED);
  });

  it("refuses a client that presents no key before the timeout", async () => {
    const { port } = await serve({ authTimeoutMs: 20 });
    const silent = await open(port);
    expect((await silent.closed).code).toBe(CLOSE_UNAUTHORIZED);
    expect(silent.received).toEqual([{ type: "error", message: expect.stringContaining("in time") }]);
  });

  it("publishes to authenticated clients only, and counts them as they leave", async () => {
    const { hub, counts, port } = await serve();
    const inside = await open(port, { authorization: `Bearer ${KEY}` });
    const waiting = await open(port);
    await inside.receive(1);
    const batch = { type: "logs", logs: [{ id: "req-1", status: 200 }] };
    hub.publish(JSON.stringify(batch));
    expect(await inside.receive(2)).toEqual([{ type: "ready" }, batch]);
    // Had the batch gone to the waiting client too, it would have come before its "ready".
    waiting.send(JSON.stringify({ type: "auth", key: KEY }));
    expect(await waiting.receive(1)).toEqual([{ type: "ready" }]);
    inside.socket.close(1000);
    await inside.closed;
    await waitFor(() => (hub.listeners === 1 ? true : undefined));
    expect(counts).toEqual([1, 2, 1]);
  });
});
