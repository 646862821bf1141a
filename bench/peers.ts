/**
 * Peers measured beside Switchyard when they are present: Bifrost from a binary built outside the project
 * (BIFROST_BIN) and the LiteLLM proxy from PyPI in a virtual environment under bench/.peers/. Neither is
 * ever part of the project; only their configuration is written here.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Child,
  freePort,
  MOCK_KEY,
  probeChat,
  root,
  startChild,
  type Target,
  waitFor,
} from "./targets.js";

/** Why Bifrost cannot be measured in this environment, or undefined when its binary is there. */
export function bifrostSkipReason(env: NodeJS.ProcessEnv): string | undefined {
  const bin = env.BIFROST_BIN;
  if (bin === undefined || bin === "") return "skipped: BIFROST_BIN not set (see bench/README.md)";
  if (!existsSync(bin)) return `skipped: BIFROST_BIN=${bin} does not exist`;
  return undefined;
}

/**
 * Bifrost's config.json for the mock at `mockUrl`, with Switchyard's limits: logging and governance off,
 * 20,000 concurrent upstream requests, no retries.
 */
export function bifrostConfig(mockUrl: string): Record<string, unknown> {
  return {
    client: {
      drop_excess_requests: false,
      initial_pool_size: 5000,
      prometheus_labels: [],
      enable_logging: false,
      enable_governance: false,
      enforce_governance_header: false,
      allow_direct_keys: false,
      max_request_body_size_mb: 100,
      enable_litellm_fallbacks: false,
    },
    // It fetches this sheet at start-up and crashes without it; the mock serves an empty one.
    framework: { pricing: { pricing_url: `${mockUrl}/datasheet`, pricing_sync_interval: 86_400 } },
    providers: {
      openai: {
        keys: [{ name: "mock", value: MOCK_KEY, models: [], weight: 1 }],
        network_config: { base_url: mockUrl, default_request_timeout_in_seconds: 60, max_retries: 0 },
        concurrency_and_buffer_size: { concurrency: 20_000, buffer_size: 40_000 },
        send_back_raw_response: false,
      },
    },
  };
}

export async function startBifrost(mockUrl: string): Promise<{ child: Child; target: Target }> {
  const skip = bifrostSkipReason(process.env);
  if (skip !== undefined) throw new Error(skip);
  const appDir = mkdtempSync(join(tmpdir(), "bifrost-bench-"));
  writeFileSync(join(appDir, "config.json"), JSON.stringify(bifrostConfig(mockUrl), null, 2));
  const port = await freePort();
  const child = startChild(
    "bifrost",
    ["-app-dir", appDir, "-host", "127.0.0.1", "-port", String(port), "-log-level", "error"],
    {},
    process.env.BIFROST_BIN as string,
  );
  const target: Target = {
    name: "bifrost",
    origin: `http://127.0.0.1:${port}`,
    path: "/v1/chat/completions",
    // Bifrost uses its configured key (allow_direct_keys is off); the header keeps every request the same size.
    headers: { "content-type": "application/json", authorization: `Bearer ${MOCK_KEY}` },
    model: "openai/gpt-4o-mini",
    pid: child.pid,
  };
  try {
    await waitFor("bifrost", child, async () => (await probeChat(target)).status === 200);
    return { child, target };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

export const LITELLM_VERSION = "1.108.7";
export const litellmVenv = `${root}bench/.peers/litellm-venv`;

/** Why LiteLLM is not measured: its install takes minutes, so it runs only when asked for. */
export function litellmSkipReason(env: NodeJS.ProcessEnv, named: boolean): string | undefined {
  if (named || env.BENCH_LITELLM === "1") return undefined;
  return "skipped: not asked for (--targets ...,litellm or BENCH_LITELLM=1; installs litellm into bench/.peers)";
}

/** LiteLLM's config.yaml: one model at the mock, and no master key (it refuses to start otherwise). */
export function litellmConfig(mockUrl: string): string {
  return [
    "model_list:",
    "  - model_name: gpt-4o-mini",
    "    litellm_params:",
    "      model: openai/gpt-4o-mini",
    `      api_base: ${mockUrl}/v1`,
    `      api_key: ${MOCK_KEY}`,
    "general_settings:",
    "  dangerously_permit_weak_or_unset_master_key: true",
    "",
  ].join("\n");
}

/** Without these it fetches cost maps and header lists from the internet at start-up. */
export const LITELLM_ENV = {
  LITELLM_LOCAL_MODEL_COST_MAP: "True",
  LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS: "True",
  LITELLM_LOG: "ERROR",
} as const;

function run(command: string, args: string[], log: (msg: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString("utf8")).slice(-2000);
    };
    proc.stdout.on("data", keep);
    proc.stderr.on("data", keep);
    proc.once("error", reject);
    proc.once("exit", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")} exited (${code}): ${tail}`));
    });
    log(`${command} ${args.join(" ")}`);
  });
}

async function ensureLitellm(log: (msg: string) => void): Promise<string> {
  const bin = `${litellmVenv}/bin/litellm`;
  if (existsSync(bin)) return bin;
  mkdirSync(litellmVenv, { recursive: true });
  log(`installing litellm[proxy]==${LITELLM_VERSION} into ${litellmVenv} (takes minutes, once)`);
  await run("python3", ["-m", "venv", litellmVenv], log);
  await run(`${litellmVenv}/bin/pip`, ["install", "--quiet", `litellm[proxy]==${LITELLM_VERSION}`], log);
  return bin;
}

export async function startLitellm(
  mockUrl: string,
  workers: 1 | 2,
  log: (msg: string) => void,
): Promise<{ child: Child; target: Target }> {
  const bin = await ensureLitellm(log);
  const configPath = join(mkdtempSync(join(tmpdir(), "litellm-bench-")), "config.yaml");
  writeFileSync(configPath, litellmConfig(mockUrl));
  const port = await freePort();
  const name = workers === 1 ? "litellm" : "litellm-2w";
  const child = startChild(
    name,
    ["--config", configPath, "--host", "127.0.0.1", "--port", String(port), "--num_workers", String(workers)],
    LITELLM_ENV,
    bin,
  );
  const target: Target = {
    name,
    origin: `http://127.0.0.1:${port}`,
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", authorization: `Bearer ${MOCK_KEY}` },
    model: "gpt-4o-mini",
    pid: child.pid,
  };
  try {
    await waitFor(name, child, async () => (await probeChat(target)).status === 200, 120_000);
    // Its first requests are slow (about 0.6 s); they belong to start-up, not to any scenario. Several at
    // once, so that every worker gets some.
    for (let i = 0; i < 10; i++) await Promise.all([probeChat(target), probeChat(target)]);
    return { child, target };
  } catch (err) {
    await child.stop();
    throw err;
  }
}
