import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { listenReusePort } from "../../src/native/index.js";

// Starts the built gateway (`node dist/server.js`) as its own process, as a user would, on a free port.

const ENTRY = fileURLToPath(new URL("../../dist/server.js", import.meta.url));

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves when a line matching `pattern` has been printed. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  readonly process: ChildProcess;
}

/**
 * The lanes a gateway started here runs for `--lanes requested` on the node:http front: every one only when
 * the addon opens SO_REUSEPORT sockets. The gateway loads the addon the test process loaded (startGateway
 * passes SWITCHYARD_NATIVE on).
 */
export const nodeFrontLanes = (requested: number): number => (listenReusePort === undefined ? 1 : requested);

export interface GatewayOptions {
  readonly env?: Record<string, string>;
  readonly args?: readonly string[];
}

export async function startGateway(options: GatewayOptions = {}): Promise<RunningGateway> {
  const child = spawn(
    process.execPath,
    [ENTRY, "--host", "127.0.0.1", "--port", "0", ...(options.args ?? [])],
    {
      // Only what the test gives: the developer's own provider keys must not leak into a test run.
      env: {
        PATH: process.env.PATH ?? "",
        ...(process.env.SWITCHYARD_NATIVE === undefined
          ? {}
          : { SWITCHYARD_NATIVE: process.env.SWITCHYARD_NATIVE }),
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);

  const waitForOutput = (pattern: RegExp, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pattern.test(output)) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`gateway did not print ${pattern} within ${timeoutMs} ms; output:\n${output}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const exited = once(child, "exit");
  await Promise.race([
    // Start-up takes well under a second; the margin is for a CI machine with every core busy.
    waitForOutput(/\[switchyard\] ready\n/, 45_000),
    exited.then(() => {
      throw new Error(`gateway exited during start-up:\n${output}`);
    }),
  ]);
  const port = Number(/listening on http:\/\/[^:]+:(\d+)/.exec(output)?.[1]);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    output: () => output,
    waitForOutput,
    process: child,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
