import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// A real Redis for tests: the one SWITCHYARD_TEST_REDIS_URL names, or a throwaway redis-server (Debian's
// redis-server package) on a free port, in memory only (no RDB snapshots, no AOF), in a temporary directory.
// stop() ends it for good; takeDown() and bringUp() stop and start it again on the same port (empty), for
// tests of a Redis that goes away.

export interface TestRedis {
  readonly url: string;
  stop(): Promise<void>;
  /** Stops the server, keeping its port and directory for bringUp() (only for a throwaway server). */
  takeDown(): Promise<void>;
  /** Starts the server takeDown() stopped, empty, on the same port. */
  bringUp(): Promise<void>;
}

const MISSING =
  "Redis tests need a server: install Debian's redis-server (apt-get install redis-server) or set SWITCHYARD_TEST_REDIS_URL";

/** `throwaway`: always a server of the test's own, which it may take down (SWITCHYARD_TEST_REDIS_URL ignored). */
export async function startTestRedis(options: { throwaway?: boolean } = {}): Promise<TestRedis> {
  const url = process.env.SWITCHYARD_TEST_REDIS_URL;
  if (url !== undefined && url !== "" && options.throwaway !== true)
    return { url, stop: async () => {}, takeDown: notThrowaway, bringUp: notThrowaway };
  return startRedisServer();
}

export interface RedisServerOptions {
  /** Written to `redis.conf` in the server's directory and passed first (Sentinel needs a file it can rewrite). */
  readonly config?: string;
  /** More command-line arguments, such as `--sentinel` or `--cluster-enabled yes`. */
  readonly args?: readonly string[];
  /** The line that says the server is ready (Sentinel never says it accepts connections). */
  readonly readyWhen?: string;
}

export interface RedisServer extends TestRedis {
  readonly port: number;
  readonly dir: string;
}

/** A throwaway redis-server on a free port in a directory of its own; bringUp() keeps that directory's files. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "sy-redis-"));
  const port = await freePort();
  const args = [
    ...(options.config === undefined ? [] : [join(dir, "redis.conf")]),
    ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"],
    ...(options.args ?? []),
  ];
  if (options.config !== undefined) writeFileSync(join(dir, "redis.conf"), options.config);
  const start = () => startServer(args, options.readyWhen ?? "Ready to accept connections");
  let server: ChildProcess | undefined = await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async stop() {
      if (server !== undefined) await stopServer(server);
      server = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
    async takeDown() {
      if (server !== undefined) await stopServer(server);
      server = undefined;
    },
    async bringUp() {
      server ??= await start();
    },
  };
}

async function notThrowaway(): Promise<void> {
  throw new Error("a server named by SWITCHYARD_TEST_REDIS_URL is not stopped and started by tests");
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** A redis-server started with `args`, once it prints `readyWhen`. */
function startServer(args: string[], readyWhen: string): Promise<ChildProcess> {
  const server = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (data: Buffer) => {
      output += data.toString();
      if (output.includes(readyWhen)) {
        server.stdout?.off("data", onData);
        server.stdout?.resume();
        resolve(server);
      }
    };
    server.stdout?.on("data", onData);
    server.stderr?.on("data", (data: Buffer) => {
      output += data.toString();
    });
    server.on("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "ENOENT" ? new Error(MISSING) : error),
    );
    server.on("exit", (code) =>
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output.slice(-2000)}`)),
    );
  });
}

function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    server.once("exit", () => resolve());
    server.kill("SIGTERM");
  });
}
