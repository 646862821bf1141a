import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "./errors.js";
import type { GatewayConfig } from "./types.js";
import { type ConfigWatcher, watchConfig } from "./watch.js";

const env = { GROQ_API_KEY: "gk", OPENAI_API_KEY: "ok" };
const withProvider = (name: "groq" | "openai", timeout = 30) =>
  JSON.stringify({
    providers: {
      [name]: {
        keys: [{ name: "k", value: `env.${name.toUpperCase()}_API_KEY`, models: ["*"] }],
        network_config: { default_request_timeout_in_seconds: timeout },
      },
    },
  });

let dir: string;
let file: string;
let watcher: ConfigWatcher | undefined;
let changes: GatewayConfig[];
let errors: Error[];

function start(): void {
  watcher = watchConfig(
    file,
    env,
    (config) => changes.push(config),
    (err) => errors.push(err),
  );
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "switchyard-watch-"));
  file = join(dir, "config.json");
  writeFileSync(file, withProvider("groq"));
  changes = [];
  errors = [];
});

afterEach(() => {
  watcher?.close();
  watcher = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe("watchConfig", () => {
  it("applies a valid edit", async () => {
    start();
    writeFileSync(file, withProvider("openai"));
    await until(() => changes.length === 1, "the reload");
    expect(Object.keys(changes[0]?.providers ?? {})).toEqual(["openai"]);
    expect(changes[0]?.source).toBe(file);
    expect(errors).toEqual([]);
  });

  it("rejects an invalid edit with the reason, then applies the next valid one", async () => {
    start();
    writeFileSync(file, '{ "providers": { "groq": ');
    await until(() => errors.length === 1, "the rejection");
    expect(errors[0]).toBeInstanceOf(ConfigError);
    expect((errors[0] as ConfigError).problems[0]).toMatch(/^malformed JSON at line 1/);
    expect(changes).toEqual([]);

    writeFileSync(file, JSON.stringify({ providers: { groq: { keys: [{ value: "env.UNSET_VAR" }] } } }));
    await until(() => errors.length === 2, "the second rejection");
    expect((errors[1] as ConfigError).problems).toEqual([
      "providers.groq.keys[0].value: environment variable UNSET_VAR is not set",
    ]);
    expect(changes).toEqual([]);

    writeFileSync(file, withProvider("groq", 45));
    await until(() => changes.length === 1, "the valid reload");
    expect(changes[0]?.providers.groq?.network.requestTimeoutMs).toBe(45_000);
  });

  it("picks up an editor's atomic save (write elsewhere, rename over)", async () => {
    start();
    const tmp = join(dir, ".config.json.swp");
    writeFileSync(tmp, withProvider("openai"));
    renameSync(tmp, file);
    await until(() => changes.length === 1, "the reload after rename");
    expect(Object.keys(changes[0]?.providers ?? {})).toEqual(["openai"]);

    // The watch survives the replacement: a second atomic save is seen too.
    writeFileSync(tmp, withProvider("openai", 60));
    renameSync(tmp, file);
    await until(() => changes.length === 2, "the second reload");
    expect(changes[1]?.providers.openai?.network.requestTimeoutMs).toBe(60_000);
  });

  it("follows a Kubernetes ConfigMap update (the ..data symlink is swapped)", async () => {
    rmSync(file);
    mkdirSync(join(dir, "..v1"));
    writeFileSync(join(dir, "..v1", "config.json"), withProvider("groq"));
    symlinkSync("..v1", join(dir, "..data"));
    symlinkSync(join("..data", "config.json"), file);
    start();

    mkdirSync(join(dir, "..v2"));
    writeFileSync(join(dir, "..v2", "config.json"), withProvider("openai"));
    symlinkSync("..v2", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    await until(() => changes.length === 1, "the reload after the symlink swap");
    expect(Object.keys(changes[0]?.providers ?? {})).toEqual(["openai"]);
  });

  it("reloads a burst of writes once, with the last content", async () => {
    start();
    writeFileSync(file, withProvider("groq", 11));
    writeFileSync(file, withProvider("groq", 12));
    writeFileSync(file, withProvider("groq", 13));
    await until(() => changes.length >= 1, "the reload");
    await quiet(300);
    expect(changes).toHaveLength(1);
    expect(changes[0]?.providers.groq?.network.requestTimeoutMs).toBe(13_000);
  });

  it("reloads nothing when the content is unchanged: a touch, a rewrite, a neighbouring file", async () => {
    start();
    writeFileSync(join(dir, "other.json"), "not json");
    const now = new Date();
    utimesSync(file, now, now);
    writeFileSync(file, withProvider("groq"));
    await quiet(400);
    expect(changes).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("reloads when a plugin module the configuration names is edited, so it is loaded afresh", async () => {
    mkdirSync(join(dir, "plugins"));
    const plugin = join(dir, "plugins", "audit.mjs");
    writeFileSync(plugin, 'export default () => ({ name: "audit" });');
    const config = JSON.parse(withProvider("groq"));
    config.plugins = [{ enabled: true, name: "audit", path: "plugins/audit.mjs" }];
    writeFileSync(file, JSON.stringify(config));
    start();
    writeFileSync(plugin, 'export default () => ({ name: "audit2" });');
    await until(() => changes.length === 1, "the reload after the plugin's edit");
    expect(changes[0]?.plugins?.[0]?.path).toBe("plugins/audit.mjs");
    expect(errors).toEqual([]);
  });

  it("stops after close", async () => {
    start();
    watcher?.close();
    writeFileSync(file, withProvider("openai"));
    await quiet(400);
    expect(changes).toEqual([]);
    expect(errors).toEqual([]);
  });
});
