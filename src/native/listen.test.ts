import { fstatSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort } from "../control/lanes.js";
import { listenReusePort, nativeStatus } from "./index.js";

// The addon's SO_REUSEPORT listener, which lets the node:http front serve one port from every lane.

/** Adopts a listening descriptor the way the node:http front does. */
function adopt(fd: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.end("hi"));
    server.once("error", reject);
    server.listen({ fd }, () => resolve(server));
  });
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

function greeting(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
    });
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

describe("listenReusePort", () => {
  it("is there whenever the addon is loaded on Linux, and when CI expects the addon", () => {
    if (process.env.SWITCHYARD_EXPECT_NATIVE === "1") expect(listenReusePort).toBeTypeOf("function");
    expect(listenReusePort !== undefined).toBe(nativeStatus.loaded && process.platform === "linux");
  });

  // Without the addon the test above has checked that the export is absent; there is nothing to open.
  const listen = listenReusePort;
  if (listen !== undefined) {
    it("returns a listening socket's descriptor, closed with the server that adopts it", async () => {
      const port = await freePort("127.0.0.1");
      const fd = listen("127.0.0.1", port, 511);
      expect(Number.isInteger(fd) && fd > 2).toBe(true);
      expect(fstatSync(fd).isSocket()).toBe(true);
      const server = await adopt(fd);
      expect(server.address()).toMatchObject({ address: "127.0.0.1", port });
      expect(await greeting("127.0.0.1", port)).toBe("hi");
      await close(server);
      expect(() => fstatSync(fd)).toThrow(/EBADF/);
    });

    it.each([
      ["127.0.0.1", "127.0.0.1"],
      ["::1", "::1"],
      ["0.0.0.0", "127.0.0.1"],
      ["::", "127.0.0.1"],
    ])("lets two sockets on %s share one port", async (host, client) => {
      const port = await freePort(host);
      const a = await adopt(listen(host, port, 511));
      const b = await adopt(listen(host, port, 511));
      expect(b.address()).toMatchObject({ port });
      expect(await greeting(client, port)).toBe("hi");
      await close(a);
      // The group survives one member: the other socket still takes connections.
      expect(await greeting(client, port)).toBe("hi");
      await close(b);
    });

    it("refuses a port held by a socket without SO_REUSEPORT, a host name and a port out of range", async () => {
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
      const address = holder.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      expect(() => listen("127.0.0.1", port, 511)).toThrow(/bind 127\.0\.0\.1:\d+: .*in use/i);
      await close(holder);
      expect(() => listen("localhost", 0, 511)).toThrow(/localhost is not an IP address/);
      expect(() => listen("127.0.0.1", 65_536, 511)).toThrow(/port must be below 65536/);
    });
  }
});
