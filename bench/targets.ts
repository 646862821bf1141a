/** Child processes under test: the mock provider, Switchyard and the Portkey gateway (other peers: peers.ts). */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import WebSocket from "ws";
import type { TargetName } from "./args.js";

// This file runs built (dist/bench/) for the benchmark and from source (bench/) in tests.
export const root = fileURLToPath(
  new URL(import.meta.url.includes("/dist/bench/") ? "../.." : "..", import.meta.url),
);
export const paths = {
  mock: `${root}dist/bench/mock/openai-mock.js`,
  // scripts/write-entry.mjs writes dist/server.js even before src/server.ts exists; the real entry is this one.
  switchyardImpl: `${root}dist/src/server.js`,
  switchyard: `${root}dist/server.js`,
  benchPlugin: `${root}dist/bench/plugins/reply-meter.js`,
  balancer: `${root}dist/bench/lb.js`,
  portkey: `${root}node_modules/@portkey-ai/gateway/build/start-server.js`,
};

export const MOCK_KEY = "mock-key";

export interface Child {
  name: string;
  pid: number;
  proc: ChildProcess;
  /** Last lines of stdout and stderr, for diagnostics. */
  log(): string;
  stop(): Promise<void>;
}

export interface Target {
  name: TargetName;
  origin: string;
  path: string;
  headers: Record<string, string>;
  model: string;
  /** Process whose CPU and RSS are reported. */
  pid: number;
  /** Further processes whose CPU and RSS count with pid's (the gateways behind a balancer, their Redis). */
  extraPids?: readonly number[];
  metricsUrl?: string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** `command` is Node unless given (a peer's own binary). */
export function startChild(
  name: string,
  args: string[],
  env: Record<string, string> = {},
  command = process.execPath,
): Child {
  const proc = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let tail = "";
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString("utf8")).slice(-4000);
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  return {
    name,
    pid: proc.pid as number,
    proc,
    log: () => tail,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function waitFor(what: string, child: Child, probe: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null)
      throw new Error(`${what} exited (${child.proc.exitCode}): ${child.log()}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms: ${child.log()}`);
}

/** `args` come after the defaults, so they override them (e.g. `["--latency", "200", "--fail-rate", "0.1"]`). */
export async function startMock(args: string[] = [], name = "mock"): Promise<{ child: Child; url: string }> {
  const child = startChild(name, [
    paths.mock,
    "--port",
    "0",
    "--latency",
    "0",
    "--response-bytes",
    "1400",
    ...args,
  ]);
  return { child, url: await printedUrl(child) };
}

/** The URL a child prints on a line of its own once it listens (the mock, the balancer). */
export function printedUrl(child: Child): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${child.name} did not start: ${child.log()}`)), 15_000);
    child.proc.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const line = /^(http:\/\/\S+)\s*$/m.exec(out);
      if (line?.[1]) {
        clearTimeout(timer);
        resolve(line[1]);
      }
    });
    child.proc.once("exit", (code) => reject(new Error(`${child.name} exited (${code}): ${child.log()}`)));
  });
}

export async function configureMock(mockUrl: string, config: Record<string, number>): Promise<void> {
  const res = await request(`${mockUrl}/__mock/config`, { method: "POST", body: JSON.stringify(config) });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`mock config failed: ${res.statusCode}`);
}

export function chatBody(model: string, stream: boolean): string {
  // Bifrost's benchmark request is about 0.13 KB; pad the prompt so every target gets the same size.
  const base = { model, messages: [{ role: "user", content: "" }] } as Record<string, unknown>;
  if (stream) {
    base.stream = true;
    base.stream_options = { include_usage: true };
  }
  const empty = JSON.stringify(base).length;
  const pad = "Hello, how are you today? Please answer briefly. "
    .repeat(4)
    .slice(0, Math.max(8, 130 - empty));
  (base.messages as { content: string }[])[0] = { role: "user", content: pad } as never;
  return JSON.stringify(base);
}

export async function probeChat(t: Omit<Target, "pid">): Promise<{ status: number; body: string }> {
  const res = await request(`${t.origin}${t.path}`, {
    method: "POST",
    headers: t.headers,
    body: chatBody(t.model, false),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return { status: res.statusCode, body: (await res.body.text()).slice(0, 300) };
}

export function directTarget(mockUrl: string, mockPid: number): Target {
  return {
    name: "direct",
    origin: mockUrl,
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", authorization: `Bearer ${MOCK_KEY}` },
    model: "gpt-4o-mini",
    pid: mockPid,
  };
}

/**
 * Switchyard from a configuration file (Bifrost config.json or LiteLLM config.yaml) with `env` as the
 * environment's additions, ready when `GET /health` answers 200.
 */
export function startSwitchyardWith(
  configPath: string,
  env: Record<string, string>,
): Promise<{ child: Child; origin: string }> {
  return startSwitchyardEnv(env, ["--config", configPath]);
}

/** Switchyard with `args` and `env` as the environment's additions, ready when `GET /health` answers 200. */
export async function startSwitchyardEnv(
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<{ child: Child; origin: string }> {
  if (!existsSync(paths.switchyardImpl)) {
    throw new Error(`skipped: ${paths.switchyardImpl} does not exist (run npm run build)`);
  }
  const port = await freePort();
  const child = startChild(
    "switchyard",
    [paths.switchyard, "--host", "127.0.0.1", "--port", String(port), ...args],
    env,
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitUntilHealthy(child, origin);
  return { child, origin };
}

async function waitUntilHealthy(child: Child, origin: string): Promise<void> {
  try {
    await waitFor("switchyard", child, async () => {
      const res = await request(`${origin}/health`);
      await res.body.dump();
      return res.statusCode === 200;
    });
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/**
 * How the `switchyard` targets differ: `plain` has no key and no plugin; `hooks` has the pipeline's hook
 * points all in use, the master key (authenticate) and a plugin that sees every request and every byte of
 * every reply (bench/plugins); `governed` has a virtual key with a request, token and parallel limit and a
 * daily budget, all too large to refuse anything, so its rows show what identifying the key, reserving,
 * settling and recording spend cost; `logged` writes every request's record, content included, to the request
 * log in SQLite, as the gateway does by default (the others run with the log off, as the peers do);
 * `logged-meta` is `logged` with content logging off: every record without its input and output;
 * `watched` is `logged` with the admin key set and a client watching the live tail (/api/logs/live) all
 * along, as the web UI's Logs page does.
 */
export type SwitchyardVariant = "plain" | "hooks" | "governed" | "logged" | "logged-meta" | "watched";

const VARIANT_TARGET: Record<SwitchyardVariant, TargetName> = {
  plain: "switchyard",
  hooks: "switchyard-hooks",
  governed: "switchyard-governed",
  logged: "switchyard-logged",
  "logged-meta": "switchyard-logged-meta",
  watched: "switchyard-watched",
};

/** The governed target's admin key: it only makes the virtual key, the load never sends it. */
const GOVERNED_ADMIN_KEY = "sk-bench-admin";

/** The governed target's virtual key: every limit on, none that a run of this bench can reach. */
export const GOVERNED_KEY_FIELDS = {
  name: "bench",
  limits: { requests: 100_000_000, tokens: 100_000_000_000, parallel: 100_000 },
  budgets: [{ max_budget: 1_000_000, budget_duration: "1d" }],
} as const;

/** POSTs `body` to the management API with the governed target's admin key; answers the reply's text. */
async function postAdmin(origin: string, path: string, body: unknown, status: number): Promise<string> {
  const res = await request(`${origin}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${GOVERNED_ADMIN_KEY}` },
    body: JSON.stringify(body),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await res.body.text();
  if (res.statusCode !== status)
    throw new Error(`creating the virtual key answered ${res.statusCode}: ${text}`);
  return text;
}

/** Makes the governed target's virtual key through the management API; answers its secret. */
async function createVirtualKey(origin: string): Promise<string> {
  const key = (
    JSON.parse(await postAdmin(origin, "/api/keys", GOVERNED_KEY_FIELDS, 201)) as { key?: unknown }
  ).key;
  if (typeof key !== "string" || !key.startsWith("sk-sy-")) throw new Error("no virtual key in the answer");
  return key;
}

/**
 * Makes the governed key with a secret of the caller's, through LiteLLM's /key/generate (the one route that
 * takes a secret), so that instances with stores of their own all know the same key.
 */
async function importVirtualKey(origin: string, secret: string): Promise<string> {
  const { name, limits, budgets } = GOVERNED_KEY_FIELDS;
  const [budget] = budgets;
  await postAdmin(
    origin,
    "/key/generate",
    {
      key: secret,
      key_alias: name,
      // A minute's window, as /api/keys gives when it names none.
      rpm_limit: limits.requests,
      tpm_limit: limits.tokens,
      max_parallel_requests: limits.parallel,
      max_budget: budget.max_budget,
      budget_duration: budget.budget_duration,
    },
    200,
  );
  return secret;
}

/** What the cluster targets (bench/cluster-targets.ts) add to a governed Switchyard. */
export interface SwitchyardExtras {
  /** The target's name, in place of the variant's. */
  readonly name?: TargetName;
  readonly env?: Readonly<Record<string, string>>;
  readonly args?: readonly string[];
  /** The governed key's secret, shared by instances behind one balancer; absent, the gateway makes one. */
  readonly keySecret?: string;
}

/** Switchyard in front of the mock, as `variant` says. */
export async function startSwitchyard(
  mockUrl: string,
  variant: SwitchyardVariant,
  extras: SwitchyardExtras = {},
): Promise<{ child: Child; target: Target }> {
  if (!existsSync(paths.switchyardImpl)) {
    throw new Error(
      `skipped: ${paths.switchyardImpl} does not exist (run npm run build once src/server.ts exists)`,
    );
  }
  const port = await freePort();
  // Bifrost's default concurrency (1,000 upstream requests per provider) would queue the in-flight scenario's
  // ~7,500 requests by design; like Bifrost's published runs, the gateway is configured for the load.
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-"));
  const configPath = join(dir, "config.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      providers: {
        openai: {
          keys: [{ name: "bench", value: "env.OPENAI_API_KEY", models: ["*"], weight: 1 }],
          network_config: { base_url: mockUrl, default_request_timeout_in_seconds: 30 },
          concurrency_and_buffer_size: { concurrency: 20_000, buffer_size: 20_000 },
        },
      },
      client: {
        enable_logging: variant === "logged" || variant === "logged-meta" || variant === "watched",
        disable_content_logging: variant === "logged-meta",
      },
      ...(variant === "hooks"
        ? { plugins: [{ enabled: true, name: "reply-meter", path: paths.benchPlugin, config: {} }] }
        : {}),
    }),
  );
  const name = extras.name ?? VARIANT_TARGET[variant];
  const env: Record<string, string> = { OPENAI_API_KEY: MOCK_KEY, ...extras.env };
  const args = [paths.switchyard, "--port", String(port), "--config", configPath, ...(extras.args ?? [])];
  // The clients send `Authorization: Bearer mock-key` to every target but the governed one.
  if (variant === "hooks" || variant === "watched") env.SWITCHYARD_API_KEY = MOCK_KEY;
  if (variant === "governed") env.SWITCHYARD_API_KEY = GOVERNED_ADMIN_KEY;
  // The stores (SQLite) where spend and request records are written, as in production.
  if (variant !== "plain" && variant !== "hooks") args.push("--app-dir", join(dir, "app"));
  const started = startChild(name, args, env);
  let watcher: LiveTailWatcher | undefined;
  // The stores take a record per request: they go with the process.
  const child: Child = {
    ...started,
    stop: async () => {
      if (watcher !== undefined) {
        // The proof that the tail was live all along: it was sent the records of the run.
        process.stderr.write(
          `[bench] ${name}: the live tail watcher was sent ${watcher.records()} records\n`,
        );
        watcher.close();
      }
      await started.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitFor("switchyard", child, async () => {
      const res = await request(`${origin}/health`);
      await res.body.dump();
      return res.statusCode === 200;
    });
    // /health answers once the first lane listens; a key made before the others have started reaches no lane
    // (src/server.ts publishes only once its lanes are all up), so wait for the gateway to say it is ready.
    if (variant === "governed")
      await waitFor("switchyard", child, async () => child.log().includes("] ready\n"));
    const bearer =
      variant !== "governed"
        ? MOCK_KEY
        : extras.keySecret === undefined
          ? await createVirtualKey(origin)
          : await importVirtualKey(origin, extras.keySecret);
    if (variant === "watched") watcher = await watchLiveTail(origin, MOCK_KEY);
    const base = {
      name,
      origin,
      path: "/v1/chat/completions",
      headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
    };
    let last = { status: 0, body: "" };
    for (const model of ["gpt-4o-mini", "openai/gpt-4o-mini"]) {
      last = await probeChat({ ...base, model });
      if (last.status === 200) {
        return { child, target: { ...base, model, pid: child.pid, metricsUrl: `${origin}/metrics` } };
      }
    }
    throw new Error(`switchyard answered ${last.status} to a chat request: ${last.body}`);
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** A client of the live tail, as the web UI's Logs page keeps one open; it counts the records it is sent. */
export interface LiveTailWatcher {
  readonly records: () => number;
  close(): void;
}

export function watchLiveTail(origin: string, adminKey: string): Promise<LiveTailWatcher> {
  const socket = new WebSocket(`${origin.replace(/^http/, "ws")}/api/logs/live`);
  let records = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the live tail did not become ready in 10 s")), 10_000);
    socket.on("open", () => socket.send(JSON.stringify({ type: "auth", key: adminKey })));
    socket.on("error", reject);
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as { type: string; logs?: unknown[] };
      if (message.type === "ready") {
        clearTimeout(timer);
        resolve({ records: () => records, close: () => socket.close() });
      }
      records += message.logs?.length ?? 0;
    });
  });
}

export async function startPortkey(mockUrl: string): Promise<{ child: Child; target: Target }> {
  if (!existsSync(paths.portkey)) throw new Error(`skipped: ${paths.portkey} does not exist`);
  const port = await freePort();
  // Portkey binds every interface and has no host flag; the bench only ever talks to it on loopback.
  const child = startChild("portkey", [paths.portkey, `--port=${port}`, "--headless"]);
  const target: Target = {
    name: "portkey",
    origin: `http://127.0.0.1:${port}`,
    path: "/v1/chat/completions",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${MOCK_KEY}`,
      "x-portkey-provider": "openai",
      "x-portkey-custom-host": `${mockUrl}/v1`,
    },
    model: "gpt-4o-mini",
    pid: child.pid,
  };
  try {
    await waitFor("portkey", child, async () => (await probeChat(target)).status === 200);
    return { child, target };
  } catch (err) {
    await child.stop();
    throw err;
  }
}
