import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_CLIENT } from "../config/defaults.js";
import type { GatewayConfig } from "../config/types.js";
import { checkPlugins, pluginCheckedReloads } from "./plugin-check.js";

const dir = mkdtempSync(join(tmpdir(), "switchyard-plugin-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (path: string): GatewayConfig => ({
  providers: {},
  client: DEFAULT_CLIENT,
  source: join(dir, "config.json"),
  plugins: [{ path, options: {}, enabled: true }],
});

writeFileSync(
  join(dir, "slow.mjs"),
  `export default () => new Promise((resolve) => setTimeout(() => resolve({ name: "slow" }), 50));`,
);
writeFileSync(join(dir, "fast.mjs"), `export default () => ({ name: "fast" });`);
writeFileSync(
  join(dir, "closes.mjs"),
  `import { writeFileSync } from "node:fs";
   export default () => ({ name: "closes", close() { writeFileSync(${JSON.stringify(join(dir, "closed.txt"))}, "closed"); } });`,
);

describe("checkPlugins", () => {
  it("loads the plugins, releases them, and gives their names", async () => {
    expect(await checkPlugins({ ...config("closes.mjs"), masterKey: "k" })).toEqual(["master_key", "closes"]);
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(join(dir, "closed.txt"), "utf8")).toBe("closed");
  });

  it("fails with the loader's reason", async () => {
    await expect(checkPlugins(config("absent.mjs"))).rejects.toThrow(
      /plugin module absent\.mjs: cannot read/,
    );
  });
});

describe("pluginCheckedReloads", () => {
  it("publishes in the order the configurations came, even when the first loads slower", async () => {
    const published: string[] = [];
    const refused: string[] = [];
    const reload = pluginCheckedReloads(
      (_config, warnings: string, names) => published.push(`${warnings}:${names.join(",")}`),
      (error) => refused.push(error.message),
    );
    const first = reload(config("slow.mjs"), "first");
    const second = reload(config("fast.mjs"), "second");
    await Promise.all([first, second]);
    expect(published).toEqual(["first:slow", "second:fast"]);
    expect(refused).toEqual([]);
  });

  it("refuses a configuration whose plugins fail, and goes on with the next", async () => {
    const published: string[] = [];
    const refused: string[] = [];
    const reload = pluginCheckedReloads(
      (_config, _warnings: undefined, names) => published.push(names.join(",")),
      (error) => refused.push(error.message),
    );
    await reload(config("absent.mjs"), undefined);
    await reload(config("fast.mjs"), undefined);
    expect(refused).toEqual([expect.stringMatching(/absent\.mjs: cannot read/)]);
    expect(published).toEqual(["fast"]);
  });
});
