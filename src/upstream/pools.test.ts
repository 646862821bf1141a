import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Dispatcher } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstreamPool } from "./pools.js";

// A pool keeps one connection per concurrent request and reuses free ones, for the handler API the
// relays use and for undici's request() API alike.

let server: Server;
let origin: string;
let sockets = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    setTimeout(() => res.end(`ok ${req.url}`), 20);
  });
  server.on("connection", () => sockets++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function get(pool: UpstreamPool, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const handler: Dispatcher.DispatchHandler = {
      onResponseData: (_controller, chunk) => {
        chunks.push(chunk);
      },
      onResponseStart: () => {},
      onResponseEnd: () => resolve(Buffer.concat(chunks).toString()),
      onResponseError: (_controller, error) => reject(error),
    };
    pool.dispatch({ path, method: "GET" }, handler);
  });
}

describe("UpstreamPool", () => {
  it("opens one connection per concurrent request and reuses them afterwards", async () => {
    const pool = new UpstreamPool(origin, { pipelining: 1 });
    const before = sockets;
    const first = await Promise.all(Array.from({ length: 20 }, (_, i) => get(pool, `/a${i}`)));
    expect(first).toEqual(Array.from({ length: 20 }, (_, i) => `ok /a${i}`));
    expect(pool.connections).toBe(20);
    for (let round = 0; round < 3; round++)
      await Promise.all(Array.from({ length: 20 }, () => get(pool, "/b")));
    expect(pool.connections).toBe(20);
    expect(sockets - before).toBe(20);
    await pool.close();
  });

  it("serves undici's request() API", async () => {
    const pool = new UpstreamPool(origin, { pipelining: 1 });
    const response = await pool.request({ path: "/c", method: "GET" });
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe("ok /c");
    await pool.close();
  });
});
