import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startGateway } from "../helpers/gateway.js";

// Plugins named by a Bifrost config.json, through the real server: one that cannot load stops start-up
// with its reason; on a running gateway an edit naming a broken plugin is refused and the running
// configuration stays, while an edit of a plugin's own module is loaded afresh.

const ENTRY = fileURLToPath(new URL("../../dist/server.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "switchyard-plugins-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const configFile = join(dir, "config.json");
const providers = {
  openai: {
    keys: [{ name: "k", value: "sk-test", models: ["*"] }],
    network_config: { base_url: "http://127.0.0.1:9" },
  },
};
const writeConfig = (plugins: unknown[], client: unknown = {}) =>
  writeFileSync(configFile, JSON.stringify({ providers, client, plugins }));
const entry = (name: string, path: string) => ({ enabled: true, name, path, config: { team: "e2e" } });

describe("a plugin module that cannot load", () => {
  it("stops start-up with a non-zero exit and the reason", () => {
    writeFileSync(
      join(dir, "broken.mjs"),
      `export default () => { throw new Error("needs PLUGIN_TOKEN"); };`,
    );
    writeConfig([entry("broken", "./broken.mjs")]);
    const run = spawnSync(
      process.execPath,
      [ENTRY, "--host", "127.0.0.1", "--port", "0", "--config", configFile],
      {
        env: { PATH: process.env.PATH ?? "" },
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    expect(run.status).toBe(2);
    expect(run.stdout).toContain(
      'could not load the plugins: plugin "broken" module ./broken.mjs: its factory failed: needs PLUGIN_TOKEN',
    );
    expect(run.stdout).not.toContain("listening on");
  });
});

describe("plugins on a running gateway", () => {
  it("names them at start, refuses a reload with a broken one, and reloads an edited module", async () => {
    writeFileSync(join(dir, "audit.mjs"), `export default (options) => ({ name: "audit-" + options.team });`);
    writeFileSync(join(dir, "missing-export.mjs"), "export const nothing = 1;");
    writeConfig([
      entry("audit", "audit.mjs"),
      { enabled: true, name: "header_allowlist", config: { headers: ["x-trace-id"] } },
    ]);
    const gateway = await startGateway({ args: ["--config", configFile, "--lanes", "2"] });
    try {
      expect(gateway.output()).toContain("plugins: audit-e2e, header_allowlist");

      writeConfig([entry("audit", "audit.mjs"), entry("missing", "missing-export.mjs")]);
      await gateway.waitForOutput(
        /config change rejected, keeping the previous one: plugin "missing" module missing-export\.mjs: exports no factory/,
      );
      expect((await fetch(`${gateway.url}/health`)).status).toBe(200);

      writeConfig([entry("audit", "audit.mjs")]);
      await gateway.waitForOutput(/config reloaded[\s\S]*plugins: audit-e2e\n/);
      writeFileSync(
        join(dir, "audit.mjs"),
        `export default (options) => ({ name: "audit-v2-" + options.team });`,
      );
      await gateway.waitForOutput(/plugins: audit-v2-e2e\n/);
      expect(gateway.output()).not.toMatch(/lane \d+ keeps its configuration/);
    } finally {
      await gateway.stop();
    }
  });
});

describe("a plugin that loads on the main thread but fails in the lanes", () => {
  it("leaves each lane on the configuration it has, saying why", async () => {
    writeFileSync(
      join(dir, "lanes-only.mjs"),
      `import { isMainThread } from "node:worker_threads";
       export default () => {
         if (!isMainThread) throw new Error("no database from a lane");
         return { name: "lanes-only" };
       };`,
    );
    writeConfig([]);
    const gateway = await startGateway({ args: ["--config", configFile, "--lanes", "2"] });
    const preflight = () =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: "OPTIONS",
        headers: { origin: "https://app.example.com", "access-control-request-method": "POST" },
      }).then((response) => response.status);
    try {
      expect(await preflight()).toBe(405);
      writeConfig([entry("lanes-only", "lanes-only.mjs")], { allowed_origins: ["https://app.example.com"] });
      await gateway.waitForOutput(
        /lane \d+ keeps its configuration: the new one's plugins did not load: plugin "lanes-only" module lanes-only\.mjs: its factory failed: no database from a lane/,
      );
      for (let i = 0; i < 4; i++) expect(await preflight()).toBe(405);

      writeConfig([], { allowed_origins: ["https://app.example.com"] });
      await gateway.waitForOutput(/config reloaded[\s\S]*config reloaded/);
      await expect.poll(preflight).toBe(204);
    } finally {
      await gateway.stop();
    }
  });
});
